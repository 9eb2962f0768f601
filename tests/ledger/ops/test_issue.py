"""issue_batch: allowances by free allocation or auction, credits to projects."""

from __future__ import annotations

import pytest

from ledger.errors import Reason
from tests.world import World


@pytest.fixture
def market(world: World) -> World:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.participant("li", "individual", "LI", "individual")
    return world


def test_free_allocation_creates_one_lot_of_the_whole_batch(market: World) -> None:
    receipt = market.allocate("A1", "HN", 120_000)
    assert market.lots("A1") == [(1, 120_000, "HN", "tradable")]
    assert receipt.effects["created"][0]["id"] == f"{receipt.seq}.0"
    with market.store.read() as tx:
        prefix = tx.one("SELECT serial_prefix FROM batches WHERE id = 'A1'")[0]
    assert prefix == "CN-ETS-2025-A1"


def test_credit_issuance_records_project_and_monitoring_period(market: World) -> None:
    market.issue_credits("C1", "GW", 50_000)
    with market.store.read() as tx:
        row = tx.one("SELECT kind, project, monitoring_start, monitoring_end, issuance "
                     "FROM batches WHERE id = 'C1'")
    assert tuple(row) == ("credit", "Wind farm", "2024-01-01", "2024-12-31", "credit_issuance")


def test_auction_result(market: World) -> None:
    market.by("registry", "issue_batch", batch="AU1", scheme="CN-ETS", kind="allowance",
              vintage=2025, issuance="auction", quantity=500, account="HN")
    assert market.holding("HN", "AU1")["tradable"] == 500


def _issue(**overrides: object) -> dict[str, object]:
    base = dict(batch="X1", scheme="CN-ETS", kind="allowance", vintage=2025,
                issuance="free_allocation", quantity=10, account="HN")
    return base | overrides


@pytest.mark.parametrize(("fields", "reason"), [
    (_issue(scheme="EU-ETS"), Reason.unknown_scheme),
    (_issue(kind="credit", issuance="credit_issuance", project="P",
            monitoringStart="2024-01-01", monitoringEnd="2024-12-31"), Reason.kind_not_in_scheme),
    (_issue(account="NOPE"), Reason.unknown_account),
    (_issue(account="LI"), Reason.individual_cannot_hold_allowances),
    (_issue(quantity=0), Reason.quantity_not_positive),
    (_issue(quantity=2**60), Reason.quantity_out_of_range),
    (_issue(issuance="credit_issuance"), Reason.invalid_batch),
    (_issue(project="A project"), Reason.invalid_batch),
    (_issue(scheme="CCER", kind="credit", issuance="credit_issuance", project="P",
            monitoringStart="2024-12-31", monitoringEnd="2024-01-01"), Reason.invalid_batch),
    (_issue(scheme="CCER", kind="credit", issuance="credit_issuance"), Reason.invalid_batch),
    (_issue(batch="bad id!"), Reason.malformed_instruction),
    (_issue(kind="forest"), Reason.malformed_instruction),
])
def test_refusals(market: World, fields: dict, reason: Reason) -> None:
    market.refused(reason, "registry", "issue_batch", **fields)


def test_only_the_registry_issues(market: World) -> None:
    market.refused(Reason.role_not_permitted, "huaneng", "issue_batch", **_issue())


def test_a_batch_id_is_issued_once(market: World) -> None:
    market.allocate("A1", "HN", 10)
    market.refused(Reason.batch_exists, "registry", "issue_batch", **_issue(batch="A1"))


def test_frozen_account_receives_no_issuance(market: World) -> None:
    market.by("registry", "freeze_account", account="HN", reason="investigation")
    market.refused(Reason.account_frozen, "registry", "issue_batch", **_issue())
