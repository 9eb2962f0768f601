"""pledge_amend: pledgor and pledgee together restate the secured claim (loan reference,
principal, currency) and the maturity date of an active pledge. The pledged units do not
change; the amendment is one more entry of the pledge's history."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from pledge.agreements import PledgeParty, Signer, open_pledge
from pledge.model import event
from pledge.reasons import PledgeReason
from pledge.rules import agreement_rules


@dataclass(frozen=True)
class PledgeAmend(Payload):
    pledge: str
    loan_reference: str
    principal: int  # minor units of `currency`
    currency: str
    maturity_date: str


SCHEMA = define_schema(
    "pledge_amend", "PledgeAmend", PledgeAmend,
    ("pledge", "string", "id"),
    ("loanReference", "string", "reference"),
    ("principal", "uint64", "amount"),
    ("currency", "string", "currency"),
    ("maturityDate", "string", "day"),
)


def pledge_amend(p: PledgeAmend, ctx: Context) -> Changes:
    pledge = open_pledge(ctx, p.pledge, Signer(PledgeParty.pledgor),
                         Signer(PledgeParty.pledgee))
    amended = replace(pledge, loan_reference=p.loan_reference, principal=p.principal,
                      currency=p.currency, maturity_date=p.maturity_date)
    require(amended != pledge, PledgeReason.nothing_to_amend, pledge.id)
    maturity = amended.maturity
    require(date.fromisoformat(pledge.start_date) <= maturity, PledgeReason.maturity_before_start,
            f"starts {pledge.start_date}, maturity {maturity}")
    today = agreement_rules(ctx.rules(ctx.batch(pledge.batch).scheme)).market_day(ctx.now)
    require(maturity >= today, PledgeReason.maturity_passed,
            f"maturity {maturity}, today is {today}")
    return Changes(rows=[replace(amended, updated_seq=ctx.seq).row(new=False),
                         event(ctx, pledge.id, 0)])
