"""pledge_release: the pledgee frees pledged units, all or part: they return to `tradable` in
the pledgor's account. Lowest batch and serials first; the rest stay pledged."""

from __future__ import annotations

from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import Instruction, define_schema
from ledger.lien import release
from ledger.ops import Context
from pledge.model import event, load_lien, load_pledge
from pledge.parties import require_signed

SCHEMA = define_schema(
    "pledge_release", "PledgeRelease",
    ("pledge", "string", "id"),
    ("quantity", "uint64", "quantity"),
)


def pledge_release(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    pledge = load_pledge(ctx, f["pledge"])
    require_signed(ctx, pledge.pledgee, Reason.not_pledgee, "the pledgee")
    require(pledge.outstanding > 0, Reason.pledge_resolved, pledge.id)
    require(f["quantity"] <= pledge.outstanding, Reason.release_exceeds_pledged,
            f"{pledge.outstanding} t still pledged, asked to release {f['quantity']} t")
    lien = load_lien(ctx, pledge.id)
    under = ctx.ws.lots_under_lien(lien.id)
    assert sum(lot.quantity for lot in under) == pledge.outstanding
    lots = release(under, lien, pledge.pledgee, f["quantity"], ctx.lot_ids)
    after = pledge.resolving(ctx.seq, released=f["quantity"])
    return Changes(lots=lots, rows=[after.row(new=False), event(ctx, pledge.id, f["quantity"])])
