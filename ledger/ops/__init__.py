"""One module per operation; each handler reads the state and returns the changes it makes.
The core module's declaration (ledger/core.py) pairs each with its schema and roles."""

from __future__ import annotations

from ledger.modules import Handler
from ledger.ops.accounts import freeze_account, open_account, unfreeze_account
from ledger.ops.cancel import cancel
from ledger.ops.context import Context, Signer
from ledger.ops.genesis import genesis, set_scheme_rules
from ledger.ops.issue import issue_batch
from ledger.ops.participants import (
    register_key,
    register_participant,
    revoke_key,
    rotate_key,
)
from ledger.ops.retire import retire
from ledger.ops.transfer import transfer

HANDLERS: dict[str, Handler] = {
    "genesis": genesis,
    "set_scheme_rules": set_scheme_rules,
    "register_participant": register_participant,
    "register_key": register_key,
    "revoke_key": revoke_key,
    "rotate_key": rotate_key,
    "open_account": open_account,
    "freeze_account": freeze_account,
    "unfreeze_account": unfreeze_account,
    "issue_batch": issue_batch,
    "transfer": transfer,
    "retire": retire,
    "cancel": cancel,
}

__all__ = ["HANDLERS", "Context", "Handler", "Signer"]
