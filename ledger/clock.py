"""Time is passed in: the engine asks its clock, tests move it explicitly, rules never read the
wall clock themselves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """RFC 3339, UTC, millisecond precision: 2026-11-29T12:00:00.000Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def parse_rfc3339(text: str) -> datetime:
    """A moment as a person writes it in RFC 3339 (2027-03-08T09:00:00Z, ...+08:00, with or
    without fractions of a second), in UTC; ValueError if it is not one or has no offset."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset: end it with Z or +HH:MM")
    return moment.astimezone(UTC)


class OffsetClock:
    """A clock `offset_ms()` milliseconds ahead of `base` (behind, if negative), the offset
    read at every call so that whoever keeps it can move the clock while it is in use: the
    clock setting of demo and test deployments (api/clock_setting.py)."""

    def __init__(self, offset_ms: Callable[[], int], base: Clock = utc_now) -> None:
        self.offset_ms = offset_ms
        self.base = base

    def __call__(self) -> datetime:
        return self.base() + timedelta(milliseconds=self.offset_ms())


class FixedClock:
    """A clock that stands still until moved: for tests, replays and demos."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)
