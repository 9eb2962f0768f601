"""project_validate: a validation body validates a submitted project once its public comment
period is over. The body must be qualified in the methodology's sector and independent of the
project's owner (projects/bodies.py); it is recorded, since the scheme's rules may bar it from
verifying the same project."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from projects.bodies import require_qualified_body
from projects.model import ProjectStatus, load_methodology, load_project
from projects.reasons import ProjectReason
from projects.rules import CCER_SCHEME, required_rules


@dataclass(frozen=True)
class ProjectValidate(Payload):
    project: str
    validator: str
    validation_hash: str  # of the validation report


SCHEMA = define_schema(
    "project_validate", "ProjectValidate", ProjectValidate,
    ("project", "string", "id"),
    ("validator", "string", "id"),
    ("validationHash", "string", "sha256"),
)


def project_validate(p: ProjectValidate, ctx: Context) -> Changes:
    project = load_project(ctx, p.project)
    require(project.status == ProjectStatus.submitted, ProjectReason.project_not_submitted,
            f"{project.id} is {project.status.value}")
    today = required_rules(ctx.rules(CCER_SCHEME)).calendar.market_day(ctx.now)
    require(today.isoformat() > project.comments_until, ProjectReason.comment_period_open,
            f"{project.id}'s runs until {project.comments_until}, today is {today}")
    methodology = load_methodology(ctx, project.methodology)
    require_qualified_body(ctx, p.validator, methodology.sector, project.owner)
    after = project.validated(ctx.seq, p.validator, p.validation_hash)
    return Changes(rows=[after.row(new=False)])
