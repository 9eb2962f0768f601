"""Installations, instruments, monthly submissions and annual reports as plain values, and how
they are read and written through the working set (rows of compliance/schema.py's tables).

Monthly emissions are exact whole kilograms CO2 (`total_kg`); days are "YYYY-MM-DD" and months
"YYYY-MM", as the instructions carry them. Nothing here is ever deleted: a correction is a new
submission that supersedes the one in force, and only `superseded_by` changes on the old one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any

from compliance import calendar
from compliance.reasons import ComplianceReason
from compliance.schema import (
    annual_reports,
    calibrations,
    current_months,
    emitters,
    installations,
    instruments,
    monthly_submissions,
)
from ledger.effects import Row
from ledger.errors import Rejected, require
from ledger.ops import Context

NOT_YET = ""  # a day or id not yet set: an instrument never calibrated, a submission in force


@dataclass(frozen=True, slots=True)
class Installation:
    id: str
    emitter: str  # participant id
    scheme: str
    sector: str
    name: str
    registered_seq: int

    def row(self) -> Row:
        return Row(installations, (self.id,), asdict(self), new=True)


@dataclass(frozen=True, slots=True)
class EmitterInstallations:
    """An emitter's installations in one scheme: what its annual report must cover."""

    emitter: str
    scheme: str
    installations: tuple[str, ...]  # sorted
    updated_seq: int

    def adding(self, installation: str, seq: int) -> EmitterInstallations:
        assert installation not in self.installations, "an installation is registered once"
        return replace(self, installations=tuple(sorted((*self.installations, installation))),
                       updated_seq=seq)

    def row(self, *, new: bool) -> Row:
        values = {**asdict(self), "installations": json.dumps(list(self.installations))}
        return Row(emitters, (self.emitter, self.scheme), values, new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> EmitterInstallations:
        return cls(**{**values, "installations": tuple(json.loads(values["installations"]))})


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    installation: str
    parameter: str
    calibrated_by: str  # NOT_YET until the first calibration, like the three days below
    calibrated_on: str
    valid_until: str
    covered_since: str  # the first day of the unbroken run of calibrations ending with this one
    registered_seq: int
    updated_seq: int

    def calibrated(self, seq: int, by: str, on: date, until: date) -> Instrument:
        """After a new calibration: the run stays unbroken when it was calibrated no later
        than the day after the previous calibration lapsed."""
        unbroken = (self.valid_until != NOT_YET
                    and on <= date.fromisoformat(self.valid_until) + timedelta(days=1))
        return replace(self, calibrated_by=by, calibrated_on=on.isoformat(),
                       valid_until=until.isoformat(),
                       covered_since=self.covered_since if unbroken else on.isoformat(),
                       updated_seq=seq)

    def covers(self, month: str) -> bool:
        """Whether its calibrations cover every day of `month` without a gap."""
        if self.valid_until == NOT_YET:
            return False
        return (date.fromisoformat(self.covered_since) <= calendar.first_day(month)
                and date.fromisoformat(self.valid_until) >= calendar.last_day(month))

    def row(self, *, new: bool) -> Row:
        return Row(instruments, (self.id,), asdict(self), new)


def calibration_row(ctx: Context, instrument: str, by: str, on: str, until: str,
                    certificate_hash: str) -> Row:
    """One calibration record of an instrument, by journal entry."""
    return Row(calibrations, (instrument, ctx.seq),
               {"instrument": instrument, "seq": ctx.seq, "calibrated_by": by,
                "calibrated_on": on, "valid_until": until, "certificate_hash": certificate_hash},
               new=True)


@dataclass(frozen=True, slots=True)
class MonthlySubmission:
    id: str
    emitter: str
    installation: str
    month: str
    year: int
    document_hash: str
    document_format: str
    lines: int
    total_kg: int
    calibration_lapsed: bool  # relied on an instrument whose calibration did not cover the month
    late: bool  # submitted after the scheme's due day
    supersedes: str  # NOT_YET for a first submission
    superseded_by: str  # NOT_YET while in force
    submitted_seq: int
    updated_seq: int

    @property
    def in_force(self) -> bool:
        return self.superseded_by == NOT_YET

    def superseded(self, by: str, seq: int) -> MonthlySubmission:
        assert self.in_force, "a submission is superseded once"
        return replace(self, superseded_by=by, updated_seq=seq)

    def row(self, *, new: bool) -> Row:
        return Row(monthly_submissions, (self.id,), asdict(self), new)

    def current_row(self, *, new: bool) -> Row:
        """The row naming it the submission in force for its installation and month."""
        return Row(current_months, (self.installation, self.month),
                   {"installation": self.installation, "month": self.month,
                    "submission": self.id, "emitter": self.emitter, "year": self.year,
                    "total_kg": self.total_kg}, new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> MonthlySubmission:
        # SQLite hands booleans back as 0/1
        return cls(**{**values, "calibration_lapsed": bool(values["calibration_lapsed"]),
                      "late": bool(values["late"])})


@dataclass(frozen=True, slots=True)
class AnnualReport:
    emitter: str
    year: int
    id: str
    scheme: str
    document_hash: str
    submissions: str  # the JSON list of monthly submission ids, as signed
    monthly_kg: int  # the sum of their totals
    submitted_seq: int

    def row(self, *, new: bool) -> Row:
        return Row(annual_reports, (self.emitter, self.year), asdict(self), new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> AnnualReport:
        return cls(**values)


# --- reads inside an operation, refusing by name ------------------------------------------


def load_installation(ctx: Context, installation_id: str) -> Installation:
    values = ctx.ws.row(installations, (installation_id,))
    if values is None:
        raise Rejected(ComplianceReason.unknown_installation, installation_id)
    return Installation(**values)


def load_own_installation(ctx: Context, installation_id: str) -> Installation:
    """The installation, refused unless its emitter signed."""
    installation = load_installation(ctx, installation_id)
    require(ctx.is_signed_by(installation.emitter), ComplianceReason.not_installation_emitter,
            f"{installation.id} is {installation.emitter}'s")
    return installation


def load_emitter_installations(ctx: Context, emitter: str,
                               scheme: str) -> EmitterInstallations | None:
    values = ctx.ws.row(emitters, (emitter, scheme))
    return None if values is None else EmitterInstallations.from_row(dict(values))


def load_instrument(ctx: Context, instrument_id: str) -> Instrument:
    values = ctx.ws.row(instruments, (instrument_id,))
    if values is None:
        raise Rejected(ComplianceReason.unknown_instrument, instrument_id)
    return Instrument(**values)


def load_submission(ctx: Context, submission_id: str) -> MonthlySubmission:
    values = ctx.ws.row(monthly_submissions, (submission_id,))
    if values is None:
        raise Rejected(ComplianceReason.unknown_submission, submission_id)
    return MonthlySubmission.from_row(dict(values))


def submission_in_force(ctx: Context, installation: str, month: str) -> str | None:
    """The id of the submission in force for an installation's month, None if none."""
    values = ctx.ws.row(current_months, (installation, month))
    return None if values is None else str(values["submission"])


def load_annual_report(ctx: Context, emitter: str, year: int) -> AnnualReport | None:
    values = ctx.ws.row(annual_reports, (emitter, year))
    return None if values is None else AnnualReport.from_row(dict(values))
