"""monitoring_submit: a registered project's owner reports a monitoring period once it has
ended: its days, the monitoring report's hash (the report itself is kept off the journal) and
the reductions it claims, in whole tonnes.

A period lies inside the project's crediting period and overlaps none of the project's other
periods (kept, in order, in the project's `periods`), so that no day's reductions can be
credited twice. A project whose methodology was retired with `existing_projects = "end"` has
its crediting period cut at the retirement's market day: no period ending after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ledger.effects import Changes
from ledger.errors import Rejected, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from projects.fields import ExistingProjects
from projects.model import Project, ProjectStatus, load_methodology, load_project
from projects.period_model import MonitoringPeriod, find_period, overlapping, with_range
from projects.reasons import ProjectReason
from projects.rules import CCER_SCHEME, required_rules


@dataclass(frozen=True)
class MonitoringSubmit(Payload):
    project: str
    period: str
    start_date: str
    end_date: str
    report_hash: str  # of the monitoring report
    claimed_reductions: int  # whole tonnes CO2e


SCHEMA = define_schema(
    "monitoring_submit", "MonitoringSubmit", MonitoringSubmit,
    ("project", "string", "id"),
    ("period", "string", "id"),
    ("startDate", "string", "calendar_day"),
    ("endDate", "string", "calendar_day"),
    ("reportHash", "string", "sha256"),
    ("claimedReductions", "uint64", "tonnes"),
)


def monitoring_submit(p: MonitoringSubmit, ctx: Context) -> Changes:
    project = load_project(ctx, p.project)
    require(ctx.is_signed_by(project.owner), ProjectReason.not_project_owner,
            f"{project.id} is {project.owner}'s")
    require(project.status == ProjectStatus.registered, ProjectReason.project_not_registered,
            f"{project.id} is {project.status.value}")
    require(find_period(ctx, p.project, p.period) is None, ProjectReason.period_exists,
            f"{p.project} {p.period}")
    rules = required_rules(ctx.rules(CCER_SCHEME))
    _require_inside_crediting(ctx, p, project)
    ranges = project.period_days
    clash = overlapping(ranges, p.start_date, p.end_date)
    if clash is not None:
        raise Rejected(ProjectReason.period_overlaps,
                       f"{p.start_date}..{p.end_date} overlaps {clash[0]}..{clash[1]}")
    today = rules.calendar.market_day(ctx.now)
    require(date.fromisoformat(p.end_date) < today, ProjectReason.period_not_ended,
            f"it ends on {p.end_date}, today is {today}")
    period = MonitoringPeriod.reported(p.project, p.period, p.start_date, p.end_date,
                                       p.report_hash, p.claimed_reductions, ctx.seq)
    # the project's row keeps its periods' days so the next report's overlap is one read;
    # its updated_seq tells of status changes, not reports, so it stays
    project = replace(project, periods=with_range(ranges, p.start_date, p.end_date))
    return Changes(rows=[period.row(new=True), project.row(new=False)])


def _require_inside_crediting(ctx: Context, p: MonitoringSubmit, project: Project) -> None:
    # ISO days compare as text
    require(p.start_date <= p.end_date, ProjectReason.period_outside_crediting,
            f"{p.start_date}..{p.end_date} ends before it starts")
    require(project.crediting_start <= p.start_date and p.end_date <= project.crediting_end,
            ProjectReason.period_outside_crediting,
            f"{p.start_date}..{p.end_date} is not inside {project.id}'s crediting period "
            f"{project.crediting_start}..{project.crediting_end}")
    methodology = load_methodology(ctx, project.methodology)
    if methodology.active or methodology.existing_projects != ExistingProjects.end:
        return
    ended = methodology.retired_on  # ISO days compare as text
    require(p.end_date <= ended, ProjectReason.period_outside_crediting,
            f"{methodology.id} was {methodology.status.value} on {ended} and its projects' "
            f"crediting periods ended with it; {p.period} ends on {p.end_date}")


