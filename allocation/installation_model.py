"""An installation's verified output and what it received for a year, as plain values read
and written through the working set (docs/allocation.md, "Free allocation by benchmark").

What an installation received for a year, and what it is owed at the true-up:

    received = issued - taken_back + debt_applied - debt_created
    delta    = final - received                        (> 0: issued; < 0: taken back)

A debt deducted from the year's allocation counts as received; a shortfall the year's
take-backs left owed counts as given back (it is 0 until the year is settled, so at the
true-up received = issued - taken_back + debt_applied). Once settled — trued up, or closed —
received = final.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any

from allocation.reasons import AllocationReason
from allocation.schema import installation_allocations, verified_outputs
from ledger.effects import Row
from ledger.errors import Rejected
from ledger.ops import Context

PREALLOCATION = "preallocation"
NEW_ENTRANT = "new_entrant"


@dataclass(frozen=True, slots=True)
class VerifiedOutput:
    installation: str
    year: int
    verifier: str
    output: str  # exact decimal string
    unit: str
    signed_seq: int

    @property
    def amount(self) -> Decimal:
        return Decimal(self.output)

    def row(self) -> Row:
        return Row(verified_outputs, (self.installation, self.year), asdict(self), new=True)


def find_output(ctx: Context, installation: str, year: int) -> VerifiedOutput | None:
    values = ctx.ws.row(verified_outputs, (installation, year))
    return None if values is None else VerifiedOutput(**values)


def load_output(ctx: Context, installation: str, year: int) -> VerifiedOutput:
    """The installation's verified output for the year, or `no_verified_output`."""
    found = find_output(ctx, installation, year)
    if found is None:
        raise Rejected(AllocationReason.no_verified_output, f"{installation} {year}")
    return found


@dataclass(frozen=True, slots=True)
class InstallationAllocation:
    installation: str
    year: int
    scheme: str
    sector: str
    account: str
    source: str  # PREALLOCATION | NEW_ENTRANT
    preallocated: int  # the figure before debts
    final: int | None  # the true-up's figure, None until trued up
    issued: int
    taken_back: int
    debt_applied: int
    debt_created: int
    batches: tuple[str, ...]  # the batches it was issued in, in order
    allocated_seq: int
    trued_up_seq: int | None
    updated_seq: int
    debt_after: int = 0  # the installation's debt once this row last changed
    new: bool = False  # not yet stored

    @property
    def received(self) -> int:
        """What counts as received for the year: units kept and debts they paid off, less
        what a take-back found missing and left owed."""
        return self.issued - self.taken_back + self.debt_applied - self.debt_created

    @property
    def held(self) -> int:
        """Units issued for the year and not taken back."""
        return self.issued - self.taken_back

    def issuing(self, quantity: int, debt_applied: int, batch: str | None, seq: int
                ) -> InstallationAllocation:
        """`quantity` more units issued in `batch` (none when 0), `debt_applied` deducted."""
        batches = self.batches
        if quantity and batch is not None and batch not in batches:
            batches = (*batches, batch)
        return replace(self, issued=self.issued + quantity,
                       debt_applied=self.debt_applied + debt_applied, batches=batches,
                       updated_seq=seq)

    def taking_back(self, taken: int, shortfall: int, seq: int) -> InstallationAllocation:
        """`taken` units taken back and cancelled; `shortfall` more owed, as a debt."""
        return replace(self, taken_back=self.taken_back + taken,
                       debt_created=self.debt_created + shortfall, updated_seq=seq)

    def owing(self, debt: int) -> InstallationAllocation:
        """The installation's debt after this change (every change of its debt writes the
        allocation row of the year it acts on, so the row's leaf shows the debt)."""
        return replace(self, debt_after=debt)

    def trued_up(self, final: int, seq: int) -> InstallationAllocation:
        return replace(self, final=final, trued_up_seq=seq, updated_seq=seq)

    def row(self) -> Row:
        values: dict[str, Any] = asdict(self)
        del values["new"]
        values["batches"] = json.dumps(list(self.batches))
        return Row(installation_allocations, (self.installation, self.year), values, self.new)

    @classmethod
    def from_row(cls, values: Any) -> InstallationAllocation:
        return cls(**{**values, "batches": tuple(json.loads(values["batches"]))})


def find_allocation(ctx: Context, installation: str, year: int
                    ) -> InstallationAllocation | None:
    values = ctx.ws.row(installation_allocations, (installation, year))
    return None if values is None else InstallationAllocation.from_row(values)


def load_allocation(ctx: Context, installation: str, year: int) -> InstallationAllocation:
    """What the installation received for the year, or `not_allocated`."""
    found = find_allocation(ctx, installation, year)
    if found is None:
        raise Rejected(AllocationReason.not_allocated, f"{installation} {year}")
    return found
