"""Signature verdicts computed in a pool of processes, beside the writer.

    with SignaturePool(ledger.domain, operation_set) as pool:
        pending = pool.check(documents)      # sent to the processes; returns at once
        ...                                  # the writer applies the previous submission
        verdicts = pending.verdicts()        # one per document (ledger/signature_check.py)

Recovering the signers of a submission is the costliest part of admitting it and needs no
state; under CPython's GIL a thread beside the writer would only take turns with it, so the
pool is processes. Each builds the ledger's operation set once, when it starts
(`operations`, a function importable by name, such as api.bootstrap.operation_set: the pool
imports nothing of the composition root itself), and checks documents against `domain`,
the ledger's. A submission is split into one contiguous chunk per process; the verdicts come
back in the documents' order.

What crosses the process boundary: the documents as they are (pickled dicts: 1.2 µs a
transfer in the sending process, against 4.6 µs for orjson bytes, and it is the writer's time
that counts; the receiving process pays 4 µs to unpickle, beside 120 µs of parsing and
recovery) and, back, the verdicts (CHECKED, UNCHECKED or a Rejected with its reason: a few
bytes each).

A process of the pool that dies (killed, out of memory) fails the check it was doing with
`SignatureWorkerDied`, which names it; nothing waits on it for ever. The pool then stops its
other processes, and the next `check` starts fresh ones. `close` (the end of the `with`
block) stops them all, whatever they were doing.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from custody.eip712 import Domain
from ledger.modules import OperationSet
from ledger.signature_check import SignatureVerdict, verdicts_of

STOP_WAIT_S = 5.0  # how long a process stopping at `close` may take before it is killed


class SignaturePoolError(RuntimeError):
    """A process of the signature pool could not check what it was given: nothing it was
    checking has been applied."""


class SignatureWorkerDied(SignaturePoolError):
    """A process of the signature pool ended while it was checking documents."""

    def __init__(self, pid: int | None, exitcode: int | None) -> None:
        self.pid = pid
        self.exitcode = exitcode
        how = (f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0
               else f"exit code {exitcode}")
        super().__init__(f"signature-checking process {pid} died ({how}): the submission it "
                         "was checking was not applied; submit it again (a fresh pool starts)")


class SignaturePoolClosed(SignaturePoolError):
    def __init__(self) -> None:
        super().__init__("the signature pool is closed: it checks nothing more")


@dataclass
class _Worker:
    process: Any  # a multiprocessing Process of the pool's context
    connection: Connection
    busy: bool = False  # a chunk was sent and its verdicts not yet received
    ready: bool = False  # it has said it has built its operation set (_READY)


@dataclass
class PendingVerdicts:
    """The verdicts of one `check`, being computed: `verdicts()` waits for them."""

    _pool: SignaturePool
    _chunks: list[tuple[_Worker, int]]  # (process, documents sent to it), in order
    _received: list[list[SignatureVerdict]] = field(default_factory=list)
    _failure: BaseException | None = None
    _done: bool = False

    @classmethod
    def failed(cls, pool: SignaturePool, failure: SignaturePoolError) -> PendingVerdicts:
        """Verdicts that will never come: asking for them raises `failure`."""
        return cls(pool, [], _failure=failure, _done=True)

    def verdicts(self) -> list[SignatureVerdict]:
        """One verdict per document, in order; raises `SignatureWorkerDied` (or
        `SignaturePoolError`) if a process could not check its chunk."""
        self._pool._collect(self)
        if self._failure is not None:
            raise self._failure
        return [verdict for chunk in self._received for verdict in chunk]


class SignaturePool:
    """Processes that compute signature verdicts (see the module's docstring).

    `processes`: how many (default: one per CPU). `context`: how they start, "spawn" or
    "forkserver" (never "fork": the writer has threads, a database connection and a lock
    file that a forked copy must not share)."""

    def __init__(self, domain: Domain, operations: Callable[[], OperationSet], *,
                 processes: int | None = None, context: str = "spawn") -> None:
        if context not in ("spawn", "forkserver"):
            raise ValueError(f"start the pool's processes with spawn or forkserver, "
                             f"not {context!r}")
        self.domain = domain
        self.processes = processes if processes is not None else (os.cpu_count() or 1)
        if self.processes < 1:
            raise ValueError(f"a pool needs at least one process, got {self.processes}")
        self._operations = operations
        self._context: Any = multiprocessing.get_context(context)
        self._workers: list[_Worker] = []
        self._pending: PendingVerdicts | None = None
        self._closed = False
        self._start()

    # --- checking -------------------------------------------------------------------------

    def check(self, documents: Sequence[Any]) -> PendingVerdicts:
        """Send `documents` to the processes, one contiguous chunk each, and return at once.
        The verdicts of an earlier `check` not yet asked for are waited for first (and kept
        for it): each process has at most one chunk at a time."""
        if self._closed:
            raise SignaturePoolClosed()
        if self._pending is not None:
            self._collect(self._pending)
        if not self._workers:
            self._start()  # after a process died: a fresh pool
        documents = list(documents)
        pending = PendingVerdicts(self, [])
        self._pending = pending
        share, extra = divmod(len(documents), len(self._workers))
        start = 0
        for index, worker in enumerate(self._workers):
            size = share + (index < extra)
            if size == 0:
                continue
            try:
                worker.connection.send(documents[start:start + size])
            except (OSError, ValueError):  # its end of the pipe is gone: it died
                self._fail(pending, self._death_of(worker))
                return pending
            worker.busy = True
            pending._chunks.append((worker, size))
            start += size
        if not pending._chunks:
            pending._done, self._pending = True, None
        return pending

    def verdicts(self, documents: Sequence[Any]) -> list[SignatureVerdict]:
        """`check(documents).verdicts()`: the verdicts, waited for."""
        return self.check(documents).verdicts()

    def ready(self) -> bool:
        """Whether every process has started and built its operation set (a second or two
        after the pool starts, or restarts): a caller with work at hand checks it itself
        meanwhile rather than wait. Never waits; raises `SignatureWorkerDied` for a process
        that ended while starting."""
        if self._closed:
            raise SignaturePoolClosed()
        if not self._workers:
            self._start()
        for worker in self._workers:
            if worker.ready:
                continue
            if not worker.connection.poll() and worker.process.is_alive():
                return False
            try:  # its first word (_READY), or the end of a process that died starting
                self._take_ready(worker)
            except SignaturePoolError:
                self._stop_all()
                raise
        return True

    def _collect(self, pending: PendingVerdicts) -> None:
        """Receive `pending`'s verdicts from its processes (once); a process that died or
        failed is recorded as its failure."""
        if pending._done:
            return
        pending._done = True
        if self._pending is pending:
            self._pending = None
        for worker, size in pending._chunks:
            try:
                received = self._receive(worker)
            except SignaturePoolError as failure:
                self._fail(pending, failure)
                return
            if len(received) != size:
                self._fail(pending, SignaturePoolError(
                    f"signature-checking process {worker.process.pid} returned "
                    f"{len(received)} verdicts for {size} documents"))
                return
            pending._received.append(received)

    def _fail(self, pending: PendingVerdicts, failure: SignaturePoolError) -> None:
        """`pending` failed: the other processes' chunks belong to it, so every process is
        stopped, and the next check starts fresh ones."""
        pending._failure, pending._done = failure, True
        if self._pending is pending:
            self._pending = None
        self._stop_all()

    def _receive(self, worker: _Worker) -> list[SignatureVerdict]:
        """One chunk's verdicts: waits for the answer or the process's end, whichever first."""
        if not worker.ready:
            self._take_ready(worker)
        answer = self._next_message(worker)
        worker.busy = False
        if isinstance(answer, _Failure):
            raise SignaturePoolError(f"signature-checking process {worker.process.pid} "
                                     f"failed: {answer.text}")
        assert isinstance(answer, list)
        return answer

    def _take_ready(self, worker: _Worker) -> None:
        """A starting process's first word, waited for."""
        answer = self._next_message(worker)
        if answer != _READY:
            raise SignaturePoolError(f"signature-checking process {worker.process.pid} "
                                     f"began with {type(answer).__name__}, not its readiness")
        worker.ready = True

    def _next_message(self, worker: _Worker) -> Any:
        """What the process sends next; `SignatureWorkerDied` if it ends first."""
        ready = wait([worker.connection, worker.process.sentinel])
        try:
            if worker.connection in ready or worker.connection.poll():
                return worker.connection.recv()
        except (EOFError, OSError):
            pass  # the pipe closed under the answer: the process has ended
        raise self._death_of(worker)

    @staticmethod
    def _death_of(worker: _Worker) -> SignatureWorkerDied:
        worker.process.join(STOP_WAIT_S)  # its exit code, once the kernel has it
        return SignatureWorkerDied(worker.process.pid, worker.process.exitcode)

    def wait_ready(self) -> None:
        """Wait until `ready()`; raises as it does (a process that dies wakes the wait)."""
        while not self.ready():
            starting = [w for w in self._workers if not w.ready]
            wait([w.connection for w in starting] + [w.process.sentinel for w in starting])

    # --- processes ------------------------------------------------------------------------

    def _start(self) -> None:
        for _ in range(self.processes):
            ours, theirs = self._context.Pipe()
            process = self._context.Process(
                target=_serve, args=(theirs, self._operations, self.domain),
                name="signature check", daemon=True)
            process.start()
            theirs.close()  # the child's end: ours alone stays open here
            self._workers.append(_Worker(process, ours))

    def _stop_all(self) -> None:
        """Stop every process now (a check failed): closing our end of a pipe ends a process
        waiting for work; one busy with a chunk is terminated."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.connection.close()
        for worker in workers:
            if worker.busy:
                worker.process.terminate()
        for worker in workers:
            worker.process.join(STOP_WAIT_S)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()

    def close(self) -> None:
        """Stop the processes (what they were checking is dropped). Calling it again does
        nothing; a `check` after it raises `SignaturePoolClosed`."""
        if self._closed:
            return
        self._closed = True
        if self._pending is not None:  # never asked for: nobody waits on its answer
            self._pending._failure, self._pending._done = SignaturePoolClosed(), True
            self._pending = None
        self._stop_all()

    def __enter__(self) -> SignaturePool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


_READY = "ready"  # a process's first word: its operation set is built


@dataclass(frozen=True)
class _Failure:
    """What a process hands back instead of verdicts when checking raised: a fault of the
    code, not of a document (a document that does not parse gets a Rejected verdict)."""

    text: str


def _serve(connection: Connection, operations: Callable[[], OperationSet],
           domain: Domain) -> None:
    """A pool process: build the operation set once, then check chunks until the pool closes
    its end of the pipe."""
    parse = operations().parse_signed
    try:
        connection.send(_READY)
    except OSError:
        return
    while True:
        try:
            documents = connection.recv()
        except (EOFError, OSError):
            return  # the pool closed: nothing more to check
        try:
            answer: list[SignatureVerdict] | _Failure = verdicts_of(documents, parse, domain)
        except Exception:
            answer = _Failure(traceback.format_exc(limit=3).strip().splitlines()[-1])
        try:
            connection.send(answer)
        except (BrokenPipeError, OSError):
            return


__all__ = ["PendingVerdicts", "SignaturePool", "SignaturePoolClosed", "SignaturePoolError",
           "SignatureWorkerDied"]
