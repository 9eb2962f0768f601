"""A compliance market to test in, and the monthly data the tests share.

Huaneng (an emitter: compliance account HN) has two power installations in CN-ETS, HN-1 and
HN-2, and a flow meter FLOW-1 on HN-1, calibrated for 2025 and 2026; Baowu (an emitter:
compliance account BW) has one steel installation, BW-1, with an uncalibrated meter FLOW-9;
CEC is a verification body. The ledger's clock starts on 2025-01-02, so a year of monthly data
can be submitted on time; tests move it forward only (the journal's times never go back).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from compliance import calendar
from compliance.figures import figures_json
from ledger.clock import FixedClock
from ledger.journal import Receipt
from ledger.store.database import Store
from tests.world import OPERATIONS, World

START = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)  # 17:00 in Beijing, CN-ETS's market day
DOCUMENT_HASH = "0x" + "ab" * 32
CERTIFICATE_HASH = "0x" + "cd" * 32


def compliance_world(store: Store, clock: FixedClock) -> World:
    """The market described above, on `store`."""
    clock.moment = START
    world = World.create(store, clock)
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("baowu", "emitter", "BW", "compliance")
    world.participant("cec", "verifier")
    register_installation(world, "HN-1", "huaneng", name="Huaneng Shidongkou unit 1")
    register_installation(world, "HN-2", "huaneng", name="Huaneng Shidongkou unit 2")
    register_installation(world, "BW-1", "baowu", sector="steel", name="Baowu Baoshan works")
    world.by("huaneng", "instrument_register", instrument="FLOW-1", installation="HN-1",
             parameter="coal feed (t)")
    world.by("huaneng", "instrument_calibrate", instrument="FLOW-1",
             calibratedBy="Shanghai Institute of Metrology", calibratedOn="2025-01-01",
             validUntil="2026-12-31", certificateHash=CERTIFICATE_HASH)
    world.by("baowu", "instrument_register", instrument="FLOW-9", installation="BW-1",
             parameter="coke feed (t)")
    return world


def register_installation(world: World, installation: str, emitter: str, *,
                          scheme: str = "CN-ETS", sector: str = "power",
                          name: str = "An installation") -> Receipt:
    return world.by("registry", "installation_register", installation=installation,
                    emitter=emitter, scheme=scheme, sector=sector, name=name)


def line(activity: str, factor: str = "1", *, unit: str = "t", factor_unit: str = "kgCO2/t",
         source: str = "coal", instrument: str = "") -> dict[str, str]:
    """One line of monthly figures; by default `activity` tonnes at 1 kgCO2/t."""
    return {"source": source, "activity": activity, "activityUnit": unit, "factor": factor,
            "factorUnit": factor_unit, "instrument": instrument}


def figures_of_kg(kg: int, instrument: str = "") -> str:
    """Figures whose exact total is `kg` kilograms."""
    return figures_json([line(str(kg), instrument=instrument)])


def monthly(submission: str, installation: str, month: str, kg: int, **fields: Any
            ) -> dict[str, Any]:
    """The fields of a monthly_submit of `kg` kilograms; `fields` override any."""
    return {"submission": submission, "installation": installation, "month": month,
            "documentHash": DOCUMENT_HASH, "documentFormat": "json",
            "figures": figures_of_kg(kg), "totalKg": kg, "supersedes": ""} | fields


def move_clock_to(world: World, day: date) -> None:
    """Move the clock forward to 09:00 UTC of `day` (never back)."""
    moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    world.clock.moment = max(world.clock.moment, moment)


def submit_year(world: World, emitter: str, installation: str, year: int,
                kg_per_month: int) -> list[str]:
    """Twelve monthly submissions of `kg_per_month` each, ids `<installation>:<month>`, each
    on the third day after its month (on time, if the clock is not already past it); the
    clock ends after the year. The ids, January first."""
    ids = []
    for month in calendar.months_of(year):
        move_clock_to(world, calendar.last_day(month) + timedelta(days=3))
        submission = f"{installation}:{month}"
        world.by(emitter, "monthly_submit", **monthly(submission, installation, month,
                                                      kg_per_month))
        ids.append(submission)
    return ids


def report(world: World, emitter: str, year: int, submissions: list[str], *,
           report_id: str = "R1", signer: str | None = None, scheme: str = "CN-ETS") -> Receipt:
    return world.by(signer or emitter, "annual_report_submit", report=report_id,
                    emitter=emitter, year=year, scheme=scheme, documentHash=DOCUMENT_HASH,
                    submissions=json.dumps(submissions))


def row(world: World, table: str, *key: Any) -> dict[str, Any]:
    """A row of the compliance table `table` (its name), by its primary key."""
    with world.store.read() as tx:
        found = tx.row(OPERATIONS.tables[table], key)
    assert found is not None, f"{table} has no {key}"
    return dict(found)


def rows(world: World, table: str) -> list[dict[str, Any]]:
    """Every row of a compliance table, in primary-key order."""
    table_ = OPERATIONS.tables[table]
    columns = [column.name for column in table_.columns]
    keys = [column.name for column in table_.primary_key.columns]
    with world.store.read() as tx:
        found = tx.all(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(keys)}")
    return [dict(zip(columns, values, strict=True)) for values in found]


# --- verifiers, verification and surrender ------------------------------------------------


def qualify(world: World, verifier: str = "cec", sector: str = "power", action: str = "grant",
            reason: str = "accredited by CNCA") -> Receipt:
    return world.by("registry", "verifier_qualify", verifier=verifier, sector=sector,
                    action=action, reason=reason)


def verify(world: World, emitter: str, year: int, verified_t: int, *, verifier: str = "cec",
           report_id: str = "R1") -> Receipt:
    return world.by(verifier, "verification_sign", verifier=verifier, emitter=emitter,
                    year=year, report=report_id, verifiedEmissions=verified_t)


def reported_year(world: World, emitter: str, installations: list[str], year: int,
                  kg_per_month: int, report_id: str = "R1") -> list[str]:
    """A year of monthly data for each installation, each month's on time (three days after
    it ends), and the annual report naming them. The submission ids."""
    ids = []
    for month in calendar.months_of(year):
        move_clock_to(world, calendar.last_day(month) + timedelta(days=3))
        for installation in installations:
            ids.append(f"{installation}:{month}")
            world.by(emitter, "monthly_submit", **monthly(ids[-1], installation, month,
                                                          kg_per_month))
    report(world, emitter, year, ids, report_id=report_id)
    return ids


def set_compliance_rules(world: World, scheme: str = "CN-ETS", *,
                         offsets: dict[str, Any] | None = None, **compliance: Any) -> Receipt:
    """The registry changes keys of a scheme's [compliance] section (and of its offsets)."""
    from ledger.schemes import load_rules_dir

    document = load_rules_dir()[scheme].as_json()
    section = document["compliance"] = {**document["compliance"], **compliance}
    section["offsets"] = {**section.get("offsets", {}), **(offsets or {})}
    return world.by("registry", "set_scheme_rules", scheme=scheme, rules=json.dumps(document))


