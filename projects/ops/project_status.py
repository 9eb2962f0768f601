"""project_status: the registry suspends a registered project, reinstates a suspended one or
deregisters either for good, with a reason. A suspended or deregistered project has nothing
more issued; units already issued stay valid unless the registry cancels them."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from projects.fields import ProjectAction
from projects.model import ProjectStatus, load_project
from projects.reasons import ProjectReason

# Which statuses each action may start from, and where it leads.
TRANSITIONS: dict[ProjectAction, tuple[frozenset[ProjectStatus], ProjectStatus]] = {
    ProjectAction.suspend: (frozenset({ProjectStatus.registered}), ProjectStatus.suspended),
    ProjectAction.reinstate: (frozenset({ProjectStatus.suspended}), ProjectStatus.registered),
    ProjectAction.deregister: (frozenset({ProjectStatus.registered, ProjectStatus.suspended}),
                               ProjectStatus.deregistered),
}


@dataclass(frozen=True)
class ProjectStatusChange(Payload):
    project: str
    action: ProjectAction
    reason: str

    def check(self) -> None:
        if not self.reason.strip():
            raise Rejected(Reason.malformed_instruction, "a project's status changes for a reason")


SCHEMA = define_schema(
    "project_status", "ProjectStatus", ProjectStatusChange,
    ("project", "string", "id"),
    ("action", "string", "ProjectAction"),
    ("reason", "string", "text"),
)


def project_status(p: ProjectStatusChange, ctx: Context) -> Changes:
    ctx.require_registry()
    project = load_project(ctx, p.project)
    starts_from, status = TRANSITIONS[p.action]
    require(project.status in starts_from, ProjectReason.project_status_transition,
            f"{p.action.value} a project that is {project.status.value}")
    return Changes(rows=[project.moved(ctx.seq, status, p.reason).row(new=False)])
