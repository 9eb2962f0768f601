"""allocation_true_up: once the year's output is verified, each installation's allocation is
settled to what the output earns (docs/allocation.md, "Free allocation by benchmark"):

    entitled = allocation(Y);  received = issued - taken_back + debt_applied;
    delta = entitled - received: issued if positive (its debt paid off first), taken back from
    the account's tradable units of the year's allocation batches if negative, what cannot be
    taken back owed as a debt, deducted from the next allocation.

Pre-allocation (2025 outputs, default plan, 70%), worked by hand in test_preallocate.py:
HN-1 575,260 t, HN-2 287,630 t, BW-1 378,000 t, in FA-2026 in that order.
"""

from __future__ import annotations

import json

import pytest

from allocation.installation_queries import (
    DebtView,
    FigureInputs,
    debts,
    installation_allocations_of,
)
from allocation.invariants import check_allocation_invariants
from allocation.reasons import AllocationReason
from ledger.errors import Reason
from ledger.replay import replay_check
from tests.allocation.helpers import (
    power_sector,
    preallocate,
    row,
    rows,
    set_plan,
    true_up,
    verify_output,
)
from tests.pledge.helpers import register as register_pledge
from tests.world import OPERATIONS, World

HN_1, HN_2, BW_1 = 575_260, 287_630, 378_000


def preallocated(world: World) -> World:
    set_plan(world)
    verify_output(world, "HN-1", 2025, "1000000.5")
    verify_output(world, "HN-2", 2025, "500000")
    verify_output(world, "BW-1", 2025, "300000.25", unit="t")
    preallocate(world, ("HN-1", "HN"), ("HN-2", "HN"), ("BW-1", "BW"))
    return world


@pytest.fixture
def allocated(market: World) -> World:
    return preallocated(market)


def allocation(world: World, installation: str, year: int = 2026) -> dict[str, object]:
    return row(world, "installation_allocations", installation, year)


def debt(world: World, installation: str) -> int:
    found = [r["debt"] for r in rows(world, "allocation_debts")
             if r["installation"] == installation]
    return int(found[0]) if found else 0


def refused(world: World, expected: object, *targets: tuple[str, str],
            batch: str = "TU-2026") -> None:
    world.refused(expected, "registry", "allocation_true_up",  # type: ignore[arg-type]
                  scheme="CN-ETS", year=2026, batch=batch,
                  targets=json.dumps([list(t) for t in targets]))


def test_what_more_the_output_earns_is_issued_in_one_batch(any_market: World) -> None:
    world = preallocated(any_market)
    verify_output(world, "HN-1", 2026, "1100000")  # x 0.8218 = 903,980: 328,720 more
    verify_output(world, "BW-1", 2026, "300000.25", unit="t")  # 540,000: 162,000 more
    receipt = true_up(world, ("HN-1", "HN"), ("BW-1", "BW"))
    assert world.lots("TU-2026") == [(1, 328_720, "HN", "tradable"),
                                     (328_721, 490_720, "BW", "tradable")]
    hn_1 = allocation(world, "HN-1")
    assert (hn_1["final"], hn_1["issued"], hn_1["taken_back"], hn_1["batches"],
            hn_1["trued_up_seq"]) == (903_980, 903_980, 0, '["FA-2026", "TU-2026"]',
                                      receipt.seq)
    plan = row(world, "allocation_plans", "CN-ETS", 2026)
    assert plan["issued"] == HN_1 + HN_2 + BW_1 + 490_720
    assert row(world, "sector_allocations", "CN-ETS", 2026, "steel")["allocated"] == 540_000
    refused(world, AllocationReason.already_trued_up, ("HN-1", "HN"), batch="TU-2026-B")


def test_what_was_issued_beyond_the_output_is_taken_back_lowest_serials_first(
        any_market: World) -> None:
    world = preallocated(any_market)
    verify_output(world, "HN-1", 2026, "500000")  # 410,900: 164,360 too many
    true_up(world, ("HN-1", "HN"))
    assert world.lots("FA-2026")[:2] == [(1, 164_360, "HN", "cancelled"),
                                         (164_361, HN_1, "HN", "tradable")]
    assert world.holding("HN", "FA-2026") == {
        "tradable": HN_1 + HN_2 - 164_360, "pledged": 0, "retired": 0, "surrendered": 0,
        "cancelled": 164_360}
    hn_1 = allocation(world, "HN-1")
    assert (hn_1["final"], hn_1["issued"], hn_1["taken_back"], hn_1["debt_created"]) == \
        (410_900, HN_1, 164_360, 0)
    plan = row(world, "allocation_plans", "CN-ETS", 2026)
    assert (plan["issued"], plan["taken_back"]) == (HN_1 + HN_2 + BW_1, 164_360)
    assert row(world, "sector_allocations", "CN-ETS", 2026, "power")["allocated"] == \
        HN_1 + HN_2 - 164_360
    with world.store.read() as tx:  # nothing to issue: no batch
        assert tx.one("SELECT id FROM batches WHERE id = 'TU-2026'") is None


