"""pledge_release: the pledgee frees pledged units, all or part: they return to `tradable` in
the pledgor's account. Lowest batch and serials first; the rest stay pledged."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.instructions import define_schema
from ledger.lien import release
from ledger.ops import Context
from ledger.payloads import Payload
from pledge.agreements import PledgeParty, Signer, open_pledge, under_lien
from pledge.model import event
from pledge.reasons import PledgeReason


@dataclass(frozen=True)
class PledgeRelease(Payload):
    pledge: str
    quantity: int


SCHEMA = define_schema(
    "pledge_release", "PledgeRelease", PledgeRelease,
    ("pledge", "string", "id"),
    ("quantity", "uint64", "quantity"),
)


def pledge_release(p: PledgeRelease, ctx: Context) -> Changes:
    pledge = open_pledge(ctx, p.pledge, Signer(PledgeParty.pledgee, PledgeReason.not_pledgee),
                         quantity=p.quantity, exceeds=PledgeReason.release_exceeds_pledged)
    held = under_lien(ctx, pledge)
    lots = release(held.lots, held.lien, pledge.pledgee, p.quantity, ctx.lot_ids)
    after = pledge.resolving(ctx.seq, released=p.quantity)
    return Changes(lots=lots, rows=[after.row(new=False), event(ctx, pledge.id, p.quantity)])
