"""repo_close: on or before the repurchase date the seller buys the units back; both sign.

Under a lien the very units return from the buyer's account to the seller's, tradable; in a
free-use repo the buyer delivers the same quantity of the same batch from its tradable units
(oldest serials first), whichever serials those are. Part of a repo may be closed only where
the scheme's rules let repos be split.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.lien import enforce
from ledger.model import LotState
from ledger.ops import Context
from ledger.payloads import Payload
from ledger.units import carve, select_oldest
from pledge.agreements import Signer, open_repo, under_lien
from pledge.fields import RepoParty
from pledge.model import event
from pledge.reasons import PledgeReason
from pledge.rules import agreement_rules


@dataclass(frozen=True)
class RepoClose(Payload):
    repo: str
    quantity: int


SCHEMA = define_schema(
    "repo_close", "RepoClose", RepoClose,
    ("repo", "string", "id"),
    ("quantity", "uint64", "quantity"),
)


def repo_close(p: RepoClose, ctx: Context) -> Changes:
    quantity = p.quantity
    repo = open_repo(ctx, p.repo, Signer(RepoParty.seller), Signer(RepoParty.buyer))
    batch = ctx.batch(repo.batch)
    rules = agreement_rules(ctx.rules(batch.scheme))
    today = rules.market_day(ctx.now)
    require(today <= repo.repurchase_day, PledgeReason.after_repurchase_date,
            f"repurchase date {repo.repurchase_date}, today is {today}")
    require(quantity <= repo.outstanding, PledgeReason.close_exceeds_repo,
            f"{repo.outstanding} t outstanding, asked to close {quantity} t")
    require(rules.repo_splittable or quantity == repo.outstanding, PledgeReason.repo_not_splittable,
            f"{rules.scheme}: close all {repo.outstanding} t at once")
    seller_account = ctx.unfrozen_account(repo.seller_account)
    buyer_account = ctx.unfrozen_account(repo.buyer_account)
    if repo.free_use:
        selection = select_oldest(
            ctx.ws.held_lots(buyer_account.id, batch.id, LotState.tradable, quantity), quantity)
        lots = carve(selection, ctx.lot_ids, lambda lot: lot.moved(account=seller_account.id))
    else:
        # `enforce` is the primitive's "end the lien and move the units": here, home.
        held = under_lien(ctx, repo)
        lots = enforce(held.lots, held.lien, repo.buyer, quantity, seller_account.id,
                       ctx.lot_ids)
    after = repo.returning(ctx.seq, quantity)
    return Changes(lots=lots, rows=[after.row(new=False), event(ctx, repo.id, quantity)])
