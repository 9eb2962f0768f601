"""offset_project_register: the registry declares an offset project's type (wind, forestry,
methane recovery, ...), which a scheme's offset rules may restrict (`offsets.project_types`).
A project's credits carry its id as the batch's `project`. Declared once, never changed."""

from __future__ import annotations

from dataclasses import dataclass

from compliance.reasons import ComplianceReason
from compliance.schema import offset_projects
from ledger.effects import Changes, Row
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class OffsetProjectRegister(Payload):
    project: str
    project_type: str


SCHEMA = define_schema(
    "offset_project_register", "OffsetProjectRegister", OffsetProjectRegister,
    ("project", "string", "id"),
    ("projectType", "string", "label"),
)


def offset_project_register(p: OffsetProjectRegister, ctx: Context) -> Changes:
    ctx.require_registry()
    require(ctx.ws.row(offset_projects, (p.project,)) is None,
            ComplianceReason.offset_project_exists,
            p.project)
    return Changes(rows=[Row(offset_projects, (p.project,),
                             {"project": p.project, "type": p.project_type,
                              "registered_seq": ctx.seq}, new=True)])
