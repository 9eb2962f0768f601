"""`carbonledger clock ...`: the ledger's clock, movable on a demo or test deployment.

    carbonledger clock show                       # the ledger's time, and how it is set
    carbonledger clock advance 91d                # 91 days on (30d, 12h, 1d12h, 90m, 2w)
    carbonledger clock set 2027-03-08T09:00:00Z   # this moment now, running on from there
    carbonledger clock reset                      # back to the system's clock

The setting is an offset from the system's clock in DATA_DIR/clock.json, followed by a
running `carbonledger serve` without a restart (api/ledger_clock.py). A production
deployment (`init --deployment`, production by default) refuses to move its clock (exit 1).
The journal never goes back: after `set` to an earlier time, entries are accepted at the last
entry's time until the clock passes it.
"""

from __future__ import annotations

from pathlib import Path

import click

from api.bootstrap import build
from api.config import ConfigError, Deployment, LedgerConfig, load_config
from api.exit_codes import environment, refused
from api.ledger_clock import (
    ClockSetting,
    clear_setting,
    clock_path,
    describe_offset,
    ledger_time,
    parse_duration_ms,
    read_setting,
    write_setting,
)
from ledger.clock import OffsetClock, format_time, parse_rfc3339, utc_now


def _config(data_dir: Path) -> LedgerConfig:
    try:
        return load_config(data_dir)
    except ConfigError as exc:
        raise environment(str(exc)) from exc


def _movable(data_dir: Path) -> LedgerConfig:
    """The configuration of a ledger whose clock may be moved; refused on production."""
    config = _config(data_dir)
    if config.deployment is Deployment.production:
        raise refused(f"{data_dir} is a production deployment: its clock is the system's and "
                      "is never moved. A ledger made with `carbonledger init --deployment "
                      "demo` (or test) has a movable clock")
    return config


def _ms(moment_s: float) -> int:
    return round(moment_s * 1000)


@click.group()
def clock() -> None:
    """The ledger's clock: on a demo or test deployment, moved to play dated stories (a
    pledge's maturity, a repo's repurchase date) without waiting."""


@clock.command("show")
@click.pass_obj
def show(data_dir: Path) -> None:
    """The ledger's time, the system's, and the offset between them."""
    config = _config(data_dir)
    setting = read_setting(data_dir)
    click.echo(f"deployment: {config.deployment.value}")
    if config.deployment is Deployment.production:
        if setting is not None:
            raise environment(f"{clock_path(data_dir)} would move the clock of a production "
                              "deployment, and the ledger refuses to open with it: remove it "
                              "with `carbonledger clock reset`")
        click.echo(f"the ledger's clock is the system's: {format_time(utc_now())}")
        return
    with build(config, data_dir) as app:
        clock_now = app.service.ledger.clock()
        accepting_at = ledger_time(app.service, clock_now)
    offset = setting.offset_ms if setting else 0
    moved = f"the system's {describe_offset(offset)} ({clock_path(data_dir)})" if setting \
        else "the system's (not moved)"
    click.echo(f"the ledger's clock: {format_time(clock_now)}, {moved}")
    if accepting_at > clock_now:
        click.echo(f"the journal's last entry is later, {format_time(accepting_at)}: entries "
                   "are accepted at that time, and deadlines checked against it, until the "
                   "clock passes it (the journal never goes back)")


@clock.command("advance")
@click.argument("duration")
@click.pass_obj
def advance(data_dir: Path, duration: str) -> None:
    """Move the ledger's clock on by DURATION: 30d, 12h, 1d12h, 90m, 45s, 2w."""
    try:
        step_ms = parse_duration_ms(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="DURATION") from exc
    _movable(data_dir)
    setting = read_setting(data_dir)
    offset = (setting.offset_ms if setting else 0) + step_ms
    write_setting(data_dir, ClockSetting(offset))
    click.echo(f"the ledger's clock is now {format_time(OffsetClock(lambda: offset)())} (the "
               f"system's {describe_offset(offset)})")


@clock.command("set")
@click.argument("moment", metavar="RFC3339")
@click.pass_obj
def set_clock(data_dir: Path, moment: str) -> None:
    """Set the ledger's clock to RFC3339 (2027-03-08T09:00:00Z, or with +HH:MM) now; it runs
    on from there. An earlier time than the journal's last entry does not move the journal
    back: entries are accepted at that entry's time until the clock passes it."""
    try:
        target = parse_rfc3339(moment)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}; write a moment such as 2027-03-08T09:00:00Z",
                                 param_hint="RFC3339") from exc
    _movable(data_dir)
    offset = _ms(target.timestamp()) - _ms(utc_now().timestamp())
    write_setting(data_dir, ClockSetting(offset))
    click.echo(f"the ledger's clock is now {format_time(target)} (the system's "
               f"{describe_offset(offset)})")


@clock.command("reset")
@click.pass_obj
def reset(data_dir: Path) -> None:
    """Back to the system's clock (allowed on every deployment: it removes the setting)."""
    _config(data_dir)
    if clear_setting(data_dir):
        click.echo(f"the ledger's clock is the system's again ({clock_path(data_dir)} removed)")
    else:
        click.echo("the ledger's clock was not moved: it is the system's")
