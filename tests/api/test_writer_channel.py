"""The writer's channel in process: `serve_writes` (the writer process's loop) on a Unix socket
in a thread of its own, and `WriterCommitter`s (the HTTP workers' committer) on other event
loops, over a real ledger on SQLite and on PostgreSQL.

What a worker's client would check: every submission answered with its own receipt, once it
has committed, in journal order; an array together and in order; a refusal refusing nothing
else; a transaction's failure handed to exactly its own requests; and a 503 problem, never a
traceback, when the writer cannot be reached, after which the same signed instruction is
accepted once it is back."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.group_commit import CommitterClosed, GroupCommitter
from api.http import create_app
from api.service import LedgerService, Parts
from api.writer import protocol
from api.writer.client import WriterCommitter, WriterUnavailable, install_problems
from api.writer.server import serve_writes
from ledger.clock import FixedClock
from ledger.errors import Reason, Rejected
from ledger.journal import Receipt
from ledger.signature_check import CHECKED
from ledger.store.database import Store
from ledger.store.errors import StoreError, StoreFailure
from tests.api.test_group_commit import (
    ALLOCATION_T,
    _head_held,
    _holders,
    _steal,
    _transfer,
)
from tests.world import World


@pytest.fixture
def world(any_store: Store, clock: FixedClock) -> Iterator[World]:
    world = World.create(any_store, clock)
    yield world
    world.assert_invariants()


@pytest.fixture
def service(world: World) -> LedgerService:
    return LedgerService(Parts(ledger=world.ledger))


@pytest.fixture
def socket_path() -> Iterator[str]:
    """A socket in a short private directory (a Unix socket's path is at most 107 bytes,
    and pytest's directories are long)."""
    directory = tempfile.mkdtemp(prefix="cl-writer-")
    yield str(Path(directory) / "writer.sock")
    shutil.rmtree(directory, ignore_errors=True)


class Writer:
    """`serve_writes` on its own event loop in a thread, as the writer process runs it."""

    def __init__(self, service: LedgerService, socket_path: str, *, max_batch: int = 500
                 ) -> None:
        self.committer = GroupCommitter(service, max_batch=max_batch)
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        listening = threading.Event()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(
            serve_writes(self.committer, socket_path, self._stop, listening.set),))
        self._thread.start()
        assert listening.wait(10), "the writer did not listen"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        assert not self._thread.is_alive()
        self._loop.close()


@contextmanager
def writing(service: LedgerService, socket_path: str, *, max_batch: int = 500
            ) -> Iterator[Writer]:
    writer = Writer(service, socket_path, max_batch=max_batch)
    try:
        yield writer
    finally:
        writer.stop()


def _in_own_loop(calls: Any) -> threading.Thread:
    """Run the coroutine function `calls` on an event loop of a new thread (a worker's)."""
    thread = threading.Thread(target=lambda: asyncio.run(calls()))
    thread.start()
    return thread


def test_two_workers_requests_share_the_writers_transactions_in_journal_order(
        world: World, service: LedgerService, socket_path: str) -> None:
    clients_per_worker, per_client = 8, 6
    clients = 2 * clients_per_worker
    wallets = _holders(world, clients)
    head = service.head()
    documents = [[_transfer(world, wallets, i, (i + 1 + k % (clients - 1)) % clients, k + 1)
                  for k in range(per_client)] for i in range(clients)]
    answers: dict[int, list[Any]] = {}

    def worker(first: int) -> Any:
        # each worker process has its own; one checks the signatures itself, as served
        # workers do, the other leaves them to the writer: one transaction carries both
        check = service.check_signatures if first else None
        committer = WriterCommitter(socket_path, check)

        async def client(i: int) -> None:  # one at a time, as an HTTP client does
            answers[i] = [(await committer.submit_many_async([document]))[0]
                          for document in documents[i]]

        async def clients_of_worker() -> None:
            await asyncio.gather(*(client(i) for i in range(first, first + clients_per_worker)))
            committer.close()

        return clients_of_worker

    with writing(service, socket_path) as writer:
        workers = [_in_own_loop(worker(0)), _in_own_loop(worker(clients_per_worker))]
        for thread in workers:
            thread.join(120)
        statistics = writer.committer.statistics

    submitted = clients * per_client
    receipts = [r for i in range(clients) for r in answers[i]]
    assert all(isinstance(r, Receipt) and not r.duplicate for r in receipts), receipts
    # distinct, gapless, and each client's in the order it sent them
    assert sorted(r.seq for r in receipts) == list(range(head + 1, head + 1 + submitted))
    entries = {e.seq: e for e in service.journal(head + 1, head + 1 + submitted)}
    for i in range(clients):
        seqs = [r.seq for r in answers[i]]
        assert seqs == sorted(seqs)
        for document, receipt in zip(documents[i], answers[i], strict=True):
            assert receipt.instruction_id == document["id"]
            assert entries[receipt.seq].entry_hash == receipt.entry_hash
            assert entries[receipt.seq].document["instruction"]["id"] == document["id"]
    # both workers' requests were gathered into the one writer's transactions
    assert statistics.instructions == submitted and statistics.failed == 0
    assert statistics.transactions < submitted and statistics.largest > 1, statistics
    for i in range(clients):
        (own,) = service.holdings(account=f"E{i}", batch=f"A{i}")
        assert own.total == ALLOCATION_T - sum(range(1, per_client + 1))


