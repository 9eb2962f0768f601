"""Obligations and surrenders as plain values, and how they are read and written through the
working set.

An emitter's obligation for a compliance year is its verified emissions, in whole tonnes. What
has been surrendered against it only grows, split by kind: allowances of the obligation's own
scheme and offset credits (capped). Status (due, compliant, overdue) is computed from these,
never stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from compliance.eligibility import UnitKind
from compliance.reasons import ComplianceReason
from compliance.schema import obligations, surrenders
from ledger.effects import Row
from ledger.errors import Rejected
from ledger.ops import Context


@dataclass(frozen=True, slots=True)
class Obligation:
    emitter: str
    year: int
    scheme: str
    obligation: int  # verified emissions, whole tonnes
    allowances: int  # surrendered so far
    credits: int
    set_seq: int
    met_seq: int | None  # the entry that met it (its verification when it is 0)
    updated_seq: int

    @property
    def surrendered(self) -> int:
        return self.allowances + self.credits

    @property
    def remaining(self) -> int:
        """Tonnes still owed."""
        return self.obligation - self.surrendered

    def surrendering(self, kind: UnitKind, quantity: int, seq: int) -> Obligation:
        after = replace(self, updated_seq=seq,
                        allowances=self.allowances + (quantity if kind == UnitKind.allowance
                                                      else 0),
                        credits=self.credits + (quantity if kind == UnitKind.credit else 0))
        assert 0 <= after.remaining < self.remaining, "a surrender covers what is still owed"
        return replace(after, met_seq=seq) if after.remaining == 0 else after

    def row(self, *, new: bool) -> Row:
        return Row(obligations, (self.emitter, self.year), asdict(self), new)

    @classmethod
    def set_by_verification(cls, emitter: str, year: int, scheme: str, verified_t: int,
                            seq: int) -> Obligation:
        """The obligation a verification sets: met at once when nothing was emitted."""
        return cls(emitter, year, scheme, verified_t, 0, 0, seq,
                   seq if verified_t == 0 else None, seq)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> Obligation:
        return cls(**values)


def load_obligation(ctx: Context, emitter: str, year: int) -> Obligation:
    values = ctx.ws.row(obligations, (emitter, year))
    if values is None:
        raise Rejected(ComplianceReason.no_obligation, f"{emitter} {year}")
    return Obligation.from_row(dict(values))


def surrender_row(ctx: Context, obligation: Obligation, account: str, batch: str,
                  kind: UnitKind, quantity: int) -> Row:
    """The surrenders row of this entry (`kind`: what its units count as)."""
    return Row(surrenders, (ctx.seq,),
               {"seq": ctx.seq, "emitter": obligation.emitter, "year": obligation.year,
                "account": account, "batch": batch, "kind": kind.value, "quantity": quantity},
               new=True)
