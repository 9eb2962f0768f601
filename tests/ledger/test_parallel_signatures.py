"""Signatures checked in a pool of processes while the writer applies the previous submission
(ledger/parallel_signatures.py, `LedgerService.submit_stream`).

What the operator relies on: a stream of submissions through the pool gives exactly the
results and the journal of the same submissions applied one by one by the engine alone, on
SQLite and on PostgreSQL, refusals included; a process of the pool that dies fails the
submission it was checking with an error that names it, nothing of that submission is applied,
and the next one goes through on fresh processes; a transaction that fails is handed to the
caller as it is.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.bootstrap import operation_set
from api.service import POOL_FROM_DOCUMENTS, LedgerService, Parts
from ledger.clock import FixedClock
from ledger.errors import Reason, Rejected
from ledger.journal import Receipt
from ledger.parallel_signatures import SignaturePool, SignaturePoolClosed, SignatureWorkerDied
from ledger.signature_check import SignatureVerdict, verdicts_of
from ledger.store.database import Store, sqlite_url
from ledger.store.errors import StoreError
from tests.ledger.signed_documents import forged, journal, outcome, transfer, two_emitters
from tests.world import DOMAIN, OPERATIONS, World, WorldTemplate, fresh_wallet

pytestmark = pytest.mark.slow  # the pool's processes take a second or two to start


@pytest.fixture(scope="module")
def pool() -> Iterator[SignaturePool]:
    with SignaturePool(DOMAIN, operation_set, processes=2) as pool:
        pool.wait_ready()
        yield pool


@pytest.fixture
def template(migrated_template: Path, tmp_path: Path, clock: FixedClock) -> WorldTemplate:
    """Two emitters, HN and DT, each with an account holding 1,000 t of its own batch."""
    return two_emitters(migrated_template, tmp_path / "template.db", clock.moment, 1_000)


def _twin(template: WorldTemplate, store: Store) -> World:
    """The template's world rebuilt on `store` from its journal: the same instructions at the
    same moment, so the twin's journal is the template's byte for byte."""
    source = Store(sqlite_url(template.path))
    with source.read() as tx:
        rows = tx.journal_rows(0, tx.head + 1)
    source.dispose()
    clock = FixedClock(template.moment)
    world = World(_ledger(store, clock), clock, template.wallets["registry"], template.wallets)
    results = world.ledger.submit_documents([json.loads(row.entry)["instruction"]
                                             for row in rows])
    assert all(isinstance(r, Receipt) for r in results), results
    return world


def _ledger(store: Store, clock: FixedClock) -> Any:
    from ledger.engine import Ledger

    return Ledger(store, OPERATIONS, clock)


def _stream(world: World) -> list[list[Any]]:
    """Submissions a bulk submitter hands in: good transfers both ways, a forged one, one by
    a key the ledger does not know, one of more than is held, text that is no instruction, a
    second signature of one signer, instructions submitted again in later submissions (and
    twice in one), and a small submission the writer checks itself."""
    first_good = transfer(world, "hn", "HN", "DT", "A1", 10)
    stranger = fresh_wallet().sign(world.instruction(
        "transfer", fromAccount="HN", toAccount="DT", batch="A1", quantity=1)).as_json()
    twice = transfer(world, "dt", "DT", "HN", "A2", 2)
    twice = {**twice, "approvals": twice["approvals"] * 2}
    mixed = [first_good, forged(transfer(world, "hn", "HN", "DT", "A1", 5)), stranger,
             transfer(world, "dt", "DT", "HN", "A2", 5_000), {"op": "transfer"}, twice,
             transfer(world, "dt", "DT", "HN", "A2", 7), transfer(world, "hn", "HN", "DT",
                                                                     "A1", 3)]
    again = transfer(world, "dt", "DT", "HN", "A2", 4)
    repeated = [first_good, again, again, *(transfer(world, "hn", "HN", "DT", "A1", q)
                                            for q in range(1, 7))]
    small = [transfer(world, "dt", "DT", "HN", "A2", 1), first_good]
    last = [again, *(transfer(world, "dt", "DT", "HN", "A2", q) for q in range(1, 9))]
    submissions = [mixed, repeated, small, last]
    assert [len(s) >= POOL_FROM_DOCUMENTS for s in submissions] == [True, True, False, True]
    return submissions


def _said(verdicts: list[SignatureVerdict]) -> list[str]:
    """What each verdict says (a Rejected compares as its reason and detail)."""
    return [f"refused {v.reason.name} {v.detail}" if isinstance(v, Rejected) else v.name
            for v in verdicts]


def test_the_pool_gives_the_verdicts_checked_in_process(template: WorldTemplate,
                                                       tmp_path: Path,
                                                       pool: SignaturePool) -> None:
    world = template.copy_into(tmp_path)
    documents = [d for submission in _stream(world) for d in submission]
    assert _said(pool.verdicts(documents)) == _said(
        verdicts_of(documents, OPERATIONS.parse_signed, DOMAIN))
    assert [said.split(" ")[:2] for said in _said(pool.verdicts(documents))[:6]] == [
        ["checked"], ["refused", "bad_signature"], ["checked"], ["checked"],
        ["refused", "malformed_instruction"], ["refused", "duplicate_signer"]]
    assert pool.verdicts([]) == []


def test_a_stream_through_the_pool_journals_what_the_engine_alone_would(
        template: WorldTemplate, tmp_path: Path, any_store: Store,
        pool: SignaturePool) -> None:
    alone = template.copy_into(tmp_path)
    beside = _twin(template, any_store)
    assert journal(beside.store) == journal(alone.store)
    submissions = _stream(alone)
    service = LedgerService(Parts(ledger=alone.ledger))
    by_engine = [service.submit_many(submission) for submission in submissions]
    through_pool = list(LedgerService(Parts(ledger=beside.ledger)).submit_stream(
        submissions, pool))
    assert [outcome(r) for r in through_pool] == [outcome(r) for r in by_engine]
    assert [o.split()[0] + (" duplicate" if o.endswith(" duplicate") else "")
            for o in outcome(by_engine[0] + by_engine[1])] == [
        "receipt", "refused", "refused", "refused", "refused", "refused", "receipt", "receipt",
        "receipt duplicate", "receipt", "receipt duplicate", *["receipt"] * 6]
    assert {r.reason for r in by_engine[0] if isinstance(r, Rejected)} == {
        Reason.bad_signature, Reason.unregistered_key, Reason.insufficient_tradable,
        Reason.malformed_instruction, Reason.duplicate_signer}
    assert journal(beside.store) == journal(alone.store)
    assert beside.holding("DT", "A1") == alone.holding("DT", "A1")
    beside.assert_invariants()


def test_a_failed_transaction_is_handed_over_as_it_is(template: WorldTemplate,
                                                      tmp_path: Path,
                                                      pool: SignaturePool) -> None:
    """The store goes away under the second submission: the caller gets the store's own
    error for it, after the first one's results, and the third is never applied."""
    world = template.copy_into(tmp_path)
    first, second, _, third = _stream(world)
    service = LedgerService(Parts(ledger=world.ledger))
    stream = service.submit_stream([first, second, third], pool)
    assert len(next(stream)) == len(first)
    head = world.head()
    world.store.dispose()
    path = Path(world.store.url.removeprefix("sqlite:///"))
    moved = path.with_suffix(".away")
    path.rename(moved)
    path.mkdir()  # the database is a directory now: no connection opens
    with pytest.raises(StoreError):
        next(stream)
    path.rmdir()
    moved.rename(path)
    with pytest.raises(StopIteration):
        next(stream)  # the stream ended with its failure
    assert world.head() == head
    # the pool is not disturbed: the next stream checks in it as before
    (results,) = service.submit_stream([third], pool)
    assert all(isinstance(r, Receipt) for r in results)
    world.assert_invariants()


