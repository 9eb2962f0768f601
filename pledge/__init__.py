"""Pledge and repo (buyback) lifecycles, built on the ledger's lien primitive (ledger.lien).

Importing this package adds its operations to the ledger (ledger.ops.register_operation) and its
field checks to the instruction parser. Every process that applies or replays a journal must
import it first: the composition root (api.bootstrap) and the tests' conftest do.
docs/pledge-and-repo.md describes the lifecycles and the per-scheme rules.
"""

from __future__ import annotations

from ledger.ops import register_operation
from pledge.fields import register_checks
from pledge.ops import OPERATIONS

register_checks()
for _schema, _handler in OPERATIONS:
    register_operation(_schema, _handler)

OPERATION_NAMES = tuple(schema.op for schema, _ in OPERATIONS)
