"""surrender and offset_project_register: an emitter surrenders allowances, and CCER within the
cap, against its verified obligation; what the rules, liens, holders or a met obligation bar is
refused by name, and the journal does not move."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from compliance.reasons import ComplianceReason
from ledger.errors import Reason, ReasonCode
from ledger.replay import replay_check
from tests.compliance.helpers import (
    qualify,
    reported_year,
    row,
    rows,
    set_compliance_rules,
    verify,
)
from tests.pledge.helpers import PLEDGE, REPO
from tests.pledge.helpers import by as cosigned
from tests.world import OPERATIONS, World

OBLIGATION_T = 1_200  # Baowu's verified 2025 emissions
CAP_T = 60  # 5% of it may be CCER


@pytest.fixture(autouse=True)
def compliance_invariants(request: pytest.FixtureRequest) -> Iterator[None]:
    """The compliance invariants hold when each test ends, on whichever market it used."""
    world = request.getfixturevalue("any_market" if "any_market" in request.fixturenames
                                    else "market")
    yield
    problems = OPERATIONS.check_invariants(world.store)
    assert not problems, problems


def issue_credits(world: World, batch: str, account: str, quantity: int, *,
                  project: str = "WIND-1", vintage: int = 2024, scheme: str = "CCER") -> None:
    world.by("registry", "issue_batch", batch=batch, scheme=scheme, kind="credit",
             vintage=vintage, project=project, monitoringStart=f"{vintage}-01-01",
             monitoringEnd=f"{vintage}-12-31", issuance="credit_issuance",
             quantity=quantity, account=account)


@pytest.fixture
def owing(market: World) -> World:
    """Baowu owes 1,200 t for 2025 and holds, in its compliance account BW, 2,000 t of 2025
    CN-ETS allowances (A25), 100 t each of vintages 2023, 2024 and 2026, and 200 t of 2024
    CCER from the wind project WIND-1 (C1)."""
    reported_year(market, "baowu", ["BW-1"], 2025, 100_000)
    qualify(market, sector="steel")
    verify(market, "baowu", 2025, OBLIGATION_T)
    market.allocate("A25", "BW", 2_000, vintage=2025)
    for vintage in (2023, 2024, 2026):
        market.allocate(f"A{vintage % 100}", "BW", 100, vintage=vintage)
    issue_credits(market, "C1", "BW", 200)
    return market


def surrender(world: World, batch: str, quantity: int, *, who: str = "baowu",
              account: str = "BW", year: int = 2025, **fields: Any) -> Any:
    return world.by(who, "surrender", account=account, year=year, batch=batch,
                    quantity=quantity, **({"serialFirst": 0, "serialLast": 0} | fields))


def refused(world: World, reason: ReasonCode, batch: str, quantity: int, *,
            who: str = "baowu", account: str = "BW", year: int = 2025,
            **fields: Any) -> str:
    """The surrender is refused with `reason` (the journal unmoved); its detail."""
    rejected = world.refused(reason, who, "surrender", account=account, year=year,
                             batch=batch, quantity=quantity,
                             **({"serialFirst": 0, "serialLast": 0} | fields))
    return rejected.detail


def obligation(world: World) -> tuple[int, int, int | None]:
    """Baowu's 2025 (allowances, credits, met_seq)."""
    found = row(world, "obligations", "baowu", 2025)
    return found["allowances"], found["credits"], found["met_seq"]


def test_allowances_surrendered_move_to_surrendered_and_count_against_the_year(
        owing: World) -> None:
    receipt = surrender(owing, "A25", 1_000)
    assert owing.lots("A25") == [(1, 1_000, "BW", "surrendered"),
                                 (1_001, 2_000, "BW", "tradable")]
    assert owing.holding("BW", "A25")["surrendered"] == 1_000
    assert obligation(owing) == (1_000, 0, None)
    assert rows(owing, "surrenders") == [
        {"seq": receipt.seq, "emitter": "baowu", "year": 2025, "account": "BW",
         "batch": "A25", "kind": "allowance", "quantity": 1_000}]


def test_the_surrender_that_meets_the_obligation_is_recorded_and_nothing_more_is_taken(
        owing: World) -> None:
    surrender(owing, "A25", 1_000)
    last = surrender(owing, "A24", 100, serialFirst=1, serialLast=100)
    assert refused(owing, ComplianceReason.exceeds_obligation, "A25", 101) == \
        "100 t still owed"
    met = surrender(owing, "A25", 100)
    assert obligation(owing) == (1_200, 0, met.seq)
    assert row(owing, "obligations", "baowu", 2025)["updated_seq"] == met.seq > last.seq
    refused(owing, ComplianceReason.obligation_met, "A25", 1)
    refused(owing, ComplianceReason.obligation_met, "C1", 1)
    assert owing.holding("BW", "A25")["tradable"] == 900


