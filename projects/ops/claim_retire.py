"""claim_retire: the holder retires credits of the project cycle for an offsetting claim.

The retirement names its beneficiary, its purpose (an event or a product by its stable
identifier, an organisation by its name, or a period of the beneficiary's emissions), the
period the claim covers and the claim itself. Its units — a quantity, oldest serials first, or
one explicit serial range — move to `retired` for good, as the core's retire moves them; the
retirement keeps the serial ranges it took, which its certificate and its proof bundle
(`retirement`, docs/proof-format.md) name.

Refused: an id already used (`retirement_exists`), a blank beneficiary
(`beneficiary_required`), an event, product or organisation without its identifier
(`purpose_subject_required`), a claim period that ends before it starts
(`claim_period_invalid`), units that are not credits issued by the project cycle
(`not_offset_credits`: every such unit traces back to a verified monitoring period; a batch
issued before its scheme came under the project cycle names no project of it), then
what the core's retire refuses: a signer who does not hold the account, a frozen account,
units not held, not tradable or under a lien.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.model import Kind, LotState
from ledger.ops import Context
from ledger.ops.selection import select_units
from ledger.payloads import Payload, Units
from ledger.units import carve
from projects.fields import ClaimPurpose
from projects.reasons import ProjectReason
from projects.retirement_model import (
    OFFSET_ISSUE_OPERATION,
    ClaimRetirement,
    merged_ranges,
    require_new_retirement,
)
from projects.schema import projects


@dataclass(frozen=True)
class ClaimRetire(Payload):
    retirement: str
    account: str
    units: Units
    beneficiary: str
    purpose: ClaimPurpose
    subject: str
    period_start: str
    period_end: str
    claim: str

    def check(self) -> None:
        self.units.check()
        require(bool(self.beneficiary.strip()), ProjectReason.beneficiary_required,
                f"retirement {self.retirement} names no beneficiary")
        require(self.purpose == ClaimPurpose.period or bool(self.subject.strip()),
                ProjectReason.purpose_subject_required,
                f"a retirement for a {self.purpose.value} names it")
        # days YYYY-MM-DD compare as text
        require(self.period_start <= self.period_end, ProjectReason.claim_period_invalid,
                f"{self.period_start}..{self.period_end}")


SCHEMA = define_schema(
    "claim_retire", "ClaimRetire", ClaimRetire,
    ("retirement", "string", "id"),
    ("account", "string", "id"),
    ("batch", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("serialFirst", "uint64", "serial"),  # 0 and 0: by quantity, oldest serials first
    ("serialLast", "uint64", "serial"),
    ("beneficiary", "string", "text"),
    ("purpose", "string", "ClaimPurpose"),
    ("subject", "string", "text"),  # empty only for a period's emissions
    ("periodStart", "string", "calendar_day"),
    ("periodEnd", "string", "calendar_day"),
    ("claim", "string", "text"),
)


def claim_retire(p: ClaimRetire, ctx: Context) -> Changes:
    require_new_retirement(ctx, p.retirement)
    batch = ctx.batch(p.units.batch)
    require(batch.kind == Kind.credit
            and ctx.rules(batch.scheme).issue_operation == OFFSET_ISSUE_OPERATION,
            ProjectReason.not_offset_credits,
            f"batch {batch.id} is {batch.scheme} {batch.kind.value}s, not issued by "
            f"{OFFSET_ISSUE_OPERATION}")
    # a batch issued before its scheme came under the project cycle names no project of it
    require(ctx.ws.row(projects, (batch.project,)) is not None,
            ProjectReason.not_offset_credits,
            f"batch {batch.id} names project {batch.project!r}, which is not a project of "
            "the project cycle")
    account = ctx.account(p.account)
    ctx.require_holder(account)
    ctx.unfrozen_account(account.id)
    selection = select_units(ctx, account, batch, p.units)
    lots = carve(selection, ctx.lot_ids, lambda lot: lot.moved(state=LotState.retired))
    retirement = ClaimRetirement(
        id=p.retirement, seq=ctx.seq, account=account.id, batch=batch.id,
        quantity=p.units.quantity, beneficiary=p.beneficiary, purpose=p.purpose,
        subject=p.subject, period_start=p.period_start, period_end=p.period_end,
        claim=p.claim, serials=merged_ranges((first, last) for _, first, last in selection))
    return Changes(lots=lots, rows=[retirement.row()])
