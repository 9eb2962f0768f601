"""One transaction that reads a holding's lots in several ways (a page for a spend by quantity,
a lookup for a spend by serial range) must see one consistent set of lots, and so must a replay
that applies the same entries in groups of any size."""

from __future__ import annotations

import pytest

from ledger.journal import Receipt
from ledger.replay import replay_check
from ledger.state import HELD_FIRST_PAGE
from tests.world import OPERATIONS, World

LOTS = HELD_FIRST_PAGE + 2  # more lots than the first page a spend by quantity reads


@pytest.fixture
def fragmented(world: World) -> World:
    """HN holds LOTS lots of A1, serials 10k+1..10k+10 for k < LOTS (BW holds the gaps)."""
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("baowu", "emitter", "BW", "compliance")
    world.allocate("A1", "BW", 10 * LOTS + 10)
    for k in range(LOTS):
        world.by("baowu", "transfer", fromAccount="BW", toAccount="HN", batch="A1",
                 quantity=10, serialFirst=10 * k + 1, serialLast=10 * k + 10)
    held = [lot for lot in world.lots("A1") if lot[2] == "HN"]
    assert len(held) == LOTS
    return world


FAR = 10 * (LOTS - 1) + 5  # a serial inside HN's last lot, beyond the first page


def _by_quantity(world: World) -> object:
    return world.wallets["huaneng"].sign(world.instruction(
        "transfer", fromAccount="HN", toAccount="BW", batch="A1", quantity=3))


def _by_range(world: World, op: str = "transfer", serial: int = FAR) -> object:
    fields = dict(batch="A1", quantity=1, serialFirst=serial, serialLast=serial)
    if op == "transfer":
        fields.update(fromAccount="HN", toAccount="BW")
    else:
        fields.update(account="HN", beneficiary="Huaneng", reason="voluntary", claim="2026")
    return world.wallets["huaneng"].sign(world.instruction(op, **fields))


@pytest.mark.parametrize("range_first", [False, True], ids=["quantity-first", "range-first"])
@pytest.mark.parametrize("op", ["transfer", "retire"])
def test_a_submission_spending_by_quantity_and_by_a_far_range_is_applied(
        fragmented: World, range_first: bool, op: str) -> None:
    if range_first:  # signed in submission order: each signature takes the next nonce
        spends = [_by_range(fragmented, op), _by_quantity(fragmented)]
    else:
        spends = [_by_quantity(fragmented), _by_range(fragmented, op)]
    results = fragmented.ledger.submit_many(spends)  # type: ignore[arg-type]
    assert all(isinstance(r, Receipt) for r in results), results
    lots = fragmented.lots("A1")
    far = next(lot for lot in lots if lot[0] <= FAR <= lot[1])
    assert far == (FAR, FAR, "BW" if op == "transfer" else "HN",
                   "tradable" if op == "transfer" else "retired")
    assert fragmented.holding("HN", "A1")["tradable"] == 10 * LOTS - 4


@pytest.mark.parametrize("group", [1, 7, None], ids=["one-by-one", "sevens", "default"])
def test_replay_agrees_whatever_the_group_size(fragmented: World, group: int | None) -> None:
    """Accepted in separate transactions, the two spends may land in one replay group."""
    fragmented.submit(_by_quantity(fragmented))  # type: ignore[arg-type]
    fragmented.submit(_by_range(fragmented))  # type: ignore[arg-type]
    fragmented.submit(_by_range(fragmented, "retire", FAR + 1))  # type: ignore[arg-type]
    report = replay_check(fragmented.store, OPERATIONS, group_size=group)
    assert report.ok, report.first_difference
