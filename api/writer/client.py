"""The HTTP workers' committer when a writer process applies the writes (api/writer/server.py).

    committer = WriterCommitter(socket_path)
    results = await committer.submit_many_async(documents)   # on a worker's event loop

A worker has parsed and bounded each request's body (api/http/writes.py); it hands the
documents to the writer over one connection per event loop, many requests in flight at once,
and each request's future is resolved by the answer that carries its id. The writer answers
once the transaction has committed, so a receipt here is as durable as one from the group
committer in process.

When the writer cannot be reached the write fails with `WriterUnavailable`, answered 503 with
a problem that says so (`install_problems`), never a traceback:

- no connection could be made (the writer is restarting): nothing was sent, nothing written;
- the connection was lost with the request under way (the writer died): its transaction may
  have committed or not. The client submits the SAME signed instruction again; the ledger is
  idempotent on the instruction id, and a receipt marked `duplicate` says the first attempt
  had committed. Nothing is lost and nothing doubled.

The next request connects again: `serve` starts a new writer when one dies.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.group_commit import CommitterClosed
from api.http.problems import problem
from api.writer import protocol
from ledger.engine import Result
from ledger.errors import Rejected
from ledger.journal import Receipt
from ledger.signature_check import SignatureVerdict

Check = Callable[[Sequence[Mapping[str, Any]]], list[SignatureVerdict]]
CONNECT_TIMEOUT_S = 5.0
RETRY_AFTER_S = 1  # the supervisor starts a new writer at once; it is up within a second or two


class WriterUnavailable(RuntimeError):
    """The writer process could not be reached; `outcome_known` is False when the request was
    under way when it went (its transaction may have committed)."""

    def __init__(self, *, outcome_known: bool) -> None:
        self.outcome_known = outcome_known
        if outcome_known:
            said = ("the ledger's writer process cannot be reached (it is restarting, or the "
                    "service is stopping): nothing was written; submit the same signed "
                    "instructions again in a moment")
        else:
            said = ("the ledger's writer process stopped while applying this request: it may "
                    "or may not have been applied; submit the SAME signed instructions again "
                    "(a receipt marked duplicate means the first attempt was applied), never "
                    "newly signed ones")
        super().__init__(said)


def install_problems(app: FastAPI) -> None:
    """Answer `WriterUnavailable` as a 503 problem (code `writer_unavailable`, retryable)."""

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, WriterUnavailable)
        return problem(503, "the ledger's writer is unavailable", str(exc),
                       code="writer_unavailable", retryable=True,
                       headers={"Retry-After": str(RETRY_AFTER_S)})

    app.add_exception_handler(WriterUnavailable, unavailable)


class WriterCommitter:
    """A `Committer` (api/http/committer.py) whose writes the writer process at
    `socket_path` applies. `check`, when given, checks the documents' signatures here, in the
    worker (LedgerService.check_signatures), so that the writer does not: the workers run
    beside the writer, whose transactions are the serial chain every write waits on."""

    def __init__(self, socket_path: str, check: Check | None = None) -> None:
        self._socket_path = socket_path
        self._check = check
        self._channels: dict[asyncio.AbstractEventLoop, asyncio.Task[_Channel]] = {}
        self._guard = threading.Lock()  # close() comes from another thread than the loop's
        self._closed = False

    async def submit_many_async(self, documents: Sequence[Mapping[str, Any]]
                                ) -> list[Result]:
        """Apply signed instructions together, in order, in one transaction of the writer:
        a receipt or a refusal each, once it has committed. Raises `WriterUnavailable`,
        `CommitterClosed`, or what failed the transaction as a whole (a `StoreError`)."""
        if not documents:
            return []
        channel = await self._channel()
        return await channel.submit(list(documents), self._verdicts(documents))

    def submit_many(self, documents: Sequence[Mapping[str, Any]]) -> list[Result]:
        """`submit_many_async` for a thread without an event loop (a connection of its own)."""

        async def once() -> list[Result]:
            channel = await _Channel.open(self._socket_path)
            try:
                return await channel.submit(list(documents), self._verdicts(documents))
            finally:
                channel.close()

        if self._closed:
            raise CommitterClosed()
        return asyncio.run(once()) if documents else []

    def submit(self, document: Mapping[str, Any]) -> Receipt | Rejected:
        (result,) = self.submit_many([document])
        return result

    def _verdicts(self, documents: Sequence[Mapping[str, Any]]
                  ) -> list[SignatureVerdict] | None:
        return None if self._check is None else self._check(documents)

    def close(self) -> None:
        """Take no more submissions and close the connections (from any thread; the server
        has answered its requests before it closes the committer)."""
        with self._guard:
            self._closed = True
            channels = dict(self._channels)
            self._channels.clear()
        for loop, opening in channels.items():
            if not loop.is_closed():  # a closed loop took its connections with it
                loop.call_soon_threadsafe(_close_when_open, opening)

    async def _channel(self) -> _Channel:
        """This event loop's connection to the writer, made (again) when there is none."""
        loop = asyncio.get_running_loop()
        with self._guard:
            if self._closed:
                raise CommitterClosed()
            opening = self._channels.get(loop)
            if opening is None or _unusable(opening):
                opening = loop.create_task(_Channel.open(self._socket_path))
                self._channels[loop] = opening
        return await asyncio.shield(opening)  # a request that goes away leaves it to others


