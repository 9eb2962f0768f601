"""output_verify: a verifier qualified in the installation's sector, without a declared conflict
with its emitter, signs the installation's output for a year, once. The output is a fact of the
year, independent of any plan: it is recorded with no plan set, in the unit the verifier states
(checked against a plan's sector when an allocation rests on it: test_preallocate.py)."""

from __future__ import annotations

from allocation.reasons import AllocationReason
from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from tests.allocation.helpers import qualify_verifier, row, rows, verify_output
from tests.world import World


def verify_fields(**changes: object) -> dict[str, object]:
    return {"verifier": "cec", "installation": "BW-1", "year": 2025, "output": "1000.5",
            "unit": "t", **changes}


def test_a_qualified_verifier_records_an_installation_s_output(any_market: World) -> None:
    receipt = verify_output(any_market, "HN-1", 2025, "4200000.125")
    assert row(any_market, "verified_outputs", "HN-1", 2025) == {
        "installation": "HN-1", "year": 2025, "verifier": "cec", "output": "4200000.125",
        "unit": "MWh", "signed_seq": receipt.seq}


def test_each_year_of_each_installation_is_verified_once(market: World) -> None:
    verify_output(market, "BW-1", 2025, "1000.5", unit="t")
    verify_output(market, "BW-1", 2024, "990", unit="t")
    verify_output(market, "HN-1", 2025, "10", unit="MWh")
    market.refused(AllocationReason.output_already_verified, "cec", "output_verify",
                   **verify_fields(output="1001"))
    assert [(r["installation"], r["year"]) for r in rows(market, "verified_outputs")] == \
        [("BW-1", 2024), ("BW-1", 2025), ("HN-1", 2025)]


def test_a_verifier_without_a_qualification_in_the_sector_is_refused(market: World) -> None:
    qualify_verifier(market, "cqc", "power")  # qualified in power, not in steel
    market.refused(ComplianceReason.verifier_not_qualified, "cqc", "output_verify",
                   **verify_fields(verifier="cqc"))
    market.by("registry", "verifier_qualify", verifier="cec", sector="steel",
              action="suspend", reason="found negligent")
    market.refused(ComplianceReason.verifier_not_qualified, "cec", "output_verify",
                   **verify_fields())
    verify_output(market, "HN-1", 2025, "10", verifier="cqc")


def test_a_verifier_in_conflict_with_the_emitter_is_refused(market: World) -> None:
    market.by("cec", "verifier_declare_conflict", verifier="cec", entity="baowu",
              relation="consultant")
    market.refused(ComplianceReason.verifier_conflicted, "cec", "output_verify",
                   **verify_fields())
    verify_output(market, "HN-1", 2025, "10")  # Huaneng's installations still


def test_only_the_named_verifier_signs_its_figure(market: World) -> None:
    qualify_verifier(market, "cqc", "steel")
    market.refused(Reason.missing_signature, "cqc", "output_verify", **verify_fields())
    market.refused(ComplianceReason.not_a_verifier, "cec", "output_verify",
                   **verify_fields(verifier="baowu"))


def test_an_unknown_installation_is_refused(market: World) -> None:
    market.refused(ComplianceReason.unknown_installation, "cec", "output_verify",
                   **verify_fields(installation="XX-9"))


def test_the_output_is_an_exact_non_negative_decimal(market: World) -> None:
    for bad in ("-5", "1e6", "1,000", "0.1234567890123", ""):
        market.refused(Reason.malformed_instruction, "cec", "output_verify",
                       **verify_fields(output=bad))
    verify_output(market, "BW-1", 2025, "0.123456789012", unit="t")
