"""The lien primitive (ledger/lien.py) on plain Lot values: place, release, enforce.

No operation places a lien yet (the pledge lifecycle builds on these functions), so what the
operations do with a lot under a lien is checked through `select_range`, the selection every
transfer, retirement and cancellation by range goes through.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.effects import LotEffects, LotIds
from ledger.errors import Reason, Rejected
from ledger.lien import enforce, place, release
from ledger.model import Lien, Lot, LotState
from ledger.units import select_range

SEQ = 7
LIEN = Lien("L1", holder="bank", purpose="pledge", created_seq=SEQ)


def lot(first: int, last: int, account: str = "HN", state: LotState = LotState.tradable,
        lien: str | None = None, batch: str = "A1", lot_id: str | None = None) -> Lot:
    return Lot(lot_id or f"{batch}:{first}", batch, first, last, account, state, lien, 1)


def applied(lots: list[Lot], effects: LotEffects) -> list[Lot]:
    """The live lots after `effects`, by batch and serial."""
    live = {x.id: x for x in lots}
    for closed in effects.closed:
        assert live.pop(closed.id) == closed
    for before, after in effects.updated:
        assert live.pop(before.id) == before
        live[after.id] = after
    for created in effects.created:
        assert created.id not in live
        live[created.id] = created
    return sorted(live.values(), key=lambda x: (x.batch, x.first))


def shape(lots: list[Lot]) -> list[tuple[int, int, str, str, str | None]]:
    return [(x.first, x.last, x.account, x.state.value, x.lien) for x in lots]


def pledged(lots: list[Lot], first: int, last: int) -> list[Lot]:
    """Place LIEN on serials first..last of account HN."""
    return applied(lots, place(select_range(lots, first, last, "HN"), LIEN, LotIds(SEQ)))


def refused(reason: Reason) -> pytest.RaisesExc[Rejected]:
    return pytest.raises(Rejected, match=f"^{reason.name}:")


# --- place ----------------------------------------------------------------------------------


def test_place_moves_the_selection_to_pledged_and_splits_the_lot() -> None:
    whole = lot(1, 100)
    effects = place(select_range([whole], 21, 30, "HN"), LIEN, LotIds(SEQ))
    assert effects.closed == [whole]
    assert [x.id for x in effects.created] == ["7.0", "7.1", "7.2"]
    assert shape(applied([whole], effects)) == [
        (1, 20, "HN", "tradable", None),
        (21, 30, "HN", "pledged", "L1"),
        (31, 100, "HN", "tradable", None),
    ]


def test_place_on_a_whole_lot_keeps_its_id() -> None:
    whole = lot(1, 100)
    effects = place(select_range([whole], 1, 100, "HN"), LIEN, LotIds(SEQ))
    assert effects.closed == [] and effects.created == []
    assert effects.updated == [(whole, whole.moved(state=LotState.pledged, lien="L1"))]


def test_place_spans_several_lots() -> None:
    lots = [lot(1, 10), lot(11, 20)]
    assert shape(pledged(lots, 5, 15)) == [
        (1, 4, "HN", "tradable", None),
        (5, 10, "HN", "pledged", "L1"),
        (11, 15, "HN", "pledged", "L1"),
        (16, 20, "HN", "tradable", None),
    ]


def test_a_lot_already_under_a_lien_is_refused() -> None:
    under = lot(1, 10, state=LotState.pledged, lien="L0")
    with refused(Reason.lot_under_lien):
        place([(under, 1, 10)], LIEN, LotIds(SEQ))


# --- release --------------------------------------------------------------------------------


def test_partial_release_returns_the_lowest_serials_and_leaves_the_rest_pledged() -> None:
    lots = pledged([lot(1, 100)], 21, 60)
    after = applied(lots, release(lots, LIEN, "bank", 15, LotIds(SEQ + 1)))
    assert shape(after) == [
        (1, 20, "HN", "tradable", None),
        (21, 35, "HN", "tradable", None),
        (36, 60, "HN", "pledged", "L1"),
        (61, 100, "HN", "tradable", None),
    ]


def test_full_release_frees_every_unit_of_the_lien() -> None:
    lots = pledged([lot(1, 10), lot(11, 20)], 5, 15)
    after = applied(lots, release(lots, LIEN, "bank", 11, LotIds(SEQ + 1)))
    assert all(x.state == LotState.tradable and x.lien is None for x in after)
    assert sum(x.quantity for x in after) == 20


def test_release_takes_the_lowest_batch_first() -> None:
    lots = [lot(1, 5, state=LotState.pledged, lien="L1", batch="B2"),
            lot(1, 5, state=LotState.pledged, lien="L1", batch="A1")]
    effects = release(lots, LIEN, "bank", 3, LotIds(SEQ))
    assert [(x.batch, x.first, x.last, x.state.value) for x in effects.created] == [
        ("A1", 1, 3, "tradable"), ("A1", 4, 5, "pledged")]


def test_release_ignores_lots_under_other_liens() -> None:
    lots = [lot(1, 5, state=LotState.pledged, lien="L0"), lot(6, 10, state=LotState.pledged,
                                                               lien="L1")]
    with refused(Reason.insufficient_under_lien):
        release(lots, LIEN, "bank", 6, LotIds(SEQ))
    effects = release(lots, LIEN, "bank", 5, LotIds(SEQ))
    assert [after.first for _, after in effects.updated] == [6]


def test_release_by_anyone_but_the_lien_holder_is_refused() -> None:
    lots = pledged([lot(1, 10)], 1, 10)
    with refused(Reason.not_lien_holder):
        release(lots, LIEN, "HN-owner", 1, LotIds(SEQ))
    with refused(Reason.not_lien_holder):
        enforce(lots, LIEN, "other-bank", 1, "BANK", LotIds(SEQ))


End = Callable[[list[Lot], int, LotIds], LotEffects]
ENDS: dict[str, End] = {
    "release": lambda lots, quantity, ids: release(lots, LIEN, "bank", quantity, ids),
    "enforce": lambda lots, quantity, ids: enforce(lots, LIEN, "bank", quantity, "BANK", ids),
}


@pytest.mark.parametrize("end", ENDS.values(), ids=ENDS.keys())
def test_more_than_the_lien_covers_is_refused(end: End) -> None:
    lots = pledged([lot(1, 100)], 21, 60)
    with refused(Reason.insufficient_under_lien):
        end(lots, 41, LotIds(SEQ + 1))
    assert sum(x.quantity for x in applied(lots, end(lots, 40, LotIds(SEQ + 1)))) == 100


@pytest.mark.parametrize("end", ENDS.values(), ids=ENDS.keys())
def test_a_quantity_must_be_positive(end: End) -> None:
    lots = pledged([lot(1, 10)], 1, 10)
    with refused(Reason.quantity_not_positive):
        end(lots, 0, LotIds(SEQ + 1))


# --- enforce --------------------------------------------------------------------------------


def test_enforce_moves_units_to_the_named_account_tradable_without_lien() -> None:
    lots = pledged([lot(1, 100)], 21, 60)
    after = applied(lots, enforce(lots, LIEN, "bank", 25, "BANK", LotIds(SEQ + 1)))
    assert shape(after) == [
        (1, 20, "HN", "tradable", None),
        (21, 45, "BANK", "tradable", None),
        (46, 60, "HN", "pledged", "L1"),
        (61, 100, "HN", "tradable", None),
    ]


def test_enforce_of_a_whole_lot_keeps_its_id() -> None:
    lots = pledged([lot(1, 10)], 1, 10)
    effects = enforce(lots, LIEN, "bank", 10, "BANK", LotIds(SEQ + 1))
    (before, after), = effects.updated
    assert after == before.moved(account="BANK", state=LotState.tradable, lien=None)


# --- what transfer, retire and cancel see ---------------------------------------------------


def test_the_range_selection_refuses_lots_under_a_lien() -> None:
    lots = pledged([lot(1, 100)], 21, 60)
    for first, last in [(21, 21), (60, 60), (15, 25), (1, 100), (55, 70)]:
        with refused(Reason.lot_under_lien):
            select_range(lots, first, last, "HN")
    assert [(p, a, b) for p, a, b in select_range(lots, 1, 20, "HN")] == [(lots[0], 1, 20)]
    assert [(p.id, a, b) for p, a, b in select_range(lots, 61, 70, "HN")] == [
        (lots[2].id, 61, 70)]


def test_the_range_selection_names_the_first_problem_in_serial_order() -> None:
    lots = [lot(1, 10, account="BW"), lot(11, 20, state=LotState.pledged, lien="L1"),
            lot(21, 30, state=LotState.retired)]
    with refused(Reason.serials_not_held):
        select_range(lots, 5, 25, "HN")
    with refused(Reason.lot_under_lien):
        select_range(lots, 11, 25, "HN")
    with refused(Reason.serials_not_tradable):
        select_range(lots, 21, 25, "HN")
    elsewhere = [lot(1, 10, account="BW", state=LotState.pledged, lien="L1")]
    with refused(Reason.serials_not_held):
        select_range(elsewhere, 1, 10, "HN")


# --- against a unit-by-unit reference -------------------------------------------------------


@given(
    quantity=st.integers(1, 40),
    data=st.data(),
)
def test_place_release_enforce_match_a_unit_by_unit_reference(quantity: int,
                                                              data: st.DataObject) -> None:
    lots = [lot(1, quantity)]
    first = data.draw(st.integers(1, quantity), label="first")
    last = data.draw(st.integers(first, quantity), label="last")
    units: dict[int, tuple[str, str, str | None]] = {
        serial: ("HN", "tradable", None) for serial in range(1, quantity + 1)}
    lots = pledged(lots, first, last)
    for serial in range(first, last + 1):
        units[serial] = ("HN", "pledged", "L1")
    seq = SEQ
    while any(lien for _, _, lien in units.values()):
        under = sorted(s for s, (_, _, lien) in units.items() if lien)
        take = data.draw(st.integers(1, len(under) + 1), label="quantity")
        by_enforcement = data.draw(st.booleans(), label="enforce")
        end = ENDS["enforce" if by_enforcement else "release"]
        seq += 1
        if take > len(under):
            with refused(Reason.insufficient_under_lien):
                end(lots, take, LotIds(seq))
            continue
        effects = end(lots, take, LotIds(seq))
        for serial in under[:take]:
            units[serial] = ("BANK" if by_enforcement else "HN", "tradable", None)
        lots = applied(lots, effects)
        assert [x.first for x in lots] == [1] + [x.last + 1 for x in lots[:-1]]
        assert lots[-1].last == quantity
        assert {serial: (x.account, x.state.value, x.lien) for x in lots
                for serial in range(x.first, x.last + 1)} == units
