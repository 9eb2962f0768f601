"""A CCER project market to test in, and the steps of the project cycle the tests share.

The registry publishes the methodology CM-001-V01 (sector "energy", no buffer share); Windfarm
(a project owner, trading account GW) owns GANSU-WIND, crediting 2024-01-01..2033-12-31;
CEC and SGS are verification bodies qualified in "energy". GANSU-WIND is submitted on
Friday 2024-03-01, its comment period ends on 2024-03-29 (20 working days on), CEC validates
it the day after, Saturday 2024-03-30, and the registry registers it. The ledger runs the
project cycle: only ccer_issue issues CCER. Tests move the clock forward only (the journal's
times never go back).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from api.bootstrap import init_ledger, open_ledger, registry_wallet
from api.config import load_config
from ledger.clock import FixedClock
from ledger.journal import Receipt
from ledger.store.database import Store
from tests.compliance.helpers import row as row
from tests.compliance.helpers import rows as rows
from tests.world import World

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)  # a Friday; 17:00 in Beijing, CCER's market day
METHODOLOGY = "CM-001-V01"
SECTOR = "energy"
PROJECT = "GANSU-WIND"
OWNER = "windfarm"
OWNER_ACCOUNT = "GW"
PDD_HASH = "0x" + "d1" * 32
VALIDATION_HASH = "0x" + "7a" * 32
COMMENT_HASH = "0x" + "c0" * 32


def project_world(store: Store, clock: FixedClock) -> World:
    """The market described above, on `store`; the clock ends on 2024-03-30."""
    clock.moment = START
    return project_market(World.create(store, clock, project_cycle=True))


def project_data_dir(data: Path, clock: FixedClock) -> World:
    """The market described above in a ledger made as `carbonledger init` makes one, in
    `data` (keystore password "pw"), for the commands to read; `clock` must be at START. The
    caller disposes of the world's store before a command opens it."""
    init_ledger(data, registry="registry", registry_name="Registry", password="pw",
                scrypt_n=2**4, clock=clock)
    config = load_config(data)
    world = World(open_ledger(config, clock), clock, registry_wallet(config, data, "pw"))
    world.wallets["registry"] = world.registry
    return project_market(world)


def project_market(world: World) -> World:
    """On a fresh ledger: the owner, the two qualified bodies, the methodology and GANSU-WIND,
    registered."""
    world.participant(OWNER, "project_owner", OWNER_ACCOUNT, "trading")
    for verifier in ("cec", "sgs"):
        world.participant(verifier, "verifier")
        qualify(world, verifier)
    publish_methodology(world)
    register_project(world)
    return world


# --- the clock ------------------------------------------------------------------------------


def today(world: World) -> date:
    """The ledger's market day (CCER's days end at Beijing midnight; the clock sits at 09:00
    UTC, the same day in Beijing)."""
    return (world.clock.moment + timedelta(hours=8)).date()


def move_clock_to(world: World, day: date) -> None:
    """Move the clock forward to 09:00 UTC of `day` (never back)."""
    moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    world.clock.moment = max(world.clock.moment, moment)


def advance_days(world: World, days: int) -> date:
    """Move the clock `days` calendar days forward; the new market day."""
    move_clock_to(world, today(world) + timedelta(days=days))
    return today(world)


# --- verifiers and methodologies ------------------------------------------------------------


def qualify(world: World, verifier: str, sector: str = SECTOR, action: str = "grant",
            reason: str = "accredited by CNCA") -> Receipt:
    return world.by("registry", "verifier_qualify", verifier=verifier, sector=sector,
                    action=action, reason=reason)


def methodology_fields(methodology: str = METHODOLOGY, **fields: Any) -> dict[str, Any]:
    """The fields of a methodology_publish; `fields` override any."""
    return {"methodology": methodology, "version": "V01", "sector": SECTOR,
            "title": "Grid-connected electricity generation from renewable sources",
            "applicability": "wind and solar plants feeding a regional grid",
            "validFrom": "2023-10-24", "validUntil": "", "bufferBp": 0} | fields


def publish_methodology(world: World, methodology: str = METHODOLOGY,
                        **fields: Any) -> Receipt:
    return world.by("registry", "methodology_publish", **methodology_fields(methodology,
                                                                             **fields))


