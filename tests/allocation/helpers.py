"""An allocation market to test in.

CN-ETS is under allocation control (`issue_operation = "allocation"`). Huaneng (an emitter:
compliance account HN, trading account HN-T) has two power installations, HN-1 and HN-2;
Baowu (an emitter: compliance account BW) one steel installation, BW-1; CEC is a verification
body qualified in power and steel; ICBC is a bank with a trading account IC-T. The clock
starts on 2026-01-05 (a Monday); the 2026 plan is not set: tests set the plan they need
(`set_plan` gives a default one).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ledger.clock import FixedClock
from ledger.journal import Receipt
from ledger.store.database import Store
from tests.compliance.helpers import qualify, register_installation, row, rows
from tests.world import World

__all__ = ["START", "allocation_world", "power_sector", "preallocate", "qualify_verifier",
           "row", "rows", "set_plan", "steel_sector", "true_up", "verify_output"]

START = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def allocation_world(store: Store, clock: FixedClock) -> World:
    """The market described above, on `store`."""
    clock.moment = START
    world = World.create(store, clock, allocation_plan=True)
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.by("registry", "open_account", account="HN-T", participant="huaneng",
             accountType="trading")
    world.participant("baowu", "emitter", "BW", "compliance")
    world.participant("cec", "verifier")
    world.participant("icbc", "bank", "IC-T", "trading")
    register_installation(world, "HN-1", "huaneng", name="Huaneng Shidongkou unit 1")
    register_installation(world, "HN-2", "huaneng", name="Huaneng Shidongkou unit 2")
    register_installation(world, "BW-1", "baowu", sector="steel", name="Baowu Baoshan works")
    qualify(world, "cec", "power")
    qualify(world, "cec", "steel")
    return world


def power_sector(free_cap: int = 2_000_000, benchmark: str = "0.8218",
                 factors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"sector": "power", "free_cap": free_cap, "benchmark": benchmark,
            "output_unit": "MWh", "factors": factors if factors is not None else {"load": "1"}}


def steel_sector(free_cap: int = 1_000_000, benchmark: str = "1.8",
                 factors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"sector": "steel", "free_cap": free_cap, "benchmark": benchmark,
            "output_unit": "t", "factors": factors if factors is not None else {}}


def set_plan(world: World, year: int = 2026, *, cap: int = 5_000_000, reserve: int = 500_000,
             auction: int = 1_000_000, sectors: list[dict[str, Any]] | None = None,
             scheme: str = "CN-ETS") -> Receipt:
    return world.by("registry", "allocation_plan_set", scheme=scheme, year=year, cap=cap,
                    reserve=reserve, auction=auction,
                    sectors=json.dumps(sectors if sectors is not None
                                       else [power_sector(), steel_sector()]))


def verify_output(world: World, installation: str, year: int, output: str, *,
                  unit: str = "MWh", verifier: str = "cec") -> Receipt:
    return world.by(verifier, "output_verify", verifier=verifier, installation=installation,
                    year=year, output=output, unit=unit)


def preallocate(world: World, *targets: tuple[str, str], year: int = 2026,
                batch: str = "FA-2026") -> Receipt:
    """The registry pre-allocates `year` to each (installation, account), in `batch`."""
    return world.by("registry", "allocation_preallocate", scheme="CN-ETS", year=year,
                    batch=batch, targets=json.dumps([list(t) for t in targets]))


def true_up(world: World, *targets: tuple[str, str], year: int = 2026,
            batch: str = "TU-2026") -> Receipt:
    """The registry trues up each (installation, account)'s `year`, issuing in `batch`."""
    return world.by("registry", "allocation_true_up", scheme="CN-ETS", year=year,
                    batch=batch, targets=json.dumps([list(t) for t in targets]))


def qualify_verifier(world: World, verifier: str, sector: str) -> None:
    """A new verification body, `verifier`, qualified in `sector` only."""
    world.participant(verifier, "verifier")
    qualify(world, verifier, sector)