def test_ccer_up_to_the_cap_and_past_it(owing: World) -> None:
    surrender(owing, "C1", 40)
    assert refused(owing, ComplianceReason.offset_cap_exceeded, "C1", 21) == \
        "at most 20 t more may be offset"
    surrender(owing, "C1", 20, serialFirst=41, serialLast=60)
    assert obligation(owing) == (0, CAP_T, None)
    assert refused(owing, ComplianceReason.offset_cap_exceeded, "C1", 1) == \
        "at most 0 t more may be offset"
    # allowances still cover the rest
    met = surrender(owing, "A25", OBLIGATION_T - CAP_T)
    assert obligation(owing) == (OBLIGATION_T - CAP_T, CAP_T, met.seq)
    assert owing.holding("BW", "C1") == {"tradable": 140, "pledged": 0, "retired": 0,
                                         "surrendered": 60, "cancelled": 0}


def test_the_cap_follows_the_schemes_rules(owing: World) -> None:
    set_compliance_rules(owing, offsets={"cap_bp": 1_000})  # 10%: 120 t
    surrender(owing, "C1", 120)
    assert refused(owing, ComplianceReason.offset_cap_exceeded, "C1", 1) == \
        "at most 0 t more may be offset"


def test_pledged_units_cannot_be_surrendered(owing: World) -> None:
    owing.participant("icbc", "bank", "ICBC", "trading")
    cosigned(owing, ("baowu", "icbc"), "pledge_register",
             **(PLEDGE | {"account": "BW", "batch": "A25", "quantity": 1_900}))
    assert "under lien P1" in refused(owing, Reason.lot_under_lien, "A25", 10,
                                      serialFirst=1, serialLast=10)
    refused(owing, Reason.insufficient_tradable, "A25", 101)
    surrender(owing, "A25", 100)  # the 100 t left free
    assert owing.lots("A25")[-1] == (1_901, 2_000, "BW", "surrendered")


def test_units_under_a_repo_cannot_be_surrendered_but_free_use_ones_can(owing: World) -> None:
    owing.participant("icbc", "bank", "ICBC", "trading")
    # Huaneng sells 300 t to Baowu under repo: a lien unless the buyer has free use
    owing.allocate("H25", "HN", 1_000, vintage=2025)
    repo = REPO | {"sellerAccount": "HN", "buyerAccount": "BW", "batch": "H25"}
    cosigned(owing, ("huaneng", "baowu"), "repo_open", **(repo | {"quantity": 300}))
    refused(owing, Reason.insufficient_tradable, "H25", 1)
    refused(owing, Reason.lot_under_lien, "H25", 1, serialFirst=1, serialLast=1)
    cosigned(owing, ("huaneng", "baowu"), "repo_open",
             **(repo | {"repo": "R2", "quantity": 200, "freeUse": True}))
    surrender(owing, "H25", 200)
    assert owing.holding("BW", "H25")["surrendered"] == 200


def test_someone_elses_account_is_refused(owing: World) -> None:
    refused(owing, Reason.not_account_holder, "A25", 10, who="huaneng")
    refused(owing, Reason.not_account_holder, "A25", 10, who="cec")
    refused(owing, Reason.not_account_holder, "A25", 10, who="registry")


def test_only_a_compliance_account_surrenders(owing: World) -> None:
    owing.by("registry", "open_account", account="BWT", participant="baowu",
             accountType="trading")
    owing.by("baowu", "transfer", fromAccount="BW", toAccount="BWT", batch="A25",
             quantity=10)
    assert refused(owing, ComplianceReason.not_compliance_account, "A25", 10,
                   account="BWT") == "BWT is a trading account"


def test_a_frozen_account_surrenders_nothing(owing: World) -> None:
    owing.by("registry", "freeze_account", account="BW", reason="court order")
    refused(owing, Reason.account_frozen, "A25", 10)


def test_no_obligation_without_a_verification(owing: World) -> None:
    refused(owing, ComplianceReason.no_obligation, "A25", 10, year=2026)
    refused(owing, Reason.unknown_account, "A25", 10, account="NOPE")
    refused(owing, Reason.unknown_batch, "NOPE", 10)


def test_vintages_later_than_the_year_are_refused(owing: World) -> None:
    detail = refused(owing, ComplianceReason.vintage_not_eligible, "A26", 10)
    assert "later than 2025" in detail
    surrender(owing, "A23", 10)  # banking_years = 0: any earlier vintage


def test_banking_limits_how_old_a_vintage_may_be(owing: World) -> None:
    set_compliance_rules(owing, banking_years=1)
    refused(owing, ComplianceReason.vintage_not_eligible, "A23", 10)
    surrender(owing, "A24", 10)
    surrender(owing, "A25", 10)


def test_offsets_past_the_sunset_are_refused(owing: World) -> None:
    # the clock is in January 2026
    set_compliance_rules(owing, offsets={"sunset": "2025-12-31"})
    assert "until 2025-12-31" in refused(owing, ComplianceReason.offset_not_eligible, "C1", 10)
    set_compliance_rules(owing, offsets={"sunset": "2026-12-31"})
    surrender(owing, "C1", 10)


