"""retire (by the holder, permanent) and cancel (by the registry, permanent)."""

from __future__ import annotations

import pytest

from ledger.errors import Reason
from tests.world import World


@pytest.fixture
def market(world: World) -> World:
    world.participant("gw", "project_owner", "GW", "trading")
    world.participant("li", "individual", "LI", "individual")
    world.issue_credits("C1", "GW", 100)
    return world


def _retire(**overrides: object) -> dict[str, object]:
    return dict(account="GW", batch="C1", quantity=10, beneficiary="Li Wei",
                reason="voluntary", claim="2025 flights") | overrides


def test_retire_by_quantity_then_by_range(market: World) -> None:
    market.by("gw", "retire", **_retire())
    market.by("gw", "retire", **_retire(quantity=5, serialFirst=51, serialLast=55))
    assert market.lots("C1") == [(1, 10, "GW", "retired"), (11, 50, "GW", "tradable"),
                                 (51, 55, "GW", "retired"), (56, 100, "GW", "tradable")]
    assert market.holding("GW", "C1") == {"tradable": 85, "pledged": 0, "retired": 15,
                                          "surrendered": 0, "cancelled": 0}


def test_retired_units_never_move_again(market: World) -> None:
    market.by("gw", "retire", **_retire())
    market.refused(Reason.serials_not_tradable, "gw", "transfer", fromAccount="GW",
                   toAccount="LI", batch="C1", quantity=1, serialFirst=3, serialLast=3)
    market.refused(Reason.serials_not_tradable, "gw", "retire",
                   **_retire(quantity=1, serialFirst=3, serialLast=3))
    market.refused(Reason.serials_not_tradable, "registry", "cancel", account="GW",
                   batch="C1", quantity=1, serialFirst=3, serialLast=3, reason="error")


def test_retire_refusals(market: World) -> None:
    market.refused(Reason.not_account_holder, "li", "retire", **_retire())
    market.refused(Reason.insufficient_tradable, "gw", "retire", **_retire(quantity=101))
    market.refused(Reason.unknown_batch, "gw", "retire", **_retire(batch="C2"))
    market.refused(Reason.malformed_instruction, "gw", "retire", **_retire(claim="x" * 2001))
    market.by("registry", "freeze_account", account="GW", reason="court order")
    market.refused(Reason.account_frozen, "gw", "retire", **_retire())


def test_registry_cancels_even_in_a_frozen_account(market: World) -> None:
    market.by("registry", "freeze_account", account="GW", reason="court order")
    market.by("registry", "cancel", account="GW", batch="C1", quantity=40,
              reason="issued in error")
    assert market.holding("GW", "C1")["cancelled"] == 40
    assert market.lots("C1")[0] == (1, 40, "GW", "cancelled")


def test_only_the_registry_cancels(market: World) -> None:
    market.refused(Reason.role_not_permitted, "gw", "cancel", account="GW", batch="C1",
                   quantity=1, reason="mine")
    market.refused(Reason.insufficient_tradable, "registry", "cancel", account="GW",
                   batch="C1", quantity=101, reason="too many")
