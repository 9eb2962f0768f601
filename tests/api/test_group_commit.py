"""Group commit: concurrent submissions share one writer's transactions, and each still gets
its own journal entry and receipt; what is refused or fails reaches only whom it concerns.

Which submissions share a transaction is made certain, where a test needs it, by holding the
journal head from the test: the writer's transaction waits for it, the next submissions queue
behind it in an order the test chooses, and are applied together once the head is let go."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from api.group_commit import CommitterClosed, GroupCommitter
from api.service import LedgerService, Parts
from ledger.client import Wallet
from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.errors import Reason, Rejected
from ledger.journal import Receipt
from ledger.store.database import Store
from ledger.store.errors import StoreError, StoreFailure
from tests.world import OPERATIONS, World, fresh_wallet

ALLOCATION_T = 1_000


@pytest.fixture
def world(any_store: Store, clock: FixedClock) -> Iterator[World]:
    """A ledger on SQLite and on PostgreSQL; the invariants are checked when the test ends."""
    world = World.create(any_store, clock)
    yield world
    world.assert_invariants()


@pytest.fixture
def service(world: World) -> LedgerService:
    return LedgerService(Parts(ledger=world.ledger))


def _holders(world: World, count: int) -> list[Wallet]:
    """`count` emitters, E0.., each with an account E<i> holding ALLOCATION_T of its batch
    A<i>; set up in one transaction."""
    wallets = [fresh_wallet() for _ in range(count)]
    setup: list[tuple[str, dict[str, Any]]] = []
    for i, wallet in enumerate(wallets):
        setup += [
            ("register_participant", {"participant": f"e{i}", "name": f"E{i}",
                                      "role": "emitter"}),
            ("register_key", {"participant": f"e{i}", "key": wallet.address}),
            ("open_account", {"account": f"E{i}", "participant": f"e{i}",
                              "accountType": "compliance"}),
            ("issue_batch", {"batch": f"A{i}", "scheme": "CN-ETS", "kind": "allowance",
                             "vintage": 2025, "issuance": "free_allocation",
                             "quantity": ALLOCATION_T, "account": f"E{i}"}),
        ]
    registry = world.wallets["registry"]
    results = world.ledger.submit_many([registry.sign(world.instruction(op, **fields))
                                        for op, fields in setup])
    assert all(isinstance(r, Receipt) for r in results), results
    return wallets


def _transfer(world: World, wallets: list[Wallet], source: int, target: int,
              quantity: int) -> dict[str, Any]:
    """E<source> sends `quantity` of its batch to E<target>: the signed JSON document."""
    return wallets[source].sign(world.instruction(
        "transfer", fromAccount=f"E{source}", toAccount=f"E{target}", batch=f"A{source}",
        quantity=quantity)).as_json()


def _eventually(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)


class Calls:
    """Submissions made from their own threads; each one's answer (or exception) by name."""

    def __init__(self, committer: GroupCommitter) -> None:
        self.committer = committer
        self.answers: dict[str, Any] = {}
        self._threads: list[threading.Thread] = []

    def start(self, name: str, documents: Any, *, many: bool = False,
              awaited: bool = False) -> None:
        """Submit from a new thread, and wait until the submission is queued (so that the
        order of `start` calls is the order of the queue). `awaited`: the thread runs an
        event loop, which awaits `submit_many_async` as the HTTP route does."""
        received = self.committer.statistics.received
        size = len(documents) if many else 1

        def call() -> None:
            try:
                if awaited:
                    results = asyncio.run(self.committer.submit_many_async(
                        documents if many else [documents]))
                    self.answers[name] = results if many else results[0]
                elif many:
                    self.answers[name] = self.committer.submit_many(documents)
                else:
                    self.answers[name] = self.committer.submit(documents)
            except BaseException as exc:
                self.answers[name] = exc

        thread = threading.Thread(target=call, name=name)
        thread.start()
        self._threads.append(thread)
        _eventually(lambda: self.committer.statistics.received >= received + size,
                    f"{name} is queued")

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), f"{thread.name} still waits for an answer"


@contextmanager
def _head_held(store: Store) -> Iterator[None]:
    """Hold the journal head (SQLite's writer lock, PostgreSQL's head row lock), writing
    nothing: the committer's next transaction waits until the block ends."""
    with store.write():
        yield


def _writer_waits(committer: GroupCommitter, calls: Calls, document: dict[str, Any]) -> None:
    """Submit `document` and wait until the writer has taken it: its transaction then waits
    for the held head, and what is submitted next queues behind it."""
    calls.start("first", document)
    _eventually(lambda: committer.statistics.queued == 0, "the writer takes the first")


