"""verification_sign: a qualified, independent verifier signs an emitter's verified emissions,
which sets the year's obligation; a figure far from the monthly data is flagged, and a run of
clean years earns streamlined verification. Every refusal leaves the journal as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from compliance import calendar
from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from tests.compliance.helpers import (
    figures_of_kg,
    monthly,
    move_clock_to,
    qualify,
    report,
    reported_year,
    row,
    rows,
    set_compliance_rules,
    verify,
)
from tests.world import OPERATIONS, World

# Huaneng's two power installations emit 100 t a month each: 2,400 t in 2025.
HN_MONTHLY_KG = 100_000
HN_YEAR_T = 2_400


@pytest.fixture(autouse=True)
def compliance_invariants(market: World) -> Iterator[None]:
    yield
    problems = OPERATIONS.check_invariants(market.store)
    assert not problems, problems


@pytest.fixture
def reported(market: World) -> World:
    """Huaneng's 2025 report (R1) of 2,400 t; cec qualified in power and steel."""
    reported_year(market, "huaneng", ["HN-1", "HN-2"], 2025, HN_MONTHLY_KG)
    qualify(market, sector="power")
    qualify(market, sector="steel")
    return market


def test_a_verification_sets_the_obligation(reported: World) -> None:
    receipt = verify(reported, "huaneng", 2025, HN_YEAR_T)
    assert row(reported, "verifications", "huaneng", 2025) == {
        "emitter": "huaneng", "year": 2025, "verifier": "cec", "report": "R1",
        "scheme": "CN-ETS", "verified_t": HN_YEAR_T, "monthly_kg": 24 * HN_MONTHLY_KG,
        "variance_bp": 0, "flagged": False, "signed_seq": receipt.seq}
    assert row(reported, "obligations", "huaneng", 2025) == {
        "emitter": "huaneng", "year": 2025, "scheme": "CN-ETS", "obligation": HN_YEAR_T,
        "allowances": 0, "credits": 0, "set_seq": receipt.seq, "met_seq": None,
        "updated_seq": receipt.seq}
    assert row(reported, "entity_records", "huaneng") == {
        "emitter": "huaneng", "clean_run": 1, "streamlined": False,
        "updated_seq": receipt.seq}


def test_a_figure_far_from_the_monthly_data_is_accepted_but_flagged(reported: World) -> None:
    # 2,600 t against 2,400 t of monthly data: 8.33% off, past CN-ETS's 5%
    verify(reported, "huaneng", 2025, 2_600)
    verification = row(reported, "verifications", "huaneng", 2025)
    assert (verification["variance_bp"], verification["flagged"]) == (833, True)
    assert row(reported, "obligations", "huaneng", 2025)["obligation"] == 2_600
    assert row(reported, "entity_records", "huaneng")["clean_run"] == 0


@pytest.mark.parametrize(("verified_t", "variance_bp", "flagged"), [
    (2_520, 500, False),  # exactly 5%: within
    (2_521, 504, True),
    (2_279, 504, True),  # below the monthly data counts the same
    (2_280, 500, False),
])
def test_the_variance_threshold_is_inclusive(reported: World, verified_t: int,
                                             variance_bp: int, flagged: bool) -> None:
    verify(reported, "huaneng", 2025, verified_t)
    verification = row(reported, "verifications", "huaneng", 2025)
    assert (verification["variance_bp"], verification["flagged"]) == (variance_bp, flagged)


def test_a_year_of_no_emissions_is_met_at_once(market: World) -> None:
    reported_year(market, "baowu", ["BW-1"], 2025, 0)
    qualify(market, sector="steel")
    receipt = verify(market, "baowu", 2025, 0)
    obligation = row(market, "obligations", "baowu", 2025)
    assert (obligation["obligation"], obligation["met_seq"]) == (0, receipt.seq)
    assert not row(market, "verifications", "baowu", 2025)["flagged"]


def test_any_emissions_against_empty_monthly_data_are_flagged(market: World) -> None:
    reported_year(market, "baowu", ["BW-1"], 2025, 0)
    qualify(market, sector="steel")
    verify(market, "baowu", 2025, 1)
    verification = row(market, "verifications", "baowu", 2025)
    assert (verification["variance_bp"], verification["flagged"]) == (10_000, True)


