"""repo_default: after the repurchase date, the party that performed records the other's
failure; the repo ends.

- The seller did not repurchase (`defaulter` = seller, signed by the buyer): the buyer keeps
  the units. Under a lien, the lien ends and they become tradable in the buyer's account.
- A free-use buyer did not deliver (`defaulter` = buyer, signed by the seller): the failure is
  recorded; no units move (the buyer's units are its own to dispose of, and the seller's claim
  is for the courts). In a repo under lien the units cannot leave the buyer, so it cannot fail
  to deliver them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ledger.effects import Changes, LotEffects
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.lien import release
from ledger.ops import Context
from ledger.payloads import Payload
from pledge.agreements import Signer, open_repo, under_lien
from pledge.fields import RepoParty
from pledge.model import RepoStatus, event
from pledge.reasons import PledgeReason
from pledge.rules import agreement_rules


@dataclass(frozen=True)
class RepoDefault(Payload):
    repo: str
    defaulter: RepoParty

    @property
    def performer(self) -> RepoParty:
        """The party that performed: only it may record the other's default."""
        return RepoParty.buyer if self.defaulter == RepoParty.seller else RepoParty.seller


SCHEMA = define_schema(
    "repo_default", "RepoDefault", RepoDefault,
    ("repo", "string", "id"),
    ("defaulter", "string", "RepoParty"),
)


def repo_default(p: RepoDefault, ctx: Context) -> Changes:
    defaulter, performer = p.defaulter, p.performer
    recorder = Signer(performer, who=f"the {performer}, who records the {defaulter}'s default,")
    repo = open_repo(ctx, p.repo, recorder)
    today = agreement_rules(ctx.rules(ctx.batch(repo.batch).scheme)).market_day(ctx.now)
    require(today > repo.repurchase_day, PledgeReason.before_repurchase_date,
            f"repurchase date {repo.repurchase_date}, today is {today}")
    require(defaulter == RepoParty.seller or repo.free_use, PledgeReason.repo_not_free_use, repo.id)
    lots = LotEffects()
    if defaulter == RepoParty.seller and not repo.free_use:
        held = under_lien(ctx, repo)
        lots = release(held.lots, held.lien, repo.buyer, repo.outstanding, ctx.lot_ids)
    status = (RepoStatus.seller_defaulted if defaulter == RepoParty.seller
              else RepoStatus.buyer_defaulted)
    after = replace(repo, status=status, updated_seq=ctx.seq)
    return Changes(lots=lots, rows=[after.row(new=False), event(ctx, repo.id, repo.outstanding)])
