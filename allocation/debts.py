"""An installation's debt carried forward: what a take-back could not recover (units sold or
pledged) is owed, and is deducted from the next allocation issued to the installation
(pre-allocation, new-entrant or true-up) as far as it goes; the rest stays owed."""

from __future__ import annotations

from dataclasses import dataclass, replace

from allocation.schema import allocation_debts
from ledger.effects import Row
from ledger.ops import Context


@dataclass(frozen=True, slots=True)
class Debt:
    installation: str
    debt: int
    updated_seq: int
    new: bool = False  # not yet stored

    def adding(self, shortfall: int, seq: int) -> Debt:
        return replace(self, debt=self.debt + shortfall, updated_seq=seq)

    def row(self) -> Row:
        return Row(allocation_debts, (self.installation,),
                   {"installation": self.installation, "debt": self.debt,
                    "updated_seq": self.updated_seq}, self.new)


@dataclass(frozen=True, slots=True)
class DebtApplied:
    """An allocation after its debt: `issued` units to issue, `applied` of the debt deducted,
    `debt` what is left of it."""

    issued: int
    applied: int
    debt: Debt

    @property
    def changed(self) -> bool:
        return self.applied > 0


def load_debt(ctx: Context, installation: str) -> Debt:
    """The installation's debt (0 when it never owed anything)."""
    values = ctx.ws.row(allocation_debts, (installation,))
    if values is None:
        return Debt(installation, 0, 0, new=True)
    return Debt(values["installation"], values["debt"], values["updated_seq"])


def apply_debt(debt: Debt, figure: int, seq: int) -> DebtApplied:
    """Deduct `debt` from an allocation of `figure` tonnes, as far as it goes."""
    applied = min(debt.debt, figure)
    after = replace(debt, debt=debt.debt - applied, updated_seq=seq) if applied else debt
    return DebtApplied(figure - applied, applied, after)
