"""ccer_issue: the registry issues CCER for GANSU-WIND's verified monitoring periods, at most
their verified reductions and once each, with the methodology's buffer share set aside as the
batch's last serials; the core's issue_batch issues no CCER in a project-cycle ledger."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import Reason
from projects.ops.ccer_issue import buffer_share
from projects.reasons import ProjectReason
from tests.projects.helpers import (
    OWNER,
    OWNER_ACCOUNT,
    PROJECT,
    issue,
    move_clock_to,
    publish_methodology,
    register_project,
    report_period,
    row,
    set_project_rules,
    set_status,
    verify_period,
)
from tests.world import World

BUFFERED = "CM-002-V01"  # a methodology setting 15% of each issuance aside
SOLAR = "GANSU-SOLAR"  # a project under it


@pytest.fixture
def market(market: World) -> World:
    """The project market where, on 2024-04-01, GANSU-WIND's Q1 (January, 50,000 t claimed)
    is verified at 45,000 t, and its February..March (FM) is reported, not yet verified."""
    move_clock_to(market, date(2024, 4, 1))
    report_period(market, "Q1", "2024-01-01", "2024-01-31", 50_000)
    verify_period(market, "Q1", 45_000)
    report_period(market, "FM", "2024-02-01", "2024-03-31", 30_000)
    return market


def fields(batch: str = "C1", period: str = "Q1", quantity: int = 45_000,
           project: str = PROJECT, account: str = OWNER_ACCOUNT) -> dict[str, object]:
    return {"batch": batch, "project": project, "period": period, "quantity": quantity,
            "account": account}


def batch_row(world: World, batch: str) -> dict[str, object]:
    with world.store.read() as tx:
        found = tx.one("SELECT scheme, kind, vintage, project, monitoring_start, "
                       "monitoring_end, issuance, quantity, serial_prefix, issued_seq "
                       "FROM batches WHERE id = :b", {"b": batch})
    assert found is not None, batch
    names = ("scheme", "kind", "vintage", "project", "monitoring_start", "monitoring_end",
             "issuance", "quantity", "serial_prefix", "issued_seq")
    return dict(zip(names, found, strict=True))


def test_a_verified_period_is_issued_to_the_owner(market: World) -> None:
    receipt = issue(market, "C1", "Q1", 45_000)
    assert batch_row(market, "C1") == {
        "scheme": "CCER", "kind": "credit", "vintage": 2024, "project": PROJECT,
        "monitoring_start": "2024-01-01", "monitoring_end": "2024-01-31",
        "issuance": "credit_issuance", "quantity": 45_000, "serial_prefix": "CCER-2024-C1",
        "issued_seq": receipt.seq}
    assert market.lots("C1") == [(1, 45_000, OWNER_ACCOUNT, "tradable")]
    assert market.holding(OWNER_ACCOUNT, "C1")["tradable"] == 45_000
    period = row(market, "monitoring_periods", PROJECT, "Q1")
    assert (period["status"], period["issued_t"], period["batch"], period["issued_seq"]) == (
        "issued", 45_000, "C1", receipt.seq)


def test_a_period_is_credited_once_whatever_the_quantity(market: World) -> None:
    issue(market, "C1", "Q1", 10_000)  # less than verified
    refused = market.refused(ProjectReason.period_already_issued, "registry", "ccer_issue",
                             **fields("C2", quantity=1))
    assert "C1" in str(refused)
    assert row(market, "monitoring_periods", PROJECT, "Q1")["issued_t"] == 10_000


def test_never_more_than_verified_nor_for_an_unverified_period(market: World) -> None:
    refused = market.refused(ProjectReason.exceeds_verified, "registry", "ccer_issue",
                             **fields(quantity=45_001))
    assert "45000 t verified" in str(refused)
    market.refused(ProjectReason.period_not_verified, "registry", "ccer_issue",
                   **fields(period="FM", quantity=1))
    market.refused(ProjectReason.unknown_period, "registry", "ccer_issue",
                   **fields(period="Q9"))
    market.refused(ProjectReason.unknown_project, "registry", "ccer_issue",
                   **fields(project="NOWHERE"))
    market.refused(Reason.quantity_not_positive, "registry", "ccer_issue",
                   **fields(quantity=0))


def test_a_batch_id_is_used_once(market: World) -> None:
    verify_period(market, "FM", 30_000)
    issue(market, "C1", "Q1", 45_000)
    market.refused(Reason.batch_exists, "registry", "ccer_issue",
                   **fields("C1", period="FM", quantity=30_000))
    assert row(market, "monitoring_periods", PROJECT, "FM")["status"] == "verified"


def test_only_the_registry_issues_into_the_owners_unfrozen_account(market: World) -> None:
    market.refused(Reason.role_not_permitted, OWNER, "ccer_issue", **fields())
    market.participant("huaneng", "emitter", "HN", "trading")
    market.refused(ProjectReason.account_not_project_owners, "registry", "ccer_issue",
                   **fields(account="HN"))
    market.refused(Reason.unknown_account, "registry", "ccer_issue", **fields(account="NONE"))
    market.by("registry", "freeze_account", account=OWNER_ACCOUNT, reason="court order")
    market.refused(Reason.account_frozen, "registry", "ccer_issue", **fields())
    market.by("registry", "unfreeze_account", account=OWNER_ACCOUNT, reason="order lifted")
    issue(market, "C1", "Q1", 45_000)


def test_a_suspended_project_gets_nothing_until_reinstated(market: World) -> None:
    set_status(market, "suspend")
    refused = market.refused(ProjectReason.project_not_registered, "registry", "ccer_issue",
                             **fields())
    assert "suspended" in str(refused)
    set_status(market, "reinstate", reason="equipment recalibrated")
    issue(market, "C1", "Q1", 45_000)
    assert market.holding(OWNER_ACCOUNT, "C1")["tradable"] == 45_000


def test_a_deregistered_project_gets_nothing_more(market: World) -> None:
    issue(market, "C1", "Q1", 45_000)
    verify_period(market, "FM", 30_000)
    set_status(market, "deregister", reason="double registration in another programme")
    market.refused(ProjectReason.project_not_registered, "registry", "ccer_issue",
                   **fields("C2", period="FM", quantity=30_000))
    assert market.holding(OWNER_ACCOUNT, "C1")["tradable"] == 45_000  # issued units stay


def test_the_core_issues_no_ccer_in_a_project_cycle_ledger(market: World) -> None:
    refused = market.refused(Reason.issued_by_another_operation, "registry", "issue_batch",
                             batch="X1", scheme="CCER", kind="credit", vintage=2024,
                             project=PROJECT, monitoringStart="2024-01-01",
                             monitoringEnd="2024-01-31", issuance="credit_issuance",
                             quantity=45_000, account=OWNER_ACCOUNT)
    assert "ccer_issue" in str(refused)


def test_ccer_issue_issues_nothing_where_the_core_issues_ccer(world: World) -> None:
    refused = world.refused(Reason.issued_by_another_operation, "registry", "ccer_issue",
                            **fields())
    assert "issue_batch" in str(refused)


# --- the buffer ------------------------------------------------------------------------------


def buffered_project(world: World) -> None:
    """SOLAR, under a methodology with a 15% buffer share, its Q1 verified at 999 t."""
    publish_methodology(world, BUFFERED, bufferBp=1_500)
    register_project(world, SOLAR, methodology=BUFFERED)
    report_period(world, "Q1", "2024-01-01", "2024-03-31", 1_000, project=SOLAR)
    verify_period(world, "Q1", 999, project=SOLAR)


def test_the_buffer_share_is_rounded_down() -> None:
    assert buffer_share(999, 1_500) == 149  # 149.85
    assert buffer_share(1_000, 1_500) == 150
    assert buffer_share(6, 1_500) == 0  # 0.9: nothing set aside
    assert buffer_share(45_000, 0) == 0
    assert buffer_share(7, 10_000) == 7


def test_a_buffer_share_needs_a_buffer_account(market: World) -> None:
    buffered_project(market)
    market.refused(ProjectReason.no_buffer_account, "registry", "ccer_issue",
                   **fields(project=SOLAR, quantity=999))
    set_project_rules(market, buffer_account="REG-BUFFER")  # named, but not opened
    market.refused(Reason.unknown_account, "registry", "ccer_issue",
                   **fields(project=SOLAR, quantity=999))
    # too small a quantity for a whole tonne of buffer needs no buffer account
    set_project_rules(market, buffer_account="")
    issue(market, "C1", "Q1", 6, project=SOLAR)
    assert market.lots("C1") == [(1, 6, OWNER_ACCOUNT, "tradable")]


def test_the_buffer_share_goes_to_the_buffer_account_as_the_last_serials(market: World
                                                                         ) -> None:
    buffered_project(market)
    market.by("registry", "open_account", account="REG-BUFFER", participant="registry",
              accountType="reserve")
    set_project_rules(market, buffer_account="REG-BUFFER")
    receipt = issue(market, "C1", "Q1", 999, project=SOLAR)
    assert market.lots("C1") == [(1, 850, OWNER_ACCOUNT, "tradable"),
                                 (851, 999, "REG-BUFFER", "tradable")]
    assert market.holding(OWNER_ACCOUNT, "C1")["tradable"] == 850
    assert market.holding("REG-BUFFER", "C1")["tradable"] == 149
    assert [lot["id"] for lot in receipt.effects["created"]] == [
        f"{receipt.seq}.0", f"{receipt.seq}.1"]
    assert batch_row(market, "C1")["quantity"] == 999
    assert row(market, "monitoring_periods", SOLAR, "Q1")["issued_t"] == 999


def test_the_buffer_account_must_be_able_to_receive(market: World) -> None:
    buffered_project(market)
    market.by("registry", "open_account", account="REG-BUFFER", participant="registry",
              accountType="reserve")
    set_project_rules(market, buffer_account="REG-BUFFER")
    market.by("registry", "freeze_account", account="REG-BUFFER", reason="audit")
    market.refused(Reason.account_frozen, "registry", "ccer_issue",
                   **fields(project=SOLAR, quantity=999))
    assert row(market, "monitoring_periods", SOLAR, "Q1")["status"] == "verified"


def test_monitoring_to_a_buffered_issuance_on_both_databases(any_market: World) -> None:
    move_clock_to(any_market, date(2024, 4, 1))
    buffered_project(any_market)
    any_market.by("registry", "open_account", account="REG-BUFFER", participant="registry",
                  accountType="reserve")
    set_project_rules(any_market, buffer_account="REG-BUFFER")
    issue(any_market, "C1", "Q1", 999, project=SOLAR)
    any_market.refused(ProjectReason.period_already_issued, "registry", "ccer_issue",
                       **fields("C2", project=SOLAR, quantity=1))
    assert any_market.lots("C1") == [(1, 850, OWNER_ACCOUNT, "tradable"),
                                     (851, 999, "REG-BUFFER", "tradable")]
    period = row(any_market, "monitoring_periods", SOLAR, "Q1")
    assert (period["status"], period["verified_t"], period["issued_t"]) == ("issued", 999, 999)
