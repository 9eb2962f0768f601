"""Methodologies, projects and their public comments as plain values, and how they are read
and written through the working set (rows of projects/schema.py's tables).

Days are "YYYY-MM-DD" as the instructions carry them; "" is a day or id not set (an
open-ended methodology, a project not yet validated). A methodology or project is never
deleted: retiring one, or suspending or deregistering a project, changes its status and keeps
the reason.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from ledger.effects import Row
from ledger.errors import Rejected
from ledger.ops import Context
from projects.fields import ExistingProjects
from projects.reasons import ProjectReason
from projects.schema import methodologies, project_comments, projects

NOT_SET = ""


class MethodologyStatus(enum.StrEnum):
    active = "active"
    superseded = "superseded"
    withdrawn = "withdrawn"


class ProjectStatus(enum.StrEnum):
    submitted = "submitted"  # its comment period runs, then it awaits validation
    validated = "validated"
    registered = "registered"  # its monitoring periods can be verified and issued
    suspended = "suspended"  # nothing issued until reinstated
    deregistered = "deregistered"  # for good
    ended = "ended"  # its crediting period was ended with its methodology


@dataclass(frozen=True, slots=True)
class Methodology:
    id: str
    version: str
    sector: str
    title: str
    applicability: str
    valid_from: str
    valid_until: str  # NOT_SET: open-ended
    buffer_bp: int  # share of each issuance set aside for the buffer, in ten-thousandths
    status: MethodologyStatus
    replaced_by: str  # NOT_SET unless superseded
    existing_projects: ExistingProjects  # what its retirement means for projects under it
    retired_on: str  # the market day it was retired; NOT_SET while active
    reason: str  # why it was retired; NOT_SET while active
    published_seq: int
    updated_seq: int

    @property
    def active(self) -> bool:
        return self.status == MethodologyStatus.active

    def valid_on(self, day: date) -> bool:
        return (date.fromisoformat(self.valid_from) <= day
                and (self.valid_until == NOT_SET or day <= date.fromisoformat(self.valid_until)))

    def retired(self, seq: int, day: date, status: MethodologyStatus, replaced_by: str,
                existing_projects: ExistingProjects, reason: str) -> Methodology:
        assert self.active and status != MethodologyStatus.active, "retired once"
        return replace(self, status=status, replaced_by=replaced_by,
                       existing_projects=existing_projects, retired_on=day.isoformat(),
                       reason=reason, updated_seq=seq)

    def row(self, *, new: bool) -> Row:
        values = {**asdict(self), "status": self.status.value,
                  "existing_projects": self.existing_projects.value}
        return Row(methodologies, (self.id,), values, new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> Methodology:
        return cls(**{**values, "status": MethodologyStatus(values["status"]),
                      "existing_projects": ExistingProjects(values["existing_projects"])})


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    owner: str  # participant id (project_owner)
    methodology: str
    title: str
    location: str
    start_date: str
    crediting_start: str
    crediting_end: str
    expected_t: int  # expected reductions over the crediting period, whole tonnes
    pdd_hash: str
    comments_until: str  # the last day of the public comment period
    status: ProjectStatus
    validator: str  # NOT_SET until validated
    validation_hash: str
    periods: str  # JSON list of its monitoring periods' [start, end], in order
    reason: str  # the latest suspension's, reinstatement's or deregistration's
    submitted_seq: int
    updated_seq: int

    @property
    def period_days(self) -> list[tuple[str, str]]:
        return [(start, end) for start, end in json.loads(self.periods)]

    def validated(self, seq: int, validator: str, validation_hash: str) -> Project:
        assert self.status == ProjectStatus.submitted, "validated once"
        return replace(self, status=ProjectStatus.validated, validator=validator,
                       validation_hash=validation_hash, updated_seq=seq)

    def moved(self, seq: int, status: ProjectStatus, reason: str = NOT_SET) -> Project:
        return replace(self, status=status, reason=reason or self.reason, updated_seq=seq)

    def row(self, *, new: bool) -> Row:
        return Row(projects, (self.id,), {**asdict(self), "status": self.status.value}, new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> Project:
        return cls(**{**values, "status": ProjectStatus(values["status"])})


@dataclass(frozen=True, slots=True)
class Comment:
    """A public comment on a project, by journal entry."""

    project: str
    seq: int
    author: str  # the participant who signed it
    comment_hash: str  # of the comment's full text, kept off the journal
    summary: str

    def row(self) -> Row:
        return Row(project_comments, (self.project, self.seq), asdict(self), new=True)


# --- reads inside an operation, refusing by name ------------------------------------------


def find_methodology(ctx: Context, methodology_id: str) -> Methodology | None:
    values = ctx.ws.row(methodologies, (methodology_id,))
    return None if values is None else Methodology.from_row(dict(values))


def load_methodology(ctx: Context, methodology_id: str) -> Methodology:
    methodology = find_methodology(ctx, methodology_id)
    if methodology is None:
        raise Rejected(ProjectReason.unknown_methodology, methodology_id)
    return methodology


def load_active_methodology(ctx: Context, methodology_id: str) -> Methodology:
    """The methodology, refused unless it is neither superseded nor withdrawn."""
    methodology = load_methodology(ctx, methodology_id)
    if not methodology.active:
        raise Rejected(ProjectReason.methodology_not_active,
                       f"{methodology.id} is {methodology.status.value}")
    return methodology


def find_project(ctx: Context, project_id: str) -> Project | None:
    values = ctx.ws.row(projects, (project_id,))
    return None if values is None else Project.from_row(dict(values))


def load_project(ctx: Context, project_id: str) -> Project:
    project = find_project(ctx, project_id)
    if project is None:
        raise Rejected(ProjectReason.unknown_project, project_id)
    return project
