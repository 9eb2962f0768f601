"""The pledge and repo rules of a scheme, read from its configuration (ledger/schemes/*.toml).

They live in the scheme's rules document, recorded in the journal, in sections the ledger core
keeps verbatim (`SchemeRules.extra`); this module gives them types and defaults, and the pledge
module declares it as its rules section (pledge/module.py), so a rules document with a bad
value is refused when it is set (`invalid_rules`), never guessed at. A key that is absent takes
its default. The market's calendar (the day's end, the compliance year's end) is the core's
(`SchemeRules.calendar`). docs/pledge-and-repo.md lists every key, its default and where each
scheme's value comes from.

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
from datetime import date, datetime
from typing import Any

from ledger.errors import Reason, Rejected
from ledger.model import MAX_QUANTITY, AccountType
from ledger.schemes import SchemeRules
from ledger.schemes.calendar import MarketCalendar

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

    @property
    def calendar(self) -> MarketCalendar:
        return MarketCalendar(self.utc_offset_minutes, self.compliance_year_end)

    def market_day(self, moment: datetime) -> date:
        """The calendar day in the market's time zone at `moment` (the ledger's clock)."""
        return self.calendar.market_day(moment)

    def compliance_year_end_after(self, day: date) -> date:
        """The last day of the compliance year that `day` falls in."""
        return self.calendar.compliance_year_end_after(day)


def agreement_rules(rules: SchemeRules) -> AgreementRules:
    """The pledge module's section of a scheme's rules; `invalid_rules` if a value is bad."""
    try:
        return _parse(rules.scheme, rules.extra, rules.calendar)
    except (TypeError, ValueError) as exc:
        raise Rejected(Reason.invalid_rules, f"{rules.scheme}: {exc}") from exc


def _parse(scheme: str, extra: Mapping[str, Any], calendar: MarketCalendar) -> AgreementRules:
    pledge, repo = _table(extra, "pledge"), _table(extra, "repo")
    defaults = AgreementRules(scheme)
    return AgreementRules(
        scheme=scheme,
        utc_offset_minutes=calendar.utc_offset_minutes,
        compliance_year_end=calendar.compliance_year_end,
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

