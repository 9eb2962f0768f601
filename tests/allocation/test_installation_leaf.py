"""What an installation received for a year is a leaf of the state commitment that checkpoints
sign (`installation_allocation`, by installation and year), with its debt after: a later cut
re-reads the installations a pre-allocation, a true-up or a closure names, the holdings a
take-back cancelled from are re-read from the entry's lot effects, and the audit, which
recomputes every leaf from its replay, agrees."""

from __future__ import annotations

import json
from typing import Any

from allocation.installation_leaf_store import installation_allocation_key
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.state_versions import leaves_at
from tests.allocation.helpers import preallocate, set_plan, true_up, verify_output
from tests.allocation.test_plan_leaf import assert_root_and_audit
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.world import World

HN_1 = 575_260  # 1,000,000.5 MWh x 0.8218 x 0.7, rounded


def signed_leaf(world: World, number: int, installation: str, year: int
                ) -> dict[str, Any] | None:
    with world.store.read() as tx:
        value = dict(leaves_at(tx, number)).get(
            installation_allocation_key((installation, str(year))))
    return None if value is None else json.loads(value)


def test_an_allocation_is_a_signed_leaf_with_the_debt_after_it(any_market: World) -> None:
    world = any_market
    set_plan(world)
    verify_output(world, "HN-1", 2025, "1000000.5")
    verify_output(world, "HN-2", 2025, "500000")
    preallocate(world, ("HN-1", "HN"), ("HN-2", "HN"))
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    assert signed_leaf(world, 1, "HN-1", 2026) == {
        "installation": "HN-1", "year": 2026, "scheme": "CN-ETS", "sector": "power",
        "account": "HN", "source": "preallocation", "preallocated": HN_1, "final": None,
        "issued": HN_1, "taken_back": 0, "debt_applied": 0, "debt_created": 0,
        "debt_after": 0, "batches": ["FA-2026"]}
    assert signed_leaf(world, 1, "BW-1", 2026) is None

    # HN sells all but 75,260 t; HN-1's 2026 output earns 410,900 t: 164,360 t too many
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="IC-T", batch="FA-2026",
             quantity=HN_1 + 287_630 - 75_260)
    verify_output(world, "HN-1", 2026, "500000")
    true_up(world, ("HN-1", "HN"))
    checkpointer.cut()
    leaf = signed_leaf(world, 2, "HN-1", 2026)
    assert leaf is not None
    assert (leaf["final"], leaf["taken_back"], leaf["debt_created"], leaf["debt_after"]) == \
        (410_900, 75_260, 89_100, 89_100)
    assert signed_leaf(world, 2, "HN-2", 2026) == signed_leaf(world, 1, "HN-2", 2026)
    assert_root_and_audit(world, checkpointer)

    # the debt is paid off by the 2027 pre-allocation: 500,000 x 0.8218 x 0.7 = 287,630 t
    set_plan(world, 2027)
    preallocate(world, ("HN-1", "HN"), year=2027, batch="FA-2027")
    world.by("registry", "installation_close", installation="HN-2", lastYear=2025,
             reason="decommissioned")
    checkpointer.cut()
    leaf_2027 = signed_leaf(world, 3, "HN-1", 2027)
    assert leaf_2027 is not None
    assert (leaf_2027["issued"], leaf_2027["debt_applied"], leaf_2027["debt_after"]) == \
        (287_630 - 89_100, 89_100, 0)
    closed = signed_leaf(world, 3, "HN-2", 2026)
    assert closed is not None and closed["final"] == 0
    assert_root_and_audit(world, checkpointer)
