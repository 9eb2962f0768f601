"""pledge_release: the pledgee frees pledged units, all or part: they return to `tradable` in
the pledgor's account. Lowest batch and serials first; the rest stay pledged."""

from __future__ import annotations

from ledger.effects import Changes
from ledger.instructions import Instruction, define_schema
from ledger.lien import release
from ledger.ops import Context
from pledge.agreements import PledgeParty, Signer, open_pledge, under_lien
from pledge.model import event
from pledge.reasons import PledgeReason

SCHEMA = define_schema(
    "pledge_release", "PledgeRelease",
    ("pledge", "string", "id"),
    ("quantity", "uint64", "quantity"),
)


def pledge_release(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    pledge = open_pledge(ctx, f["pledge"], Signer(PledgeParty.pledgee, PledgeReason.not_pledgee),
                         quantity=f["quantity"], exceeds=PledgeReason.release_exceeds_pledged)
    held = under_lien(ctx, pledge)
    lots = release(held.lots, held.lien, pledge.pledgee, f["quantity"], ctx.lot_ids)
    after = pledge.resolving(ctx.seq, released=f["quantity"])
    return Changes(lots=lots, rows=[after.row(new=False), event(ctx, pledge.id, f["quantity"])])
