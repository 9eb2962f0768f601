"""Running ledger writers in real processes, and checking what they were told.

Children are started with the "spawn" method and import this module, not the tests: each job
builds its own `Store` from the database URL (a connection never crosses a process boundary) and
signs its own instructions with its own key. What a child hands back is plain values
(`Outcome`), since a `Rejected` does not survive pickling with its reason.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.client import Wallet
from ledger.engine import Ledger, Result
from ledger.errors import Rejected
from ledger.instructions import SignedInstruction
from ledger.journal import Receipt
from ledger.store.database import Store
from tests.world import DOMAIN, OPERATIONS

SPAWN = multiprocessing.get_context("spawn")
Transfer = tuple[str, str, int]  # (fromAccount, toAccount, quantity) of one batch


@dataclass(frozen=True)
class Outcome:
    """The ledger's answer to one instruction: a receipt's fields, or the refusal's reason."""

    instruction_id: str
    seq: int | None = None
    entry_hash: str | None = None
    duplicate: bool = False
    refused: str | None = None  # a `Reason` name
    nonce: int | None = None  # the signer's, when the submitter knows it

    @property
    def accepted(self) -> bool:
        return self.seq is not None


def outcome_of(signed: SignedInstruction, result: Result) -> Outcome:
    instruction_id = "0x" + signed.instruction.id.hex()
    nonce = signed.approvals[0].nonce
    if isinstance(result, Rejected):
        return Outcome(instruction_id, refused=result.reason.name, nonce=nonce)
    assert isinstance(result, Receipt)
    assert result.instruction_id == instruction_id
    return Outcome(instruction_id, result.seq, result.entry_hash, result.duplicate, nonce=nonce)


# --- a team of worker processes -------------------------------------------------------------


class Workers:
    """Spawned processes that run one job each per `run`, all starting at the same moment.

    They outlive a run so that each race does not pay again for starting Python and importing
    the ledger (about a second of CPU per process); every job still opens its own `Store`.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._start()

    def _start(self) -> None:
        self.gate = SPAWN.Barrier(self.count)
        self.pipes: list[Any] = []
        self.processes: list[Any] = []
        for _ in range(self.count):
            ours, theirs = SPAWN.Pipe()
            process = SPAWN.Process(target=_serve, args=(theirs, self.gate), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)

    def run(self, target: Callable[..., Any], jobs: Sequence[tuple[Any, ...]],
            timeout_s: float = 60) -> list[Any]:
        """`target(start, *job)` in worker i for job i; their results, in job order. Each job
        prepares, then calls `start.wait()`. An exception in a job fails the caller, and so does
        a worker that dies or does not answer in time (the team is then replaced)."""
        assert len(jobs) == self.count, f"{len(jobs)} jobs for {self.count} workers"
        self.gate.reset()
        deadline = time.monotonic() + timeout_s
        answers = []
        try:
            for pipe, job in zip(self.pipes, jobs, strict=True):
                pipe.send((target, job))
            for index, pipe in enumerate(self.pipes):
                if not pipe.poll(max(deadline - time.monotonic(), 0)):
                    raise AssertionError(f"worker {index} gave no answer in {timeout_s} s")
                answers.append(pipe.recv())
        except (AssertionError, EOFError, OSError):
            self.close()
            self._start()
            raise
        failures = [f"worker {i}:\n{value}" for i, (ok, value) in enumerate(answers) if not ok]
        assert not failures, "\n".join(failures)
        return [value for _, value in answers]

    def close(self) -> None:
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            if process.is_alive():
                with contextlib.suppress(OSError):
                    pipe.send(None)
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


def _serve(pipe: Any, start: Any) -> None:
    while (work := pipe.recv()) is not None:
        target, job = work
        try:
            answer = (True, target(start, *job))
        except BaseException:
            start.abort()  # release the others rather than leave them waiting for this one
            answer = (False, traceback.format_exc())
        pipe.send(answer)


# --- what the children do -------------------------------------------------------------------


def submit(ledger: Ledger, signed: Sequence[SignedInstruction]) -> list[Result]:
    """One instruction through `submit`, several through `submit_many`: one transaction."""
    if len(signed) > 1:
        return ledger.submit_many(signed)
    try:
        return [ledger.submit(signed[0])]
    except Rejected as rejected:
        return [rejected]


def _open_ledger(url: str) -> tuple[Store, Ledger]:
    """A ledger on this process's own connection, opened before the race starts."""
    store = Store(url)
    ledger = Ledger(store, OPERATIONS)
    assert ledger.domain == DOMAIN  # reads the genesis, and connects
    return store, ledger


@dataclass(frozen=True)
class TransferPlan:
    """One child's work: sign these transfers with its own key, in order, and submit them one
    per transaction (`submission_size` 1) or `submission_size` per `submit_many`."""

    url: str
    private_key: bytes
    batch: str
    transfers: tuple[Transfer, ...]
    submission_size: int = 1
    stop_on: str | None = None  # stop after the first refusal with this reason


def submit_transfers(start: Any, plan: TransferPlan) -> list[list[Outcome]]:
    """Returns the outcomes of each transaction, in the order submitted."""
    wallet = Wallet(plan.private_key, DOMAIN)
    signed = [wallet.sign(OPERATIONS.instruction("transfer", fromAccount=source,
                                                 toAccount=destination, batch=plan.batch,
                                                 quantity=quantity))
              for source, destination, quantity in plan.transfers]
    store, ledger = _open_ledger(plan.url)
    transactions: list[list[Outcome]] = []
    start.wait()
    try:
        for first in range(0, len(signed), plan.submission_size):
            chunk = signed[first:first + plan.submission_size]
            outcomes = [outcome_of(s, r)
                        for s, r in zip(chunk, submit(ledger, chunk), strict=True)]
            transactions.append(outcomes)
            if plan.stop_on and any(o.refused == plan.stop_on for o in outcomes):
                break
    finally:
        store.dispose()
    return transactions


