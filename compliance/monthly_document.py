"""A month's key-parameter document, as an emitter keeps it, read into what a `monthly_submit`
instruction carries: the figures as canonical text (compliance.figures.figures_json), their
exact total in kilograms and the SHA-256 of the document's bytes, which the journal commits to.

Two formats (compliance.fields.DocumentFormat):

- JSON: {"installation": "HN-1", "month": "2026-01", "lines": [{"source": ..., "activity":
  "1234.5", "activityUnit": "t", "factor": "2.6604", "factorUnit": "tCO2/t", "instrument":
  ""}, ...]}. Numbers are decimal strings: a JSON number is refused, since a reader may have
  turned it into an inexact binary float before anyone checked it.
- CSV (UTF-8): the header `source,activity,activity_unit,factor,factor_unit,instrument` and one
  row per line; the installation and month are not in the file, the caller names them.

A bad document is refused with `Rejected(invalid_figures)` (or `unit_mismatch`,
`negative_activity`), saying where.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any, NoReturn

from compliance.fields import DocumentFormat, check_month
from compliance.figures import figures_json, parse_figures, total_kg
from compliance.reasons import ComplianceReason
from ledger.errors import Rejected, require

CSV_HEADER = ("source", "activity", "activity_unit", "factor", "factor_unit", "instrument")
JSON_KEYS = {"installation", "month", "lines"}


@dataclass(frozen=True)
class MonthlyDocument:
    installation: str
    month: str  # YYYY-MM
    figures: str  # canonical JSON text of the lines, as the instruction carries it
    total_kg: int  # exact, by the rounding rule (compliance/figures.py)
    document_hash: str  # "0x" + SHA-256 of the document's bytes
    document_format: DocumentFormat

    def instruction_fields(self) -> dict[str, Any]:
        """The fields of a `monthly_submit` that the document gives (all but the submission's
        id and `supersedes`)."""
        return {"installation": self.installation, "month": self.month,
                "documentHash": self.document_hash,
                "documentFormat": self.document_format.value, "figures": self.figures,
                "totalKg": self.total_kg}


def read_monthly_document(data: bytes, fmt: DocumentFormat | str, *,
                          installation: str | None = None,
                          month: str | None = None) -> MonthlyDocument:
    """The document `data` in format `fmt`. A CSV document needs `installation` and `month`;
    for a JSON one they are optional and, when given, must be the document's own."""
    document_format = DocumentFormat(fmt)
    if document_format is DocumentFormat.json:
        named_installation, named_month, lines = _json_lines(data)
        for name, given, named in (("installation", installation, named_installation),
                                   ("month", month, named_month)):
            require(given is None or given == named, ComplianceReason.invalid_figures,
                    f"the document's {name} is {named!r}, not {given!r}")
        installation, month = named_installation, named_month
    else:
        require(installation is not None and month is not None,
                ComplianceReason.invalid_figures,
                "a CSV document needs the installation and month it is for")
        lines = _csv_lines(data)
    assert installation is not None and month is not None
    check_month("month", month)
    figures = figures_json(lines)
    return MonthlyDocument(installation=installation, month=month, figures=figures,
                           total_kg=total_kg(parse_figures(figures)),
                           document_hash="0x" + hashlib.sha256(data).hexdigest(),
                           document_format=document_format)


def _invalid(detail: str) -> Rejected:
    return Rejected(ComplianceReason.invalid_figures, detail)


def _refuse_number(text: str) -> NoReturn:
    raise _invalid(f"the number {text} must be written as a decimal string, e.g. \"{text}\"")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is no figure
    except UnicodeDecodeError as exc:
        raise _invalid(f"not UTF-8: {exc}") from None


def _json_lines(data: bytes) -> tuple[str, str, list[dict[str, str]]]:
    try:
        document = json.loads(_text(data), parse_float=_refuse_number,
                              parse_int=_refuse_number)
    except (ValueError, RecursionError) as exc:
        raise _invalid(f"not JSON: {exc}") from None
    require(isinstance(document, dict) and set(document) == JSON_KEYS,
            ComplianceReason.invalid_figures, f"an object with exactly {sorted(JSON_KEYS)}")
    installation, month, lines = document["installation"], document["month"], document["lines"]
    require(isinstance(installation, str) and isinstance(month, str),
            ComplianceReason.invalid_figures, "installation and month are strings")
    require(isinstance(lines, list), ComplianceReason.invalid_figures, "lines is a list")
    return installation, month, lines


def _csv_lines(data: bytes) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(_text(data), newline="")))
    require(bool(rows) and tuple(cell.strip() for cell in rows[0]) == CSV_HEADER,
            ComplianceReason.invalid_figures, f"the header is {','.join(CSV_HEADER)}")
    body = [row for row in rows[1:] if row]  # a blank line, e.g. the last, is no line
    for number, row in enumerate(body, 2):
        require(len(row) == len(CSV_HEADER), ComplianceReason.invalid_figures,
                f"row {number}: {len(CSV_HEADER)} cells, found {len(row)}")
    return [{"source": source, "activity": activity, "activityUnit": activity_unit,
             "factor": factor, "factorUnit": factor_unit, "instrument": instrument}
            for source, activity, activity_unit, factor, factor_unit, instrument in body]
