"""monthly_submit: a month's key parameters, recomputed exactly; corrections that supersede and
keep the history; the lapsed-calibration and late flags; each refusal by name."""

from __future__ import annotations

from datetime import date

import pytest

from compliance.figures import figures_json
from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from tests.compliance.helpers import (
    CERTIFICATE_HASH,
    figures_of_kg,
    line,
    monthly,
    move_clock_to,
    row,
    rows,
)
from tests.world import World


def submit(world: World, submission: str, month: str = "2025-01", kg: int = 1000, *,
           installation: str = "HN-1", signer: str = "huaneng", **fields: object) -> int:
    return world.by(signer, "monthly_submit",
                    **monthly(submission, installation, month, kg, **fields)).seq


@pytest.fixture
def february(market: World) -> World:
    """The market on 2025-02-03: January has ended, and is not yet due."""
    move_clock_to(market, date(2025, 2, 3))
    return market


def test_a_month_is_recorded_with_its_recomputed_total(february: World) -> None:
    figures = figures_json([line("1234.5", "2.6604", factor_unit="tCO2/t", instrument="FLOW-1"),
                            line("100", "56.1", unit="GJ", factor_unit="kgCO2/GJ",
                                 source="diesel")])
    # 1234.5 t × 2.6604 tCO2/t = 3284.2638 t; 100 GJ × 56.1 kg/GJ = 5.61 t: 3,289,873.8 kg
    seq = submit(february, "S1", figures=figures, totalKg=3_289_874)
    assert row(february, "monthly_submissions", "S1") == dict(
        id="S1", emitter="huaneng", installation="HN-1", month="2025-01", year=2025,
        document_hash="0x" + "ab" * 32, document_format="json", lines=2, total_kg=3_289_874,
        calibration_lapsed=False, late=False, supersedes="", superseded_by="",
        submitted_seq=seq, updated_seq=seq)
    assert row(february, "current_months", "HN-1", "2025-01") == dict(
        installation="HN-1", month="2025-01", submission="S1", emitter="huaneng", year=2025,
        total_kg=3_289_874)


def test_a_stated_total_that_disagrees_is_refused_naming_the_computed_one(
        february: World) -> None:
    refused = february.refused(ComplianceReason.total_mismatch, "huaneng", "monthly_submit",
                               **monthly("S1", "HN-1", "2025-01", 1000, totalKg=1001))
    assert "1000 kg" in str(refused)
    assert rows(february, "monthly_submissions") == []


def test_monthly_refusals(february: World) -> None:
    def refused(reason: object, signer: str = "huaneng", **fields: object) -> None:
        february.refused(reason, signer, "monthly_submit",  # type: ignore[arg-type]
                         **(monthly("S2", "HN-1", "2025-01", 1000) | fields))

    submit(february, "S1", month="2024-12")
    refused(ComplianceReason.unknown_installation, installation="HN-9")
    refused(ComplianceReason.not_installation_emitter, signer="baowu")
    refused(ComplianceReason.not_installation_emitter, signer="registry")
    refused(ComplianceReason.submission_exists, submission="S1")
    refused(ComplianceReason.month_not_ended, month="2025-02")  # ends 02-28; today 02-03
    refused(ComplianceReason.month_not_ended, month="2026-01")
    refused(ComplianceReason.unknown_instrument, figures=figures_of_kg(1000, "FLOW-404"))
    # FLOW-9 exists, but measures Baowu's BW-1
    refused(ComplianceReason.unknown_instrument, figures=figures_of_kg(1000, "FLOW-9"))
    # stateless: refused when the instruction is read, before any state
    refused(Reason.malformed_instruction, month="2025-13")
    refused(Reason.malformed_instruction, documentFormat="xml")
    refused(Reason.malformed_instruction, documentHash="ab" * 32)
    refused(ComplianceReason.negative_activity, figures=figures_json([line("-1")]))
    refused(ComplianceReason.unit_mismatch,
            figures=figures_json([line("1", factor_unit="tCO2/MWh")]))
    refused(ComplianceReason.invalid_figures, figures="[]")
    refused(ComplianceReason.invalid_figures, figures=figures_json([line("1e3")]))
    assert [r["id"] for r in rows(february, "monthly_submissions")] == ["S1"]


def test_the_month_must_have_ended_in_the_market_s_time_zone(market: World) -> None:
    # 2025-01-31 16:30 UTC is 2025-02-01 00:30 in Beijing: January has ended there
    move_clock_to(market, date(2025, 1, 31))
    market.refused(ComplianceReason.month_not_ended, "huaneng", "monthly_submit",
                   **monthly("S1", "HN-1", "2025-01", 5))
    market.clock.advance(hours=7, minutes=30)
    submit(market, "S1", "2025-01", 5)


