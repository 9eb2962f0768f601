"""The lien primitive: a hold on lots in favour of a participant (a pledgee, a repo buyer).

Lots under a lien are `pledged` and carry the lien's id: transfer, retirement, surrender and
cancellation refuse them (`lot_under_lien`). Only the lien's holder ends it: `release` returns
units to `tradable` with the same holder, `enforce` moves them, tradable, to an account the
holder names. Both act on a quantity, lowest serials first, so a lien can end in parts. The
pledge and repo lifecycles (pledge/) are built from these three functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.effects import LotEffects, LotIds
from ledger.errors import Reason, require
from ledger.model import Lien, Lot, LotState
from ledger.units import Selection, carve, take_lowest


def place(selection: Selection, lien: Lien, ids: LotIds) -> LotEffects:
    """Put the selected tradable, lien-free serials under `lien`."""
    for lot, _, _ in selection:
        require(lot.lien is None, Reason.lot_under_lien, f"lot {lot.id} is under {lot.lien}")
        assert lot.state == LotState.tradable
    return carve(selection, ids, lambda lot: lot.moved(state=LotState.pledged, lien=lien.id))


def release(lots: Sequence[Lot], lien: Lien, by: str, quantity: int,
            ids: LotIds) -> LotEffects:
    """The lien's holder frees `quantity` units of the lien: they return to tradable."""
    selection = _take(lots, lien, by, quantity)
    return carve(selection, ids, lambda lot: lot.moved(state=LotState.tradable, lien=None))


def enforce(lots: Sequence[Lot], lien: Lien, by: str, quantity: int, to_account: str,
            ids: LotIds) -> LotEffects:
    """On default the lien's holder takes `quantity` units into `to_account`, tradable."""
    selection = _take(lots, lien, by, quantity)
    return carve(selection, ids,
                 lambda lot: lot.moved(state=LotState.tradable, lien=None, account=to_account))


def _take(lots: Sequence[Lot], lien: Lien, by: str, quantity: int) -> Selection:
    require(by == lien.holder, Reason.not_lien_holder, f"lien {lien.id} is held by {lien.holder}")
    require(quantity > 0, Reason.quantity_not_positive)
    under = sorted((lot for lot in lots if lot.lien == lien.id),
                   key=lambda lot: (lot.batch, lot.first))
    total = sum(lot.quantity for lot in under)
    require(quantity <= total, Reason.insufficient_under_lien,
            f"lien {lien.id} covers {total} t, asked for {quantity} t")
    return take_lowest(under, quantity)
