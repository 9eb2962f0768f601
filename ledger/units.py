"""Choosing units and carving lots: the one place where lots are split.

Selections are lists of (lot, first, last) sub-ranges; `carve` turns a selection into effects:
a lot taken whole keeps its id and changes holder/state/lien, a lot taken in part ends and is
replaced by up to three new lots (the part before, the part taken, the part after).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ledger.effects import LotEffects, LotIds
from ledger.errors import Reason, Rejected, require
from ledger.model import TERMINAL_STATES, Lot, LotState

Selection = list[tuple[Lot, int, int]]


def select_oldest(lots: Sequence[Lot], quantity: int) -> Selection:
    """The lowest serials first, from lots sorted by serial; refuses if they do not suffice."""
    selection = take_lowest(lots, quantity)
    available = sum(last - first + 1 for _, first, last in selection)
    require(available == quantity, Reason.insufficient_tradable,
            f"asked for {quantity} t, {available} t tradable")
    return selection


def take_lowest(lots: Sequence[Lot], quantity: int) -> Selection:
    """Up to `quantity` units from `lots` in the order given, the last lot taken in part.
    Fewer when the lots do not hold enough: the caller refuses with its own reason."""
    selection: Selection = []
    remaining = quantity
    for lot in lots:
        if remaining == 0:
            break
        take = min(lot.quantity, remaining)
        selection.append((lot, lot.first, lot.first + take - 1))
        remaining -= take
    return selection


def select_range(lots: Iterable[Lot], first: int, last: int, account: str) -> Selection:
    """Exactly the serials first..last, which must all be tradable in `account`, free of liens.

    `lots` are the live lots of the batch overlapping the range; lots partition the batch, so
    they cover it with no gap.
    """
    selection: Selection = []
    covered = 0
    for lot in sorted(lots, key=lambda lot: lot.first):
        part_first, part_last = max(lot.first, first), min(lot.last, last)
        if part_first > part_last:
            continue
        where = f"serials {part_first}..{part_last} (lot {lot.id})"
        require(lot.account == account, Reason.serials_not_held, f"{where} held elsewhere")
        require(lot.lien is None, Reason.lot_under_lien, f"{where} under lien {lot.lien}")
        require(lot.state not in TERMINAL_STATES, Reason.serials_not_tradable,
                f"{where} are {lot.state.value}")
        assert lot.state == LotState.tradable, "a lot without a lien is tradable or terminal"
        selection.append((lot, part_first, part_last))
        covered += part_last - part_first + 1
    assert covered == last - first + 1, "lots of a batch must partition its serials"
    return selection


def carve(selection: Selection, ids: LotIds, transform: Callable[[Lot], Lot]) -> LotEffects:
    """Apply `transform` (new holder, state or lien) to the selected serials."""
    effects = LotEffects()
    for lot, first, last in selection:
        if first == lot.first and last == lot.last:
            effects.updated.append((lot, transform(lot)))
            continue
        effects.closed.append(lot)
        if lot.first < first:
            effects.created.append(lot.moved(id=ids(), last=first - 1, created_seq=ids.seq))
        effects.created.append(
            transform(lot.moved(id=ids(), first=first, last=last, created_seq=ids.seq))
        )
        if last < lot.last:
            effects.created.append(lot.moved(id=ids(), first=last + 1, created_seq=ids.seq))
    return effects


def require_in_batch(first: int, last: int, batch_quantity: int) -> None:
    if first and not (1 <= first <= last <= batch_quantity):
        raise Rejected(Reason.serial_range_outside_batch,
                       f"{first}..{last} is outside 1..{batch_quantity}")
