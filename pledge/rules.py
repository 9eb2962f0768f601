"""The pledge and repo rules of a scheme, read from its configuration (ledger/schemes/*.toml).

They live in the scheme's rules document, recorded in the journal, under keys the ledger core
keeps verbatim (`SchemeRules.extra`); this module gives them types and defaults. A key that is
absent takes its default; a key present with a wrong value refuses the operation that needs it
(`invalid_rules`) rather than being guessed at. docs/pledge-and-repo.md lists every key, its
default and where each scheme's value comes from.

    utc_offset_minutes = 480        # the market's calendar: whose midnight ends a day
    compliance_year_end = "12-31"   # month-day on which each compliance year ends
    [pledge]
    account_types = ["compliance", "trading"]
    [repo]
    account_types = ["compliance", "trading"]
    min_quantity = 1
    splittable = true
    within_compliance_year = false
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ledger.errors import Reason, Rejected
from ledger.model import MAX_QUANTITY, AccountType
from ledger.schemes import SchemeRules

DEFAULT_ACCOUNT_TYPES = frozenset({AccountType.compliance, AccountType.trading})


@dataclass(frozen=True)
class AgreementRules:
    """What a scheme allows of pledges and repos."""

    scheme: str
    utc_offset_minutes: int = 0
    compliance_year_end: tuple[int, int] = (12, 31)  # (month, day)
    pledge_account_types: frozenset[AccountType] = DEFAULT_ACCOUNT_TYPES
    repo_account_types: frozenset[AccountType] = DEFAULT_ACCOUNT_TYPES
    repo_min_quantity: int = 1
    repo_splittable: bool = True
    repo_within_compliance_year: bool = False

    def market_day(self, moment: datetime) -> date:
        """The calendar day in the market's time zone at `moment` (the ledger's clock)."""
        offset = timedelta(minutes=self.utc_offset_minutes)
        return (moment.astimezone(UTC) + offset).date()

    def compliance_year_end_after(self, day: date) -> date:
        """The last day of the compliance year that `day` falls in."""
        month, dom = self.compliance_year_end
        end = date(day.year, month, dom)
        return end if day <= end else date(day.year + 1, month, dom)


def agreement_rules(rules: SchemeRules) -> AgreementRules:
    try:
        return _parse(rules.scheme, rules.extra)
    except (TypeError, ValueError) as exc:
        raise Rejected(Reason.invalid_rules, f"{rules.scheme}: {exc}") from exc


def _parse(scheme: str, extra: Mapping[str, Any]) -> AgreementRules:
    pledge, repo = _table(extra, "pledge"), _table(extra, "repo")
    defaults = AgreementRules(scheme)
    return AgreementRules(
        scheme=scheme,
        utc_offset_minutes=_int(extra, "utc_offset_minutes", defaults.utc_offset_minutes,
                                -14 * 60, 14 * 60),
        compliance_year_end=_month_day(extra.get("compliance_year_end", "12-31")),
        pledge_account_types=_account_types(pledge, defaults.pledge_account_types),
        repo_account_types=_account_types(repo, defaults.repo_account_types),
        repo_min_quantity=_int(repo, "min_quantity", defaults.repo_min_quantity, 1,
                               MAX_QUANTITY),
        repo_splittable=_bool(repo, "splittable", defaults.repo_splittable),
        repo_within_compliance_year=_bool(repo, "within_compliance_year",
                                          defaults.repo_within_compliance_year),
    )


def _table(extra: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    table = extra.get(name, {})
    if not isinstance(table, Mapping):
        raise TypeError(f"[{name}] must be a table")
    return table


def _int(table: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{key} must be an integer in {low}..{high}")
    return value


def _bool(table: Mapping[str, Any], key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false")
    return value


def _account_types(table: Mapping[str, Any],
                   default: frozenset[AccountType]) -> frozenset[AccountType]:
    value = table.get("account_types")
    if value is None:
        return default
    if not isinstance(value, list):
        raise TypeError("account_types must be a list")
    return frozenset(AccountType(v) for v in value)


def _month_day(value: Any) -> tuple[int, int]:
    """"MM-DD" of a day every year has (no 02-29: the compliance year must end every year)."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != "-":
        raise ValueError("compliance_year_end must be MM-DD")
    parsed = date(2001, int(value[:2]), int(value[3:]))  # 2001: not a leap year
    return parsed.month, parsed.day
