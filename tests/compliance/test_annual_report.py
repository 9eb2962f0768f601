"""annual_report_submit: an emitter's report over its monthly data, which must be its own, of
the year and scheme, in force and complete; and a replay after a mixed batch of every emissions
data operation rebuilds each compliance table exactly."""

from __future__ import annotations

import json
from datetime import date

from compliance import calendar
from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from ledger.replay import replay_check
from ledger.schemes import load_rules_dir
from tests.compliance.helpers import (
    CERTIFICATE_HASH,
    DOCUMENT_HASH,
    figures_of_kg,
    monthly,
    move_clock_to,
    register_installation,
    report,
    row,
    rows,
    submit_year,
)
from tests.world import OPERATIONS, World


def huaneng_2025(world: World) -> list[str]:
    """Twelve months of HN-1 (1,000 kg each) and of HN-2 (500 kg each)."""
    return submit_year(world, "huaneng", "HN-1", 2025, 1000) + \
        submit_year(world, "huaneng", "HN-2", 2025, 500)


def refused(world: World, reason: object, submissions: list[str], *, signer: str = "huaneng",
            **fields: object) -> str:
    rejected = world.refused(reason, signer, "annual_report_submit",  # type: ignore[arg-type]
                             **({"report": "R1", "emitter": "huaneng", "year": 2025,
                                 "scheme": "CN-ETS", "documentHash": DOCUMENT_HASH,
                                 "submissions": json.dumps(submissions)} | fields))
    return str(rejected)


def test_a_complete_report_is_recorded_with_the_monthly_sum(market: World) -> None:
    submissions = huaneng_2025(market)
    receipt = report(market, "huaneng", 2025, submissions)
    assert row(market, "annual_reports", "huaneng", 2025) == dict(
        emitter="huaneng", year=2025, id="R1", scheme="CN-ETS", document_hash=DOCUMENT_HASH,
        submissions=json.dumps(submissions), monthly_kg=12 * 1000 + 12 * 500,
        submitted_seq=receipt.seq)


def test_a_report_counts_the_corrections_in_force(market: World) -> None:
    submissions = huaneng_2025(market)
    market.by("huaneng", "monthly_submit", **monthly("HN-1:2025-03b", "HN-1", "2025-03", 1600,
                                                     supersedes="HN-1:2025-03"))
    refused(market, ComplianceReason.submission_not_in_report, submissions)
    corrected = [s if s != "HN-1:2025-03" else "HN-1:2025-03b" for s in submissions]
    report(market, "huaneng", 2025, corrected)
    assert row(market, "annual_reports", "huaneng", 2025)["monthly_kg"] == 18_000 + 600


def test_report_refusals(market: World) -> None:
    submissions = huaneng_2025(market)
    baowu = submit_year(market, "baowu", "BW-1", 2025, 7)
    move_clock_to(market, date(2026, 2, 3))
    market.by("huaneng", "monthly_submit", **monthly("HN-1:2026-01", "HN-1", "2026-01", 1))
    market.by("huaneng", "monthly_submit", **monthly("HN-1:2025-01b", "HN-1", "2025-01", 1,
                                                     supersedes="HN-1:2025-01"))
    current = [s if s != "HN-1:2025-01" else "HN-1:2025-01b" for s in submissions]

    assert "huaneng" in refused(market, Reason.missing_signature, current, signer="baowu")
    refused(market, Reason.missing_signature, current, signer="registry")
    refused(market, ComplianceReason.not_a_compliance_scheme, current, scheme="CN-SH")
    refused(market, Reason.unknown_scheme, current, scheme="EU-ETS")
    refused(market, ComplianceReason.unknown_submission, [*current, "HN-1:1999-01"])
    for extra, why in (("BW-1:2025-01", "baowu's"), ("HN-1:2026-01", "of 2026"),
                       ("HN-1:2025-01", "superseded by HN-1:2025-01b")):
        assert why in refused(market, ComplianceReason.submission_not_in_report,
                              [*current, extra]), extra
    missing = refused(market, ComplianceReason.monthly_data_missing,
                      [s for s in current if s not in ("HN-1:2025-07", "HN-2:2025-02")])
    assert "HN-1 2025-07" in missing  # the first missing: installations, then months
    refused(market, ComplianceReason.monthly_data_missing, current[:12])  # HN-2 left out
    # stateless: a list that names a submission twice, or none, is malformed
    refused(market, Reason.malformed_instruction, [*current, current[0]])
    refused(market, Reason.malformed_instruction, [])
    assert rows(market, "annual_reports") == []
    report(market, "baowu", 2025, baowu)


def test_a_report_must_cover_installations_of_its_scheme_only(market: World) -> None:
    rules = load_rules_dir()["CN-GD"].as_json()
    rules["compliance"] = {}
    market.by("registry", "set_scheme_rules", scheme="CN-GD", rules=json.dumps(rules))
    register_installation(market, "HN-GD", "huaneng", scheme="CN-GD")
    submissions = huaneng_2025(market)
    guangdong = submit_year(market, "huaneng", "HN-GD", 2025, 3)
    assert "covered by CN-GD" in refused(market, ComplianceReason.submission_not_in_report,
                                         [*submissions, guangdong[0]])
    report(market, "huaneng", 2025, submissions)
    refused(market, ComplianceReason.monthly_data_missing, guangdong[:11], scheme="CN-GD")