def test_concurrent_single_submissions_share_transactions_and_each_gets_its_receipt(
        world: World, service: LedgerService) -> None:
    threads, per_thread = 16, 12
    wallets = _holders(world, threads)
    head = service.head()
    # each thread signs as its own holder, so its nonces reach the ledger in order
    documents = [[_transfer(world, wallets, i, (i + 1 + k % (threads - 1)) % threads, k + 1)
                  for k in range(per_thread)] for i in range(threads)]
    receipts: dict[int, list[Any]] = {}
    start = threading.Barrier(threads)

    def client(i: int) -> None:
        start.wait()
        receipts[i] = [committer.submit(document) for document in documents[i]]

    with GroupCommitter(service) as committer:
        workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        statistics = committer.statistics

    submitted = threads * per_thread
    assert len(receipts) == threads, "a client thread failed"
    assert all(isinstance(r, Receipt) and not r.duplicate
               for answers in receipts.values() for r in answers), receipts
    # every instruction is its own journal entry, its receipt naming it
    seqs = sorted(r.seq for answers in receipts.values() for r in answers)
    assert seqs == list(range(head + 1, head + 1 + submitted))
    assert service.head() == head + submitted
    entries = {e.seq: e for e in service.journal(head + 1, head + 1 + submitted)}
    for i in range(threads):
        for document, receipt in zip(documents[i], receipts[i], strict=True):
            assert receipt.instruction_id == document["id"]
            entry = entries[receipt.seq]
            assert entry.entry_hash == receipt.entry_hash
            assert entry.document["instruction"]["id"] == document["id"]
    # ... and they were gathered: fewer transactions than submissions, all of them counted
    assert statistics.instructions == submitted and statistics.failed == 0
    assert statistics.transactions < submitted, statistics
    assert statistics.largest > 1
    # the holdings are what the transfers say
    sent = sum(range(1, per_thread + 1))
    for i in range(threads):
        (own,) = service.holdings(account=f"E{i}", batch=f"A{i}")
        assert own.total == ALLOCATION_T - sent
    assert sum(h.total for h in service.holdings()) == threads * ALLOCATION_T
    report = service.replay_check()
    assert report.ok, report.first_difference
    assert service.check_invariants() == []


def test_a_refused_instruction_refuses_only_itself(world: World,
                                                   service: LedgerService) -> None:
    wallets = _holders(world, 6)
    head = service.head()
    with GroupCommitter(service) as committer:
        calls = Calls(committer)
        with _head_held(world.store):
            _writer_waits(committer, calls, _transfer(world, wallets, 0, 1, 5))
            calls.start("good 1", _transfer(world, wallets, 1, 2, 10))
            calls.start("too much", _transfer(world, wallets, 2, 3, ALLOCATION_T + 1))
            calls.start("good 2", _transfer(world, wallets, 3, 4, 20))
            calls.start("not an instruction", {"op": "transfer", "from": "E4"})
            calls.start("good 3", _transfer(world, wallets, 5, 0, 30))
            time.sleep(0.2)
            assert calls.answers == {}  # nobody is answered before the transaction commits
        calls.join()
        statistics = committer.statistics

    answers = calls.answers
    assert statistics.transactions == 2 and statistics.largest == 5  # the five went together
    assert isinstance(answers["too much"], Rejected)
    assert answers["too much"].reason is Reason.insufficient_tradable
    assert isinstance(answers["not an instruction"], Rejected)
    assert answers["not an instruction"].reason is Reason.malformed_instruction
    good = [answers[name] for name in ("first", "good 1", "good 2", "good 3")]
    assert all(isinstance(r, Receipt) for r in good), good
    assert sorted(r.seq for r in good) == list(range(head + 1, head + 5))
    assert service.head() == head + 4
    assert [h.total for h in service.holdings(account="E2", batch="A2")] == [ALLOCATION_T]
    assert [h.total for h in service.holdings(account="E3", batch="A2")] == []


def _steal(world: World, service: LedgerService, account: str, batch: str,
           thief: str) -> None:
    """An insider moves the account's lot of the batch to the thief's account, behind the
    ledger's back: the thief's holding does not count it."""
    (lot,) = service.lots(batch=batch, account=account)
    with world.store.write() as tx:
        tx.execute("UPDATE lots SET account = :thief WHERE id = :id",
                   {"thief": thief, "id": lot.id})


