"""monthly_submit: an emitter submits one month of an installation's key parameters, signed:
the SHA-256 and format of the document they come from (compliance/monthly_document.py), its
figures as canonical text, and the stated total in kilograms, which the ledger recomputes
exactly (compliance/figures.py gives the rounding rule) and refuses if it disagrees.

Accepted but flagged, and so journaled: data resting on an instrument whose calibrations do not
cover the whole month (`calibration_lapsed`), and data submitted after the scheme's due day
(`late`). A month has one submission in force; a correction names it in `supersedes` and
replaces it, and the old one records `superseded_by`: nothing is edited, the history stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance import calendar
from compliance.fields import DocumentFormat
from compliance.figures import Line, parse_figures, total_kg
from compliance.model import (
    NOT_YET,
    Installation,
    MonthlySubmission,
    load_instrument,
    load_own_installation,
    load_submission,
    submission_in_force,
)
from compliance.reasons import ComplianceReason
from compliance.rules import required_rules
from compliance.schema import monthly_submissions
from ledger.effects import Changes, Row
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class MonthlySubmit(Payload):
    submission: str
    installation: str
    month: str
    document_hash: str
    document_format: DocumentFormat
    figures: str
    total_kg: int
    supersedes: str  # "" for a first submission


SCHEMA = define_schema(
    "monthly_submit", "MonthlySubmit", MonthlySubmit,
    ("submission", "string", "id"),
    ("installation", "string", "id"),
    ("month", "string", "month"),
    ("documentHash", "string", "sha256"),
    ("documentFormat", "string", "DocumentFormat"),
    ("figures", "string", "figures"),
    ("totalKg", "uint64", "kilograms"),
    ("supersedes", "string", "optional_id"),
)


def monthly_submit(p: MonthlySubmit, ctx: Context) -> Changes:
    installation = load_own_installation(ctx, p.installation)
    require(ctx.ws.row(monthly_submissions, (p.submission,)) is None,
            ComplianceReason.submission_exists, p.submission)
    rules = required_rules(ctx.rules(installation.scheme))
    today = rules.calendar.market_day(ctx.now)
    last_day = calendar.last_day(p.month)
    require(last_day < today, ComplianceReason.month_not_ended,
            f"{p.month} ends on {last_day}, today is {today}")
    lines = parse_figures(p.figures)
    computed_kg = total_kg(lines)
    require(computed_kg == p.total_kg, ComplianceReason.total_mismatch,
            f"stated {p.total_kg} kg, the figures come to {computed_kg} kg")
    lapsed = _calibration_lapsed(ctx, installation, lines, p.month)
    replaced = _superseded(ctx, p)
    submission = MonthlySubmission(
        id=p.submission, emitter=installation.emitter, installation=installation.id,
        month=p.month, year=calendar.year_of(p.month), document_hash=p.document_hash,
        document_format=p.document_format.value, lines=len(lines), total_kg=computed_kg,
        calibration_lapsed=lapsed, late=today > calendar.due_day(p.month, rules.monthly_due_days),
        supersedes=p.supersedes, superseded_by=NOT_YET, submitted_seq=ctx.seq,
        updated_seq=ctx.seq,
    )
    rows: list[Row] = [submission.row(new=True), submission.current_row(new=replaced is None)]
    if replaced is not None:
        rows.append(replaced.superseded(submission.id, ctx.seq).row(new=False))
    return Changes(rows=rows)


def _calibration_lapsed(ctx: Context, installation: Installation, lines: tuple[Line, ...],
                        month: str) -> bool:
    """Whether a line rests on an instrument whose calibrations leave a day of the month
    uncovered; `unknown_instrument` if a line names one that is not the installation's."""
    lapsed = False
    for name in sorted({line.instrument for line in lines if line.instrument}):
        instrument = load_instrument(ctx, name)
        require(instrument.installation == installation.id, ComplianceReason.unknown_instrument,
                f"{name} is {instrument.installation}'s, not an instrument of {installation.id}")
        lapsed = lapsed or not instrument.covers(month)
    return lapsed


def _superseded(ctx: Context, p: MonthlySubmit) -> MonthlySubmission | None:
    """The submission this one replaces: the one in force, which `supersedes` must name; None
    for the month's first."""
    in_force = submission_in_force(ctx, p.installation, p.month)
    if in_force is None:
        require(not p.supersedes, ComplianceReason.supersedes_mismatch,
                f"{p.installation} has no submission in force for {p.month}")
        return None
    require(bool(p.supersedes), ComplianceReason.month_already_submitted,
            f"{in_force} is in force for {p.installation} {p.month}")
    require(p.supersedes == in_force, ComplianceReason.supersedes_mismatch,
            f"{in_force} is in force for {p.installation} {p.month}, not {p.supersedes}")
    return load_submission(ctx, in_force)
