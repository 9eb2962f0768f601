"""installation_register, instrument_register and instrument_calibrate: who may, what is
recorded, and each refusal by name with nothing journaled."""

from __future__ import annotations

import json
from datetime import date

from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from ledger.schemes import load_rules_dir
from tests.compliance.helpers import (
    CERTIFICATE_HASH,
    move_clock_to,
    register_installation,
    row,
    rows,
)
from tests.world import World

INSTALLATION = dict(installation="HN-3", emitter="huaneng", scheme="CN-ETS", sector="power",
                    name="Huaneng Yangluo unit 3")


def calibrate(world: World, instrument: str, on: str, until: str, signer: str = "huaneng",
              **fields: str) -> None:
    world.by(signer, "instrument_calibrate", **(dict(
        instrument=instrument, calibratedBy="NIM", calibratedOn=on, validUntil=until,
        certificateHash=CERTIFICATE_HASH) | fields))


def test_the_registry_registers_an_installation(market: World) -> None:
    receipt = market.by("registry", "installation_register", **INSTALLATION)
    assert row(market, "installations", "HN-3") == dict(
        id="HN-3", emitter="huaneng", scheme="CN-ETS", sector="power",
        name="Huaneng Yangluo unit 3", registered_seq=receipt.seq)
    # the emitter's list for the scheme, which its annual report must cover, stays sorted
    assert row(market, "emitters", "huaneng", "CN-ETS") == dict(
        emitter="huaneng", scheme="CN-ETS", installations='["HN-1", "HN-2", "HN-3"]',
        updated_seq=receipt.seq)


def test_installation_refusals(market: World) -> None:
    market.by("registry", "installation_register", **INSTALLATION)
    market.refused(ComplianceReason.installation_exists, "registry", "installation_register",
                   **INSTALLATION)
    market.refused(Reason.unknown_participant, "registry", "installation_register",
                   **(INSTALLATION | dict(installation="X-1", emitter="nobody")))
    market.refused(ComplianceReason.not_an_emitter, "registry", "installation_register",
                   **(INSTALLATION | dict(installation="X-1", emitter="cec")))
    market.refused(Reason.unknown_scheme, "registry", "installation_register",
                   **(INSTALLATION | dict(installation="X-1", scheme="EU-ETS")))
    market.refused(ComplianceReason.not_a_compliance_scheme, "registry",
                   "installation_register",
                   **(INSTALLATION | dict(installation="X-1", scheme="CN-SH")))
    # only the registry onboards an installation, even the emitter's own
    market.refused(Reason.role_not_permitted, "huaneng", "installation_register",
                   **(INSTALLATION | dict(installation="X-1")))
    assert [r["id"] for r in rows(market, "installations")] == ["BW-1", "HN-1", "HN-2", "HN-3"]


def test_a_scheme_given_compliance_rules_takes_installations(market: World) -> None:
    rules = load_rules_dir()["CN-GD"].as_json()
    rules["compliance"] = {"monthly_due_days": 15}
    market.by("registry", "set_scheme_rules", scheme="CN-GD", rules=json.dumps(rules))
    register_installation(market, "HN-GD", "huaneng", scheme="CN-GD")
    assert row(market, "emitters", "huaneng", "CN-GD")["installations"] == '["HN-GD"]'
    assert row(market, "emitters", "huaneng", "CN-ETS")["installations"] == '["HN-1", "HN-2"]'


def test_an_emitter_registers_an_instrument_uncalibrated(market: World) -> None:
    receipt = market.by("huaneng", "instrument_register", instrument="GAS-1",
                        installation="HN-2", parameter="natural gas (10^4Nm3)")
    assert row(market, "instruments", "GAS-1") == dict(
        id="GAS-1", installation="HN-2", parameter="natural gas (10^4Nm3)", calibrated_by="",
        calibrated_on="", valid_until="", covered_since="", registered_seq=receipt.seq,
        updated_seq=receipt.seq)


