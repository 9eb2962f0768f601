"""The core module: participants, keys, accounts, batches, lots — what every ledger has.

Every other capability declares itself the same way (pledge/module.py is the worked example)
and is handed to the ledger by the composition root (api/bootstrap.py), never by an import.
"""

from __future__ import annotations

from custody.permissions import OPERATION_ROLES
from ledger.errors import Reason
from ledger.instructions import CORE_SCHEMAS
from ledger.modules import Module, Operation
from ledger.ops import HANDLERS

CORE = Module(
    name="ledger",
    operations=tuple(Operation(CORE_SCHEMAS[op], handler, OPERATION_ROLES[op])
                     for op, handler in HANDLERS.items()),
    reasons=Reason,
)
