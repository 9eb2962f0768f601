"""repo_open: a seller sells units of one batch to a buyer and agrees to buy them back on the
repurchase date; both sign, and the purchase and repurchase prices are recorded.

By default the units sit in the buyer's account under a lien bearing the repo's id (the buyer
holds them but cannot dispose of them). A free-use repo hands them over tradable instead and
obliges the buyer to deliver the same quantity of the same batch back. The scheme's rules set a
minimum size, which account types may take part, and whether a repo involving a compliance
account must end within its compliance year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.model import AccountType, Lien, LotState
from ledger.ops import Context
from ledger.ops.holding_rules import require_may_hold
from ledger.payloads import Payload
from ledger.units import carve, select_oldest
from pledge.model import REPO_PURPOSE, Repo, RepoStatus, event, require_new_agreement
from pledge.parties import require_signed
from pledge.reasons import PledgeReason
from pledge.rules import agreement_rules


@dataclass(frozen=True)
class RepoOpen(Payload):
    repo: str
    seller_account: str
    buyer_account: str
    batch: str
    quantity: int
    purchase_price: int
    repurchase_price: int
    currency: str
    repurchase_date: str
    free_use: bool


SCHEMA = define_schema(
    "repo_open", "RepoOpen", RepoOpen,
    ("repo", "string", "id"),
    ("sellerAccount", "string", "id"),
    ("buyerAccount", "string", "id"),
    ("batch", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("purchasePrice", "uint64", "amount"),  # minor units of `currency`, the whole quantity
    ("repurchasePrice", "uint64", "amount"),
    ("currency", "string", "currency"),
    ("repurchaseDate", "string", "day"),
    ("freeUse", "bool", "flag"),
)


def repo_open(p: RepoOpen, ctx: Context) -> Changes:
    require_new_agreement(ctx, p.repo)
    seller_account, buyer_account = ctx.account(p.seller_account), ctx.account(p.buyer_account)
    require_signed(ctx, seller_account.participant, Reason.not_account_holder,
                   f"the seller (holder of {seller_account.id})")
    require(buyer_account.participant != seller_account.participant, PledgeReason.same_party,
            f"{seller_account.id} and {buyer_account.id} are both held by "
            f"{seller_account.participant}")
    require_signed(ctx, buyer_account.participant, Reason.missing_signature,
                   f"the buyer (holder of {buyer_account.id})")
    ctx.unfrozen_account(seller_account.id)
    ctx.unfrozen_account(buyer_account.id)
    batch = ctx.batch(p.batch)
    scheme_rules = ctx.rules(batch.scheme)
    rules = agreement_rules(scheme_rules)
    for account in (seller_account, buyer_account):
        require(account.type in rules.repo_account_types, PledgeReason.account_type_cannot_repo,
                f"{rules.scheme}: a {account.type.value} account may not take part in a repo")
    require_may_hold(buyer_account, batch, scheme_rules)
    require(p.quantity >= rules.repo_min_quantity, PledgeReason.repo_below_minimum,
            f"{rules.scheme} repos are at least {rules.repo_min_quantity} t")
    today, repurchase = rules.market_day(ctx.now), date.fromisoformat(p.repurchase_date)
    require(repurchase > today, PledgeReason.repurchase_date_not_future,
            f"repurchase {repurchase}, today is {today}")
    compliance = AccountType.compliance in (seller_account.type, buyer_account.type)
    if rules.repo_within_compliance_year and compliance:
        year_end = rules.compliance_year_end_after(today)
        require(repurchase <= year_end, PledgeReason.beyond_compliance_year,
                f"{rules.scheme}'s compliance year ends {year_end}")
    selection = select_oldest(
        ctx.ws.held_lots(seller_account.id, batch.id, LotState.tradable, p.quantity),
        p.quantity)
    liens = []
    if p.free_use:
        lots = carve(selection, ctx.lot_ids, lambda lot: lot.moved(account=buyer_account.id))
    else:
        # The lien primitive's `place` keeps the units where they are; a repo moves them to the
        # buyer and puts them under its lien in one step. The selection is of tradable,
        # lien-free lots by construction.
        lien = Lien(p.repo, buyer_account.participant, REPO_PURPOSE, ctx.seq)
        liens.append(lien)
        lots = carve(selection, ctx.lot_ids, lambda lot: lot.moved(
            account=buyer_account.id, state=LotState.pledged, lien=lien.id))
    repo = Repo(
        id=p.repo, seller=seller_account.participant, buyer=buyer_account.participant,
        seller_account=seller_account.id, buyer_account=buyer_account.id, batch=batch.id,
        quantity=p.quantity, returned=0, purchase_price=p.purchase_price,
        repurchase_price=p.repurchase_price, currency=p.currency,
        opened_on=today.isoformat(), repurchase_date=p.repurchase_date,
        free_use=p.free_use, status=RepoStatus.open, opened_seq=ctx.seq,
        updated_seq=ctx.seq,
    )
    return Changes(liens=liens, lots=lots,
                   rows=[repo.row(new=True), event(ctx, repo.id, repo.quantity)])
