"""pledge_register: a holder pledges units of one batch to a bank as security for a loan.

Both parties sign: the pledgor (the account's holder) and the pledgee (a bank). The units — a
quantity, oldest serials first, or one explicit serial range — become `pledged` in the pledgor's
account under a lien that bears the pledge's id and names the pledgee as its holder. Until the
pledgee releases or enforces them, no transfer, retirement, surrender, cancellation or second
pledge can take them (`lot_under_lien`, or `insufficient_tradable` when chosen by quantity).
Collateral of several ranges or batches is several pledges under one loan reference.
"""

from __future__ import annotations

from datetime import date

from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import Instruction, define_schema
from ledger.lien import place
from ledger.model import Lien, Role
from ledger.ops import Context
from ledger.ops.selection import select_units
from pledge.model import PLEDGE_PURPOSE, Pledge, PledgeStatus, event, require_new_agreement
from pledge.parties import require_signed
from pledge.reasons import PledgeReason
from pledge.rules import agreement_rules

SCHEMA = define_schema(
    "pledge_register", "PledgeRegister",
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


def pledge_register(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    require_new_agreement(ctx, f["pledge"])
    account = ctx.account(f["account"])
    require_signed(ctx, account.participant, Reason.not_account_holder,
                   f"the pledgor (holder of {account.id})")
    pledgee = ctx.participant(f["pledgee"])
    require(pledgee.role == Role.bank, PledgeReason.pledgee_not_bank,
            f"{pledgee.id} is a {pledgee.role.value}")
    require(pledgee.id != account.participant, PledgeReason.same_party, pledgee.id)
    require_signed(ctx, pledgee.id, Reason.missing_signature, "the pledgee")
    ctx.unfrozen_account(account.id)
    batch = ctx.batch(f["batch"])
    rules = agreement_rules(ctx.rules(batch.scheme))
    require(account.type in rules.pledge_account_types, PledgeReason.account_type_cannot_pledge,
            f"{rules.scheme}: a {account.type.value} account may not pledge")
    start, maturity = date.fromisoformat(f["startDate"]), date.fromisoformat(f["maturityDate"])
    require(start <= maturity, PledgeReason.maturity_before_start, f"{start} > {maturity}")
    today = rules.market_day(ctx.now)
    require(maturity >= today, PledgeReason.maturity_passed,
            f"matured {maturity}, today is {today}")
    lien = Lien(f["pledge"], pledgee.id, PLEDGE_PURPOSE, ctx.seq)
    lots = place(select_units(ctx, account, batch, f), lien, ctx.lot_ids)
    pledge = Pledge(
        id=lien.id, pledgor=account.participant, pledgee=pledgee.id, account=account.id,
        batch=batch.id, quantity=f["quantity"], released=0, enforced=0,
        loan_reference=f["loanReference"], principal=f["principal"], currency=f["currency"],
        start_date=f["startDate"], maturity_date=f["maturityDate"],
        status=PledgeStatus.active, registered_seq=ctx.seq, updated_seq=ctx.seq,
    )
    return Changes(liens=[lien], lots=lots,
                   rows=[pledge.row(new=True), event(ctx, pledge.id, pledge.quantity)])
