"""project_submit: a project owner submits a project under an active methodology valid today,
with its design document's hash (the document itself is stored content-addressed, off the
journal). Its public comment period opens: it ends the scheme's `comment_working_days`
working days later (projects/rules.py), and only then can it be validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.model import Role
from ledger.ops import Context
from ledger.payloads import Payload
from projects.model import NOT_SET, Project, ProjectStatus, find_project, load_active_methodology
from projects.reasons import ProjectReason
from projects.rules import CCER_SCHEME, required_rules


@dataclass(frozen=True)
class ProjectSubmit(Payload):
    project: str
    owner: str
    methodology: str
    title: str
    location: str
    start_date: str
    crediting_start: str
    crediting_end: str
    expected_reductions: int  # whole tonnes CO2e over the crediting period
    pdd_hash: str


SCHEMA = define_schema(
    "project_submit", "ProjectSubmit", ProjectSubmit,
    ("project", "string", "id"),
    ("owner", "string", "id"),
    ("methodology", "string", "id"),
    ("title", "string", "text"),
    ("location", "string", "text"),
    ("startDate", "string", "calendar_day"),
    ("creditingStart", "string", "calendar_day"),
    ("creditingEnd", "string", "calendar_day"),
    ("expectedReductions", "uint64", "tonnes"),
    ("pddHash", "string", "sha256"),
)


def project_submit(p: ProjectSubmit, ctx: Context) -> Changes:
    owner = ctx.participant(p.owner)
    require(owner.role == Role.project_owner, ProjectReason.owner_not_project_owner,
            f"{owner.id} is a {owner.role.value}")
    require(ctx.is_signed_by(owner.id), Reason.missing_signature, f"the owner {owner.id}")
    require(find_project(ctx, p.project) is None, ProjectReason.project_exists, p.project)
    methodology = load_active_methodology(ctx, p.methodology)
    rules = required_rules(ctx.rules(CCER_SCHEME))
    today = rules.calendar.market_day(ctx.now)
    require(methodology.valid_on(today), ProjectReason.methodology_not_valid,
            f"{methodology.id} is valid {methodology.valid_from}.."
            f"{methodology.valid_until or 'open'}, today is {today}")
    start, first, last = (date.fromisoformat(day) for day in
                          (p.start_date, p.crediting_start, p.crediting_end))
    require(start <= first < last, ProjectReason.crediting_period_invalid,
            f"started {start}, crediting {first}..{last}")
    project = Project(
        id=p.project, owner=owner.id, methodology=methodology.id, title=p.title,
        location=p.location, start_date=p.start_date, crediting_start=p.crediting_start,
        crediting_end=p.crediting_end, expected_t=p.expected_reductions, pdd_hash=p.pdd_hash,
        comments_until=rules.comments_until(today).isoformat(),
        status=ProjectStatus.submitted, validator=NOT_SET, validation_hash=NOT_SET,
        periods="[]", reason=NOT_SET, submitted_seq=ctx.seq, updated_seq=ctx.seq)
    return Changes(rows=[project.row(new=True)])
