"""The pledge and repo module: what it brings to a ledger (ledger/modules.py)."""

from __future__ import annotations

from custody.permissions import HOLDING_ROLES
from ledger.modules import Module, Operation
from ledger.store.schema import agreement_events, pledges, repos
from pledge.fields import FIELD_CHECKS, RepoParty
from pledge.ops import OPERATIONS
from pledge.reasons import PledgeReason

# Each party signs for itself: a pledgor or seller holds the units, a pledgee or buyer takes
# them, the registry co-signs an early enforcement. Which party must sign is the handler's
# check (pledge/parties.py); any role that can hold units may be one.
PARTY_ROLES = HOLDING_ROLES

PLEDGE = Module(
    name="pledge",
    operations=tuple(Operation(schema, handler, PARTY_ROLES) for schema, handler in OPERATIONS),
    field_checks=FIELD_CHECKS,
    enums={"RepoParty": RepoParty},
    reasons=PledgeReason,
    tables=(pledges, repos, agreement_events),
)

OPERATION_NAMES = tuple(operation.name for operation in PLEDGE.operations)
