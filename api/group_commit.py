"""Group commit: concurrent submissions gathered into one database transaction by one writer.

    committer = GroupCommitter(service)
    result = committer.submit(document)            # from any thread: a Receipt or a Rejected
    results = committer.submit_many(documents)     # kept together, in order, in one transaction
    results = await committer.submit_many_async(documents)  # from an event loop, no thread
    future = committer.submit_many_soon(documents)  # the same, as a future of the running loop
    future = committer.submit_many_soon(documents, verdicts)  # signatures checked elsewhere
    committer.close()                              # drains what is queued, then stops

A transaction costs a round trip, the head lock and, above all, a wait for the disk; an
instruction's own work is small beside them. So one writer thread takes everything queued
when it is free and applies it with `LedgerService.submit_many`, in one transaction: while it
commits, the next submissions queue, and they go together in the next one. Nobody waits for a
batch to fill (there is no timer): under a light load each transaction carries one submission
and answers as fast as `LedgerService.submit` would; under a heavy one the transactions grow
(up to `max_batch` instructions) and the rate climbs towards the batched one.

An HTTP route awaits `submit_many_async` on its event loop rather than blocking a worker
thread in `submit_many`: the writer answers every submission of a transaction that came from
one loop with one `call_soon_threadsafe`, so a request costs no thread-pool hop and a
transaction one wake-up of the loop. Under CPython's GIL the loop, the writer and any worker
threads share one core's worth of Python; a hop per request was a good part of the server's
time per transfer (bench/api_load.py).

Each instruction is still its own journal entry with its own receipt, and a refused one refuses
nothing else (`ledger.engine.Ledger.submit_many`); a document that does not parse is refused
alone (`LedgerService.submit_many`). A submitter is answered only once its transaction is
durable. On PostgreSQL the writer commits without waiting for the disk and goes on to the next
transaction, while a second thread (`_Durability`) waits for the WAL flush once for every
transaction committed meanwhile, and only then answers their submitters (Store.wait_durable);
on SQLite COMMIT returns once the transaction is in the write-ahead log, which survives a
killed process (with `synchronous=NORMAL`, the store's default) and also a power loss with
`synchronous=FULL`, and the writer answers at once. No receipt is ever handed out for
something that did not commit, or is not yet on disk.

When the transaction fails as a whole, every submitter whose instructions were in it gets the
same exception, and nobody else; what a client does then (the instruction being idempotent on
its id, the retry is always the SAME signed instruction, never a newly signed one):

- `StoreError` `connection_lost` or `unreachable`: nothing was written; submit it again.
- `StoreError` `outcome_unknown`: the commit may have happened (or happened, and the wait for
  the disk failed); submit it again, and a receipt marked `duplicate` says the first attempt
  had committed.
- `StoreError` `store_inconsistent`: the store was changed behind the ledger's back; nothing
  was written, and a retry fails the same way until an operator has run the audit.
- anything else (a fault of the ledger itself): nothing was written; the operator must look.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from api.service import LedgerService
from ledger.engine import Result
from ledger.signature_check import UNCHECKED, SignatureVerdict
from ledger.store.errors import StoreError, StoreFailure

DEFAULT_MAX_BATCH = 500  # instructions in one transaction, at most


class CommitterClosed(RuntimeError):
    """The group committer was closed: it takes no more submissions."""

    def __init__(self) -> None:
        super().__init__("the group committer is closed: it takes no more submissions "
                         "(the service is shutting down); submit again once it is back")


@dataclass(frozen=True)
class CommitStatistics:
    """What the writer has done since it started."""

    received: int  # instructions handed in
    transactions: int  # transactions it ran (committed or failed as a whole)
    failed: int  # of them, those that failed as a whole
    instructions: int  # instructions the transactions carried
    largest: int  # the most instructions one transaction carried
    queued: int  # instructions waiting for the writer now


@dataclass(frozen=True)
class _Submission:
    """One caller's documents, answered together: through `answer` for a thread waiting in
    `submit_many`, or through `awaited`, a future of the event loop `loop` (which only that
    loop may touch), for a coroutine in `submit_many_async`."""

    documents: list[Any]
    answer: Future[list[Result]] | None = None
    # what a stage beside the writer found checking the documents' signatures (None: the
    # engine checks them): ledger/signature_check.py
    verdicts: list[SignatureVerdict] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    awaited: asyncio.Future[list[Result]] | None = None


class GroupCommitter:
    """One writer thread applying queued submissions to `service` (see the module's docstring).

    `max_batch` bounds the instructions of one transaction; a submission of more goes alone
    in its own, never split."""

    def __init__(self, service: LedgerService, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._service = service
        self._max_batch = max_batch
        self._queue: deque[_Submission] = deque()
        self._queued_instructions = 0
        self._changed = threading.Condition()
        self._closing = False
        self._received = self._transactions = self._failed = 0
        self._instructions = self._largest = 0
        # a daemon: a process that exits without close() is not held up by an idle writer;
        # a transaction cut short that way commits nothing, and nobody was answered for it
        self._writer = threading.Thread(target=self._run, name="group-commit writer",
                                        daemon=True)
        # PostgreSQL: the writer goes on to the next transaction while this stage waits
        # for the disk, once for every transaction committed meanwhile (see _Durability)
        self._durability = (_Durability(service) if service.durability_is_awaited_apart
                            else None)
        self._writer.start()

    # --- the submitter's side -----------------------------------------------------------

    def submit(self, document: Mapping[str, Any]) -> Result:
        """Apply one signed instruction (its JSON form): its receipt, or the `Rejected` that
        refused it, once its transaction has committed. Raises what failed the transaction
        as a whole (see the module's docstring), or `CommitterClosed`."""
        (result,) = self.submit_many([document])
        return result

    def submit_many(self, documents: Sequence[Mapping[str, Any]]) -> list[Result]:
        """Apply signed instructions together, in order, in one transaction: a receipt or a
        refusal each, as `LedgerService.submit_many`. Blocks until that transaction has
        committed; raises as `submit` does."""
        answer: Future[list[Result]] = Future()
        submission = _Submission(list(documents), answer)
        if not submission.documents:
            return []
        self._enqueue(submission)
        return answer.result()

    async def submit_many_async(self, documents: Sequence[Mapping[str, Any]]
                                ) -> list[Result]:
        """`submit_many` for a coroutine: the running event loop goes on while the
        transaction commits, and the result comes back once it has committed."""
        return await self.submit_many_soon(documents)

    def submit_many_soon(self, documents: Sequence[Mapping[str, Any]],
                         verdicts: Sequence[SignatureVerdict] | None = None
                         ) -> asyncio.Future[list[Result]]:
        """`submit_many_async` without a coroutine, for code on the running event loop that
        answers through a callback (api/writer/server.py): a future of that loop, resolved
        once the transaction has committed. Raises `CommitterClosed` at once. `verdicts`:
        the documents' signatures as an HTTP worker checked them (LedgerService.submit_many)."""
        if verdicts is not None and len(verdicts) != len(documents):
            raise ValueError(f"{len(verdicts)} verdicts for {len(documents)} documents")
        loop = asyncio.get_running_loop()
        submission = _Submission(list(documents), loop=loop, awaited=loop.create_future(),
                                 verdicts=None if verdicts is None else list(verdicts))
        assert submission.awaited is not None
        if not submission.documents:
            submission.awaited.set_result([])
            return submission.awaited
        self._enqueue(submission)
        return submission.awaited

    def _enqueue(self, submission: _Submission) -> None:
        with self._changed:
            if self._closing:
                raise CommitterClosed()
            self._queue.append(submission)
            self._queued_instructions += len(submission.documents)
            self._received += len(submission.documents)
            self._changed.notify()

    @property
    def statistics(self) -> CommitStatistics:
        with self._changed:
            return CommitStatistics(self._received, self._transactions, self._failed,
                                    self._instructions, self._largest,
                                    self._queued_instructions)

    @property
    def closed(self) -> bool:
        """True once `close` was called (or the writer stopped): submissions are refused."""
        with self._changed:
            return self._closing

    def close(self) -> None:
        """Take no more submissions, apply those queued, and stop the writer. Calling it
        again does nothing; a submission after it raises `CommitterClosed`."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._writer.join()
        if self._durability is not None:
            self._durability.close()  # the last transactions' answers, once on disk

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the writer -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue and not self._closing:
                    self._changed.wait()
                if not self._queue:
                    return  # closing, and everything queued has been applied
                batch = self._take()
            self._apply(batch)

    def _take(self) -> list[_Submission]:
        """Whatever is queued, in order, up to `max_batch` instructions (at least one
        submission, however large). Called with the lock held."""
        batch = [self._queue.popleft()]
        size = len(batch[0].documents)
        while self._queue and size + len(self._queue[0].documents) <= self._max_batch:
            size += len(self._queue[0].documents)
            batch.append(self._queue.popleft())
        self._queued_instructions -= size
        return batch

    def _apply(self, batch: list[_Submission]) -> None:
        documents = [document for submission in batch for document in submission.documents]
        verdicts = None
        if any(submission.verdicts is not None for submission in batch):
            verdicts = [verdict for submission in batch
                        for verdict in (submission.verdicts or
                                        [UNCHECKED] * len(submission.documents))]
        try:
            results = self._service.submit_many(documents, verdicts,
                                                 durable=self._durability is None)
        except BaseException as failure:
            self._count(len(documents), failed=True)
            _answer(batch, [(None, failure)] * len(batch))
            if not isinstance(failure, Exception):  # the interpreter is stopping the thread
                self._refuse_the_queue()
                raise
            return
        # submit_many has returned: the transaction has committed (durably, or to be
        # awaited by the durability stage before anyone is answered: see above)
        assert len(results) == len(documents), (len(results), len(documents))
        self._count(len(documents), failed=False)
        answers: list[tuple[list[Result] | None, BaseException | None]] = []
        start = 0
        for submission in batch:
            end = start + len(submission.documents)
            answers.append((results[start:end], None))
            start = end
        if self._durability is None:
            _answer(batch, answers)
        else:
            self._durability.once_durable(batch, answers)

    def _count(self, instructions: int, *, failed: bool) -> None:
        with self._changed:
            self._transactions += 1
            self._failed += failed
            self._instructions += instructions
            self._largest = max(self._largest, instructions)

    def _refuse_the_queue(self) -> None:
        """The writer is ending without a close(): nobody queued may wait for it forever."""
        with self._changed:
            self._closing = True
            waiting = list(self._queue)
            self._queue.clear()
            self._queued_instructions = 0
        _answer(waiting, [(None, CommitterClosed())] * len(waiting))


Answer = tuple[list[Result] | None, BaseException | None]  # (results, or what failed them all)


class _Durability:
    """The answers of committed transactions, held until they are on disk (PostgreSQL).

    The writer commits asynchronously (`submit_many(..., durable=False)`: the journal head is
    free once the commit record is written) and hands the answers here; this thread runs one
    durability barrier (`LedgerService.wait_durable`) for whatever has arrived since the
    last one, then answers them all. A barrier issued after a commit returned covers it (the
    WAL is flushed in order), so nobody is answered before their transaction is on disk, and
    the writer's chain no longer includes the flush: it applies the next transaction while
    the disk writes the last ones. When the barrier fails (the connection or the server
    went), the transactions did commit but may not have reached the disk: each waiter gets
    `StoreError` `outcome_unknown`, and its retry of the same signed instructions says which
    (a receipt marked duplicate)."""

    def __init__(self, service: LedgerService) -> None:
        self._service = service
        self._pending: list[tuple[list[_Submission], list[Answer]]] = []
        self._changed = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="group-commit durability",
                                        daemon=True)
        self._thread.start()

    def once_durable(self, batch: list[_Submission], answers: list[Answer]) -> None:
        with self._changed:
            self._pending.append((batch, answers))
            self._changed.notify()

    def close(self) -> None:
        """Answer what is pending, once on disk, and stop."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closing:
                    self._changed.wait()
                if not self._pending:
                    return
                settled, self._pending = self._pending, []
            try:
                self._service.wait_durable()
            except BaseException as failure:
                unknown = failure if isinstance(failure, StoreError) else StoreError(
                    StoreFailure.outcome_unknown, f"committed, but the wait for the disk "
                    f"failed: {type(failure).__name__}: {failure}")
                for batch, _ in settled:
                    _answer(batch, [(None, unknown)] * len(batch))
                if not isinstance(failure, Exception):
                    raise
                continue
            for batch, answers in settled:
                _answer(batch, answers)


def _answer(submissions: list[_Submission], answers: list[Answer]) -> None:
    """Hand each submission its answer: a waiting thread at once; an event loop's with one
    wake-up of that loop for all of its submissions."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Submission, Answer]]] = {}
    for submission, (results, failure) in zip(submissions, answers, strict=True):
        if submission.loop is not None:
            by_loop.setdefault(submission.loop, []).append((submission, (results, failure)))
            continue
        assert submission.answer is not None
        if failure is not None:
            submission.answer.set_exception(failure)
        else:
            submission.answer.set_result(results or [])
    for loop, settled in by_loop.items():
        # a closed loop: its server has stopped, and nobody awaits these answers any more
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle_in_loop, settled)


def _settle_in_loop(settled: list[tuple[_Submission, Answer]]) -> None:
    """In the submitters' event loop: resolve their futures (a cancelled one, whose request
    went away, is left alone; its instructions were applied all the same)."""
    for submission, (results, failure) in settled:
        awaited = submission.awaited
        assert awaited is not None
        if awaited.cancelled():
            continue
        if failure is not None:
            awaited.set_exception(failure)
        else:
            awaited.set_result(results or [])


__all__ = ["DEFAULT_MAX_BATCH", "CommitStatistics", "CommitterClosed", "GroupCommitter"]
