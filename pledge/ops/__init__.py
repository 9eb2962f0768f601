"""One module per operation: its payload type, its schema (the EIP-712 struct) and its
handler."""

from __future__ import annotations

from ledger.instructions import OpSchema
from ledger.ops import Handler
from pledge.ops.pledge_amend import SCHEMA as PLEDGE_AMEND
from pledge.ops.pledge_amend import pledge_amend
from pledge.ops.pledge_enforce import SCHEMA as PLEDGE_ENFORCE
from pledge.ops.pledge_enforce import pledge_enforce
from pledge.ops.pledge_register import SCHEMA as PLEDGE_REGISTER
from pledge.ops.pledge_register import pledge_register
from pledge.ops.pledge_release import SCHEMA as PLEDGE_RELEASE
from pledge.ops.pledge_release import pledge_release
from pledge.ops.repo_close import SCHEMA as REPO_CLOSE
from pledge.ops.repo_close import repo_close
from pledge.ops.repo_default import SCHEMA as REPO_DEFAULT
from pledge.ops.repo_default import repo_default
from pledge.ops.repo_open import SCHEMA as REPO_OPEN
from pledge.ops.repo_open import repo_open

OPERATIONS: tuple[tuple[OpSchema, Handler], ...] = (
    (PLEDGE_REGISTER, pledge_register),
    (PLEDGE_RELEASE, pledge_release),
    (PLEDGE_ENFORCE, pledge_enforce),
    (PLEDGE_AMEND, pledge_amend),
    (REPO_OPEN, repo_open),
    (REPO_CLOSE, repo_close),
    (REPO_DEFAULT, repo_default),
)
