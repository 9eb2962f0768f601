"""Verifiers' qualifications and conflicts, verifications and each emitter's record of clean
years, as plain values, and how they are read and written through the working set.

A qualification is per verifier and sector and moves between three states by the registry's
decision: granted, suspended (may be granted again) and revoked. Every move is also a line of
`qualification_events`, so that the history of sanctions stays provable.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass
from typing import Any

from compliance.fields import QualificationAction
from compliance.model import load_annual_report, load_installation, load_submission
from compliance.reasons import ComplianceReason
from compliance.schema import (
    entity_records,
    qualification_events,
    qualifications,
    verifications,
)
from ledger.effects import Row
from ledger.errors import Rejected, require
from ledger.model import Role
from ledger.ops import Context


class QualificationStatus(enum.StrEnum):
    granted = "granted"
    suspended = "suspended"
    revoked = "revoked"


# Which statuses each action may start from (None: no qualification yet), and where it leads.
TRANSITIONS: dict[QualificationAction, tuple[frozenset[QualificationStatus | None],
                                             QualificationStatus]] = {
    QualificationAction.grant: (
        frozenset({None, QualificationStatus.suspended, QualificationStatus.revoked}),
        QualificationStatus.granted),
    QualificationAction.suspend: (frozenset({QualificationStatus.granted}),
                                  QualificationStatus.suspended),
    QualificationAction.revoke: (
        frozenset({QualificationStatus.granted, QualificationStatus.suspended}),
        QualificationStatus.revoked),
}


@dataclass(frozen=True, slots=True)
class Qualification:
    verifier: str
    sector: str
    status: QualificationStatus
    reason: str  # the registry's reason for the latest change
    granted_seq: int  # the latest grant
    updated_seq: int

    def row(self, *, new: bool) -> Row:
        values = asdict(self)
        values["status"] = self.status.value
        return Row(qualifications, (self.verifier, self.sector), values, new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> Qualification:
        return cls(**{**values, "status": QualificationStatus(values["status"])})


def load_qualification(ctx: Context, verifier: str, sector: str) -> Qualification | None:
    values = ctx.ws.row(qualifications, (verifier, sector))
    return None if values is None else Qualification.from_row(dict(values))


def qualification_event(ctx: Context, q: Qualification, action: QualificationAction) -> Row:
    return Row(qualification_events, (q.verifier, q.sector, ctx.seq),
               {"verifier": q.verifier, "sector": q.sector, "seq": ctx.seq,
                "action": action.value, "reason": q.reason}, new=True)


@dataclass(frozen=True, slots=True)
class Verification:
    emitter: str
    year: int
    verifier: str
    report: str
    scheme: str
    verified_t: int
    monthly_kg: int
    variance_bp: int
    flagged: bool
    signed_seq: int

    def row(self) -> Row:
        return Row(verifications, (self.emitter, self.year), asdict(self), new=True)


def verifier_of(ctx: Context, emitter: str, year: int) -> str | None:
    """Who verified the emitter's year, None if nobody has."""
    values = ctx.ws.row(verifications, (emitter, year))
    return None if values is None else str(values["verifier"])


def variance_bp(verified_t: int, monthly_kg: int) -> int:
    """How far the verified figure lies from the monthly data, in ten-thousandths of the
    monthly data (rounded down); any verified emissions against none at all count as 100%."""
    if monthly_kg == 0:
        return 0 if verified_t == 0 else 10_000
    return abs(verified_t * 1000 - monthly_kg) * 10_000 // monthly_kg


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """An emitter's run of clean verified years."""

    emitter: str
    clean_run: int
    streamlined: bool
    updated_seq: int

    def row(self, *, new: bool) -> Row:
        return Row(entity_records, (self.emitter,), asdict(self), new)


def load_entity_record(ctx: Context, emitter: str) -> EntityRecord | None:
    values = ctx.ws.row(entity_records, (emitter,))
    if values is None:
        return None
    return EntityRecord(**{**dict(values), "streamlined": bool(values["streamlined"])})


@dataclass(frozen=True)
class ReportFacts:
    """What verifying an annual report needs to know of it: read from the report and the
    monthly submissions it references."""

    id: str
    scheme: str
    monthly_kg: int
    sectors: frozenset[str]  # of the installations its submissions are for
    clean_data: bool  # no submission late or relying on a lapsed calibration


def load_report(ctx: Context, emitter: str, year: int, report_id: str) -> ReportFacts:
    """The facts of the emitter's annual report of `year`, refused unless its id is
    `report_id` (a report replaced since is not the one the verifier verified)."""
    report = load_annual_report(ctx, emitter, year)
    require(report is not None and report.id == report_id, ComplianceReason.unknown_report,
            f"{emitter} {year}: {report_id}")
    assert report is not None
    sectors, clean = set(), True
    for submission_id in json.loads(report.submissions):
        submission = load_submission(ctx, submission_id)
        sectors.add(load_installation(ctx, submission.installation).sector)
        clean = clean and not submission.late and not submission.calibration_lapsed
    return ReportFacts(report.id, report.scheme, report.monthly_kg, frozenset(sectors), clean)


def require_verifier_role(ctx: Context, participant_id: str) -> None:
    """The participant exists and has the verifier role."""
    participant = ctx.participant(participant_id)
    if participant.role != Role.verifier:
        raise Rejected(ComplianceReason.not_a_verifier,
                       f"{participant_id} is a {participant.role.value}")