def test_a_failed_transaction_fails_exactly_its_own_submitters(
        world: World, service: LedgerService) -> None:
    wallets = _holders(world, 7)  # E0..E4 trade; an insider moves E6's lot to E5
    _steal(world, service, "E6", "A6", "E5")
    head = service.head()
    poisoned = wallets[5].sign(world.instruction(
        "transfer", fromAccount="E5", toAccount="E1", batch="A6",
        quantity=ALLOCATION_T)).as_json()
    documents = {name: _transfer(world, wallets, i, (i + 1) % 5, 10)
                 for i, name in enumerate(("first", "before", "after", "next 1", "next 2"))}
    # three instructions a transaction: [first], [before, poisoned, after], [next 1, next 2]
    with GroupCommitter(service, max_batch=3) as committer:
        calls = Calls(committer)
        with _head_held(world.store):
            _writer_waits(committer, calls, documents["first"])
            calls.start("before", documents["before"])
            calls.start("poisoned", poisoned)
            calls.start("after", documents["after"])
            calls.start("next 1", documents["next 1"])
            calls.start("next 2", documents["next 2"])
        calls.join()
        statistics = committer.statistics
        answers = calls.answers

        failure = answers["poisoned"]
        assert isinstance(failure, StoreError)
        assert failure.code is StoreFailure.store_inconsistent
        assert answers["before"] is failure and answers["after"] is failure
        committed = [answers[name] for name in ("first", "next 1", "next 2")]
        assert all(isinstance(r, Receipt) for r in committed), committed
        assert [r.seq for r in committed] == [head + 1, head + 2, head + 3]
        assert (statistics.transactions, statistics.failed) == (3, 1)
        assert service.head() == head + 3  # nothing of the failed transaction was written

        # the client's retry, the SAME signed instructions, now in a transaction of their own
        retried = committer.submit_many([documents["before"], documents["after"]])
        assert [(r.seq, r.duplicate) for r in retried if isinstance(r, Receipt)] == [
            (head + 4, False), (head + 5, False)]
        with pytest.raises(StoreError) as again:
            committer.submit(poisoned)
        assert again.value.code is StoreFailure.store_inconsistent
    assert service.head() == head + 5
    # the insider's edit put back, so that the ledger's invariants hold again
    _steal(world, service, "E5", "A6", "E6")


def test_an_array_stays_together_in_order_in_one_transaction(
        world: World, service: LedgerService) -> None:
    wallets = _holders(world, 4)
    head = service.head()
    array = [_transfer(world, wallets, 1, 2, 1), _transfer(world, wallets, 1, 3, 2),
             _transfer(world, wallets, 1, 2, ALLOCATION_T)]  # the last is more than is left
    with GroupCommitter(service, max_batch=2) as committer:
        calls = Calls(committer)
        with _head_held(world.store):
            _writer_waits(committer, calls, _transfer(world, wallets, 0, 1, 1))
            calls.start("single before", _transfer(world, wallets, 2, 0, 1))
            calls.start("array", array, many=True)
            calls.start("single after", _transfer(world, wallets, 3, 0, 1))
        calls.join()
        statistics = committer.statistics

    answers = calls.answers
    # max_batch 2: the array of three is not split, it goes alone, between the two singles
    assert (statistics.transactions, statistics.largest) == (4, 3)
    first, second, third = answers["array"]
    assert isinstance(first, Receipt) and isinstance(second, Receipt)
    assert isinstance(third, Rejected) and third.reason is Reason.insufficient_tradable
    assert [first.instruction_id, second.instruction_id] == [array[0]["id"], array[1]["id"]]
    assert [answers[name].seq for name in ("first", "single before")] == [head + 1, head + 2]
    assert (first.seq, second.seq) == (head + 3, head + 4)
    assert answers["single after"].seq == head + 5


def test_close_drains_the_queue_then_refuses(world: World, service: LedgerService) -> None:
    wallets = _holders(world, 4)
    head = service.head()
    committer = GroupCommitter(service)
    calls = Calls(committer)
    closing = threading.Thread(target=committer.close)
    with _head_held(world.store):
        _writer_waits(committer, calls, _transfer(world, wallets, 0, 1, 1))
        for i in (1, 2, 3):
            calls.start(f"queued {i}", _transfer(world, wallets, i, 0, 1))
        closing.start()
        _eventually(lambda: committer.closed, "the committer is closing")
        with pytest.raises(CommitterClosed, match="takes no more submissions"):
            committer.submit(_transfer(world, wallets, 0, 2, 1))
        assert closing.is_alive()  # close() waits for the queue to be applied
    closing.join(timeout=60)
    calls.join()

    answers = [calls.answers[name] for name in ("first", "queued 1", "queued 2", "queued 3")]
    assert all(isinstance(r, Receipt) for r in answers), answers
    assert service.head() == head + 4
    with pytest.raises(CommitterClosed):
        committer.submit_many([_transfer(world, wallets, 1, 2, 1)])
    committer.close()  # again: nothing to do
    assert committer.statistics.instructions == 4 and committer.statistics.queued == 0


