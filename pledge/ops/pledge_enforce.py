"""pledge_enforce: on the pledgor's default the pledgee takes pledged units into an account it
names (its own trading account, or a disposal account such as an exchange's), tradable.

Allowed only once the pledge has matured (the market day on the ledger's clock is after the
maturity date), or earlier with the registry's co-signature (a court order). A quantity up to
what is pledged moves; the rest stays pledged until released or enforced later.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.lien import enforce
from ledger.ops import Context
from ledger.ops.holding_rules import require_may_hold
from ledger.payloads import Payload
from pledge.agreements import PledgeParty, Signer, open_pledge, under_lien
from pledge.model import event
from pledge.parties import registry_cosigned
from pledge.reasons import PledgeReason
from pledge.rules import agreement_rules


@dataclass(frozen=True)
class PledgeEnforce(Payload):
    pledge: str
    quantity: int
    to_account: str


SCHEMA = define_schema(
    "pledge_enforce", "PledgeEnforce", PledgeEnforce,
    ("pledge", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("toAccount", "string", "id"),
)


def pledge_enforce(p: PledgeEnforce, ctx: Context) -> Changes:
    pledge = open_pledge(ctx, p.pledge, Signer(PledgeParty.pledgee, PledgeReason.not_pledgee),
                         quantity=p.quantity, exceeds=PledgeReason.enforce_exceeds_pledged)
    batch = ctx.batch(pledge.batch)
    scheme_rules = ctx.rules(batch.scheme)
    ordered = registry_cosigned(ctx)
    today = agreement_rules(scheme_rules).market_day(ctx.now)
    require(today > pledge.maturity or ordered, PledgeReason.before_maturity,
            f"matures {pledge.maturity}, today is {today}")
    source = ctx.account(pledge.account)
    # A freeze stops units leaving the account; the registry that froze it may let them go.
    require(not source.frozen or ordered, Reason.account_frozen,
            f"{source.id}: {source.freeze_reason}")
    destination = ctx.unfrozen_account(p.to_account)
    require(destination.id != source.id, Reason.same_account,
            "enforcing into the pledgor's own account is a release")
    require_may_hold(destination, batch, scheme_rules)
    held = under_lien(ctx, pledge)
    lots = enforce(held.lots, held.lien, pledge.pledgee, p.quantity, destination.id,
                   ctx.lot_ids)
    after = pledge.resolving(ctx.seq, enforced=p.quantity)
    return Changes(lots=lots, rows=[after.row(new=False), event(ctx, pledge.id, p.quantity)])
