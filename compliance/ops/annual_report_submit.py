"""annual_report_submit: an emitter submits its annual report for one compliance scheme and
year: the SHA-256 of the report document and the monthly submissions it rests on. Those must
be the emitter's own, of that year and scheme, in force, and cover every month of every
installation it has in the scheme; their totals' sum (`monthly_kg`) is what a verified figure
is later compared with. A new report replaces the year's earlier one until it is verified.

Who signs: the emitter named in the report; any other signature is refused with the core's
`missing_signature`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from compliance import calendar
from compliance.model import (
    AnnualReport,
    MonthlySubmission,
    load_annual_report,
    load_emitter_installations,
    load_installation,
    load_submission,
)
from compliance.reasons import ComplianceReason
from compliance.rules import required_rules
from compliance.schema import verifications
from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class AnnualReportSubmit(Payload):
    report: str
    emitter: str
    year: int
    scheme: str
    document_hash: str
    submissions: str  # a JSON list of monthly submission ids


SCHEMA = define_schema(
    "annual_report_submit", "AnnualReportSubmit", AnnualReportSubmit,
    ("report", "string", "id"),
    ("emitter", "string", "id"),
    ("year", "uint64", "year"),
    ("scheme", "string", "id"),
    ("documentHash", "string", "sha256"),
    ("submissions", "string", "id_list"),
)


def annual_report_submit(p: AnnualReportSubmit, ctx: Context) -> Changes:
    require(ctx.is_signed_by(p.emitter), Reason.missing_signature,
            f"the emitter {p.emitter} has not signed")
    required_rules(ctx.rules(p.scheme))
    require(ctx.ws.row(verifications, (p.emitter, p.year)) is None,
            ComplianceReason.report_already_verified, f"{p.emitter} {p.year}")
    submissions = [_reportable(ctx, p, submission_id)
                   for submission_id in json.loads(p.submissions)]
    _require_complete(ctx, p, submissions)
    earlier = load_annual_report(ctx, p.emitter, p.year)
    report = AnnualReport(emitter=p.emitter, year=p.year, id=p.report, scheme=p.scheme,
                          document_hash=p.document_hash, submissions=p.submissions,
                          monthly_kg=sum(s.total_kg for s in submissions),
                          submitted_seq=ctx.seq)
    return Changes(rows=[report.row(new=earlier is None)])


def _reportable(ctx: Context, p: AnnualReportSubmit, submission_id: str) -> MonthlySubmission:
    """A referenced submission, refused unless it may stand in this report."""
    submission = load_submission(ctx, submission_id)
    why = _why_not_reportable(ctx, p, submission)
    require(why is None, ComplianceReason.submission_not_in_report, f"{submission_id}: {why}")
    return submission


def _why_not_reportable(ctx: Context, p: AnnualReportSubmit,
                        submission: MonthlySubmission) -> str | None:
    if submission.emitter != p.emitter:
        return f"it is {submission.emitter}'s"
    if submission.year != p.year:
        return f"it is of {submission.year}"
    scheme = load_installation(ctx, submission.installation).scheme
    if scheme != p.scheme:
        return f"its installation {submission.installation} is covered by {scheme}"
    if not submission.in_force:
        return f"it is superseded by {submission.superseded_by}"
    return None


def _require_complete(ctx: Context, p: AnnualReportSubmit,
                      submissions: list[MonthlySubmission]) -> None:
    """Every month of every installation the emitter has in the scheme is referenced."""
    referenced = {(s.installation, s.month) for s in submissions}
    listed = load_emitter_installations(ctx, p.emitter, p.scheme)
    for installation in listed.installations if listed else ():
        for month in calendar.months_of(p.year):
            require((installation, month) in referenced, ComplianceReason.monthly_data_missing,
                    f"no submission for {installation} {month}")