def test_instrument_refusals(market: World) -> None:
    fields = dict(instrument="GAS-1", installation="HN-2", parameter="gas")
    market.refused(ComplianceReason.instrument_exists, "huaneng", "instrument_register",
                   **(fields | dict(instrument="FLOW-1")))
    market.refused(ComplianceReason.unknown_installation, "huaneng", "instrument_register",
                   **(fields | dict(installation="HN-9")))
    market.refused(ComplianceReason.not_installation_emitter, "baowu", "instrument_register",
                   **fields)
    market.refused(ComplianceReason.not_installation_emitter, "registry",
                   "instrument_register", **fields)
    market.refused(Reason.malformed_instruction,
                   "huaneng", "instrument_register", **(fields | dict(parameter=" ")))


def test_calibrations_are_recorded_and_runs_of_them_tracked(market: World) -> None:
    move_clock_to(market, date(2025, 9, 2))
    seqs = []
    for on, until in (("2025-01-10", "2025-03-31"),  # the first: the run starts
                      ("2025-04-01", "2025-06-30"),  # the day after the last lapsed: unbroken
                      ("2025-06-15", "2025-08-31")):  # early: unbroken
        calibrate(market, "FLOW-9", on, until, signer="baowu")
        seqs.append(market.head())
    instrument = row(market, "instruments", "FLOW-9")
    assert (instrument["calibrated_on"], instrument["valid_until"],
            instrument["covered_since"]) == ("2025-06-15", "2025-08-31", "2025-01-10")
    assert instrument["updated_seq"] == seqs[-1]
    calibrate(market, "FLOW-9", "2025-09-02", "2026-08-31", signer="baowu",
              calibratedBy="Baosteel metrology lab")  # 09-01 uncovered: a new run
    instrument = row(market, "instruments", "FLOW-9")
    assert (instrument["calibrated_by"], instrument["covered_since"]) == \
        ("Baosteel metrology lab", "2025-09-02")
    history = [(r["seq"], r["calibrated_on"], r["valid_until"])
               for r in rows(market, "calibrations") if r["instrument"] == "FLOW-9"]
    assert history == [(seqs[0], "2025-01-10", "2025-03-31"), (seqs[1], "2025-04-01",
                       "2025-06-30"), (seqs[2], "2025-06-15", "2025-08-31"),
                       (market.head(), "2025-09-02", "2026-08-31")]
    assert all(r["certificate_hash"] == CERTIFICATE_HASH for r in rows(market, "calibrations"))


def test_calibration_refusals(market: World) -> None:
    fields = dict(instrument="FLOW-9", calibratedBy="NIM", calibratedOn="2025-01-01",
                  validUntil="2025-12-31", certificateHash=CERTIFICATE_HASH)
    market.refused(ComplianceReason.calibration_dates, "baowu", "instrument_calibrate",
                   **(fields | dict(validUntil="2024-12-31")))
    # the clock says 2025-01-02: a calibration cannot be dated tomorrow
    market.refused(ComplianceReason.calibration_dates, "baowu", "instrument_calibrate",
                   **(fields | dict(calibratedOn="2025-01-03")))
    market.refused(ComplianceReason.unknown_instrument, "baowu", "instrument_calibrate",
                   **(fields | dict(instrument="FLOW-404")))
    market.refused(ComplianceReason.not_installation_emitter, "huaneng",
                   "instrument_calibrate", **fields)
    market.refused(Reason.invalid_date, "baowu", "instrument_calibrate",
                   **(fields | dict(validUntil="2025-02-30")))
    market.refused(Reason.malformed_instruction, "baowu", "instrument_calibrate",
                   **(fields | dict(certificateHash="0x" + "AB" * 32)))
    assert row(market, "instruments", "FLOW-9")["valid_until"] == ""
    # the same day is fine: a calibration valid for that day only
    calibrate(market, "FLOW-9", "2025-01-02", "2025-01-02", signer="baowu")
    assert row(market, "instruments", "FLOW-9")["covered_since"] == "2025-01-02"
