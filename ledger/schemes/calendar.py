"""A market's calendar: whose midnight ends a day, and the day each compliance year ends.

Part of every scheme's rules (the core's), since every capability that dates something — a
pledge's maturity, a repo's repurchase date, a compliance deadline — must count days alike.
In a scheme's rules document (ledger/schemes/*.toml):

    utc_offset_minutes = 480        # days end at UTC+8 midnight (Beijing)
    compliance_year_end = "12-31"   # month-day on which each compliance year ends
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

MAX_OFFSET_MINUTES = 14 * 60  # the widest time zones, UTC-14..UTC+14


@dataclass(frozen=True)
class MarketCalendar:
    utc_offset_minutes: int = 0
    compliance_year_end: tuple[int, int] = (12, 31)  # (month, day)

    def market_day(self, moment: datetime) -> date:
        """The calendar day in the market's time zone at `moment` (the ledger's clock)."""
        offset = timedelta(minutes=self.utc_offset_minutes)
        return (moment.astimezone(UTC) + offset).date()

    def compliance_year_end_after(self, day: date) -> date:
        """The last day of the compliance year that `day` falls in."""
        month, dom = self.compliance_year_end
        end = date(day.year, month, dom)
        return end if day <= end else date(day.year + 1, month, dom)


def parse_calendar(document: Mapping[str, Any]) -> MarketCalendar:
    """The calendar a rules document gives (absent keys take the defaults above); raises
    ValueError or TypeError for a value it will not guess at."""
    offset = document.get("utc_offset_minutes", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) \
            or not -MAX_OFFSET_MINUTES <= offset <= MAX_OFFSET_MINUTES:
        raise ValueError(f"utc_offset_minutes must be an integer in "
                         f"{-MAX_OFFSET_MINUTES}..{MAX_OFFSET_MINUTES}")
    return MarketCalendar(offset, _month_day(document.get("compliance_year_end", "12-31")))


def _month_day(value: Any) -> tuple[int, int]:
    """"MM-DD" of a day every year has (no 02-29: the compliance year must end every year)."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != "-":
        raise ValueError("compliance_year_end must be MM-DD")
    parsed = date(2001, int(value[:2]), int(value[3:]))  # 2001: not a leap year
    return parsed.month, parsed.day
