"""Retiring CCER for an offsetting claim: the holder names the beneficiary, the purpose and
its subject, the period the claim covers and the claim; the units move to `retired` for good
and the retirement keeps the serial ranges it took. Each bad instruction is refused by name
and changes nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from ledger.errors import Reason
from ledger.replay import replay_check
from ledger.schemes import load_rules_dir
from projects.reasons import ProjectReason
from tests.projects.helpers import (
    OWNER,
    OWNER_ACCOUNT,
    issue,
    move_clock_to,
    report_period,
    row,
    rows,
    verify_period,
)
from tests.world import OPERATIONS, World

BATCH = "CCER-GW-2024Q1"


@pytest.fixture
def credited(market: World) -> World:
    """GANSU-WIND's first quarter of 2024: 9,000 t verified by SGS and issued as BATCH to the
    owner's account GW (serials 1..9000); Li, an individual, holds account LI."""
    move_clock_to(market, date(2024, 4, 2))
    report_period(market, "2024Q1", "2024-01-01", "2024-03-31", 10_000)
    verify_period(market, "2024Q1", 9_000)
    issue(market, BATCH, "2024Q1", 9_000)
    market.participant("li", "individual", "LI", "individual")
    return market


def retirement(retirement_id: str = "RET-1", *, account: str = OWNER_ACCOUNT,
               quantity: int = 100, first: int = 0, last: int = 0,
               **fields: Any) -> dict[str, Any]:
    """The fields of a claim_retire; `fields` override any."""
    return {"retirement": retirement_id, "account": account, "batch": BATCH,
            "quantity": quantity, "serialFirst": first, "serialLast": last,
            "beneficiary": "Hangzhou Asian Games Organising Committee", "purpose": "event",
            "subject": "HANGZHOU-2022-ASIAN-GAMES", "periodStart": "2023-09-23",
            "periodEnd": "2023-10-08",
            "claim": "the games' emissions from venues and transport, offset"} | fields


def test_retiring_for_a_claim_records_it_and_retires_the_units(credited: World) -> None:
    receipt = credited.by(OWNER, "claim_retire", **retirement(quantity=300))
    assert row(credited, "claim_retirements", "RET-1") == {
        "id": "RET-1", "seq": receipt.seq, "account": OWNER_ACCOUNT, "batch": BATCH,
        "quantity": 300, "beneficiary": "Hangzhou Asian Games Organising Committee",
        "purpose": "event", "subject": "HANGZHOU-2022-ASIAN-GAMES",
        "period_start": "2023-09-23", "period_end": "2023-10-08",
        "claim": "the games' emissions from venues and transport, offset",
        "serials": "[[1,300]]"}
    assert credited.holding(OWNER_ACCOUNT, BATCH) == {
        "tradable": 8_700, "pledged": 0, "retired": 300, "surrendered": 0, "cancelled": 0}
    assert credited.lots(BATCH) == [(1, 300, OWNER_ACCOUNT, "retired"),
                                    (301, 9_000, OWNER_ACCOUNT, "tradable")]


def test_an_explicit_range_and_oldest_first_record_the_ranges_they_took(
        credited: World) -> None:
    credited.by(OWNER, "claim_retire", **retirement("RET-1", quantity=100, first=101,
                                                    last=200))
    # by quantity, oldest first: serials 1..100 and then 201..250, around the retired range
    credited.by(OWNER, "transfer", fromAccount=OWNER_ACCOUNT, toAccount="LI", batch=BATCH,
                quantity=150, serialFirst=0, serialLast=0)
    credited.by("li", "claim_retire", **retirement(
        "RET-2", account="LI", quantity=150, purpose="period", subject="",
        beneficiary="Li Wei", periodStart="2024-01-01", periodEnd="2024-12-31",
        claim="my household's emissions in 2024, offset"))
    serials = {r["id"]: json.loads(r["serials"]) for r in rows(credited, "claim_retirements")}
    assert serials == {"RET-1": [[101, 200]], "RET-2": [[1, 100], [201, 250]]}
    assert credited.holding("LI", BATCH)["retired"] == 150


