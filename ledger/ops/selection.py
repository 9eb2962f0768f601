"""The units an instruction names: a quantity (oldest serials first) or an explicit range."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.model import Account, Batch, LotState
from ledger.ops.context import Context
from ledger.units import Selection, require_in_batch, select_oldest, select_range


def select_units(ctx: Context, account: Account, batch: Batch,
                 fields: Mapping[str, Any]) -> Selection:
    first, last = fields["serialFirst"], fields["serialLast"]
    if first:
        require_in_batch(first, last, batch.quantity)
        return select_range(ctx.ws.lots_overlapping(batch.id, first, last), first, last,
                            account.id)
    quantity = fields["quantity"]
    return select_oldest(ctx.ws.held_lots(account.id, batch.id, LotState.tradable, quantity),
                         quantity)
