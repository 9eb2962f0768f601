"""Monthly key parameters by the emission-factor method, and the exact arithmetic the ledger
recomputes them with.

A month's figures are lines, one per source stream of an installation:

    [{"source": "coal-unit-1", "activity": "1234.5", "activityUnit": "t",
      "factor": "2.6604", "factorUnit": "tCO2/t", "instrument": "FLOW-7"}, ...]

Activity data and factors are decimal strings (never binary floats), non-negative, with at
most 18 digits before and 12 after the point. A factor's unit is `tCO2/<activity unit>` or
`kgCO2/<activity unit>`; `instrument` names the measuring instrument the activity data rests
on, or is empty.

**The rounding rule.** Each line's emissions are activity × factor, exactly (in tonnes: a
kgCO2 factor is divided by 1,000, exactly). The month's total is the exact sum of the lines,
rounded once, to whole kilograms, half up: 0.5 kg rounds to 1 kg. Nothing is rounded before
the total, so the order of the lines never changes it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

from compliance.reasons import ComplianceReason
from ledger.errors import Rejected, require

MAX_LINES = 200
DECIMAL_PATTERN = re.compile(r"-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,12})?")
UNIT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.^_-]{0,15}")  # t, MWh, GJ, m3, 10^4Nm3
FACTOR_UNITS = {"tCO2": Decimal(1), "kgCO2": Decimal("0.001")}  # tonnes per unit of CO2
LINE_KEYS = {"source", "activity", "activityUnit", "factor", "factorUnit", "instrument"}
# exact: 18 + 12 digits times 18 + 12 digits, summed over MAX_LINES lines, fits in 80 digits
EXACT = Context(prec=80)
KILOGRAM = Decimal(1)


@dataclass(frozen=True)
class Line:
    source: str
    activity: Decimal
    activity_unit: str
    factor: Decimal
    factor_unit: str
    instrument: str  # "" when none

    @property
    def tonnes(self) -> Decimal:
        """This line's emissions in tonnes CO2, exact."""
        per_unit = FACTOR_UNITS[self.factor_unit.split("/", 1)[0]]
        return EXACT.multiply(EXACT.multiply(self.activity, self.factor), per_unit)


def parse_figures(text: str) -> tuple[Line, ...]:
    """The lines of a month's figures (JSON text); `Rejected` naming what is wrong."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise Rejected(ComplianceReason.invalid_figures, "not JSON") from None
    require(isinstance(document, list) and 1 <= len(document) <= MAX_LINES,
            ComplianceReason.invalid_figures, f"a list of 1 to {MAX_LINES} lines")
    return tuple(_line(i, line) for i, line in enumerate(document, 1))


def _line(number: int, line: object) -> Line:
    where = f"line {number}"
    require(isinstance(line, dict) and set(line) == LINE_KEYS, ComplianceReason.invalid_figures,
            f"{where}: an object with exactly {sorted(LINE_KEYS)}")
    assert isinstance(line, dict)
    require(all(isinstance(v, str) for v in line.values()), ComplianceReason.invalid_figures,
            f"{where}: every value is a string")
    require(0 < len(line["source"]) <= 64 and line["source"].isprintable(),
            ComplianceReason.invalid_figures, f"{where}: source is 1 to 64 printable characters")
    require(line["instrument"] == "" or re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}",
                                                     line["instrument"]) is not None,
            ComplianceReason.invalid_figures, f"{where}: instrument is an id or empty")
    activity, factor = _decimal(where, "activity", line["activity"]), \
        _decimal(where, "factor", line["factor"])
    require(UNIT_PATTERN.fullmatch(line["activityUnit"]) is not None,
            ComplianceReason.invalid_figures, f"{where}: activityUnit {line['activityUnit']!r}")
    numerator, _, denominator = line["factorUnit"].partition("/")
    require(numerator in FACTOR_UNITS and denominator == line["activityUnit"],
            ComplianceReason.unit_mismatch,
            f"{where}: factor in {line['factorUnit']!r} for activity in "
            f"{line['activityUnit']!r}")
    return Line(line["source"], activity, line["activityUnit"], factor, line["factorUnit"],
                line["instrument"])


def _decimal(where: str, name: str, text: str) -> Decimal:
    require(DECIMAL_PATTERN.fullmatch(text) is not None, ComplianceReason.invalid_figures,
            f"{where}: {name} {text!r} is not a decimal number (at most 18 digits before the "
            "point and 12 after)")
    value = Decimal(text)
    require(value >= 0, ComplianceReason.negative_activity, f"{where}: {name} {text}")
    return value


def total_kg(lines: tuple[Line, ...]) -> int:
    """The month's emissions in whole kilograms CO2, by the rounding rule above."""
    tonnes = Decimal(0)
    for line in lines:  # in the exact context: the default one rounds past 28 digits
        tonnes = EXACT.add(tonnes, line.tonnes)
    kilograms = EXACT.multiply(tonnes, Decimal(1000))
    return int(kilograms.quantize(KILOGRAM, rounding=ROUND_HALF_UP, context=EXACT))


def figures_json(lines: list[dict[str, str]]) -> str:
    """Lines as the canonical text an instruction carries: compact JSON, keys sorted."""
    return json.dumps(lines, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
