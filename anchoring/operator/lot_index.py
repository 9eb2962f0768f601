"""The live lots of a checkpoint's state leaves, indexed as the engine asks for lots: by
holding and state (lowest serials first), by batch and serial, by lien. The transition check
(anchoring/operator/transition.py) answers the engine's lot reads from it, so that entries are
re-executed against the lots the previous checkpoint committed, not the lots table; the state
commitment (anchoring/operator/state_commitment.py) keeps it beside the tree.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from ledger.model import LOT_STATES, Lot, LotState

HeldKey = tuple[str, str, LotState]
_LOT_FIELDS = frozenset({"account", "batch", "first", "id", "last", "lien", "state"})
_STATE_BY_VALUE = {state.value: state for state in LOT_STATES}


def lot_of(document: Mapping[str, Any]) -> Lot:
    """A lot from its leaf's record. A lot's id is "{seq}.{k}", the entry that created it."""
    lot_id = document["id"]
    return Lot(lot_id, document["batch"], document["first"], document["last"],
               document["account"], _STATE_BY_VALUE[document["state"]], document["lien"],
               int(lot_id.split(".", 1)[0]))


def _lot_record(value: bytes) -> dict[str, Any] | None:
    """The record of a lot's leaf; None for a leaf of another kind. A lot's record is the one
    with exactly these seven fields (ledger/store/state_leaves.py): a holding has its buckets,
    an account no serials. (A module's kind declaring a record of a lot's very fields would be
    taken for lots, and the re-execution would then differ, never silently agree.)"""
    if not value.startswith(b'{"account":') or b'"first":' not in value:
        return None
    document = orjson.loads(value)
    if len(document) != len(_LOT_FIELDS) or not _LOT_FIELDS.issuperset(document):
        return None
    return document


class _Sorted:
    """Ids kept in the order of an integer (a lot's first or last serial): two parallel
    lists, so that a million lots cost two pointers each rather than a tuple each."""

    __slots__ = ("ids", "numbers")

    def __init__(self, pairs: list[tuple[int, str]] | None = None) -> None:
        pairs = sorted(pairs or ())
        self.numbers: list[int] = [number for number, _ in pairs]
        self.ids: list[str] = [lot_id for _, lot_id in pairs]

    def add(self, number: int, lot_id: str) -> None:
        at = bisect_left(self.numbers, number)
        self.numbers.insert(at, number)
        self.ids.insert(at, lot_id)

    def remove(self, number: int, lot_id: str) -> None:
        at = bisect_left(self.numbers, number)
        while self.ids[at] != lot_id:
            at += 1
        del self.numbers[at], self.ids[at]


class LotIndex:
    """The live lots of one checkpoint's leaves, found as the engine asks for them: by holding
    and state (lowest serials first), by batch and serial, by lien. Built once from a
    checkpoint's leaves, then moved from checkpoint to checkpoint by the changed leaves
    (anchoring.operator.state_commitment keeps it beside the tree). It keeps each lot's leaf
    value (the tree's own bytes) and makes a `Lot` only when one is asked for: a million of
    them would cost seconds to build and hundreds of megabytes to hold."""

    def __init__(self) -> None:
        self.leaves: dict[str, bytes] = {}  # lot id -> its leaf's value
        self._held: dict[HeldKey, _Sorted] = {}  # by first serial
        self._by_batch: dict[str, _Sorted] = {}  # by last serial
        self._liens: dict[str, set[str]] = {}

    @classmethod
    def of(cls, leaves: Iterable[bytes]) -> LotIndex:
        """The index of the lots among `leaves` (values of any kinds)."""
        index = cls()
        held: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
        by_batch: dict[str, list[tuple[int, str]]] = {}
        for value in leaves:
            lot = _lot_record(value)
            if lot is None:
                continue
            lot_id = lot["id"]
            index.leaves[lot_id] = value
            held.setdefault((lot["account"], lot["batch"], lot["state"]), []).append(
                (lot["first"], lot_id))
            by_batch.setdefault(lot["batch"], []).append((lot["last"], lot_id))
            if lot["lien"] is not None:
                index._liens.setdefault(lot["lien"], set()).add(lot_id)
        index._held = {(a, b, _STATE_BY_VALUE[s]): _Sorted(pairs)
                       for (a, b, s), pairs in held.items()}
        index._by_batch = {batch: _Sorted(pairs) for batch, pairs in by_batch.items()}
        return index

    def change(self, before: bytes | None, after: bytes | None) -> None:
        """A leaf changed from `before` to `after` (None: absent)."""
        old = None if before is None else _lot_record(before)
        new = None if after is None else _lot_record(after)
        if old is not None:
            self._remove(lot_of(old))
        if new is not None and after is not None:
            self._add(lot_of(new), after)

    def _add(self, lot: Lot, value: bytes) -> None:
        self.leaves[lot.id] = value
        self._held.setdefault((lot.account, lot.batch, lot.state), _Sorted()).add(lot.first,
                                                                                 lot.id)
        self._by_batch.setdefault(lot.batch, _Sorted()).add(lot.last, lot.id)
        if lot.lien is not None:
            self._liens.setdefault(lot.lien, set()).add(lot.id)

    def _remove(self, lot: Lot) -> None:
        del self.leaves[lot.id]
        self._held[(lot.account, lot.batch, lot.state)].remove(lot.first, lot.id)
        self._by_batch[lot.batch].remove(lot.last, lot.id)
        if lot.lien is not None:
            self._liens[lot.lien].discard(lot.id)

    def lot(self, lot_id: str) -> Lot:
        return lot_of(orjson.loads(self.leaves[lot_id]))

    # --- the engine's questions (ledger.state.Source) ------------------------------------

    def held(self, account: str, batch: str, state: LotState, limit: int,
             after: int) -> list[Lot]:
        ordered = self._held.get((account, batch, state))
        if ordered is None:
            return []
        start = bisect_right(ordered.numbers, after)
        return [self.lot(i) for i in ordered.ids[start:start + limit]]

    def overlapping(self, batch: str, first: int, last: int) -> list[Lot]:
        ordered = self._by_batch.get(batch)
        if ordered is None:
            return []
        start = bisect_left(ordered.numbers, first)
        stop = bisect_right(ordered.numbers, last)
        # those ending inside first..last, and the one that contains `last`
        return [self.lot(i) for i in ordered.ids[start:stop + 1]]

    def under_lien(self, lien: str) -> list[Lot]:
        return [self.lot(i) for i in sorted(self._liens.get(lien, ()))]


__all__ = ["LotIndex", "lot_of"]