def test_a_later_report_replaces_one_not_yet_verified(market: World) -> None:
    submissions = huaneng_2025(market)
    report(market, "huaneng", 2025, submissions)
    market.by("huaneng", "monthly_submit", **monthly("HN-2:2025-12b", "HN-2", "2025-12", 0,
                                                     supersedes="HN-2:2025-12"))
    corrected = [*submissions[:-1], "HN-2:2025-12b"]
    receipt = report(market, "huaneng", 2025, corrected, report_id="R2")
    replaced = row(market, "annual_reports", "huaneng", 2025)
    assert (replaced["id"], replaced["monthly_kg"], replaced["submitted_seq"]) == \
        ("R2", 17_500, receipt.seq)


def test_a_verified_year_s_report_cannot_be_replaced(market: World) -> None:
    submissions = huaneng_2025(market)
    report(market, "huaneng", 2025, submissions)
    market.by("registry", "verifier_qualify", verifier="cec", sector="power", action="grant",
              reason="accredited for power generation")
    market.by("cec", "verification_sign", verifier="cec", emitter="huaneng", year=2025,
              report="R1", verifiedEmissions=18)
    refused(market, ComplianceReason.report_already_verified, submissions, report="R2")
    assert row(market, "annual_reports", "huaneng", 2025)["id"] == "R1"


def every_emissions_operation(world: World) -> None:
    """Each emissions data operation, alone and in one transaction of several; corrections,
    flags and a replaced report."""
    register_installation(world, "HN-3", "huaneng")
    world.by("huaneng", "instrument_register", instrument="FLOW-3", installation="HN-3",
             parameter="coal feed (t)")
    world.by("huaneng", "instrument_calibrate", instrument="FLOW-3", calibratedBy="NIM",
             calibratedOn="2025-01-02", validUntil="2025-06-30",
             certificateHash=CERTIFICATE_HASH)
    submissions = huaneng_2025(world)
    results = world.ledger.submit_many([
        world.wallets["huaneng"].sign(world.instruction("monthly_submit", **monthly(
            f"HN-3:{month}", "HN-3", month, 40, figures=figures_of_kg(40, "FLOW-3"))))
        for month in calendar.months_of(2025)
    ] + [
        world.wallets["huaneng"].sign(world.instruction("monthly_submit", **monthly(
            "HN-3:2025-12b", "HN-3", "2025-12", 41, figures=figures_of_kg(41, "FLOW-3"),
            supersedes="HN-3:2025-12"))),
        world.wallets["huaneng"].sign(world.instruction("monthly_submit", **monthly(
            "HN-3:2025-12c", "HN-3", "2025-12", 42, supersedes="HN-3:2025-12b"))),
        world.wallets["baowu"].sign(world.instruction("monthly_submit", **monthly(
            "refused", "HN-3", "2025-01", 1))),
    ])
    assert [getattr(r, "reason", None) for r in results] == \
        [None] * 14 + [ComplianceReason.not_installation_emitter]
    hn3 = [f"HN-3:2025-{n:02d}" for n in range(1, 12)] + ["HN-3:2025-12c"]
    report(world, "huaneng", 2025, submissions + hn3)
    report(world, "huaneng", 2025, hn3 + submissions, report_id="R2")


def test_replay_rebuilds_every_emissions_table(any_market: World) -> None:
    every_emissions_operation(any_market)
    result = replay_check(any_market.store, OPERATIONS)
    assert result.ok, result.first_difference
    lapsed = [r["id"] for r in rows(any_market, "monthly_submissions")
              if r["installation"] == "HN-3" and r["calibration_lapsed"]]
    # FLOW-3 was calibrated on 2025-01-02 until 2025-06-30; 12c names no instrument
    assert lapsed == ["HN-3:2025-01", *(f"HN-3:2025-{n:02d}" for n in range(7, 13)),
                      "HN-3:2025-12b"]
    assert row(any_market, "annual_reports", "huaneng", 2025)["monthly_kg"] == \
        18_000 + 11 * 40 + 42


def test_replay_finds_a_tampered_monthly_total(market: World) -> None:
    every_emissions_operation(market)
    with market.store.write() as tx:
        tx.execute("UPDATE current_months SET total_kg = total_kg - 1 "
                   "WHERE installation = 'HN-1' AND month = '2025-05'")
    result = replay_check(market.store, OPERATIONS)
    assert result.first_difference is not None
    assert result.first_difference.startswith("table current_months:")
    with market.store.write() as tx:  # put it back, for the checks at the end
        tx.execute("UPDATE current_months SET total_kg = total_kg + 1 "
                   "WHERE installation = 'HN-1' AND month = '2025-05'")
