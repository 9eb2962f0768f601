"""methodology_publish: the registry publishes a methodology projects can register under: its
sector (whose qualified bodies validate and verify them), its applicability, the days it is
valid and the share of each issuance set aside for the buffer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from projects.fields import ExistingProjects
from projects.model import NOT_SET, Methodology, MethodologyStatus, find_methodology
from projects.reasons import ProjectReason

WHOLE_BP = 10_000  # the whole of an issuance, in ten-thousandths


@dataclass(frozen=True)
class MethodologyPublish(Payload):
    methodology: str
    version: str
    sector: str
    title: str
    applicability: str
    valid_from: str
    valid_until: str
    buffer_bp: int

    def check(self) -> None:
        if not 0 <= self.buffer_bp <= WHOLE_BP:
            raise Rejected(Reason.malformed_instruction,
                           f"bufferBp must be 0..{WHOLE_BP} ten-thousandths")
        if self.valid_until and date.fromisoformat(self.valid_until) < date.fromisoformat(
                self.valid_from):
            raise Rejected(Reason.malformed_instruction, "validUntil is before validFrom")


SCHEMA = define_schema(
    "methodology_publish", "MethodologyPublish", MethodologyPublish,
    ("methodology", "string", "id"),
    ("version", "string", "label"),
    ("sector", "string", "label"),
    ("title", "string", "text"),
    ("applicability", "string", "text"),
    ("validFrom", "string", "calendar_day"),
    ("validUntil", "string", "date"),
    # a non-negative integer of at most 10 000, which check() holds it to
    ("bufferBp", "uint64", "serial"),
)


def methodology_publish(p: MethodologyPublish, ctx: Context) -> Changes:
    ctx.require_registry()
    require(find_methodology(ctx, p.methodology) is None, ProjectReason.methodology_exists,
            p.methodology)
    methodology = Methodology(
        id=p.methodology, version=p.version, sector=p.sector, title=p.title,
        applicability=p.applicability, valid_from=p.valid_from, valid_until=p.valid_until,
        buffer_bp=p.buffer_bp, status=MethodologyStatus.active, replaced_by=NOT_SET,
        existing_projects=ExistingProjects.keep, retired_on=NOT_SET, reason=NOT_SET,
        published_seq=ctx.seq,
        updated_seq=ctx.seq)
    return Changes(rows=[methodology.row(new=True)])
