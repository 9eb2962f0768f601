"""Load with faults on PostgreSQL: writers in several processes, SIGKILLed and restarted at
random, while every backend of the database is terminated from time to time.

Each writer submits signed transfers from its own account — one at a time and in submissions
of 2..50, by quantity and by serial range (often its highest serials, beyond the first page of its
lots), to accounts that transfer back — and, between them, instructions from a shared pool
that every writer submits in turn (duplicates across processes). When the store reports a lost
connection the writer submits the SAME signed instructions again until it has an answer, as a
client must (docs/DESIGN.md, "Lost connections"). It logs every receipt it is given, fsynced,
before it goes on; an exception of any other kind is written to its error log and ends it.

The parent checks what a registry must guarantee: no writer saw a raw exception; every
acknowledged receipt is in the journal at its seq with its hash; the journal is gapless and
journals no instruction id twice; a submission is in it whole or not at all; supply is conserved,
the invariants hold, nothing is negative; and replay and the audit pass. Used by the test
(short) and by bench/load_faults.py (long, with figures).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from ledger.client import Wallet
from ledger.engine import Ledger, Result
from ledger.errors import Rejected
from ledger.instructions import SignedInstruction
from ledger.journal import Receipt
from ledger.store.database import Store
from ledger.store.errors import StoreError
from tests.ledger.multiprocess_helpers import SPAWN, Outcome
from tests.world import DOMAIN, OPERATIONS, World

SUBMISSION_SIZES = (1, 1, 1, 2, 3, 5, 10, 20, 50)
POOL_SIZE = 400  # shared instructions, submitted by every writer in turn
SUPPLY_T = 1_000_000


@dataclass(frozen=True)
class WriterPlan:
    url: str
    private_key: bytes
    account: str
    others: tuple[str, ...]
    batch: str
    pool: Path  # the shared instructions, one JSON document a line
    log: Path
    seed: int

    @property
    def error_log(self) -> Path:
        return self.log.with_name(self.log.name + ".error")


def write_until_killed(plan: WriterPlan, deadline: float) -> None:
    try:
        _write(plan, deadline)
    except BaseException:
        plan.error_log.write_text(traceback.format_exc())
        raise


def _write(plan: WriterPlan, deadline: float) -> None:
    rng = random.Random(plan.seed)
    store = Store(plan.url)
    ledger = Ledger(store, OPERATIONS)
    wallet = Wallet(plan.private_key, DOMAIN)
    pool = [OPERATIONS.parse_signed(json.loads(line))
            for line in plan.pool.read_text().splitlines()]
    with store.read() as tx:  # a restarted writer signs above its last journaled nonce
        (wallet.nonce,) = tx.one("SELECT last_nonce FROM signing_keys WHERE address = :a",
                                 {"a": wallet.address})
    next_shared = 0  # every writer walks the pool from the start: most answers are duplicates
    with plan.log.open("a") as log:
        while time.time() < deadline:
            if rng.random() < 0.15:
                signed = pool[next_shared:next_shared + rng.choice((1, 2, 5))]
                next_shared = (next_shared + len(signed)) % len(pool)
            else:
                signed = _sign_transfers(store, wallet, plan, rng, rng.choice(SUBMISSION_SIZES))
                if len(signed) > 1:  # a kill needs no fsync to keep this: the kernel has it
                    log.write(json.dumps({"submission": ["0x" + s.instruction.id.hex()
                                                         for s in signed]}) + "\n")
            results, lost = _submit_until_answered(ledger, signed)
            log.write(json.dumps(_record(results, lost)) + "\n")
            log.flush()
            os.fsync(log.fileno())
    store.dispose()


def _sign_transfers(store: Store, wallet: Wallet, plan: WriterPlan, rng: random.Random,
                    count: int) -> list[SignedInstruction]:
    held = _held_ranges(store, plan) if rng.random() < 0.5 else []
    signed = []
    for _ in range(count):
        units: dict[str, Any] = {"quantity": rng.randint(1, 5)}
        if held and rng.random() < 0.6:
            # mostly its highest serials, the lots a spend by quantity reads last; each lot
            # once a submission, or the submission would refuse its own later transfers
            first, last = held.pop(-1 - min(int(rng.expovariate(0.5)), len(held) - 1))
            start = rng.randint(first, last)
            end = min(last, start + rng.randint(0, 3))
            units = {"quantity": end - start + 1, "serialFirst": start, "serialLast": end}
        signed.append(wallet.sign(OPERATIONS.instruction(
            "transfer", fromAccount=plan.account, toAccount=rng.choice(plan.others),
            batch=plan.batch, **units)))
    return signed


def _held_ranges(store: Store, plan: WriterPlan) -> list[tuple[int, int]]:
    """The writer's tradable lots as it last saw them (a range may be gone by the time its
    transfer is applied: that is a refusal, counted like any other)."""
    try:
        with store.read() as tx:
            return [(first, last) for first, last in tx.all(
                "SELECT serial_first, serial_last FROM lots WHERE account = :a AND batch = :b "
                "AND state = 'tradable' ORDER BY serial_first", {"a": plan.account,
                                                                 "b": plan.batch})]
    except StoreError:
        return []


def _submit_until_answered(ledger: Ledger,
                           signed: list[SignedInstruction]) -> tuple[list[Result], Counter[str]]:
    """Submit; after a lost connection, the same signed instructions again (never new ones)."""
    lost: Counter[str] = Counter()
    while True:
        try:
            if len(signed) == 1:
                try:
                    return [ledger.submit(signed[0])], lost
                except Rejected as refused:
                    return [refused], lost
            return ledger.submit_many(signed), lost
        except StoreError as failure:
            lost[failure.code.name] += 1
            time.sleep(0.05)


def _record(results: list[Result], lost: Counter[str]) -> dict[str, Any]:
    return {"receipts": [[r.seq, r.instruction_id, r.entry_hash, r.duplicate]
                         for r in results if isinstance(r, Receipt)],
            "refused": [r.reason.name for r in results if isinstance(r, Rejected)],
            "lost": dict(lost)}


# --- the parent ----------------------------------------------------------------------------


@dataclass
class LoadReport:
    seconds: float
    writers: int
    accepted: int = 0  # operations journaled for the writers (first receipts)
    duplicates: int = 0  # receipts marked duplicate (the pool, and resubmissions)
    refused: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)  # StoreError codes the writers saw
    kills: int = 0
    drops: int = 0  # times every backend of the database was terminated
    errors: list[str] = field(default_factory=list)  # raw exceptions that reached a writer
    acknowledged: list[Outcome] = field(default_factory=list)
    submissions: list[list[str]] = field(default_factory=list)  # the writers' own, by id

    @property
    def accepted_per_s(self) -> float:
        return self.accepted / self.seconds

    def summary(self) -> str:
        refused = ", ".join(f"{n} {reason}" for reason, n in self.refused.most_common())
        lost = ", ".join(f"{n} {code}" for code, n in self.lost.most_common()) or "none"
        return (f"{self.writers} writers, {self.seconds:.0f} s: {self.accepted} operations "
                f"accepted ({self.accepted_per_s:,.0f}/s), {self.duplicates} duplicate "
                f"receipts; {self.kills} writers SIGKILLed, every backend terminated "
                f"{self.drops} times; lost connections seen by writers: {lost}; refused: "
                f"{refused or 'none'}; raw exceptions: {len(self.errors)}")


@dataclass
class LoadSetup:
    world: World
    plans: list[WriterPlan]


def set_up(world: World, directory: Path, writers: int, seed: int) -> LoadSetup:
    """Writers W0..Wn-1 with a share of one batch each, and the shared pool of instructions
    (transfers from a pool account, signed by its own key, in nonce order)."""
    rng = random.Random(seed)
    accounts = [f"W{i}" for i in range(writers)]
    wallets = [world.participant(f"writer{i}", "emitter", account, "trading")
               for i, account in enumerate(accounts)]
    pooler = world.participant("pooler", "emitter", "POOL", "trading")
    world.allocate("A1", "POOL", SUPPLY_T)
    for account in accounts:
        world.by("pooler", "transfer", fromAccount="POOL", toAccount=account, batch="A1",
                 quantity=SUPPLY_T // (writers + 1))
    pool = directory / "pool.jsonl"
    pool.write_text("".join(json.dumps(pooler.sign(world.instruction(
        "transfer", fromAccount="POOL", toAccount=rng.choice(accounts), batch="A1",
        quantity=rng.randint(1, 3), deadline=2**40)).as_json()) + "\n"
        for _ in range(POOL_SIZE)))
    plans = [WriterPlan(world.store.url, wallets[i].private_key, account,
                        tuple(a for a in accounts if a != account), "A1", pool,
                        directory / f"writer{i}.jsonl", rng.getrandbits(64))
             for i, account in enumerate(accounts)]
    return LoadSetup(world, plans)


def run_load(setup: LoadSetup, seconds: float, kill_every_s: float, drop_every_s: float,
             seed: int) -> LoadReport:
    """Run the writers for `seconds`; SIGKILL one (and restart it) every `kill_every_s`, and
    terminate every backend of the database every `drop_every_s`."""
    rng = random.Random(seed)
    report = LoadReport(seconds, len(setup.plans))
    started = time.time()
    deadline = started + seconds
    processes = [_start(plan, deadline) for plan in setup.plans]
    next_kill, next_drop = started + kill_every_s, started + drop_every_s
    while (now := time.time()) < deadline:
        if now >= next_kill:
            i = rng.randrange(len(processes))
            if processes[i].is_alive():
                os.kill(processes[i].pid, signal.SIGKILL)
                processes[i].join()
                report.kills += 1
            processes[i] = _start(setup.plans[i], deadline)
            next_kill += kill_every_s
        if now >= next_drop:
            terminate_backends(setup.world.store.url)
            report.drops += 1
            next_drop += drop_every_s
        time.sleep(0.05)
    for process in processes:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
            process.join()
            report.errors.append("a writer did not stop at the deadline")
    _read_logs(setup.plans, report)
    return report


def _start(plan: WriterPlan, deadline: float) -> Any:
    process = SPAWN.Process(target=write_until_killed, args=(plan, deadline), daemon=True)
    process.start()
    return process


def terminate_backends(url: str) -> int:
    """Every other backend connected to the ledger's database ends (pg_terminate_backend)."""
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    return len(rows)


def _read_logs(plans: list[WriterPlan], report: LoadReport) -> None:
    for plan in plans:
        if plan.error_log.exists():
            report.errors.append(plan.error_log.read_text())
        if not plan.log.exists():
            continue
        *complete, _cut_short_by_a_kill = plan.log.read_text().split("\n")
        for record in map(json.loads, complete):
            if "submission" in record:
                report.submissions.append(record["submission"])
                continue
            for seq, instruction_id, entry_hash, duplicate in record["receipts"]:
                report.acknowledged.append(Outcome(instruction_id, seq, entry_hash))
                if duplicate:
                    report.duplicates += 1
            report.refused.update(record["refused"])
            report.lost.update(record["lost"])
    report.accepted = len({o.instruction_id for o in report.acknowledged})
