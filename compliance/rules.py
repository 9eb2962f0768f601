"""The compliance rules of a scheme, read from its configuration (ledger/schemes/*.toml).

They live in the scheme's rules document, recorded in the journal, in a section the ledger
core keeps verbatim (`SchemeRules.extra`); this module gives them types and defaults and the
compliance module declares it as its rules section (compliance/module.py), so a document with
a bad value is refused when it is set (`invalid_rules`). A scheme without the section sets no
obligations. Every key, its default and its source is in docs/compliance.md.

    [compliance]
    deadline = "12-31"          # surrender deadline: this day of the year after the year
    monthly_due_days = 30       # monthly data is due this many days after its month ends
    banking_years = 0           # allowances up to this many vintages back; 0: any earlier one
    variance_bp = 500           # a verified figure further than this from the monthly sum
                                # (in ten-thousandths of it) is flagged
    max_consecutive_years = 3   # one verifier for one entity; 0: no limit
    streamlined_after = 3       # clean verified years in a row for streamlined verification
    [compliance.offsets]
    schemes = ["CCER"]          # schemes whose credits may offset
    cap_bp = 500                # offsets cover at most 5% of an obligation (the national rule)
    min_vintage = 0             # earliest eligible vintage; 0: any
    project_types = []          # eligible project types (offset_project_register); empty: any
    sunset = ""                 # last market day offsets may be surrendered; "": none
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from compliance.reasons import ComplianceReason
from ledger.errors import Reason, Rejected, require
from ledger.schemes import SchemeRules
from ledger.schemes.calendar import MarketCalendar

BASIS_POINTS = 10_000
SECTION = "compliance"


@dataclass(frozen=True)
class OffsetRules:
    schemes: frozenset[str] = frozenset()
    cap_bp: int = 500
    min_vintage: int = 0
    project_types: frozenset[str] = frozenset()
    sunset: date | None = None

    def cap(self, obligation: int) -> int:
        """The most units of an obligation that offsets may cover (rounded down)."""
        return obligation * self.cap_bp // BASIS_POINTS


@dataclass(frozen=True)
class ComplianceRules:
    """What a scheme requires of its emitters' data, verification and compliance."""

    scheme: str
    calendar: MarketCalendar
    deadline: tuple[int, int] = (12, 31)  # (month, day) of the year after the compliance year
    monthly_due_days: int = 30
    banking_years: int = 0
    variance_bp: int = 500
    max_consecutive_years: int = 3
    streamlined_after: int = 3
    offsets: OffsetRules = OffsetRules()

    def deadline_of(self, year: int) -> date:
        """The last market day to surrender for compliance year `year`."""
        month, day = self.deadline
        return date(year + 1, month, day)


def compliance_rules(rules: SchemeRules) -> ComplianceRules | None:
    """The compliance section of a scheme's rules, None if it has none; `invalid_rules` if a
    value is bad (the module's rules check, run when rules are set)."""
    if SECTION not in rules.extra:
        return None
    try:
        return _parse(rules.scheme, rules.extra[SECTION], rules.calendar)
    except (TypeError, ValueError) as exc:
        raise Rejected(Reason.invalid_rules, f"{rules.scheme} [{SECTION}]: {exc}") from exc


def required_rules(rules: SchemeRules) -> ComplianceRules:
    """The compliance section, refused with `not_a_compliance_scheme` when absent."""
    found = compliance_rules(rules)
    require(found is not None, ComplianceReason.not_a_compliance_scheme, rules.scheme)
    assert found is not None
    return found


def _parse(scheme: str, section: Any, calendar: MarketCalendar) -> ComplianceRules:
    if not isinstance(section, Mapping):
        raise TypeError("must be a table")
    offsets = section.get("offsets", {})
    if not isinstance(offsets, Mapping):
        raise TypeError("[compliance.offsets] must be a table")
    defaults, offset_defaults = ComplianceRules(scheme, calendar), OffsetRules()
    sunset = offsets.get("sunset", "")
    if not isinstance(sunset, str):
        raise TypeError("offsets.sunset must be a date YYYY-MM-DD or empty")
    return ComplianceRules(
        scheme=scheme,
        calendar=calendar,
        deadline=_month_day(section.get("deadline", "12-31")),
        monthly_due_days=_int(section, "monthly_due_days", defaults.monthly_due_days, 0, 366),
        banking_years=_int(section, "banking_years", defaults.banking_years, 0, 100),
        variance_bp=_int(section, "variance_bp", defaults.variance_bp, 0, BASIS_POINTS),
        max_consecutive_years=_int(section, "max_consecutive_years",
                                   defaults.max_consecutive_years, 0, 100),
        streamlined_after=_int(section, "streamlined_after", defaults.streamlined_after, 1, 100),
        offsets=OffsetRules(
            schemes=_names(offsets, "schemes"),
            cap_bp=_int(offsets, "cap_bp", offset_defaults.cap_bp, 0, BASIS_POINTS),
            min_vintage=_int(offsets, "min_vintage", 0, 0, 2200),
            project_types=_names(offsets, "project_types"),
            sunset=date.fromisoformat(sunset) if sunset else None,
        ),
    )


def _int(table: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{key} must be an integer in {low}..{high}")
    return value


def _names(table: Mapping[str, Any], key: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"{key} must be a list of names")
    return frozenset(value)


def _month_day(value: Any) -> tuple[int, int]:
    """"MM-DD" of a day every year has (no 02-29)."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != "-":
        raise ValueError("deadline must be MM-DD")
    parsed = date(2001, int(value[:2]), int(value[3:]))  # 2001: not a leap year
    return parsed.month, parsed.day
