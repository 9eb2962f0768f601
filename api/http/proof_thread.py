"""The threads that do the proof route's work (api/http/reads.py), off the event loop.

    proofs = ProofThread(threads=1)
    response = await proofs.run(prove, kind, subject)   # in an async route

A proof is CPU work (the bundle built, then checked against the operator key) around a few
store reads. Done on the event loop, a slow store or the first proof at a checkpoint (whose
state tree is rebuilt) would stall every request; done in the thread pool, each request costs
two thread hand-offs, and the pool's threads contend for the interpreter. Here a thread
takes the work in arrival order and answers it in batches: each time it wakes it runs the jobs
waiting (its share of them, when there are several threads), then wakes the event loop once
for the whole batch. Under load (16 clients asking for proofs) that is one wake-up per several
proofs (bench/api_proofs.py). One thread is fastest where the work is all CPU (SQLite); a few
overlap the round trips of a store across the network (PostgreSQL).

A job's exception reaches the request that awaits it, as if the work had run there; a request
that is cancelled (its client went away) has its job run all the same and its answer dropped.
The threads start with the first job and end once their `ProofThread` is collected (the app is
gone); they hold no lock of their own between jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

Settled = tuple["asyncio.Future[Any]", Any, BaseException | None]
_Job = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


class ProofThread:
    """`threads` threads running the jobs they are handed, in order; see the module's
    docstring."""

    def __init__(self, name: str = "proofs", threads: int = 1) -> None:
        if threads < 1:
            raise ValueError(f"a proof thread is at least 1 thread, got {threads}")
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._name = name
        self._count = threads
        self._threads: list[threading.Thread] = []
        self._starting = threading.Lock()
        # None on the queue ends a thread: posted once nothing can hand them work any more
        weakref.finalize(self, _end, self._jobs, threads)

    async def run(self, work: Callable[..., Any], *args: Any) -> Any:
        """`work(*args)` on this thread: its result, or its exception raised here."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self._threads:
            self._start()
        self._jobs.put((work, args, future))
        return await future

    def _start(self) -> None:
        with self._starting:
            if self._threads:
                return
            for n in range(self._count):
                # daemons: their jobs only read, so nothing is lost if they are cut at exit
                thread = threading.Thread(target=_serve, args=(self._jobs, self._count),
                                          name=self._name if n == 0 else f"{self._name}-{n}",
                                          daemon=True)
                thread.start()
                self._threads.append(thread)


def _end(jobs: queue.SimpleQueue[_Job | None], threads: int) -> None:
    for _ in range(threads):
        jobs.put(None)


def _serve(jobs: queue.SimpleQueue[_Job | None], threads: int) -> None:
    while True:
        batch = [jobs.get()]
        # and its share of the jobs that came while the last batch ran (one thread: all)
        for _ in range(jobs.qsize() // threads):
            try:
                batch.append(jobs.get_nowait())
            except queue.Empty:
                break
        ends = batch.count(None)
        for _ in range(ends - 1):  # each thread ends on one None: the others' go back
            jobs.put(None)
        _run(batch)
        if ends:
            return


def _run(batch: list[_Job | None]) -> None:
    """Run a batch and wake each waiting loop once. (A function of its own: nothing of a
    batch stays referenced while the thread waits for the next.)"""
    settled: dict[asyncio.AbstractEventLoop, list[Settled]] = {}
    for job in batch:
        if job is None:
            continue
        work, args, future = job
        try:
            outcome: Settled = (future, work(*args), None)
        except BaseException as exc:  # handed to the request: this thread goes on
            outcome = (future, None, exc)
        settled.setdefault(future.get_loop(), []).append(outcome)
    for loop, outcomes in settled.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for these
            loop.call_soon_threadsafe(_settle, outcomes)


def _settle(outcomes: list[Settled]) -> None:
    """On the event loop: hand each request its answer."""
    for future, result, exc in outcomes:
        if future.cancelled():
            continue
        if exc is None:
            future.set_result(result)
        elif isinstance(exc, StopIteration):  # a future refuses it: it would end a generator
            future.set_exception(RuntimeError(f"the proof's work raised {exc!r}"))
        else:
            future.set_exception(exc)


__all__ = ["ProofThread"]
