"""The ledger's clock: the system's, or on a demo or test deployment the system's moved by an
offset kept in DATA_DIR/clock.json (`carbonledger clock set|advance|reset`), so that dated
stories (a pledge's maturity, a repo's repurchase date) play without waiting.

The offset is read again whenever the file changes (one stat per reading of the clock), so a
running `carbonledger serve` follows `clock advance` without a restart. A production
deployment's clock is the system's, always: a clock.json found in its data directory is
refused when the ledger is opened, never used and never ignored in silence.

Moving the clock back does not move the journal back: an entry is never accepted before the
one ahead of it (ledger/engine.py), so until the clock passes the last entry's time again,
entries are accepted at that time, and instruction deadlines are checked against it.
`ledger_time` is that time, the one a client computes its deadlines from (GET /v1/clock).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from api.config import ConfigError, Deployment, LedgerConfig
from api.service import LedgerService
from ledger.clock import OffsetClock, parse_time, utc_now

CLOCK_FILE = "clock.json"
_DURATION = re.compile(r"(\d+)([wdhms])")
_UNIT_MS = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}


@dataclass(frozen=True)
class ClockSetting:
    """How far the ledger's clock is ahead of the system's (behind, if negative)."""

    offset_ms: int


def clock_path(data_dir: Path) -> Path:
    return data_dir / CLOCK_FILE


def read_setting(data_dir: Path) -> ClockSetting | None:
    """The data directory's clock setting; None if it has none."""
    path = clock_path(data_dir)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{path} cannot be read as JSON ({exc}): set the clock again with "
                          "`carbonledger clock set`, or `carbonledger clock reset`") from exc
    offset = document.get("offset_ms") if isinstance(document, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or set(document) != {"offset_ms"}:
        raise ConfigError(f"{path} is not a clock setting (an object with exactly an integer "
                          "offset_ms): set the clock again with `carbonledger clock set`, or "
                          "`carbonledger clock reset`")
    return ClockSetting(offset)


def write_setting(data_dir: Path, setting: ClockSetting) -> None:
    """Replace the setting in one rename, so that a clock reading it never sees half a file."""
    path = clock_path(data_dir)
    scratch = path.with_name(f".{CLOCK_FILE}.{os.getpid()}")
    scratch.write_text(json.dumps({"offset_ms": setting.offset_ms}) + "\n")
    os.replace(scratch, path)


def clear_setting(data_dir: Path) -> bool:
    """Back to the system's clock; False if the clock was not moved."""
    try:
        clock_path(data_dir).unlink()
    except FileNotFoundError:
        return False
    return True


class _WatchedSetting:
    """The offset in DATA_DIR/clock.json, read again only when the file is another (a new
    inode: `write_setting` renames) or was changed in place. Threads share it: what it
    remembers is one tuple, replaced whole."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._seen: tuple[tuple[int, int, int], int] | None = None

    def offset_ms(self) -> int:
        try:
            status = os.stat(clock_path(self.data_dir))
        except FileNotFoundError:
            self._seen = None
            return 0
        version = (status.st_ino, status.st_mtime_ns, status.st_size)
        seen = self._seen
        if seen is not None and seen[0] == version:
            return seen[1]
        setting = read_setting(self.data_dir)
        offset = setting.offset_ms if setting else 0
        self._seen = (version, offset)
        return offset


class LedgerClock(OffsetClock):
    """The clock `api.bootstrap.build` hands a ledger, and the deployment it belongs to."""

    def __init__(self, deployment: Deployment, setting: _WatchedSetting | None) -> None:
        super().__init__(setting.offset_ms if setting else lambda: 0, utc_now)
        self.deployment = deployment


def ledger_clock(config: LedgerConfig, data_dir: Path) -> LedgerClock:
    """The clock of the ledger in `data_dir`: movable on a demo or test deployment; the
    system's on production, where a clock setting is refused (ConfigError)."""
    if config.deployment is Deployment.production:
        if clock_path(data_dir).exists():
            raise ConfigError(
                f"{clock_path(data_dir)} moves the ledger's clock, but {data_dir} is a "
                "production deployment, whose clock is the system's: remove the file "
                "(`carbonledger clock reset`)")
        return LedgerClock(Deployment.production, None)
    return LedgerClock(config.deployment, _WatchedSetting(data_dir))


def deployment_of(service: LedgerService) -> Deployment:
    """The deployment whose clock the service's ledger reads. A ledger built with a clock of
    its own (a test's FixedClock) is a test's."""
    clock = service.ledger.clock
    return clock.deployment if isinstance(clock, LedgerClock) else Deployment.test


def ledger_time(service: LedgerService, clock_now: datetime | None = None) -> datetime:
    """The time the ledger would accept an entry at now: its clock's (`clock_now`, if it was
    just read), or the last entry's if that is later (the journal never goes back).
    Deadlines are checked against it."""
    now = clock_now or service.ledger.clock()
    head = service.head()
    if head >= 0:
        (last,) = service.journal(head, head + 1)
        now = max(now, parse_time(last.accepted_at))
    return now


def parse_duration_ms(text: str) -> int:
    """A duration as people write it: 30d, 12h, 1d12h, 90m, 45s, 2w; ValueError if not."""
    compact = text.strip().replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h, 1d12h, 90m or 2w")
    return sum(int(n) * _UNIT_MS[unit] for n, unit in _DURATION.findall(compact))


def describe_offset(offset_ms: int) -> str:
    """+91d 0h 0m 0s: an offset in words a person reads at a glance."""
    sign = "-" if offset_ms < 0 else "+"
    seconds, ms = divmod(abs(offset_ms), 1000)
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(minutes, 60)
    days, h = divmod(hours, 24)
    fraction = f".{ms:03d}" if ms else ""
    return f"{sign}{days}d {h}h {m}m {s}{fraction}s"