def test_a_pool_process_killed_mid_stream_fails_that_submission_alone(
        template: WorldTemplate, tmp_path: Path) -> None:
    world = template.copy_into(tmp_path)
    first, second, _, third = _stream(world)
    service = LedgerService(Parts(ledger=world.ledger))
    with SignaturePool(DOMAIN, operation_set, processes=2) as pool:
        pool.wait_ready()
        killed: list[int] = []

        def submissions() -> Iterator[list[Any]]:
            yield first
            # the first submission is checked; its process dies before it checks the second
            pid = _a_pool_process(pool)
            os.kill(pid, signal.SIGKILL)
            _wait_until_gone(pid)
            killed.append(pid)
            yield second
            yield third

        stream = service.submit_stream(submissions(), pool)
        head = world.head()
        assert len(next(stream)) == len(first)
        assert world.head() == head + 3  # the mix: three of its eight are applied
        head = world.head()
        with pytest.raises(SignatureWorkerDied, match=rf"process {killed[0]} died \(killed by "
                                                      rf"signal {int(signal.SIGKILL)}\)"):
            next(stream)
        assert world.head() == head  # nothing of the second submission was applied
        # the next submission goes through; the pool has started fresh processes
        results = list(service.submit_stream([second, third], pool))
        assert [len(r) for r in results] == [len(second), len(third)]
        assert world.head() > head
        pool.wait_ready()
        assert _a_pool_process(pool) != killed[0]
        assert _said(pool.verdicts(second)) == _said(
            verdicts_of(second, OPERATIONS.parse_signed, DOMAIN))
    with pytest.raises(SignaturePoolClosed):
        pool.check(second)
    world.assert_invariants()


