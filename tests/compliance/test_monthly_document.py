"""Monthly documents, JSON and CSV, read into what a monthly_submit carries; a document read
so is accepted by the ledger, and a bad one refused naming what is wrong."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest

from compliance.fields import DocumentFormat
from compliance.monthly_document import read_monthly_document
from compliance.reasons import ComplianceReason
from ledger.errors import ReasonCode, Rejected
from tests.compliance.helpers import line, move_clock_to, row
from tests.world import World

LINES = [line("1234.5", "2.6604", factor_unit="tCO2/t", instrument="FLOW-1"),
         line("100", "56.1", unit="GJ", factor_unit="kgCO2/GJ", source="diesel")]
JSON_DOCUMENT = json.dumps({"installation": "HN-1", "month": "2025-01", "lines": LINES},
                           indent=2).encode()
CSV_DOCUMENT = (b"source,activity,activity_unit,factor,factor_unit,instrument\r\n"
                b"coal,1234.5,t,2.6604,tCO2/t,FLOW-1\r\n"
                b"diesel,100,GJ,56.1,kgCO2/GJ,\r\n")
TOTAL_KG = 3_289_874  # 3284.2638 t + 5.61 t


def refused(reason: ReasonCode, data: bytes, fmt: str, **where: str) -> str:
    with pytest.raises(Rejected) as caught:
        read_monthly_document(data, fmt, **where)
    assert caught.value.reason == reason, caught.value
    return str(caught.value)


def test_a_json_document() -> None:
    document = read_monthly_document(JSON_DOCUMENT, "json")
    assert (document.installation, document.month, document.total_kg) == \
        ("HN-1", "2025-01", TOTAL_KG)
    assert document.document_hash == "0x" + hashlib.sha256(JSON_DOCUMENT).hexdigest()
    assert json.loads(document.figures) == LINES
    assert document.document_format is DocumentFormat.json


def test_a_csv_document_gives_the_same_figures_under_its_own_hash() -> None:
    from_csv = read_monthly_document(CSV_DOCUMENT, DocumentFormat.csv, installation="HN-1",
                                     month="2025-01")
    from_json = read_monthly_document(JSON_DOCUMENT, DocumentFormat.json)
    assert from_csv.figures == from_json.figures
    assert from_csv.total_kg == TOTAL_KG
    assert from_csv.document_hash == "0x" + hashlib.sha256(CSV_DOCUMENT).hexdigest()
    # a byte more (a trailing blank line) is another document, with the same figures
    longer = read_monthly_document(CSV_DOCUMENT + b"\r\n", "csv", installation="HN-1",
                                   month="2025-01")
    assert longer.figures == from_csv.figures
    assert longer.document_hash != from_csv.document_hash


def test_a_document_is_submitted_as_read(market: World) -> None:
    move_clock_to(market, date(2025, 2, 3))
    document = read_monthly_document(CSV_DOCUMENT, "csv", installation="HN-1",
                                     month="2025-01")
    market.by("huaneng", "monthly_submit", submission="S1", supersedes="",
              **document.instruction_fields())
    stored = row(market, "monthly_submissions", "S1")
    assert (stored["document_hash"], stored["document_format"], stored["total_kg"],
            stored["lines"]) == (document.document_hash, "csv", TOTAL_KG, 2)


def test_json_numbers_are_refused_as_inexact() -> None:
    as_numbers = JSON_DOCUMENT.replace(b'"1234.5"', b"1234.5")
    assert "1234.5" in refused(ComplianceReason.invalid_figures, as_numbers, "json")
    assert "100" in refused(ComplianceReason.invalid_figures,
                            JSON_DOCUMENT.replace(b'"100"', b"100"), "json")


def test_bad_json_documents() -> None:
    def document(**fields: object) -> bytes:
        return json.dumps({"installation": "HN-1", "month": "2025-01", "lines": LINES}
                          | fields).encode()

    refused(ComplianceReason.invalid_figures, b"{", "json")
    refused(ComplianceReason.invalid_figures, b"\xff\xfe", "json")
    refused(ComplianceReason.invalid_figures, json.dumps({"lines": LINES}).encode(), "json")
    refused(ComplianceReason.invalid_figures, document(lines=[]), "json")
    refused(ComplianceReason.invalid_figures, document(lines={"a": 1}), "json")
    refused(ComplianceReason.negative_activity, document(lines=[line("-3")]), "json")
    refused(ComplianceReason.unit_mismatch,
            document(lines=[line("3", factor_unit="tCO2/GJ")]), "json")
    with pytest.raises(Rejected):
        read_monthly_document(document(month="2025-13"), "json")
    assert "HN-2" in refused(ComplianceReason.invalid_figures, JSON_DOCUMENT, "json",
                             installation="HN-2")
    refused(ComplianceReason.invalid_figures, JSON_DOCUMENT, "json", month="2025-02")
    with pytest.raises(ValueError):
        read_monthly_document(JSON_DOCUMENT, "xml")


def test_bad_csv_documents() -> None:
    where = dict(installation="HN-1", month="2025-01")
    refused(ComplianceReason.invalid_figures, CSV_DOCUMENT, "csv")  # whose, which month?
    refused(ComplianceReason.invalid_figures,
            CSV_DOCUMENT.replace(b"activity_unit", b"unit"), "csv", **where)
    assert "row 3" in refused(ComplianceReason.invalid_figures,
                              CSV_DOCUMENT.replace(b"kgCO2/GJ,", b"kgCO2/GJ"), "csv", **where)
    refused(ComplianceReason.invalid_figures, CSV_DOCUMENT.split(b"\r\n")[0], "csv", **where)
    refused(ComplianceReason.invalid_figures, CSV_DOCUMENT.replace(b"1234.5", b"1,234.5"),
            "csv", **where)
    refused(ComplianceReason.invalid_figures, CSV_DOCUMENT.replace(b"1234.5", b" 1234.5"),
            "csv", **where)
    refused(ComplianceReason.negative_activity, CSV_DOCUMENT.replace(b"100,", b"-100,"),
            "csv", **where)
    # a spreadsheet's byte-order mark is no part of the header
    with_bom = read_monthly_document(b"\xef\xbb\xbf" + CSV_DOCUMENT, "csv", **where)
    assert with_bom.total_kg == TOTAL_KG