def test_an_array_stays_together_and_a_refusal_refuses_nothing_else(
        world: World, service: LedgerService, socket_path: str) -> None:
    wallets = _holders(world, 4)
    head = service.head()
    array = [_transfer(world, wallets, 1, 2, 1), _transfer(world, wallets, 1, 3, 2),
             _transfer(world, wallets, 1, 2, ALLOCATION_T)]  # the last is more than is left
    single = _transfer(world, wallets, 2, 0, 1)
    with writing(service, socket_path) as writer:
        committer = WriterCommitter(socket_path)

        async def both() -> list[list[Any]]:
            return list(await asyncio.gather(committer.submit_many_async(array),
                                             committer.submit_many_async([single])))

        with _head_held(world.store):  # both reach the writer before anything commits
            answered = _Answer(both)
            _taken(writer, received=4, queued=None)
        (first, second, third), (alone,) = answered.value()
        committer.close()
    assert isinstance(first, Receipt) and isinstance(second, Receipt)
    assert isinstance(third, Rejected) and third.reason is Reason.insufficient_tradable
    assert isinstance(alone, Receipt)
    assert second.seq == first.seq + 1  # together, in order
    assert sorted([first.seq, second.seq, alone.seq]) == [head + 1, head + 2, head + 3]


def test_signatures_checked_by_the_worker_refuse_a_forgery_alone(
        world: World, service: LedgerService, socket_path: str) -> None:
    wallets = _holders(world, 3)
    head = service.head()
    forged = _transfer(world, wallets, 1, 2, 5)
    forged = {**forged, "fields": {**forged["fields"], "quantity": 500}}  # raised once signed
    array = [_transfer(world, wallets, 1, 2, 1), forged, _transfer(world, wallets, 1, 0, 2)]
    with writing(service, socket_path):
        committer = WriterCommitter(socket_path, service.check_signatures)
        first, refused, third = asyncio.run(committer.submit_many_async(array))
        committer.close()
    assert isinstance(refused, Rejected) and refused.reason is Reason.bad_signature
    assert isinstance(first, Receipt) and isinstance(third, Receipt)
    assert (first.seq, third.seq) == (head + 1, head + 2)
    (target,) = service.holdings(account="E2", batch="A1")
    assert target.total == 1


def test_a_request_whose_verdicts_do_not_match_its_documents_is_not_understood() -> None:
    documents: list[Any] = [{"op": "transfer"}, {"op": "transfer"}]
    for verdicts in ([CHECKED], [CHECKED, "checked"], "checked"):
        payload = protocol.request(7, documents, verdicts)[4:]  # type: ignore[arg-type]
        with pytest.raises(protocol.ProtocolError, match="not a request of version 2"):
            protocol.read_request(payload)
    assert protocol.read_request(protocol.request(7, documents, None)[4:]) == (7, documents,
                                                                               None)


def test_a_failed_transaction_reaches_exactly_its_own_requests(
        world: World, service: LedgerService, socket_path: str) -> None:
    wallets = _holders(world, 7)
    _steal(world, service, "E6", "A6", "E5")  # an insider's edit: E5's next spend fails
    head = service.head()
    poisoned = wallets[5].sign(world.instruction(
        "transfer", fromAccount="E5", toAccount="E1", batch="A6",
        quantity=ALLOCATION_T)).as_json()
    first, fine, later = (_transfer(world, wallets, i, i + 1, 10) for i in range(3))
    # two instructions a transaction: [first], [fine, poisoned], [later]
    with writing(service, socket_path, max_batch=2) as writer:
        committer = WriterCommitter(socket_path)

        async def three() -> list[Any]:
            return list(await asyncio.gather(
                committer.submit_many_async([fine]), committer.submit_many_async([poisoned]),
                committer.submit_many_async([later]), return_exceptions=True))

        with _head_held(world.store):
            alone = _Answer(lambda: committer.submit_many_async([first]))
            _taken(writer, received=1)  # its transaction waits for the head
            answered = _Answer(three)
            _taken(writer, received=4, queued=3)
        (first_receipt,) = alone.value()
        failed_fine, failure, [later_receipt] = answered.value()
        committer.close()
    assert isinstance(failure, StoreError) and failure.code is StoreFailure.store_inconsistent
    assert isinstance(failed_fine, StoreError)
    assert failed_fine.code is StoreFailure.store_inconsistent
    assert isinstance(first_receipt, Receipt) and first_receipt.seq == head + 1
    assert isinstance(later_receipt, Receipt) and later_receipt.seq == head + 2
    assert service.head() == head + 2  # nothing of the failed transaction was written
    _steal(world, service, "E5", "A6", "E6")