def test_offsets_of_an_undeclared_or_other_project_type_are_refused(owing: World) -> None:
    set_compliance_rules(owing, offsets={"project_types": ["wind", "forestry"]})
    assert "no declared type" in refused(owing, ComplianceReason.offset_not_eligible, "C1", 10)
    issue_credits(owing, "C2", "BW", 50, project="SOLAR-1")
    owing.by("registry", "offset_project_register", project="SOLAR-1", projectType="solar")
    assert "'solar'" in refused(owing, ComplianceReason.offset_not_eligible, "C2", 10)
    owing.by("registry", "offset_project_register", project="WIND-1", projectType="wind")
    surrender(owing, "C1", 10)


def test_offsets_older_than_the_minimum_vintage_are_refused(owing: World) -> None:
    set_compliance_rules(owing, offsets={"min_vintage": 2025})
    assert "before 2025" in refused(owing, ComplianceReason.offset_not_eligible, "C1", 10)


def test_units_of_another_scheme_or_kind_are_refused(owing: World) -> None:
    owing.allocate("GD25", "BW", 100, scheme="CN-GD", vintage=2025)
    refused(owing, ComplianceReason.not_eligible_for_scheme, "GD25", 10)
    set_compliance_rules(owing, offsets={"schemes": []})
    refused(owing, ComplianceReason.not_eligible_for_scheme, "C1", 10)


def test_refused_surrenders_change_nothing(owing: World) -> None:
    before = owing.holding("BW", "C1"), obligation(owing)
    refused(owing, ComplianceReason.offset_cap_exceeded, "C1", 61)
    refused(owing, ComplianceReason.exceeds_obligation, "A25", 1_201)
    refused(owing, Reason.serial_range_mismatch, "A25", 10, serialFirst=1, serialLast=11)
    refused(owing, Reason.serial_range_outside_batch, "A24", 10, serialFirst=95,
            serialLast=104)
    assert (owing.holding("BW", "C1"), obligation(owing)) == before
    assert rows(owing, "surrenders") == []


def test_a_project_type_is_declared_once_by_the_registry(market: World) -> None:
    receipt = market.by("registry", "offset_project_register", project="WIND-1",
                        projectType="wind")
    assert row(market, "offset_projects", "WIND-1") == {
        "project": "WIND-1", "type": "wind", "registered_seq": receipt.seq}
    market.refused(ComplianceReason.offset_project_exists, "registry", "offset_project_register",
                   project="WIND-1", projectType="solar")
    market.refused(Reason.role_not_permitted, "huaneng", "offset_project_register",
                   project="SOLAR-1", projectType="solar")
    market.refused(Reason.malformed_instruction, "registry", "offset_project_register",
                   project="SOLAR-1", projectType="")
    assert [r["project"] for r in rows(market, "offset_projects")] == ["WIND-1"]


def test_the_invariants_catch_counters_that_disagree_with_the_surrenders(owing: World) -> None:
    credit = surrender(owing, "C1", 40)
    surrender(owing, "A25", 100)
    swap = "UPDATE obligations SET credits = credits + :n, allowances = allowances - :n"
    with owing.store.write() as tx:
        tx.execute(swap, {"n": 30})
        tx.execute("UPDATE surrenders SET quantity = quantity + 25 WHERE batch = 'C1'")
    assert OPERATIONS.check_invariants(owing.store) == [
        f"obligation baowu 2025: 65 t of credits after entry {credit.seq}, the cap was 60 t",
        "obligation baowu 2025: 70 t allowances and 70 t credits recorded, its surrenders "
        "add up to {'credit': 65, 'allowance': 100}",
        "('BW', 'C1'): 40 t in surrendered lots, its surrenders took 65 t"]
    with owing.store.write() as tx:  # as it was, for the checks after the test
        tx.execute(swap, {"n": -30})
        tx.execute("UPDATE surrenders SET quantity = quantity - 25 WHERE batch = 'C1'")


def test_a_year_verified_and_surrendered_on_both_databases(any_market: World) -> None:
    reported_year(any_market, "baowu", ["BW-1"], 2025, 100_000)
    qualify(any_market, sector="steel")
    verify(any_market, "baowu", 2025, OBLIGATION_T)
    any_market.allocate("A25", "BW", 2_000, vintage=2025)
    issue_credits(any_market, "C1", "BW", 200)
    surrender(any_market, "C1", 50)
    assert refused(any_market, ComplianceReason.offset_cap_exceeded, "C1", 11) == \
        "at most 10 t more may be offset"
    met = surrender(any_market, "A25", OBLIGATION_T - 50)
    assert obligation(any_market) == (OBLIGATION_T - 50, 50, met.seq)
    refused(any_market, ComplianceReason.obligation_met, "A25", 1)
    # the verifications, obligations and surrenders are projections the journal rebuilds
    report = replay_check(any_market.store, OPERATIONS)
    assert report.ok, report.first_difference