@pytest.mark.parametrize(("fields", "reason"), [
    (dict(beneficiary=""), ProjectReason.beneficiary_required),
    (dict(beneficiary="   "), ProjectReason.beneficiary_required),
    (dict(purpose="event", subject=""), ProjectReason.purpose_subject_required),
    (dict(purpose="product", subject=" "), ProjectReason.purpose_subject_required),
    (dict(purpose="organisation", subject=""), ProjectReason.purpose_subject_required),
    (dict(periodStart="2024-02-01", periodEnd="2024-01-31"),
     ProjectReason.claim_period_invalid),
    (dict(batch="NO-SUCH-BATCH"), Reason.unknown_batch),
    (dict(account="NOPE"), Reason.unknown_account),
    (dict(quantity=9_001), Reason.insufficient_tradable),
    (dict(quantity=10, first=8_995, last=9_004), Reason.serial_range_outside_batch),
    (dict(quantity=10, first=1, last=9), Reason.serial_range_mismatch),
], ids=["no beneficiary", "blank beneficiary", "event without id", "product without id",
        "organisation without name", "period backwards", "unknown batch", "unknown account",
        "more than held", "outside the batch", "range and quantity differ"])
def test_a_bad_retirement_is_refused_by_name(credited: World, fields: dict[str, Any],
                                            reason: Any) -> None:
    credited.refused(reason, OWNER, "claim_retire", **retirement(**fields))
    assert rows(credited, "claim_retirements") == []
    assert credited.holding(OWNER_ACCOUNT, BATCH)["retired"] == 0


def test_a_period_claim_needs_no_subject_and_may_cover_one_day(credited: World) -> None:
    credited.by(OWNER, "claim_retire", **retirement(purpose="period", subject="",
                                                    periodStart="2024-06-30",
                                                    periodEnd="2024-06-30"))
    assert row(credited, "claim_retirements", "RET-1")["subject"] == ""


def test_a_retirement_id_is_used_once(credited: World) -> None:
    credited.by(OWNER, "claim_retire", **retirement())
    credited.refused(ProjectReason.retirement_exists, OWNER, "claim_retire",
                     **retirement(quantity=5))
    assert credited.holding(OWNER_ACCOUNT, BATCH)["retired"] == 100


def test_only_the_accounts_holder_retires_its_units(credited: World) -> None:
    credited.refused(Reason.not_account_holder, "li", "claim_retire", **retirement())
    credited.refused(Reason.not_account_holder, "registry", "claim_retire", **retirement())


def test_units_held_elsewhere_or_already_retired_are_refused(credited: World) -> None:
    credited.by(OWNER, "transfer", fromAccount=OWNER_ACCOUNT, toAccount="LI", batch=BATCH,
                quantity=100, serialFirst=1, serialLast=100)
    credited.refused(Reason.serials_not_held, OWNER, "claim_retire",
                     **retirement(quantity=10, first=91, last=100))
    credited.by(OWNER, "claim_retire", **retirement("RET-1", quantity=10, first=101,
                                                    last=110))
    credited.refused(Reason.serials_not_tradable, OWNER, "claim_retire",
                     **retirement("RET-2", quantity=10, first=101, last=110))


def test_a_frozen_account_retires_nothing(credited: World) -> None:
    credited.by("registry", "freeze_account", account=OWNER_ACCOUNT, reason="court order")
    credited.refused(Reason.account_frozen, OWNER, "claim_retire", **retirement())


def test_credits_not_issued_by_the_project_cycle_are_refused(credited: World) -> None:
    """Units of a scheme whose rules issue them otherwise have no verified period behind
    them: a CCER batch issued while the scheme still took issue_batch, and allowances."""
    rules = load_rules_dir()["CCER"].as_json()
    credited.by("registry", "set_scheme_rules", scheme="CCER",
                rules=json.dumps({**rules, "issue_operation": "issue_batch"}))
    credited.issue_credits("CCER-LEGACY", OWNER_ACCOUNT, 50)
    credited.by("registry", "set_scheme_rules", scheme="CCER", rules=json.dumps(rules))
    credited.refused(ProjectReason.not_offset_credits, OWNER, "claim_retire",
                     **retirement(batch="CCER-LEGACY", quantity=10))
    credited.allocate("CEA-2025", OWNER_ACCOUNT, 100)
    credited.refused(ProjectReason.not_offset_credits, OWNER, "claim_retire",
                     **retirement(batch="CEA-2025", quantity=10))
    # the scheme's own credits, issued by ccer_issue, still retire
    credited.by(OWNER, "claim_retire", **retirement())


def test_a_replay_rebuilds_the_retirements(credited: World) -> None:
    credited.by(OWNER, "claim_retire", **retirement(quantity=40, first=11, last=50))
    credited.by(OWNER, "claim_retire", **retirement("RET-2", quantity=60))
    replay_check(credited.store, OPERATIONS)
