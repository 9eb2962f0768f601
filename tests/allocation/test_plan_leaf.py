"""A plan is a leaf of the state commitment that checkpoints sign (`allocation_plan`, by scheme
and year): its cap, counters and each sector's allocation so far. A later cut re-reads every
plan the entries since changed — those naming it, an auction's clearing, a closure's
take-back — and the audit, which recomputes the leaves from its replay, agrees."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from allocation.plan_leaf_store import plan_key
from anchoring.audit import audit
from anchoring.auditor.smt import SparseMerkleTree
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.state_versions import leaves_at
from ledger.replay import replay_check
from ledger.store.state_leaves import all_leaves
from tests.allocation.helpers import START, power_sector, set_plan, steel_sector, verify_output
from tests.allocation.test_auction import CLOSES, OPENS, announce, at, place
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.world import OPERATIONS, World


def signed_leaf(world: World, number: int, scheme: str, year: int) -> dict[str, Any] | None:
    with world.store.read() as tx:
        value = dict(leaves_at(tx, number)).get(plan_key((scheme, str(year))))
    return None if value is None else json.loads(value)


def assert_root_and_audit(world: World, checkpointer: Checkpointer) -> None:
    with world.store.read() as tx:
        root = SparseMerkleTree.from_items(all_leaves(tx, OPERATIONS.leaf_kinds.values())).root
    assert checkpointer.state.root == root  # the root signed is the tables' full read
    report = audit(world.store, OPERATIONS, checkpointer.operator)
    assert report.ok, report.first_discrepancy
    replayed = replay_check(world.store, OPERATIONS)
    assert replayed.ok, replayed.first_difference


def test_a_plan_is_a_signed_leaf_and_later_cuts_follow_it(any_market: World) -> None:
    world = any_market
    set_plan(world, year=2026)
    set_plan(world, year=2027)
    verify_output(world, "HN-1", 2026, "1000000")
    world.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2027,
             batch="PRE-2027", targets=json.dumps([["HN-1", "HN"]]))
    announce(world)  # AU-1: 1,000 t of 2026's volume to auction
    world.by("registry", "market_figures_publish", figures="MF-1", scheme="CN-ETS",
             period="2026-01", averagePrice=12_000, surplus=1, source="SEEE")
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    first = signed_leaf(world, 1, "CN-ETS", 2027)
    assert first == {
        "scheme": "CN-ETS", "year": 2027, "cap": 5_000_000, "reserve": 500_000,
        "to_auction": 1_000_000, "on_offer": 0, "issued": 575_260, "taken_back": 0,
        "amendments": 0,
        "sectors": [{**power_sector(), "allocated": 575_260},
                    {**steel_sector(), "allocated": 0}]}
    assert signed_leaf(world, 1, "CN-ETS", 2026)["on_offer"] == 1_000  # type: ignore[index]
    assert signed_leaf(world, 1, "CN-ETS", 2028) is None

    # since: a release, an amendment and a clearing
    world.by("registry", "reserve_release", scheme="CN-ETS", year=2026, quantity=100_000,
             figures="MF-1", reason="prices high")
    world.by("registry", "allocation_plan_amend", scheme="CN-ETS", year=2026, cap=5_500_000,
             sectors=json.dumps([power_sector(), steel_sector()]), reason="more capacity")
    at(world, OPENS)
    place(world, "b1", "huaneng", "HN-T", 400, 6_000)
    at(world, CLOSES + timedelta(minutes=5))
    world.by("registry", "auction_clear", auction="AU-1")
    checkpointer.cut()
    plan_2026 = signed_leaf(world, 2, "CN-ETS", 2026)
    assert plan_2026 is not None
    assert (plan_2026["cap"], plan_2026["reserve"], plan_2026["to_auction"],
            plan_2026["on_offer"], plan_2026["issued"], plan_2026["amendments"]) == \
        (5_500_000, 400_000, 1_099_000, 0, 400, 1)
    assert_root_and_audit(world, checkpointer)


def test_a_closure_changes_the_plans_it_takes_back_from(any_market: World) -> None:
    world = any_market
    set_plan(world, year=2026)
    set_plan(world, year=2027)
    verify_output(world, "HN-1", 2026, "1000000")
    world.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2027,
             batch="PRE-2027", targets=json.dumps([["HN-1", "HN"]]))
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    # the closure names no plan: the allocation the previous checkpoint signed says which
    world.by("registry", "installation_close", installation="HN-1", lastYear=2026,
             reason="decommissioned")
    checkpointer.cut()
    plan_2027 = signed_leaf(world, 2, "CN-ETS", 2027)
    assert plan_2027 is not None
    assert (plan_2027["issued"], plan_2027["taken_back"],
            plan_2027["sectors"][0]["allocated"]) == (575_260, 575_260, 0)
    assert_root_and_audit(world, checkpointer)


def test_a_ledger_without_plans_has_no_plan_leaves(market: World) -> None:
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    with market.store.read() as tx:
        assert not [key for key, _ in OPERATIONS.leaf_kinds["allocation_plan"].read_all(tx)]
    assert market.clock.moment >= START
