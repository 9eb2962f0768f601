"""The core module: participants, keys, accounts, batches, lots — what every ledger has.

Every other capability declares itself the same way (pledge/module.py is the worked example)
and is handed to the ledger by the composition root (api/bootstrap.py), never by an import.
"""

from __future__ import annotations

from anchoring.auditor.state_changes import accounts_touched, holdings_touched, lots_touched
from anchoring.auditor.state_keys import ACCOUNT, HOLDING, LOT, account_key, holding_key, lot_key
from anchoring.auditor.verify_core import CORE_KINDS
from custody.permissions import OPERATION_ROLES
from ledger.errors import Reason
from ledger.instructions import CORE_SCHEMAS
from ledger.invariants import check_invariants
from ledger.modules import Footprint, LeafKind, Module, Operation
from ledger.ops import HANDLERS
from ledger.store.state_leaves import (
    account_leaves,
    all_account_leaves,
    all_holding_leaves,
    all_lot_leaves,
    holding_leaves,
    lot_leaves,
)

_ACCOUNT = Footprint(accounts=("account",))
_SPENDS = Footprint(accounts=("account",), batch="batch", spends_from="account")
FOOTPRINTS = {
    "open_account": _ACCOUNT, "freeze_account": _ACCOUNT, "unfreeze_account": _ACCOUNT,
    "issue_batch": _ACCOUNT,  # its batch is new: nothing to read ahead
    "transfer": Footprint(accounts=("fromAccount", "toAccount"), batch="batch",
                          spends_from="fromAccount"),
    "retire": _SPENDS, "cancel": _SPENDS,
}

# The state commitment's leaves: which entries touch them (anchoring.auditor.state_changes),
# their values and reads (ledger/store/state_leaves.py).
LEAF_KINDS = (
    LeafKind(LOT, lot_key, lots_touched, lot_leaves, all_lot_leaves, {"lots": ("id",)}),
    LeafKind(HOLDING, lambda pair: holding_key(*pair), holdings_touched, holding_leaves,
             all_holding_leaves, {"holdings": ("account", "batch")}),
    LeafKind(ACCOUNT, account_key, accounts_touched, account_leaves, all_account_leaves,
             {"accounts": ("id",)}),
)

CORE = Module(
    name="ledger",
    operations=tuple(Operation(CORE_SCHEMAS[op], handler, OPERATION_ROLES[op],
                               FOOTPRINTS.get(op, Footprint()))
                     for op, handler in HANDLERS.items()),
    reasons=Reason,
    invariants=check_invariants,
    bundle_kinds=CORE_KINDS,
    leaf_kinds=LEAF_KINDS,
)
