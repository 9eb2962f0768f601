"""cancel: the registry cancels units, with a reason. Permanent.

A frozen account does not stop a cancellation (it is the registry's own act, e.g. on a court
order), but a lien does: the lien's holder must release it first."""

from __future__ import annotations

from ledger.effects import Changes
from ledger.model import LotState
from ledger.ops.context import Context
from ledger.ops.selection import select_units
from ledger.payloads import Cancel
from ledger.units import carve


def cancel(p: Cancel, ctx: Context) -> Changes:
    ctx.require_registry()
    account = ctx.account(p.account)
    batch = ctx.batch(p.units.batch)
    selection = select_units(ctx, account, batch, p.units)
    return Changes(lots=carve(selection, ctx.lot_ids,
                              lambda lot: lot.moved(state=LotState.cancelled)))
