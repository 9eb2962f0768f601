"""monitoring_submit and monitoring_verify: GANSU-WIND's owner reports monitoring periods inside
its crediting period, never overlapping, once they have ended; a qualified, independent body
other than its validator verifies each once, with the figure it found."""

from __future__ import annotations

import json
from datetime import date

import pytest

from compliance.reasons import ComplianceReason
from ledger.errors import Reason, Rejected
from ledger.replay import replay_check
from projects.reasons import ProjectReason
from tests.projects.helpers import (
    OWNER,
    PROJECT,
    REPORT_HASH,
    advance_days,
    move_clock_to,
    qualify,
    register_project,
    report_period,
    retire_methodology,
    row,
    set_project_rules,
    set_status,
    submit_project,
    today,
    verify_period,
)
from tests.world import OPERATIONS, World

Q1 = ("2024-01-01", "2024-03-31")


@pytest.fixture(autouse=True)
def april(market: World) -> None:
    """The tests start on Monday 2024-04-01: Q1 has ended."""
    move_clock_to(market, date(2024, 4, 1))


def submit_fields(period: str = "Q1", start: str = Q1[0], end: str = Q1[1],
                  claimed: int = 50_000, project: str = PROJECT) -> dict[str, object]:
    return {"project": project, "period": period, "startDate": start, "endDate": end,
            "reportHash": REPORT_HASH, "claimedReductions": claimed}


def periods_of(world: World, project: str = PROJECT) -> list[list[str]]:
    return json.loads(row(world, "projects", project)["periods"])


# --- monitoring_submit ------------------------------------------------------------------------


def test_a_period_is_reported_and_kept_on_the_project(market: World) -> None:
    receipt = report_period(market, "Q1", *Q1, 50_000)
    period = row(market, "monitoring_periods", PROJECT, "Q1")
    assert period == {
        "project": PROJECT, "period": "Q1", "start_date": "2024-01-01",
        "end_date": "2024-03-31", "report_hash": REPORT_HASH, "claimed_t": 50_000,
        "verifier": "", "verified_t": 0, "issued_t": 0, "batch": "", "status": "reported",
        "reported_seq": receipt.seq, "verified_seq": None, "issued_seq": None,
    }
    assert periods_of(market) == [list(Q1)]


def test_two_periods_are_kept_in_order_and_an_overlap_is_refused(market: World) -> None:
    report_period(market, "Q1-LATE", "2024-02-01", "2024-03-31", 30_000)
    report_period(market, "JAN", "2024-01-01", "2024-01-31", 15_000)
    assert periods_of(market) == [["2024-01-01", "2024-01-31"], ["2024-02-01", "2024-03-31"]]
    # sharing a single day is an overlap; so is a period holding another
    refused = market.refused(ProjectReason.period_overlaps, OWNER, "monitoring_submit",
                             **submit_fields("X", "2024-01-31", "2024-02-01"))
    assert "2024-01-01..2024-01-31" in str(refused)
    market.refused(ProjectReason.period_overlaps, OWNER, "monitoring_submit",
                   **submit_fields("Y", "2024-01-01", "2024-03-31"))
    assert periods_of(market) == [["2024-01-01", "2024-01-31"], ["2024-02-01", "2024-03-31"]]


def test_a_period_outside_the_crediting_period_is_refused(market: World) -> None:
    for start, end in (("2023-12-01", "2024-01-31"),  # starts before crediting starts
                       ("2033-12-01", "2034-01-31"),  # ends after it ends
                       ("2024-03-01", "2024-02-01")):  # ends before it starts
        market.refused(ProjectReason.period_outside_crediting, OWNER, "monitoring_submit",
                       **submit_fields("P", start, end))
    assert periods_of(market) == []


def test_a_period_is_reported_once_it_has_ended(market: World) -> None:
    assert today(market) == date(2024, 4, 1)
    market.refused(ProjectReason.period_not_ended, OWNER, "monitoring_submit",
                   **submit_fields("APR", "2024-04-01", "2024-04-01"))
    advance_days(market, 1)
    report_period(market, "APR", "2024-04-01", "2024-04-01", 400)


def test_a_period_id_is_used_once_per_project(market: World) -> None:
    report_period(market, "Q1", "2024-01-01", "2024-01-31", 1)
    market.refused(ProjectReason.period_exists, OWNER, "monitoring_submit",
                   **submit_fields("Q1", "2024-02-01", "2024-02-29"))


def test_only_the_owner_of_a_known_project_reports(market: World) -> None:
    market.refused(ProjectReason.unknown_project, OWNER, "monitoring_submit",
                   **submit_fields(project="NOWHERE"))
    market.participant("solarco", "project_owner", "SC", "trading")
    market.refused(ProjectReason.not_project_owner, "solarco", "monitoring_submit",
                   **submit_fields())
    market.refused(ProjectReason.not_project_owner, "registry", "monitoring_submit",
                   **submit_fields())


def test_only_a_registered_project_is_monitored(market: World) -> None:
    submit_project(market, "GANSU-SOLAR")  # in its comment period
    market.refused(ProjectReason.project_not_registered, OWNER, "monitoring_submit",
                   **submit_fields(project="GANSU-SOLAR"))
    set_status(market, "suspend")
    refused = market.refused(ProjectReason.project_not_registered, OWNER, "monitoring_submit",
                             **submit_fields())
    assert "suspended" in str(refused)
    set_status(market, "reinstate")
    report_period(market, "Q1", *Q1, 10)