def _close_when_open(opening: asyncio.Task[_Channel]) -> None:
    """In the channel's loop: close it, or have it closed once it has opened."""
    if not opening.done():
        opening.add_done_callback(_close_when_open)
    elif not _unusable(opening):
        opening.result().close()


def _unusable(opening: asyncio.Task[_Channel]) -> bool:
    if not opening.done():
        return False
    return opening.cancelled() or opening.exception() is not None or opening.result().lost


class _Channel:
    """One connection to the writer: requests written as they come, answers read by one
    task and matched to their futures by request id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[list[Result]]] = {}
        self.lost = False
        self._reading = asyncio.get_running_loop().create_task(self._read(reader))

    @classmethod
    async def open(cls, socket_path: str) -> _Channel:
        """Connect and greet; `WriterUnavailable` (nothing sent) when nobody answers."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(socket_path), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise WriterUnavailable(outcome_known=True) from exc
        try:
            writer.write(protocol.frame(protocol.HELLO))
            ready = await asyncio.wait_for(protocol.read_frame(reader), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, asyncio.IncompleteReadError,
                protocol.ProtocolError) as exc:
            writer.close()
            raise WriterUnavailable(outcome_known=True) from exc
        if ready != protocol.READY:
            writer.close()
            raise protocol.ProtocolError(f"the writer answered {ready[:80]!r} to "
                                         f"{protocol.HELLO!r}")
        return cls(reader, writer)

    async def submit(self, documents: list[Any],
                     verdicts: list[SignatureVerdict] | None) -> list[Result]:
        if self.lost:
            raise WriterUnavailable(outcome_known=True)
        request_id = next(self._ids)
        answered: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answered
        self._writer.write(protocol.request(request_id, documents, verdicts))
        return await answered

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                request_id, outcome = protocol.read_answer(await protocol.read_frame(reader))
                answered = self._pending.pop(request_id, None)
                if answered is None or answered.done():
                    continue  # its request went away (the HTTP client disconnected)
                if isinstance(outcome, BaseException):
                    answered.set_exception(outcome)
                else:
                    answered.set_result(outcome)
        except (asyncio.IncompleteReadError, ConnectionError, protocol.ProtocolError):
            pass  # the writer stopped, or sent garbage: this connection is done
        finally:
            self.lost = True
            self._writer.close()
            for answered in self._pending.values():
                if not answered.done():
                    answered.set_exception(WriterUnavailable(outcome_known=False))
            self._pending.clear()

    def close(self) -> None:
        self.lost = True
        self._writer.close()
        self._reading.cancel()


__all__ = ["WriterCommitter", "WriterUnavailable", "install_problems"]