def _taken(writer: Writer, *, received: int, queued: int | None = 0) -> None:
    """Wait until the writer has received `received` instructions and `queued` of them wait
    (None: however many)."""
    deadline = time.monotonic() + 30
    while True:
        statistics = writer.committer.statistics
        if statistics.received == received and queued in (None, statistics.queued):
            return
        assert time.monotonic() < deadline, statistics
        time.sleep(0.005)


class _Answer:
    """A coroutine function run on an event loop of its own thread, started at once;
    `value()` waits for what it returned."""

    def __init__(self, calls: Any) -> None:
        self._result: list[Any] = []
        self._thread = threading.Thread(target=lambda: self._result.append(asyncio.run(calls())))
        self._thread.start()

    def value(self) -> Any:
        self._thread.join(60)
        assert self._result, "the requests were not answered"
        return self._result[0]


def test_a_write_gets_503_while_the_writer_is_gone_and_the_same_instruction_after(
        world: World, service: LedgerService, socket_path: str) -> None:
    wallets = _holders(world, 2)
    head = service.head()
    document = _transfer(world, wallets, 0, 1, 5)
    app = create_app(service, committer=WriterCommitter(socket_path))
    install_problems(app)
    with TestClient(app, raise_server_exceptions=False) as http:
        gone = http.post("/v1/instructions", json=document)
        assert gone.status_code == 503
        assert gone.headers["content-type"] == "application/problem+json"
        assert gone.headers["retry-after"] == "1"
        problem = gone.json()
        assert problem["code"] == "writer_unavailable" and problem["retryable"] is True
        assert "nothing was written" in problem["detail"]
        assert "Traceback" not in gone.text
        assert service.head() == head

        with writing(service, socket_path):
            back = http.post("/v1/instructions", json=document)
            assert back.status_code == 200, back.text
            receipt = back.json()["receipt"]
            assert (receipt["seq"], receipt["duplicate"]) == (head + 1, False)
            again = http.post("/v1/instructions", json=[document])  # an array, the same
            assert again.json()["results"][0]["receipt"]["duplicate"] is True
        # stopped again: the connection it had is gone, and the next write says so
        assert http.post("/v1/instructions", json=document).status_code == 503
    assert service.head() == head + 1


def test_a_request_under_way_when_the_writer_goes_is_answered_outcome_unknown(
        world: World, service: LedgerService, socket_path: str) -> None:
    """The connection drops with a request in flight: the worker cannot know whether its
    transaction committed, and says so (the writer's own stop answers what it took; this
    is a writer that vanished, as a killed process does)."""
    wallets = _holders(world, 2)
    document = _transfer(world, wallets, 0, 1, 5)

    async def vanishing_writer() -> Any:
        async def take_and_vanish(reader: asyncio.StreamReader,
                                  writer: asyncio.StreamWriter) -> None:
            assert await protocol.read_frame(reader) == protocol.HELLO
            writer.write(protocol.frame(protocol.READY))
            await protocol.read_frame(reader)  # a request: then the writer is gone
            writer.close()

        server = await asyncio.start_unix_server(take_and_vanish, path=socket_path)
        try:
            committer = WriterCommitter(socket_path)
            with pytest.raises(WriterUnavailable) as lost:
                await committer.submit_many_async([document])
            committer.close()
            return lost.value
        finally:
            server.close()

    lost = asyncio.run(vanishing_writer())
    assert lost.outcome_known is False
    assert "may or may not have been applied" in str(lost)
    assert "SAME signed instructions" in str(lost)


def test_a_closed_committer_refuses_and_a_stopping_writer_takes_nothing_new(
        service: LedgerService, socket_path: str) -> None:
    committer = WriterCommitter(socket_path)
    committer.close()
    with pytest.raises(CommitterClosed):
        asyncio.run(committer.submit_many_async([{"op": "transfer"}]))
    assert asyncio.run(WriterCommitter(socket_path).submit_many_async([])) == []
    with writing(service, socket_path) as writer:
        writer.committer.close()  # as when the writer stops: it takes no new request
        with pytest.raises(CommitterClosed):
            WriterCommitter(socket_path).submit({"op": "transfer"})