def test_max_batch_must_allow_an_instruction(sqlite_store: Store) -> None:
    service = LedgerService(Parts(ledger=Ledger(sqlite_store, OPERATIONS)))
    with pytest.raises(ValueError, match="max_batch must be at least 1"):
        GroupCommitter(service, max_batch=0)


def test_an_empty_array_is_answered_without_a_transaction(sqlite_store: Store) -> None:
    service = LedgerService(Parts(ledger=Ledger(sqlite_store, OPERATIONS)))
    with GroupCommitter(service) as committer:
        assert committer.submit_many([]) == []
        assert committer.statistics.transactions == 0


def test_coroutines_of_one_event_loop_share_transactions_and_each_gets_its_receipt(
        world: World, service: LedgerService) -> None:
    clients, per_client = 16, 8
    wallets = _holders(world, clients)
    head = service.head()
    documents = [[_transfer(world, wallets, i, (i + 1 + k % (clients - 1)) % clients, k + 1)
                  for k in range(per_client)] for i in range(clients)]

    async def client(committer: GroupCommitter, i: int) -> list[Any]:
        # one at a time, each waiting for its answer, as an HTTP client does
        return [(await committer.submit_many_async([document]))[0]
                for document in documents[i]]

    async def all_clients(committer: GroupCommitter) -> list[list[Any]]:
        return list(await asyncio.gather(*(client(committer, i) for i in range(clients))))

    threads_before = threading.active_count()
    with GroupCommitter(service) as committer:
        answers = asyncio.run(all_clients(committer))
        # no thread was started for them: only the writer's (and on PostgreSQL the one that
        # awaits the disk for the writer's commits)
        own = 2 if service.durability_is_awaited_apart else 1
        assert threading.active_count() == threads_before + own
        statistics = committer.statistics

    submitted = clients * per_client
    receipts = [r for each in answers for r in each]
    assert all(isinstance(r, Receipt) and not r.duplicate for r in receipts), receipts
    assert sorted(r.seq for r in receipts) == list(range(head + 1, head + 1 + submitted))
    for i in range(clients):
        assert [r.instruction_id for r in answers[i]] == [d["id"] for d in documents[i]]
    assert statistics.transactions < submitted and statistics.largest > 1, statistics
    assert service.head() == head + submitted


def test_awaited_and_blocking_submitters_share_a_transaction_and_its_failure(
        world: World, service: LedgerService) -> None:
    wallets = _holders(world, 7)
    _steal(world, service, "E6", "A6", "E5")
    head = service.head()
    poisoned = wallets[5].sign(world.instruction(
        "transfer", fromAccount="E5", toAccount="E1", batch="A6",
        quantity=ALLOCATION_T)).as_json()
    documents = {name: _transfer(world, wallets, i, (i + 1) % 5, 10)
                 for i, name in enumerate(("first", "before", "after", "refused", "next"))}
    documents["refused"] = _transfer(world, wallets, 3, 4, ALLOCATION_T + 1)
    # [first], [before (awaited), poisoned (awaited), after], [refused (awaited), next]
    with GroupCommitter(service, max_batch=3) as committer:
        calls = Calls(committer)
        with _head_held(world.store):
            _writer_waits(committer, calls, documents["first"])
            calls.start("before", documents["before"], awaited=True)
            calls.start("poisoned", poisoned, awaited=True)
            calls.start("after", documents["after"])
            calls.start("refused", documents["refused"], awaited=True)
            calls.start("next", documents["next"], awaited=True)
            time.sleep(0.2)
            assert calls.answers == {}  # nobody is answered before the transaction ends
        calls.join()
        answers = calls.answers
        failure = answers["poisoned"]
        assert isinstance(failure, StoreError)
        assert failure.code is StoreFailure.store_inconsistent
        assert answers["before"] is failure and answers["after"] is failure
        assert isinstance(answers["refused"], Rejected)
        assert answers["refused"].reason is Reason.insufficient_tradable
        committed = [answers[name] for name in ("first", "next")]
        assert all(isinstance(r, Receipt) for r in committed), committed
        assert [r.seq for r in committed] == [head + 1, head + 2]
        assert service.head() == head + 2
        with pytest.raises(StoreError):  # the same failure when awaited again
            asyncio.run(committer.submit_many_async([poisoned]))
    with pytest.raises(CommitterClosed):
        asyncio.run(committer.submit_many_async([documents["before"]]))
    _steal(world, service, "E5", "A6", "E6")
