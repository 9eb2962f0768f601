"""Months as the monthly key parameters count them: a month is "YYYY-MM" (compliance.fields
checks it), and these give its first and last calendar day and the day its data is due."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def first_day(month: str) -> date:
    """The first day of `month` ("YYYY-MM")."""
    return date(int(month[:4]), int(month[5:7]), 1)


def last_day(month: str) -> date:
    """The last day of `month` ("YYYY-MM"): 2024-02 ends on the 29th."""
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])


def due_day(month: str, due_days: int) -> date:
    """The last day a month's data is on time: `due_days` after the month ends (the scheme's
    `monthly_due_days`)."""
    return last_day(month) + timedelta(days=due_days)


def year_of(month: str) -> int:
    return int(month[:4])


def months_of(year: int) -> tuple[str, ...]:
    """The twelve months of a year, in order."""
    return tuple(f"{year:04d}-{number:02d}" for number in range(1, 13))