def test_a_sanctioned_verifier_is_refused_from_that_time_on(reported: World) -> None:
    reported_year(reported, "baowu", ["BW-1"], 2025, 50_000)
    verify(reported, "huaneng", 2025, HN_YEAR_T)
    qualify(reported, sector="steel", action="suspend", reason="CNCA sanction 2026-03")
    rejected = reported.refused(
        ComplianceReason.verifier_not_qualified, "cec", "verification_sign", verifier="cec",
        emitter="baowu", year=2025, report="R1", verifiedEmissions=600)
    assert rejected.detail == "cec in steel: suspended"
    qualify(reported, sector="steel", action="revoke", reason="CNCA revocation 2026-05")
    rejected = reported.refused(
        ComplianceReason.verifier_not_qualified, "cec", "verification_sign", verifier="cec",
        emitter="baowu", year=2025, report="R1", verifiedEmissions=600)
    assert rejected.detail == "cec in steel: revoked"
    # what it verified before the sanction stands
    assert row(reported, "verifications", "huaneng", 2025)["verifier"] == "cec"
    # another qualified body verifies Baowu
    reported.participant("sgs", "verifier")
    qualify(reported, "sgs", "steel")
    verify(reported, "baowu", 2025, 600, verifier="sgs")


def test_the_verifier_must_be_qualified_in_every_sector_of_the_report(market: World) -> None:
    # a steel installation of Huaneng's, beside its two power units
    market.by("registry", "installation_register", installation="HN-3", emitter="huaneng",
              scheme="CN-ETS", sector="steel", name="Huaneng steel")
    reported_year(market, "huaneng", ["HN-1", "HN-2", "HN-3"], 2025, 1_000)
    qualify(market, sector="power")
    rejected = market.refused(
        ComplianceReason.verifier_not_qualified, "cec", "verification_sign", verifier="cec",
        emitter="huaneng", year=2025, report="R1", verifiedEmissions=36)
    assert rejected.detail == "cec in steel: never granted"
    qualify(market, sector="steel")
    verify(market, "huaneng", 2025, 36)


def test_a_conflicted_verifier_is_refused(reported: World) -> None:
    reported.by("cec", "verifier_declare_conflict", verifier="cec", entity="huaneng",
                relation="consultant")
    reported.refused(ComplianceReason.verifier_conflicted, "cec", "verification_sign",
                     verifier="cec", emitter="huaneng", year=2025, report="R1",
                     verifiedEmissions=HN_YEAR_T)
    assert rows(reported, "verifications") == []


SIGN = dict(verifier="cec", emitter="huaneng", year=2025, report="R1",
            verifiedEmissions=HN_YEAR_T)


@pytest.mark.parametrize(("signer", "fields", "reason"), [
    ("cec", {"report": "R2"}, ComplianceReason.unknown_report),
    ("cec", {"year": 2024}, ComplianceReason.unknown_report),
    ("cec", {"emitter": "baowu"}, ComplianceReason.unknown_report),
    ("cec", {"emitter": "nobody"}, Reason.unknown_participant),
    ("registry", {}, Reason.missing_signature),  # the verifier signs its own figure
    ("huaneng", {}, Reason.missing_signature),
    ("huaneng", {"verifier": "huaneng"}, ComplianceReason.not_a_verifier),
    ("cec", {"verifiedEmissions": -1}, Reason.malformed_instruction),
    ("cec", {"verifiedEmissions": 2**53}, Reason.malformed_instruction),
], ids=["other-report", "other-year", "other-emitter", "unknown-emitter", "registry-signs",
        "emitter-signs", "emitter-as-verifier", "negative", "too-large"])
def test_sign_refusals(reported: World, signer: str, fields: dict[str, object],
                       reason: Reason | ComplianceReason) -> None:
    reported.refused(reason, signer, "verification_sign", **(SIGN | fields))
    assert rows(reported, "verifications") == rows(reported, "obligations") == []


