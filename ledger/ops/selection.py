"""The units an instruction names: a quantity (oldest serials first) or an explicit range."""

from __future__ import annotations

from ledger.model import Account, Batch, LotState
from ledger.ops.context import Context
from ledger.payloads import Units
from ledger.units import Selection, require_in_batch, select_oldest, select_range


def select_units(ctx: Context, account: Account, batch: Batch, units: Units) -> Selection:
    if not units.by_quantity:
        first, last = units.serial_first, units.serial_last
        require_in_batch(first, last, batch.quantity)
        return select_range(ctx.ws.lots_overlapping(batch.id, first, last), first, last,
                            account.id)
    return select_oldest(
        ctx.ws.held_lots(account.id, batch.id, LotState.tradable, units.quantity),
        units.quantity)