def test_a_methodology_ended_for_its_projects_cuts_their_crediting_period(market: World
                                                                          ) -> None:
    move_clock_to(market, date(2024, 5, 15))
    retire_methodology(market, existing_projects="end")  # on 2024-05-15
    move_clock_to(market, date(2024, 7, 1))
    refused = market.refused(ProjectReason.period_outside_crediting, OWNER,
                             "monitoring_submit",
                             **submit_fields("Q2", "2024-04-01", "2024-05-16"))
    assert "2024-05-15" in str(refused)
    report_period(market, "Q2", "2024-04-01", "2024-05-15", 20_000)


def test_a_methodology_kept_for_its_projects_leaves_their_crediting_period(market: World
                                                                           ) -> None:
    retire_methodology(market, existing_projects="keep")
    move_clock_to(market, date(2024, 7, 1))
    report_period(market, "Q2", "2024-04-01", "2024-06-30", 20_000)


# --- monitoring_verify ------------------------------------------------------------------------


def verify_fields(period: str = "Q1", verifier: str = "sgs", verified: int = 45_000,
                  project: str = PROJECT) -> dict[str, object]:
    return {"project": project, "period": period, "verifier": verifier,
            "verifiedReductions": verified}


def test_a_body_verifies_a_period_cutting_the_claim(market: World) -> None:
    report_period(market, "Q1", *Q1, 50_000)
    receipt = verify_period(market, "Q1", 45_000)
    period = row(market, "monitoring_periods", PROJECT, "Q1")
    assert (period["status"], period["verifier"], period["claimed_t"], period["verified_t"],
            period["verified_seq"]) == ("verified", "sgs", 50_000, 45_000, receipt.seq)
    market.refused(ProjectReason.period_already_verified, "sgs", "monitoring_verify",
                   **verify_fields(verified=50_000))


def test_a_body_may_find_more_than_was_claimed(market: World) -> None:
    report_period(market, "Q1", *Q1, 40_000)
    verify_period(market, "Q1", 41_000)
    assert row(market, "monitoring_periods", PROJECT, "Q1")["verified_t"] == 41_000


def test_the_period_must_exist(market: World) -> None:
    market.refused(ProjectReason.unknown_project, "sgs", "monitoring_verify",
                   **verify_fields(project="NOWHERE"))
    market.refused(ProjectReason.unknown_period, "sgs", "monitoring_verify",
                   **verify_fields(period="Q9"))


def test_the_validator_may_not_verify_unless_the_rules_allow(market: World) -> None:
    report_period(market, "Q1", *Q1, 50_000)
    market.refused(ProjectReason.verifier_validated_project, "cec", "monitoring_verify",
                   **verify_fields(verifier="cec"))
    set_project_rules(market, validator_may_verify=True)
    verify_period(market, "Q1", 45_000, verifier="cec")
    assert row(market, "monitoring_periods", PROJECT, "Q1")["verifier"] == "cec"


def test_the_body_must_be_qualified_independent_and_sign(market: World) -> None:
    report_period(market, "Q1", *Q1, 50_000)
    market.participant("tuv", "verifier")
    market.refused(ComplianceReason.verifier_not_qualified, "tuv", "monitoring_verify",
                   **verify_fields(verifier="tuv"))
    qualify(market, "tuv", sector="steel")  # the wrong sector
    market.refused(ComplianceReason.verifier_not_qualified, "tuv", "monitoring_verify",
                   **verify_fields(verifier="tuv"))
    qualify(market, "sgs", action="suspend", reason="falsified a report")
    market.refused(ComplianceReason.verifier_not_qualified, "sgs", "monitoring_verify",
                   **verify_fields())
    qualify(market, "sgs")
    market.by("sgs", "verifier_declare_conflict", verifier="sgs", entity=OWNER,
              relation="consultant")
    market.refused(ComplianceReason.verifier_conflicted, "sgs", "monitoring_verify",
                   **verify_fields())
    market.refused(Reason.missing_signature, "cec", "monitoring_verify", **verify_fields())
    market.refused(ComplianceReason.not_a_verifier, OWNER, "monitoring_verify",
                   **verify_fields(verifier=OWNER))
    assert row(market, "monitoring_periods", PROJECT, "Q1")["status"] == "reported"


def test_a_second_project_keeps_its_own_periods(market: World) -> None:
    register_project(market, "GANSU-SOLAR")
    move_clock_to(market, date(2024, 7, 1))
    report_period(market, "Q1", *Q1, 10)
    report_period(market, "Q1", *Q1, 20, project="GANSU-SOLAR")  # same days, another project
    assert periods_of(market, "GANSU-SOLAR") == [list(Q1)]
    assert row(market, "monitoring_periods", "GANSU-SOLAR", "Q1")["claimed_t"] == 20


def test_the_retirement_day_is_read_alike_in_one_transaction_and_in_a_replay(market: World
                                                                              ) -> None:
    move_clock_to(market, date(2024, 7, 1))
    retire = market.registry.sign(market.instruction(
        "methodology_retire", methodology="CM-001-V01", action="withdraw", replacedBy="",
        existingProjects="end", reason="baseline no longer conservative"))
    report = market.wallets[OWNER].sign(market.instruction(
        "monitoring_submit", **submit_fields("H1", "2024-01-01", "2024-06-30")))
    results = market.ledger.submit_many([retire, report])
    assert not any(isinstance(result, Rejected) for result in results), results
    move_clock_to(market, date(2024, 7, 3))
    market.refused(ProjectReason.period_outside_crediting, OWNER, "monitoring_submit",
                   **submit_fields("JUL", "2024-07-01", "2024-07-02"))
    for group_size in (1, 1000):
        replayed = replay_check(market.store, OPERATIONS, group_size=group_size)
        assert replayed.ok, replayed.first_difference
