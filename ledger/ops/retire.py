"""retire: the holder retires units for good, for a named beneficiary and claim. Permanent."""

from __future__ import annotations

from ledger.effects import Changes
from ledger.instructions import Instruction
from ledger.model import LotState
from ledger.ops.context import Context
from ledger.ops.selection import select_units
from ledger.units import carve


def retire(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    account = ctx.account(f["account"])
    ctx.require_holder(account)
    ctx.unfrozen_account(account.id)
    batch = ctx.batch(f["batch"])
    selection = select_units(ctx, account, batch, f)
    return Changes(lots=carve(selection, ctx.lot_ids,
                              lambda lot: lot.moved(state=LotState.retired)))
