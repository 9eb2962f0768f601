"""How the allocation module brings units into being, whichever operation does it (free
allocation, a new entrant, an auction's results): one batch of the scheme's allowances of the
plan's year, and its units laid out as consecutive lots from serial 1."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.model import Batch, Issuance, Kind, Lot, LotState
from ledger.ops import Context
from ledger.serials import serial_prefix


def allowance_batch(scheme: str, year: int, batch_id: str, quantity: int, issuance: Issuance,
                    seq: int) -> Batch:
    """A batch of `quantity` allowances of vintage `year`."""
    return Batch(id=batch_id, scheme=scheme, kind=Kind.allowance, vintage=year, project="",
                 monitoring_start="", monitoring_end="", issuance=issuance, quantity=quantity,
                 serial_prefix=serial_prefix(scheme, year, batch_id), issued_seq=seq)


def consecutive_lots(ctx: Context, batch: Batch, shares: Iterable[tuple[str, int]]
                     ) -> list[Lot]:
    """One tradable lot per (account, quantity > 0), consecutive serials from 1 in the order
    given; together they are the whole batch."""
    lots, first = [], 1
    for account, quantity in shares:
        if quantity == 0:
            continue
        lots.append(Lot(ctx.lot_ids(), batch.id, first, first + quantity - 1, account,
                        LotState.tradable, None, ctx.seq))
        first += quantity
    assert first - 1 == batch.quantity, "every unit of the batch issued once"
    return lots