def test_two_installations_in_one_account_are_taken_back_together(allocated: World) -> None:
    verify_output(allocated, "HN-1", 2026, "500000")  # 410,900: 164,360 too many
    verify_output(allocated, "HN-2", 2026, "300000")  # 246,540: 41,090 too many
    verify_output(allocated, "BW-1", 2026, "300000.25", unit="t")  # 162,000 more
    true_up(allocated, ("HN-1", "HN"), ("HN-2", "HN"), ("BW-1", "BW"))
    assert allocated.lots("FA-2026") == [
        (1, 205_450, "HN", "cancelled"), (205_451, HN_1, "HN", "tradable"),
        (HN_1 + 1, HN_1 + HN_2, "HN", "tradable"),
        (HN_1 + HN_2 + 1, HN_1 + HN_2 + BW_1, "BW", "tradable")]
    assert allocated.lots("TU-2026") == [(1, 162_000, "BW", "tradable")]
    assert [allocation(allocated, i)["taken_back"] for i in ("HN-1", "HN-2", "BW-1")] == \
        [164_360, 41_090, 0]


def test_units_sold_cannot_be_taken_back_and_become_a_debt(any_market: World) -> None:
    world = preallocated(any_market)
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="IC-T", batch="FA-2026",
             quantity=HN_1 + HN_2 - 75_260)  # HN keeps 75,260 t
    verify_output(world, "HN-1", 2026, "500000")  # 164,360 too many
    true_up(world, ("HN-1", "HN"))
    assert world.holding("HN", "FA-2026")["cancelled"] == 75_260
    assert world.holding("IC-T", "FA-2026")["tradable"] == HN_1 + HN_2 - 75_260
    hn_1 = allocation(world, "HN-1")
    assert (hn_1["taken_back"], hn_1["debt_created"]) == (75_260, 89_100)
    assert debt(world, "HN-1") == 89_100
    assert row(world, "allocation_plans", "CN-ETS", 2026)["taken_back"] == 75_260


def test_pledged_units_stay_under_their_lien_and_the_rest_is_a_debt(allocated: World) -> None:
    register_pledge(allocated, batch="FA-2026", quantity=HN_1 + HN_2 - 100_000)
    verify_output(allocated, "HN-1", 2026, "500000")  # 164,360 too many; 100,000 tradable
    true_up(allocated, ("HN-1", "HN"))
    assert allocated.holding("HN", "FA-2026") == {
        "tradable": 0, "pledged": HN_1 + HN_2 - 100_000, "retired": 0, "surrendered": 0,
        "cancelled": 100_000}
    assert debt(allocated, "HN-1") == 64_360



@pytest.fixture
def indebted(allocated: World) -> World:
    """HN-1 owes 487,820 t: it sold all but 5,260 t and its 2026 output earns 82,180 t."""
    allocated.by("huaneng", "transfer", fromAccount="HN", toAccount="IC-T", batch="FA-2026",
                 quantity=HN_1 + HN_2 - 5_260)
    verify_output(allocated, "HN-1", 2026, "100000")  # 82,180 t: 493,080 too many
    true_up(allocated, ("HN-1", "HN"))
    assert debt(allocated, "HN-1") == 493_080 - 5_260 == 487_820
    set_plan(allocated, 2027)
    # 2027 pre-allocation: 100,000 x 0.8218 x 0.7 = 57,526 t, all of it to the debt
    preallocate(allocated, ("HN-1", "HN"), year=2027, batch="FA-2027")
    return allocated


def test_a_debt_is_deducted_from_the_next_pre_allocation(indebted: World) -> None:
    fa_2027 = allocation(indebted, "HN-1", 2027)
    assert (fa_2027["preallocated"], fa_2027["issued"], fa_2027["debt_applied"],
            fa_2027["batches"]) == (57_526, 0, 57_526, "[]")
    assert debt(indebted, "HN-1") == 487_820 - 57_526 == 430_294
    with indebted.store.read() as tx:  # nothing issued: no batch
        assert tx.one("SELECT id FROM batches WHERE id = 'FA-2027'") is None


def test_a_true_up_upward_pays_the_rest_of_the_debt_first(indebted: World) -> None:
    # 2,000,000 x 0.8218 = 1,643,600; received 57,526 (the debt it paid): 1,586,074 more,
    # of which 430,294 pay off the debt and 1,155,780 are issued
    verify_output(indebted, "HN-1", 2027, "2000000")
    true_up(indebted, ("HN-1", "HN"), year=2027, batch="TU-2027")
    assert indebted.lots("TU-2027") == [(1, 1_155_780, "HN", "tradable")]
    tu_2027 = allocation(indebted, "HN-1", 2027)
    assert (tu_2027["final"], tu_2027["issued"], tu_2027["debt_applied"]) == \
        (1_643_600, 1_155_780, 487_820)
    assert debt(indebted, "HN-1") == 0