def test_a_year_is_verified_once(reported: World) -> None:
    verify(reported, "huaneng", 2025, HN_YEAR_T)
    reported.participant("sgs", "verifier")
    qualify(reported, "sgs", "power")
    reported.refused(ComplianceReason.already_verified, "sgs", "verification_sign",
                     **(SIGN | {"verifier": "sgs", "verifiedEmissions": 1}))
    assert row(reported, "obligations", "huaneng", 2025)["obligation"] == HN_YEAR_T


def test_rotation_bars_a_verifier_past_the_consecutive_years(market: World) -> None:
    set_compliance_rules(market, max_consecutive_years=2)
    market.participant("sgs", "verifier")
    qualify(market, sector="steel")
    qualify(market, "sgs", "steel")
    for year in (2025, 2026, 2027, 2028):
        reported_year(market, "baowu", ["BW-1"], year, 10_000)
    verify(market, "baowu", 2025, 120)
    verify(market, "baowu", 2026, 120)
    rejected = market.refused(ComplianceReason.verifier_rotation, "cec", "verification_sign",
                              verifier="cec", emitter="baowu", year=2027, report="R1",
                              verifiedEmissions=120)
    assert "2025..2026" in rejected.detail
    verify(market, "baowu", 2027, 120, verifier="sgs")
    # one year away is enough to start again
    verify(market, "baowu", 2028, 120)


def test_no_rotation_limit_when_the_scheme_sets_none(market: World) -> None:
    set_compliance_rules(market, max_consecutive_years=0)
    qualify(market, sector="steel")
    for year in (2025, 2026, 2027, 2028):
        reported_year(market, "baowu", ["BW-1"], year, 10_000)
        verify(market, "baowu", year, 120)
    assert [v["verifier"] for v in rows(market, "verifications")] == ["cec"] * 4


def test_streamlined_after_three_clean_years_and_lost_with_a_flag(market: World) -> None:
    market.participant("sgs", "verifier")
    qualify(market, sector="steel")
    qualify(market, "sgs", "steel")
    runs = []
    for year, verifier, verified_t in ((2025, "cec", 120), (2026, "cec", 120),
                                       (2027, "cec", 120), (2028, "sgs", 200)):
        reported_year(market, "baowu", ["BW-1"], year, 10_000)
        verify(market, "baowu", year, verified_t, verifier=verifier)
        record = row(market, "entity_records", "baowu")
        runs.append((record["clean_run"], record["streamlined"]))
    assert runs == [(1, False), (2, False), (3, True), (0, False)]


def submit_months(world: World, *, instrument: str = "", after_days: int = 3) -> list[str]:
    """Baowu's 2025 data, 10 t a month, each month submitted `after_days` after it ends."""
    ids = []
    for month in calendar.months_of(2025):
        move_clock_to(world, calendar.last_day(month) + timedelta(days=after_days))
        submission = f"BW-1:{month}"
        world.by("baowu", "monthly_submit", **monthly(
            submission, "BW-1", month, 10_000, figures=figures_of_kg(10_000, instrument)))
        ids.append(submission)
    return ids


@pytest.mark.parametrize(("instrument", "after_days", "flag"), [
    ("FLOW-9", 3, "calibration_lapsed"),  # FLOW-9 was never calibrated
    ("", 31, "late"),  # CN-ETS wants each month's data within 30 days
])
def test_late_or_uncalibrated_monthly_data_is_not_clean(market: World, instrument: str,
                                                        after_days: int, flag: str) -> None:
    qualify(market, sector="steel")
    report(market, "baowu", 2025, submit_months(market, instrument=instrument,
                                                after_days=after_days))
    verify(market, "baowu", 2025, 120)
    assert bool(row(market, "monthly_submissions", "BW-1:2025-01")[flag])
    assert not row(market, "verifications", "baowu", 2025)["flagged"]
    assert row(market, "entity_records", "baowu")["clean_run"] == 0


def test_on_time_calibrated_data_is_clean(market: World) -> None:
    qualify(market, sector="steel")
    report(market, "baowu", 2025, submit_months(market))
    verify(market, "baowu", 2025, 120)
    assert row(market, "entity_records", "baowu")["clean_run"] == 1
