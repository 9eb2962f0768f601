"""surrender: an emitter surrenders units from its compliance account against its obligation
for a compliance year. The units move to `surrendered` for good, and the obligation records
them by kind: allowances of the obligation's scheme, or offset credits within the cap.

Refused: more than is still owed, anything once the obligation is met, units the scheme's
rules do not take against that year (compliance.eligibility: allowances of a later vintage or
older than banking allows; offsets whose vintage, project type or sunset date bars them;
anything else), offsets past the cap (`offsets.cap_bp` of the obligation, rounded down: the
refusal says how much may still be offset), and units under a lien — a pledge's or a
non-free-use repo's — which the unit selection refuses (`lot_under_lien`, or
`insufficient_tradable` when chosen by quantity).
Units a free-use repo delivered belong to the buyer outright and carry no lien: the buyer may
surrender them like any other units it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.eligibility import UnitKind, eligible_kind
from compliance.obligation_model import load_obligation, surrender_row
from compliance.reasons import ComplianceReason
from compliance.rules import required_rules
from compliance.schema import offset_projects
from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.model import AccountType, Batch, LotState
from ledger.ops import Context
from ledger.ops.selection import select_units
from ledger.payloads import Payload, Units
from ledger.units import carve


@dataclass(frozen=True)
class Surrender(Payload):
    account: str
    year: int
    units: Units

    def check(self) -> None:
        self.units.check()


SCHEMA = define_schema(
    "surrender", "Surrender", Surrender,
    ("account", "string", "id"),
    ("year", "uint64", "year"),
    ("batch", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("serialFirst", "uint64", "serial"),  # 0 and 0: by quantity, oldest serials first
    ("serialLast", "uint64", "serial"),
)


def surrender(p: Surrender, ctx: Context) -> Changes:
    account = ctx.account(p.account)
    ctx.require_holder(account)
    ctx.unfrozen_account(account.id)
    require(account.type == AccountType.compliance, ComplianceReason.not_compliance_account,
            f"{account.id} is a {account.type.value} account")
    obligation = load_obligation(ctx, account.participant, p.year)
    quantity = p.units.quantity
    require(obligation.remaining > 0, ComplianceReason.obligation_met,
            f"{obligation.emitter} {obligation.year}")
    require(quantity <= obligation.remaining, ComplianceReason.exceeds_obligation,
            f"{obligation.remaining} t still owed")
    batch = ctx.batch(p.units.batch)
    rules = required_rules(ctx.rules(obligation.scheme))
    kind = eligible_kind(rules, batch, obligation.year, project_type=_project_type(ctx, batch),
                         today=rules.calendar.market_day(ctx.now))
    if kind == UnitKind.credit:
        may_offset = rules.offsets.cap(obligation.obligation) - obligation.credits
        require(quantity <= may_offset, ComplianceReason.offset_cap_exceeded,
                f"at most {max(may_offset, 0)} t more may be offset")
    # refuses units under a lien (a pledge's, a repo's); a free-use repo's units are the
    # buyer's outright, lien-free, and surrender like any others
    selection = select_units(ctx, account, batch, p.units)
    lots = carve(selection, ctx.lot_ids, lambda lot: lot.moved(state=LotState.surrendered))
    after = obligation.surrendering(kind, quantity, ctx.seq)
    return Changes(lots=lots, rows=[
        after.row(new=False),
        surrender_row(ctx, obligation, account.id, batch.id, kind, quantity)])


def _project_type(ctx: Context, batch: Batch) -> str | None:
    """The declared type of the batch's offset project, None if none was declared."""
    project = ctx.ws.row(offset_projects, (batch.project,))
    return None if project is None else str(project["type"])