def submit_signed(start: Any, url: str, documents: Sequence[dict[str, Any]]) -> list[Outcome]:
    """Submit instructions signed elsewhere (their JSON form), one per transaction."""
    signed = [OPERATIONS.parse_signed(document) for document in documents]
    store, ledger = _open_ledger(url)
    start.wait()
    try:
        return [outcome_of(s, ledger.submit(s)) for s in signed]
    finally:
        store.dispose()


@dataclass(frozen=True)
class WriterPlan:
    """A writer that runs until it is killed: random transfers from its account to the others,
    one or several in one submission. Before each submission of several it logs their
    instruction ids; after each acknowledged submit it logs the receipts and fsyncs the log;
    it sets `ready` once its first receipt is on disk. An unexpected exception is written to
    `error_log` before it dies."""

    url: str
    private_key: bytes
    batch: str
    account: str
    others: tuple[str, ...]
    log: Path
    seed: int

    @property
    def error_log(self) -> Path:
        return self.log.with_name(self.log.name + ".error")


def write_until_killed(plan: WriterPlan, ready: Any) -> None:
    try:
        _write_forever(plan, ready)
    except BaseException:
        plan.error_log.write_text(traceback.format_exc())
        raise


def _write_forever(plan: WriterPlan, ready: Any) -> None:
    rng = random.Random(plan.seed)
    store = Store(plan.url)
    ledger = Ledger(store, OPERATIONS)
    wallet = Wallet(plan.private_key, ledger.domain)
    with store.read() as tx:  # a restarted writer continues above its last journaled nonce
        (wallet.nonce,) = tx.one("SELECT last_nonce FROM signing_keys WHERE address = :a",
                                 {"a": wallet.address})
    with plan.log.open("a") as log:
        while True:
            signed = [wallet.sign(OPERATIONS.instruction(
                "transfer", fromAccount=plan.account, toAccount=rng.choice(plan.others),
                batch=plan.batch, quantity=rng.randint(1, 5)))
                for _ in range(rng.choice((1, 1, 2, 10)))]
            if len(signed) > 1:  # a kill needs no fsync to keep this: the kernel has it
                log.write(json.dumps({"submission": ["0x" + s.instruction.id.hex()
                                                     for s in signed]}) + "\n")
                log.flush()
            results = submit(ledger, signed)
            refused = [r for r in results if isinstance(r, Rejected)]
            # the tests that use these writers rely on every transfer being accepted (their
            # all-or-nothing check of a submission, their wait for a first receipt): a refusal
            # breaks that premise, so it ends the writer with its reason, in its error log
            assert not refused, f"a transfer was refused: {refused[0]}"
            lines = [json.dumps({"seq": r.seq, "instruction_id": r.instruction_id,
                                 "entry_hash": r.entry_hash}) + "\n"
                     for r in results if isinstance(r, Receipt)]
            if lines:
                log.write("".join(lines))
                log.flush()
                os.fsync(log.fileno())
                if not ready.is_set():
                    ready.set()


@dataclass
class WriterLogs:
    """What the writers logged: the receipts they were given, and the submissions of several
    they sent."""

    acknowledged: list[Outcome]
    submissions: list[list[str]]  # instruction ids

    @classmethod
    def read(cls, paths: Iterable[Path]) -> WriterLogs:
        logs = cls([], [])
        for path in paths:
            *complete, _cut_short_by_a_kill = path.read_text().split("\n")
            for record in map(json.loads, complete):
                if "submission" in record:
                    logs.submissions.append(record["submission"])
                else:
                    logs.acknowledged.append(Outcome(record["instruction_id"], record["seq"],
                                                     record["entry_hash"]))
        return logs


# --- checks in the parent -------------------------------------------------------------------


def assert_gapless(store: Store) -> int:
    """The journal holds exactly the entries 0..head; returns the head."""
    with store.read() as tx:
        count, low, high = tx.one("SELECT COUNT(*), MIN(seq), MAX(seq) FROM journal")
        head = tx.head
    assert (count, low, high) == (head + 1, 0, head), \
        f"journal: {count} entries, seq {low}..{high}, head {head}"
    return head


def assert_in_journal(store: Store, outcomes: Iterable[Outcome]) -> None:
    """Each accepted outcome's entry is in the journal at the seq its submitter was told."""
    told = {o: o.seq for o in outcomes if o.seq is not None}
    if not told:
        return
    with store.read() as tx:
        rows = {row.seq: row
                for row in tx.journal_rows(min(told.values()), max(told.values()) + 1)}
    for outcome, seq in told.items():
        row = rows.get(seq)
        assert row is not None, f"acknowledged entry {seq} is missing from the journal"
        stored = ("0x" + row.instruction_id.hex(), "0x" + row.leaf_hash.hex())
        assert stored == (outcome.instruction_id, outcome.entry_hash), \
            f"entry {seq} is {stored}, its submitter was told {outcome}"


def assert_nothing_negative(store: Store) -> None:
    with store.read() as tx:
        negative = tx.all("SELECT account, batch FROM holdings WHERE tradable < 0 OR pledged < 0 "
                          "OR retired < 0 OR surrendered < 0 OR cancelled < 0")
    assert not negative, f"negative holdings: {negative}"
