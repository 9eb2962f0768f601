"""Taking back installations' allocations (a true-up downward, a closure): units are taken
from the account an allocation went to, from the year's allocation batches of the installation
in the order it received them, lowest serials first, and cancelled (as the core's `cancel`
does). Units no longer there — sold, pledged, surrendered — cannot be taken: what is short
becomes the installation's debt, deducted from its next allocation.

Only tradable units free of liens are taken: a pledged lot keeps its pledgee's lien. The lots
carved here are the entry's lot effects, which is how the checkpointer learns which holdings
changed (anchoring/auditor/state_changes.py): the accounts need no footprint.

One entry may take back for several installations whose units sit in the same account and
batch (two units of one emitter pre-allocated together): `TakeBacks` keeps what each holding
has already given in this entry, and carves every holding once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from allocation.debts import Debt
from allocation.installation_model import InstallationAllocation
from ledger.effects import LotEffects
from ledger.model import LotState
from ledger.ops import Context
from ledger.units import Selection, carve, take_lowest


@dataclass(frozen=True)
class TakenBack:
    """One installation's take-back: how many units were taken (`taken`), how many could not
    be found or were never held for the year (`shortfall`, now owed), and its allocation and
    debt after it."""

    taken: int
    shortfall: int
    allocation: InstallationAllocation
    debt: Debt


class TakeBacks:
    """The take-backs of one journal entry. Use:

        take_backs = TakeBacks(ctx)
        result = take_backs.take(allocation, quantity, debt)   # per installation
        ...  # plan.taking_back(result.taken), sector.removing(result.taken),
             # rows: result.allocation.row(), result.debt.row() when it changed
        Changes(lots=take_backs.lots(), ...)                    # once, at the end
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._taken: dict[tuple[str, str], int] = {}  # (account, batch) -> units taken so far

    def take(self, allocation: InstallationAllocation, quantity: int, debt: Debt
             ) -> TakenBack:
        """Take back `quantity` units of `allocation` from its account. At most what the
        installation still holds for the year (`allocation.held`) is taken; the rest of
        `quantity`, and whatever its batches no longer hold there, is added to `debt`."""
        assert quantity >= 0, "a take-back takes a number of units"
        remaining = min(quantity, allocation.held)
        for batch in allocation.batches:
            if remaining == 0:
                break
            key = (allocation.account, batch)
            already = self._taken.get(key, 0)
            lots = self._ctx.ws.held_lots(allocation.account, batch, LotState.tradable,
                                          already + remaining)
            available = sum(lot.quantity for lot in lots) - already
            taken = min(max(available, 0), remaining)
            self._taken[key] = already + taken
            remaining -= taken
        held_taken = min(quantity, allocation.held) - remaining
        shortfall = quantity - held_taken
        seq = self._ctx.seq
        owed = debt.adding(shortfall, seq) if shortfall else debt
        after = allocation.taking_back(held_taken, shortfall, seq).owing(owed.debt)
        return TakenBack(held_taken, shortfall, after, owed)

    def lots(self) -> LotEffects:
        """The lots every take-back so far cancels: each holding carved once."""
        selection: Selection = []
        for (account, batch), quantity in self._taken.items():
            if quantity:
                lots = self._ctx.ws.held_lots(account, batch, LotState.tradable, quantity)
                selection += take_lowest(lots, quantity)
        return carve(selection, self._ctx.lot_ids,
                     lambda lot: lot.moved(state=LotState.cancelled))
