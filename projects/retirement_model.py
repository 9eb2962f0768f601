"""A retirement for an offsetting claim as a plain value, and how it is read and written
through the working set (rows of `claim_retirements`).

The units it retired are kept as serial ranges, in order and merged where they touch, so that
a certificate and its proof bundle name the same ranges the journal entry's lots hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ledger.effects import Row
from ledger.errors import require
from ledger.ops import Context
from projects.fields import ClaimPurpose
from projects.reasons import ProjectReason
from projects.schema import claim_retirements

# Credits of a scheme issued by this operation come from the project cycle: a registered
# project's verified monitoring period stands behind every unit (ledger/schemes/CCER.toml).
OFFSET_ISSUE_OPERATION = "ccer_issue"

SerialRange = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ClaimRetirement:
    id: str
    seq: int  # the claim_retire entry
    account: str
    batch: str
    quantity: int
    beneficiary: str
    purpose: ClaimPurpose
    subject: str  # the event's or product's stable identifier, the organisation's name
    period_start: str
    period_end: str
    claim: str
    serials: tuple[SerialRange, ...]

    def __post_init__(self) -> None:
        assert self.quantity == sum(last - first + 1 for first, last in self.serials), \
            "a retirement's serial ranges hold exactly its quantity"

    def row(self) -> Row:
        values = asdict(self)
        values["purpose"] = self.purpose.value
        values["serials"] = serials_json(self.serials)
        return Row(claim_retirements, (self.id,), values, new=True)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> ClaimRetirement:
        return cls(**{**values, "purpose": ClaimPurpose(values["purpose"]),
                      "serials": parse_serials(values["serials"])})


def require_new_retirement(ctx: Context, retirement_id: str) -> None:
    require(ctx.ws.row(claim_retirements, (retirement_id,)) is None,
            ProjectReason.retirement_exists, retirement_id)


def merged_ranges(parts: Iterable[SerialRange]) -> tuple[SerialRange, ...]:
    """The ranges in serial order, those that touch joined into one."""
    merged: list[SerialRange] = []
    for first, last in sorted(parts):
        if merged and first == merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], last)
        else:
            assert not merged or first > merged[-1][1], "a serial is retired once"
            merged.append((first, last))
    return tuple(merged)


def serials_json(serials: Sequence[SerialRange]) -> str:
    return json.dumps([[first, last] for first, last in serials], separators=(",", ":"))


def parse_serials(text: str) -> tuple[SerialRange, ...]:
    return tuple((int(first), int(last)) for first, last in json.loads(text))
