"""methodology_retire: the registry supersedes a methodology by a newer active one, or
withdraws it, with a reason. From then on no project may be submitted or registered under it.

What it means for projects already registered under it is part of the decision: `keep`, their
crediting periods run on; `end`, no period of theirs ending after the retirement's market day
(`retired_on`) can be reported, verified or issued any more.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from projects.fields import ExistingProjects, MethodologyAction
from projects.model import MethodologyStatus, load_active_methodology, load_methodology
from projects.reasons import ProjectReason
from projects.rules import CCER_SCHEME, required_rules

STATUS_AFTER = {MethodologyAction.supersede: MethodologyStatus.superseded,
                MethodologyAction.withdraw: MethodologyStatus.withdrawn}


@dataclass(frozen=True)
class MethodologyRetire(Payload):
    methodology: str
    action: MethodologyAction
    replaced_by: str
    existing_projects: ExistingProjects
    reason: str

    def check(self) -> None:
        if not self.reason.strip():
            raise Rejected(Reason.malformed_instruction, "retiring a methodology gives a reason")
        if self.action == MethodologyAction.supersede and not self.replaced_by:
            raise Rejected(Reason.malformed_instruction,
                           "a superseded methodology names the one that replaces it")
        if self.action == MethodologyAction.withdraw and self.replaced_by:
            raise Rejected(Reason.malformed_instruction,
                           "a withdrawn methodology is replaced by none: replacedBy is empty")
        if self.replaced_by == self.methodology:
            raise Rejected(Reason.malformed_instruction, "a methodology cannot replace itself")


SCHEMA = define_schema(
    "methodology_retire", "MethodologyRetire", MethodologyRetire,
    ("methodology", "string", "id"),
    ("action", "string", "MethodologyAction"),
    ("replacedBy", "string", "optional_id"),
    ("existingProjects", "string", "ExistingProjects"),
    ("reason", "string", "text"),
)


def methodology_retire(p: MethodologyRetire, ctx: Context) -> Changes:
    ctx.require_registry()
    before = load_methodology(ctx, p.methodology)
    require(before.active, ProjectReason.methodology_already_retired,
            f"{before.id} is {before.status.value}")
    if p.replaced_by:
        load_active_methodology(ctx, p.replaced_by)
    day = required_rules(ctx.rules(CCER_SCHEME)).calendar.market_day(ctx.now)
    after = before.retired(ctx.seq, day, STATUS_AFTER[p.action], p.replaced_by,
                           p.existing_projects, p.reason)
    return Changes(rows=[after.row(new=False)])
