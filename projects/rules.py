"""The project-cycle rules of a scheme (ledger/schemes/CCER.toml), section `[projects]`:

    [projects]
    comment_working_days = 20        # the public comment period, in working days (Mon-Fri)
    validator_may_verify = false     # may the body that validated a project verify it?
    buffer_account = "REG-BUFFER"    # where buffer shares go (a registry reserve account)

A scheme without the section is not run by the project cycle. docs/projects.md lists each key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ledger.errors import Reason, Rejected
from ledger.schemes import SchemeRules
from ledger.schemes.calendar import MarketCalendar

SECTION = "projects"
# The scheme the project cycle issues: a project names no scheme, its credits are CCER.
CCER_SCHEME = "CCER"


@dataclass(frozen=True)
class ProjectRules:
    scheme: str
    calendar: MarketCalendar
    comment_working_days: int = 20
    validator_may_verify: bool = False
    buffer_account: str = ""

    def comments_until(self, submitted: date) -> date:
        """The last day of a comment period opened on `submitted`: the
        `comment_working_days`-th working day (Monday to Friday) after it."""
        day, left = submitted, self.comment_working_days
        while left:
            day += timedelta(days=1)
            if day.weekday() < 5:
                left -= 1
        return day


def project_rules(rules: SchemeRules) -> ProjectRules | None:
    """The `[projects]` section, None if the scheme has none; `invalid_rules` if bad."""
    if SECTION not in rules.extra:
        return None
    try:
        return _parse(rules.scheme, rules.extra[SECTION], rules.calendar)
    except (TypeError, ValueError) as exc:
        raise Rejected(Reason.invalid_rules, f"{rules.scheme} [{SECTION}]: {exc}") from exc


def required_rules(rules: SchemeRules) -> ProjectRules:
    """The `[projects]` section of a scheme the project cycle runs; `invalid_rules` if it has
    none (the ledger's rules, not the instruction, are at fault)."""
    found = project_rules(rules)
    if found is None:
        raise Rejected(Reason.invalid_rules, f"{rules.scheme} has no [{SECTION}] section")
    return found


def _parse(scheme: str, section: Any, calendar: MarketCalendar) -> ProjectRules:
    if not isinstance(section, Mapping):
        raise TypeError("must be a table")
    days = section.get("comment_working_days", 20)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 260:
        raise ValueError("comment_working_days must be an integer in 0..260")
    may_verify = section.get("validator_may_verify", False)
    if not isinstance(may_verify, bool):
        raise TypeError("validator_may_verify must be true or false")
    buffer = section.get("buffer_account", "")
    if not isinstance(buffer, str):
        raise TypeError("buffer_account must be an account id or empty")
    return ProjectRules(scheme, calendar, days, may_verify, buffer)
