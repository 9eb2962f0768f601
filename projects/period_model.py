"""Monitoring periods as plain values, and how they are read and written through the working
set (rows of the `monitoring_periods` table), with the day ranges a project keeps of its
periods (its `periods` column) to refuse an overlap.

A period moves reported -> verified -> issued and never back: its report is the owner's
claim, its verification the body's figure (which may cut the claim, or exceed it), and its
issuance credits it once, for at most the verified figure.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from ledger.effects import Row
from ledger.errors import require
from ledger.ops import Context
from projects.reasons import ProjectReason
from projects.schema import monitoring_periods

NOT_YET = ""  # the verifier and batch of a period not yet verified or issued


class PeriodStatus(enum.StrEnum):
    reported = "reported"  # the owner's monitoring report is in; not yet verified
    verified = "verified"  # a verification body signed its reductions
    issued = "issued"  # credits were issued for it: it is never credited again


@dataclass(frozen=True, slots=True)
class MonitoringPeriod:
    project: str
    period: str
    start_date: str
    end_date: str
    report_hash: str
    claimed_t: int  # the owner's claim
    verifier: str
    verified_t: int  # the verification body's figure: what issuance may not exceed
    issued_t: int  # to the owner and to the buffer together
    batch: str
    status: PeriodStatus
    reported_seq: int
    verified_seq: int | None
    issued_seq: int | None

    @property
    def end(self) -> date:
        return date.fromisoformat(self.end_date)

    @classmethod
    def reported(cls, project: str, period: str, start: str, end: str, report_hash: str,
                 claimed_t: int, seq: int) -> MonitoringPeriod:
        return cls(project, period, start, end, report_hash, claimed_t, NOT_YET, 0, 0,
                   NOT_YET, PeriodStatus.reported, seq, None, None)

    def verified_by(self, verifier: str, verified_t: int, seq: int) -> MonitoringPeriod:
        assert self.status == PeriodStatus.reported, "a period is verified once"
        return replace(self, verifier=verifier, verified_t=verified_t,
                       status=PeriodStatus.verified, verified_seq=seq)

    def issued_as(self, batch: str, quantity: int, seq: int) -> MonitoringPeriod:
        assert self.status == PeriodStatus.verified, "a period is credited once"
        assert 0 < quantity <= self.verified_t, "never more than the verified reductions"
        return replace(self, batch=batch, issued_t=quantity, status=PeriodStatus.issued,
                       issued_seq=seq)

    def row(self, *, new: bool) -> Row:
        values = asdict(self)
        values["status"] = self.status.value
        return Row(monitoring_periods, (self.project, self.period), values, new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> MonitoringPeriod:
        return cls(**{**values, "status": PeriodStatus(values["status"])})


def find_period(ctx: Context, project: str, period: str) -> MonitoringPeriod | None:
    values = ctx.ws.row(monitoring_periods, (project, period))
    return None if values is None else MonitoringPeriod.from_row(dict(values))


def load_period(ctx: Context, project: str, period: str) -> MonitoringPeriod:
    """The project's monitoring period; `unknown_period` if it has none of that id."""
    found = find_period(ctx, project, period)
    require(found is not None, ProjectReason.unknown_period, f"{project} {period}")
    assert found is not None
    return found


# --- a project's day ranges (its `periods` column, projects.model.Project.period_days) -------

DayRange = tuple[str, str]  # [start, end], both days included, YYYY-MM-DD


def overlapping(ranges: list[DayRange], start: str, end: str) -> DayRange | None:
    """The first of `ranges` sharing a day with start..end (ISO days compare as text)."""
    return next(((s, e) for s, e in ranges if s <= end and start <= e), None)


def with_range(ranges: list[DayRange], start: str, end: str) -> str:
    """The `periods` column once start..end is added, kept in order."""
    return json.dumps(sorted([*ranges, (start, end)]), separators=(",", ":"))