def test_a_debt_paid_with_an_allocation_not_earned_is_owed_again(indebted: World) -> None:
    # 50,000 x 0.8218 = 41,090; received 57,526 (as debt paid): 16,436 too many, none held
    verify_output(indebted, "HN-1", 2027, "50000")
    true_up(indebted, ("HN-1", "HN"), year=2027, batch="TU-2027")
    tu_2027 = allocation(indebted, "HN-1", 2027)
    assert (tu_2027["taken_back"], tu_2027["debt_created"]) == (0, 16_436)
    assert debt(indebted, "HN-1") == 430_294 + 16_436


def test_a_true_up_needs_an_allocation_and_this_year_s_output(allocated: World) -> None:
    refused(allocated, AllocationReason.no_verified_output, ("HN-1", "HN"))
    verify_output(allocated, "HN-1", 2026, "1000", unit="GJ")
    refused(allocated, AllocationReason.output_unit_mismatch, ("HN-1", "HN"))
    allocated.by("registry", "installation_register", installation="HN-3",
                 emitter="huaneng", scheme="CN-ETS", sector="power", name="Unit 3")
    verify_output(allocated, "HN-3", 2026, "1000")
    refused(allocated, AllocationReason.not_allocated, ("HN-3", "HN"))
    verify_output(allocated, "HN-2", 2026, "1000")
    refused(allocated, AllocationReason.not_emitters_compliance_account, ("HN-2", "HN-T"))
    refused(allocated, Reason.batch_exists, ("HN-2", "HN"), batch="FA-2026")


@pytest.mark.parametrize(("tamper", "found"), [
    ("UPDATE allocation_debts SET debt = debt - 1", "its take-backs and allocations leave"),
    ("UPDATE installation_allocations SET issued = issued + 1 WHERE year = 2027",
     "their batches"),
    ("UPDATE installation_allocations SET taken_back = taken_back + 1 WHERE year = 2026",
     "of its batches cancelled"),
])
def test_the_invariants_find_a_debt_or_an_allocation_edited_in_the_database(
        indebted: World, tamper: str, found: str) -> None:
    assert check_allocation_invariants(indebted.store) == []
    undo = tamper.replace("+ 1", "- 1") if "+ 1" in tamper else tamper.replace("- 1", "+ 1")
    with indebted.store.write() as tx:
        tx.execute(tamper)
    problems = check_allocation_invariants(indebted.store)
    with indebted.store.write() as tx:  # put it back, for the checks at the end
        tx.execute(undo)
    assert any(found in problem for problem in problems), problems


def test_a_replay_rebuilds_every_allocation_table(indebted: World) -> None:
    verify_output(indebted, "HN-1", 2027, "2000000")
    true_up(indebted, ("HN-1", "HN"), year=2027, batch="TU-2027")
    assert replay_check(indebted.store, OPERATIONS).first_difference is None


def test_every_figure_is_shown_with_its_inputs_and_recomputes(indebted: World) -> None:
    views = installation_allocations_of(indebted.store, "HN-1")
    assert [(v.year, v.issued, v.received, v.debt_after) for v in views] == \
        [(2026, HN_1, 82_180, 487_820), (2027, 0, 57_526, 430_294)]
    pre_2026 = views[0].preallocation
    assert pre_2026 == FigureInputs(
        output_year=2025, output="1000000.5", unit="MWh", verifier="cec", benchmark="0.8218",
        factors={"load": "1"}, share_bp=7000, exact="575260.28763", tonnes=HN_1,
        recorded=HN_1, matches=True)
    true_up_2026 = views[0].true_up
    assert true_up_2026 is not None
    assert (true_up_2026.output, true_up_2026.share_bp, true_up_2026.tonnes,
            true_up_2026.matches) == ("100000", 10_000, 82_180, True)
    assert views[1].true_up is None
    assert debts(indebted.store) == [DebtView("HN-1", 430_294, views[1].allocated_seq)]


def test_what_a_true_up_issues_stays_within_the_sector_s_free_allocation(
        market: World) -> None:
    set_plan(market, sectors=[power_sector(free_cap=800_000)])
    verify_output(market, "HN-1", 2025, "1000000.5")
    preallocate(market, ("HN-1", "HN"))
    verify_output(market, "HN-1", 2026, "1100000")  # 903,980 t: past the sector's 800,000 t
    refused(market, AllocationReason.sector_cap_exceeded, ("HN-1", "HN"))
    assert allocation(market, "HN-1")["final"] is None


def test_a_closure_after_a_true_up_owes_what_was_kept_once(indebted: World) -> None:
    # HN-1 kept 575,260 - 5,260 = 570,000 t of 2026 units (sold) and paid 57,526 t of debt
    # with its 2027 allocation; closed after 2025 it is entitled to nothing for either year.
    # 2026 was settled at 82,180 t (487,820 t already owed), 2027 received 57,526 t: both
    # are owed again, nothing being left to take back.
    indebted.by("registry", "installation_close", installation="HN-1", lastYear=2025,
                reason="decommissioned")
    assert debt(indebted, "HN-1") == 430_294 + 82_180 + 57_526 == 570_000
    assert [(allocation(indebted, "HN-1", year)["final"],
             allocation(indebted, "HN-1", year)["debt_after"]) for year in (2026, 2027)] == \
        [(0, 512_474), (0, 570_000)]
