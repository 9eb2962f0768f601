"""retire: the holder retires units for good, for a named beneficiary and claim. Permanent."""

from __future__ import annotations

from ledger.effects import Changes
from ledger.model import LotState
from ledger.ops.context import Context
from ledger.ops.selection import select_units
from ledger.payloads import Retire
from ledger.units import carve


def retire(p: Retire, ctx: Context) -> Changes:
    account = ctx.account(p.account)
    ctx.require_holder(account)
    ctx.unfrozen_account(account.id)
    batch = ctx.batch(p.units.batch)
    selection = select_units(ctx, account, batch, p.units)
    return Changes(lots=carve(selection, ctx.lot_ids,
                              lambda lot: lot.moved(state=LotState.retired)))