# --- a data directory, for the commands (compliance status, risk, credit-record, disclose) ----


def verified_data_dir(data_dir: Path, password: str) -> None:
    """A ledger made by `carbonledger init` in `data_dir` whose journal holds Huaneng's 2025:
    one installation, twelve months (100 t each), the report and CEC's verification of
    1,200 t; HN holds 1,000 t of 2025 allowances, so 200 t are at risk."""
    from api.bootstrap import build, init_ledger, registry_wallet
    from api.config import load_config
    from ledger.client import Wallet

    init_ledger(data_dir, registry="registry", registry_name="Registry", password=password,
                scrypt_n=2**4)
    with build(load_config(data_dir), data_dir, password=lambda: password) as app:
        registry = registry_wallet(app.config, data_dir, password)
        wallets = {"registry": registry}

        def by(who: str, op: str, /, **fields: Any) -> None:
            instruction = app.service.operations.instruction(
                op, deadline=int(datetime.now(UTC).timestamp()) + 3600, **fields)
            app.service.submit(wallets[who].sign(instruction).as_json())

        for name, role, account in (("huaneng", "emitter", "HN"), ("cec", "verifier", None)):
            wallets[name] = Wallet((0xBEEF00 + len(wallets)).to_bytes(32, "big"),
                                   registry.domain)
            by("registry", "register_participant", participant=name, name=name.title(),
               role=role)
            by("registry", "register_key", participant=name, key=wallets[name].address)
            if account:
                by("registry", "open_account", account=account, participant=name,
                   accountType="compliance")
        by("registry", "issue_batch", batch="A25", scheme="CN-ETS", kind="allowance",
           vintage=2025, issuance="free_allocation", quantity=1000, account="HN")
        by("registry", "installation_register", installation="HN-1", emitter="huaneng",
           scheme="CN-ETS", sector="power", name="Shidongkou 1")
        months = calendar.months_of(2025)
        for month in months:
            by("huaneng", "monthly_submit", **monthly(f"HN-1:{month}", "HN-1", month, 100_000))
        by("huaneng", "annual_report_submit", report="R1", emitter="huaneng", year=2025,
           scheme="CN-ETS", documentHash=DOCUMENT_HASH,
           submissions=json.dumps([f"HN-1:{m}" for m in months]))
        by("registry", "verifier_qualify", verifier="cec", sector="power", action="grant",
           reason="accredited")
        by("cec", "verification_sign", verifier="cec", emitter="huaneng", year=2025,
           report="R1", verifiedEmissions=1200)
