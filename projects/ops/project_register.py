"""project_register: the registry registers a validated project whose methodology is still
active. From then on its monitoring periods can be verified and credited."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from projects.model import ProjectStatus, load_active_methodology, load_project
from projects.reasons import ProjectReason


@dataclass(frozen=True)
class ProjectRegister(Payload):
    project: str


SCHEMA = define_schema(
    "project_register", "ProjectRegister", ProjectRegister,
    ("project", "string", "id"),
)


def project_register(p: ProjectRegister, ctx: Context) -> Changes:
    ctx.require_registry()
    project = load_project(ctx, p.project)
    require(project.status == ProjectStatus.validated, ProjectReason.project_not_validated,
            f"{project.id} is {project.status.value}")
    load_active_methodology(ctx, project.methodology)
    after = project.moved(ctx.seq, ProjectStatus.registered)
    return Changes(rows=[after.row(new=False)])