def test_a_pool_on_another_domain_is_refused(template: WorldTemplate, tmp_path: Path) -> None:
    from ledger.instructions import make_domain

    world = template.copy_into(tmp_path)
    with SignaturePool(make_domain(1), operation_set, processes=1) as other:
        stream = LedgerService(Parts(ledger=world.ledger)).submit_stream([[{}]], other)
        with pytest.raises(ValueError, match="another domain"):
            next(stream)


def _a_pool_process(pool: SignaturePool) -> int:
    """The process id of one of the pool's processes (which one checks what is the pool's
    business; a test that kills one needs its id)."""
    pid = pool._workers[0].process.pid
    assert isinstance(pid, int)
    return pid


def _wait_until_gone(pid: int) -> None:
    """Until the killed process has exited (a zombie, its pipe closed, or reaped)."""
    deadline = time.monotonic() + 30
    status = Path(f"/proc/{pid}/status")
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in status.read_text():
                return
        except FileNotFoundError:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not exit")


def test_the_cli_submits_an_array_in_transactions_checked_in_a_pool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`carbonledger submit --per-transaction 5 --signature-processes 1`: the array applied in
    order in transactions of five, a forged instruction in the middle refused alone."""
    from click.testing import CliRunner

    from api.bootstrap import registry_wallet
    from api.cli import main
    from api.config import load_config

    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "correct horse")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    runner, data = CliRunner(), tmp_path / "ledger"
    assert runner.invoke(main, ["--data-dir", str(data), "init"]).exit_code == 0
    wallet = registry_wallet(load_config(data), data, "correct horse")
    documents = [wallet.sign(OPERATIONS.instruction(
        "register_participant", participant=f"p{n}", name=f"Bank {n}", role="bank")).as_json()
        for n in range(12)]
    documents[6] = {**documents[6], "fields": {**documents[6]["fields"], "name": "Forged"}}
    path = tmp_path / "array.json"
    path.write_text(json.dumps(documents))
    result = runner.invoke(main, ["--data-dir", str(data), "submit", "--per-transaction", "5",
                                  "--signature-processes", "1", str(path)])
    assert result.exit_code == 1, result.output  # one was refused
    answers = json.loads(result.output)
    assert [a.get("seq") for a in answers] == [*range(1, 7), None, *range(7, 12)]
    assert answers[6]["reason"] == "bad_signature"
