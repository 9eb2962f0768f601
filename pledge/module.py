"""The pledge and repo module: what it brings to a ledger (ledger/modules.py)."""

from __future__ import annotations

from anchoring.auditor.verify_pledge import PLEDGE as PLEDGE_BUNDLE
from custody.permissions import HOLDING_ROLES
from ledger.modules import Footprint, Module, Operation
from pledge.fields import FIELD_CHECKS, RepoParty
from pledge.invariants import check_agreement_invariants
from pledge.ops import OPERATIONS
from pledge.reasons import PledgeReason
from pledge.rules import agreement_rules
from pledge.schema import MIGRATIONS, TABLES

# Each party signs for itself: a pledgor or seller holds the units, a pledgee or buyer takes
# them, the registry co-signs an early enforcement. Which party must sign is the handler's
# check (pledge/parties.py); any role that can hold units may be one.
PARTY_ROLES = HOLDING_ROLES

FOOTPRINTS = {
    "pledge_register": Footprint(accounts=("account",), batch="batch", spends_from="account"),
    "pledge_enforce": Footprint(accounts=("toAccount",)),
    "repo_open": Footprint(accounts=("sellerAccount", "buyerAccount"), batch="batch",
                           spends_from="sellerAccount"),
    # the others act on an agreement by its id: its lien's lots are read by id
}

PLEDGE = Module(
    name="pledge",
    operations=tuple(Operation(schema, handler, PARTY_ROLES,
                               FOOTPRINTS.get(schema.op, Footprint()))
                     for schema, handler in OPERATIONS),
    field_checks=FIELD_CHECKS,
    enums={"RepoParty": RepoParty},
    reasons=PledgeReason,
    rules=agreement_rules,
    invariants=check_agreement_invariants,
    bundle_kinds=(PLEDGE_BUNDLE,),
    tables=TABLES,
    migrations=MIGRATIONS,
)

OPERATION_NAMES = tuple(operation.name for operation in PLEDGE.operations)
