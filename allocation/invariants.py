"""The allocation module's invariants, checked over a store after every test, by the audit
after its replay and by anyone through the application service (beside the ledger's own,
ledger.invariants). Each part of the module states its own; this runs them all."""

from __future__ import annotations

from allocation.auction_invariants import auction_problems
from allocation.installation_invariants import installation_allocation_problems
from allocation.plan_invariants import plan_problems
from ledger.store.database import Store


def check_allocation_invariants(store: Store) -> list[str]:
    with store.read() as tx:
        return (plan_problems(tx) + installation_allocation_problems(tx)
                + auction_problems(tx))