def test_a_second_submission_for_a_month_must_supersede_the_one_in_force(
        february: World) -> None:
    submit(february, "S1")
    refused = february.refused(ComplianceReason.month_already_submitted, "huaneng",
                               "monthly_submit", **monthly("S2", "HN-1", "2025-01", 900))
    assert "S1" in str(refused)
    february.refused(ComplianceReason.supersedes_mismatch, "huaneng", "monthly_submit",
                     **monthly("S2", "HN-1", "2025-01", 900, supersedes="S0"))
    # HN-2 has nothing in force for January: nothing to supersede
    february.refused(ComplianceReason.supersedes_mismatch, "huaneng", "monthly_submit",
                     **monthly("S2", "HN-2", "2025-01", 900, supersedes="S1"))
    # the same month of another installation is a first submission
    submit(february, "T1", installation="HN-2")


def test_corrections_supersede_and_the_history_stays(february: World) -> None:
    first = submit(february, "S1", kg=1000)
    second = submit(february, "S2", kg=900, supersedes="S1")
    third = submit(february, "S3", kg=950, supersedes="S2")
    february.refused(ComplianceReason.supersedes_mismatch, "huaneng", "monthly_submit",
                     **monthly("S4", "HN-1", "2025-01", 1, supersedes="S1"))
    history = [(r["id"], r["total_kg"], r["supersedes"], r["superseded_by"],
                r["submitted_seq"], r["updated_seq"]) for r in rows(february,
                                                                    "monthly_submissions")]
    assert history == [("S1", 1000, "", "S2", first, second),
                       ("S2", 900, "S1", "S3", second, third),
                       ("S3", 950, "S2", "", third, third)]
    assert row(february, "current_months", "HN-1", "2025-01")["submission"] == "S3"
    assert row(february, "current_months", "HN-1", "2025-01")["total_kg"] == 950


def test_data_on_an_instrument_whose_calibration_lapsed_is_accepted_but_flagged(
        market: World) -> None:
    def calibrate(on: date, until: str) -> None:
        move_clock_to(market, on)
        market.by("baowu", "instrument_calibrate", instrument="FLOW-9", calibratedBy="NIM",
                  calibratedOn=on.isoformat(), validUntil=until,
                  certificateHash=CERTIFICATE_HASH)

    def flagged(submission: str, month: str, *instruments: str) -> bool:
        """Whether a month submitted on the 3rd of the next is flagged."""
        move_clock_to(market, date(int(month[:4]), int(month[5:]) + 1, 3))
        submit(market, submission, month, len(instruments), installation="BW-1",
               signer="baowu", figures=figures_json(
                   [line("1", source=f"coke-{n}", instrument=instrument)
                    for n, instrument in enumerate(instruments)]))
        return bool(row(market, "monthly_submissions", submission)["calibration_lapsed"])

    assert flagged("B1", "2025-01", "FLOW-9")  # never calibrated
    calibrate(date(2025, 2, 15), "2025-03-31")
    assert flagged("B2", "2025-02", "FLOW-9")  # calibrated mid-month
    assert not flagged("B3", "2025-03", "FLOW-9")  # covered to the last day
    calibrate(date(2025, 4, 20), "2025-12-31")  # lapsed 04-01..04-19: a new run
    assert flagged("B4", "2025-04", "FLOW-9")
    assert not flagged("B5", "2025-05", "FLOW-9", "")  # a line on no instrument lapses nothing
    # one covered and one never calibrated instrument: flagged
    market.by("baowu", "instrument_register", instrument="FLOW-10", installation="BW-1",
              parameter="gas")
    assert flagged("B6", "2025-06", "FLOW-9", "FLOW-10")
    assert [bool(r["calibration_lapsed"]) for r in rows(market, "monthly_submissions")] == \
        [True, True, False, True, False, True]  # B1..B6: the flags are recorded


def test_data_after_the_due_day_is_accepted_but_flagged_late(market: World) -> None:
    # CN-ETS: due 30 days after the month ends; January's by 2025-03-02
    move_clock_to(market, date(2025, 3, 2))
    submit(market, "S1", "2025-01")
    market.clock.advance(days=1)
    submit(market, "S2", "2025-01", supersedes="S1")  # a correction can be late too
    submit(market, "T1", "2025-01", installation="HN-2")
    assert [(r["id"], bool(r["late"])) for r in rows(market, "monthly_submissions")] == \
        [("S1", False), ("S2", True), ("T1", True)]
