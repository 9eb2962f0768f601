"""transfer: the holder moves tradable units of one batch to another account."""

from __future__ import annotations

from ledger.effects import Changes
from ledger.ops.context import Context
from ledger.ops.holding_rules import require_may_hold
from ledger.ops.selection import select_units
from ledger.payloads import Transfer
from ledger.units import carve


def transfer(p: Transfer, ctx: Context) -> Changes:
    source = ctx.account(p.from_account)
    destination = ctx.account(p.to_account)
    ctx.require_holder(source)
    ctx.unfrozen_account(source.id)
    ctx.unfrozen_account(destination.id)
    batch = ctx.batch(p.units.batch)
    require_may_hold(destination, batch, ctx.rules(batch.scheme))
    selection = select_units(ctx, source, batch, p.units)
    return Changes(lots=carve(selection, ctx.lot_ids,
                              lambda lot: lot.moved(account=destination.id)))
