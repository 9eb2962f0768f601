"""A disclosure (compliance.queries.Disclosure) as the files that are published: JSON, and CSV.

The JSON is the disclosure's fields, nested as they are (emitters a list, totals an object),
`null` where a value is not known yet (an unverified emitter's emissions; the checkpoint before
the first one).

The CSV is two tables separated by one empty line, so that a spreadsheet opens both:

    emitter,scheme,verified_t,allowances_t,credits_t,status,pledged_t
    baowu,CN-ETS,,0,0,unverified,0
    huaneng,CN-ETS,1200,300,0,due,400

    measure,value
    year,2025
    scheme,CN-ETS
    market_day,2026-01-03
    head,43
    checkpoint,
    checkpoint_log_size,
    transfers,12
    ...

Quantities are whole tonnes; an empty cell is a value not known yet.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import Any

from compliance.queries import Disclosure

EMITTER_COLUMNS = ("emitter", "scheme", "verified_t", "allowances_t", "credits_t", "status",
                   "pledged_t")


def disclosure_json(disclosure: Disclosure) -> str:
    """The disclosure as a JSON document (enumerations as their values), ending in a newline."""
    return json.dumps(dataclasses.asdict(disclosure), indent=2, ensure_ascii=False) + "\n"


def disclosure_csv(disclosure: Disclosure) -> str:
    """The disclosure as CSV: the emitters' table, an empty line, the measures' table."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EMITTER_COLUMNS)
    for e in disclosure.emitters:
        writer.writerow(_cells((e.emitter, e.scheme, e.verified_t, e.allowances, e.credits,
                                e.state.value, e.pledged)))
    writer.writerow(())
    writer.writerow(("measure", "value"))
    totals = dataclasses.asdict(disclosure.totals)
    measures: list[tuple[str, Any]] = [
        ("year", disclosure.year), ("scheme", disclosure.scheme),
        ("market_day", disclosure.market_day), ("head", disclosure.head),
        ("checkpoint", disclosure.checkpoint),
        ("checkpoint_log_size", disclosure.checkpoint_log_size), *totals.items()]
    for name, value in measures:
        writer.writerow(_cells((name, value)))
    return out.getvalue()


def _cells(values: tuple[Any, ...]) -> list[str]:
    return ["" if v is None else str(v) for v in values]


FORMATS = {"csv": disclosure_csv, "json": disclosure_json}
