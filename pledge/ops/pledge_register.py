"""pledge_register: a holder pledges units of one batch to a bank as security for a loan.

Both parties sign: the pledgor (the account's holder) and the pledgee (a bank). The units — a
quantity, oldest serials first, or one explicit serial range — become `pledged` in the pledgor's
account under a lien that bears the pledge's id and names the pledgee as its holder. Until the
pledgee releases or enforces them, no transfer, retirement, surrender, cancellation or second
pledge can take them (`lot_under_lien`, or `insufficient_tradable` when chosen by quantity).
Collateral of several ranges or batches is several pledges under one loan reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.lien import place
from ledger.model import Lien, Role
from ledger.ops import Context
from ledger.ops.selection import select_units
from ledger.payloads import Payload, Units
from pledge.model import PLEDGE_PURPOSE, Pledge, PledgeStatus, event, require_new_agreement
from pledge.parties import require_signed
from pledge.reasons import PledgeReason
from pledge.rules import agreement_rules


@dataclass(frozen=True)
class PledgeRegister(Payload):
    pledge: str
    account: str
    pledgee: str
    units: Units
    loan_reference: str
    principal: int  # minor units of `currency`
    currency: str
    start_date: str
    maturity_date: str

    def check(self) -> None:
        self.units.check()


SCHEMA = define_schema(
    "pledge_register", "PledgeRegister", PledgeRegister,
    ("pledge", "string", "id"),
    ("account", "string", "id"),
    ("pledgee", "string", "id"),
    ("batch", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("serialFirst", "uint64", "serial"),  # 0 and 0: by quantity, oldest serials first
    ("serialLast", "uint64", "serial"),
    ("loanReference", "string", "reference"),
    ("principal", "uint64", "amount"),
    ("currency", "string", "currency"),
    ("startDate", "string", "day"),
    ("maturityDate", "string", "day"),
)


def pledge_register(p: PledgeRegister, ctx: Context) -> Changes:
    require_new_agreement(ctx, p.pledge)
    account = ctx.account(p.account)
    require_signed(ctx, account.participant, Reason.not_account_holder,
                   f"the pledgor (holder of {account.id})")
    pledgee = ctx.participant(p.pledgee)
    require(pledgee.role == Role.bank, PledgeReason.pledgee_not_bank,
            f"{pledgee.id} is a {pledgee.role.value}")
    require(pledgee.id != account.participant, PledgeReason.same_party, pledgee.id)
    require_signed(ctx, pledgee.id, Reason.missing_signature, "the pledgee")
    ctx.unfrozen_account(account.id)
    batch = ctx.batch(p.units.batch)
    rules = agreement_rules(ctx.rules(batch.scheme))
    require(account.type in rules.pledge_account_types, PledgeReason.account_type_cannot_pledge,
            f"{rules.scheme}: a {account.type.value} account may not pledge")
    start, maturity = date.fromisoformat(p.start_date), date.fromisoformat(p.maturity_date)
    require(start <= maturity, PledgeReason.maturity_before_start, f"{start} > {maturity}")
    today = rules.market_day(ctx.now)
    require(maturity >= today, PledgeReason.maturity_passed,
            f"matured {maturity}, today is {today}")
    lien = Lien(p.pledge, pledgee.id, PLEDGE_PURPOSE, ctx.seq)
    lots = place(select_units(ctx, account, batch, p.units), lien, ctx.lot_ids)
    pledge = Pledge(
        id=lien.id, pledgor=account.participant, pledgee=pledgee.id, account=account.id,
        batch=batch.id, quantity=p.units.quantity, released=0, enforced=0,
        loan_reference=p.loan_reference, principal=p.principal, currency=p.currency,
        start_date=p.start_date, maturity_date=p.maturity_date,
        status=PledgeStatus.active, registered_seq=ctx.seq, updated_seq=ctx.seq,
    )
    return Changes(liens=[lien], lots=lots,
                   rows=[pledge.row(new=True), event(ctx, pledge.id, pledge.quantity)])