def retire_methodology(world: World, methodology: str = METHODOLOGY, *,
                       action: str = "withdraw", replaced_by: str = "",
                       existing_projects: str = "keep",
                       reason: str = "baseline no longer conservative") -> Receipt:
    return world.by("registry", "methodology_retire", methodology=methodology, action=action,
                    replacedBy=replaced_by, existingProjects=existing_projects, reason=reason)


# --- projects -------------------------------------------------------------------------------


def project_fields(project: str = PROJECT, **fields: Any) -> dict[str, Any]:
    """The fields of a project_submit; `fields` override any."""
    return {"project": project, "owner": OWNER, "methodology": METHODOLOGY,
            "title": "Gansu Jiuquan wind farm, phase II", "location": "Jiuquan, Gansu",
            "startDate": "2023-12-01", "creditingStart": "2024-01-01",
            "creditingEnd": "2033-12-31", "expectedReductions": 1_200_000,
            "pddHash": PDD_HASH} | fields


def submit_project(world: World, project: str = PROJECT, *, signer: str = OWNER,
                   **fields: Any) -> Receipt:
    return world.by(signer, "project_submit", **project_fields(project, **fields))


def comment(world: World, project: str = PROJECT, *, author: str = "sgs",
            summary: str = "the grid emission factor is out of date") -> Receipt:
    return world.by(author, "project_comment", project=project, commentHash=COMMENT_HASH,
                    summary=summary)


def validate(world: World, project: str = PROJECT, validator: str = "cec") -> Receipt:
    return world.by(validator, "project_validate", project=project, validator=validator,
                    validationHash=VALIDATION_HASH)


def register(world: World, project: str = PROJECT) -> Receipt:
    return world.by("registry", "project_register", project=project)


def past_comment_period(world: World, project: str = PROJECT) -> date:
    """Move the clock to the first day after the project's comment period; that day."""
    until = date.fromisoformat(row(world, "projects", project)["comments_until"])
    move_clock_to(world, until + timedelta(days=1))
    return today(world)


def register_project(world: World, project: str = PROJECT, *, validator: str = "cec",
                     **fields: Any) -> Receipt:
    """Submit `project` (project_fields, `fields` overriding), let its comment period pass,
    have `validator` validate it and the registry register it: the registration's receipt."""
    submit_project(world, project, **fields)
    past_comment_period(world, project)
    validate(world, project, validator)
    return register(world, project)


def set_status(world: World, action: str, project: str = PROJECT,
               reason: str = "monitoring equipment tampered with") -> Receipt:
    return world.by("registry", "project_status", project=project, action=action,
                    reason=reason)


# --- monitoring, verification and issuance ---------------------------------------------------

REPORT_HASH = "0x" + "9e" * 32


def report_period(world: World, period: str, start: str, end: str, claimed: int, *,
                  project: str = PROJECT, signer: str = OWNER) -> Receipt:
    return world.by(signer, "monitoring_submit", project=project, period=period,
                    startDate=start, endDate=end, reportHash=REPORT_HASH,
                    claimedReductions=claimed)


def verify_period(world: World, period: str, verified: int, *, project: str = PROJECT,
                  verifier: str = "sgs") -> Receipt:
    """`verifier` (by default SGS: CEC validated GANSU-WIND) verifies the period."""
    return world.by(verifier, "monitoring_verify", project=project, period=period,
                    verifier=verifier, verifiedReductions=verified)


def issue(world: World, batch: str, period: str, quantity: int, *, project: str = PROJECT,
          account: str = OWNER_ACCOUNT) -> Receipt:
    return world.by("registry", "ccer_issue", batch=batch, project=project, period=period,
                    quantity=quantity, account=account)


def set_project_rules(world: World, **keys: Any) -> Receipt:
    """The registry changes keys of CCER's [projects] section."""
    import json

    from ledger.schemes import load_rules_dir

    document = load_rules_dir()["CCER"].as_json()
    document["projects"] = {**document["projects"], **keys}
    return world.by("registry", "set_scheme_rules", scheme="CCER", rules=json.dumps(document))
