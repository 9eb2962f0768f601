"""The core module: participants, keys, accounts, batches, lots — what every ledger has.

Every other capability declares itself the same way (pledge/module.py is the worked example)
and is handed to the ledger by the composition root (api/bootstrap.py), never by an import.
"""

from __future__ import annotations

from anchoring.auditor.verify_core import CORE_KINDS
from custody.permissions import OPERATION_ROLES
from ledger.errors import Reason
from ledger.instructions import CORE_SCHEMAS
from ledger.invariants import check_invariants
from ledger.modules import Footprint, Module, Operation
from ledger.ops import HANDLERS

_ACCOUNT = Footprint(accounts=("account",))
_SPENDS = Footprint(accounts=("account",), batch="batch", spends_from="account")
FOOTPRINTS = {
    "open_account": _ACCOUNT, "freeze_account": _ACCOUNT, "unfreeze_account": _ACCOUNT,
    "issue_batch": _ACCOUNT,  # its batch is new: nothing to read ahead
    "transfer": Footprint(accounts=("fromAccount", "toAccount"), batch="batch",
                          spends_from="fromAccount"),
    "retire": _SPENDS, "cancel": _SPENDS,
}

CORE = Module(
    name="ledger",
    operations=tuple(Operation(CORE_SCHEMAS[op], handler, OPERATION_ROLES[op],
                               FOOTPRINTS.get(op, Footprint()))
                     for op, handler in HANDLERS.items()),
    reasons=Reason,
    invariants=check_invariants,
    bundle_kinds=CORE_KINDS,
)
