"""The channel between `serve`'s HTTP workers and the writer process, version 2.

A Unix stream socket in a directory only the server's user may enter (api/writer/supervisor.py
makes it). Every message is a *frame*: its length as 4 bytes, big-endian, then that many bytes.

    worker -> writer   HELLO                       the first frame of a connection
    writer -> worker   READY                       or the connection closes: another version
    worker -> writer   (request id, documents, verdicts)   any number, not waiting for answers
    writer -> worker   (request id, ANSWERED, results) | (request id, FAILED, failure)

A request's documents are one HTTP request's signed instructions (their JSON form, as parsed
by the worker): one, or a client's array, applied together and in order, with what the worker
found checking their signatures (ledger/signature_check.py: the worker recovers the signers, so
that the writer's serial chain does not; version 2). The writer answers a
request once the transaction that carried it has committed (or failed as a whole), so answers
come in commit order, not necessarily in the order sent; the request id pairs them. `results`
is what `LedgerService.submit_many` returns, a `Receipt` or a `Rejected` each, in order.
`failure` names what failed the whole transaction: `("store", code, detail)` for a
`StoreError`, `("closed",)` when the writer is stopping and took nothing, `("fault", text)` for
anything else (a fault of the ledger, logged by the writer).

Requests and answers are pickled: both ends are this code, started by one `serve` (the hello
refuses any other version), and a `Rejected` keeps its reason, a module's own included
(`Rejected.__reduce__`). Whoever may connect to the socket may submit signed instructions,
which anyone may do over HTTP anyway, and can run code as the server's user, which the
directory's permissions (0700) leave to that user alone.
"""

from __future__ import annotations

import asyncio
import pickle
import struct
from typing import Any

from api.group_commit import CommitterClosed
from ledger.engine import Result
from ledger.errors import Rejected
from ledger.signature_check import SignatureVerdict, Verdict
from ledger.store.errors import StoreError, StoreFailure

VERSION = 2  # 2: requests carry the workers' signature verdicts
HELLO = f"carbonledger-writer/{VERSION}".encode("ascii")
READY = HELLO + b" ready"
ANSWERED, FAILED = "answered", "failed"
MAX_FRAME_BYTES = 64 * 1024 * 1024  # far above the HTTP body limit: a frame past it is garbage
_LENGTH = struct.Struct(">I")

Failure = tuple[Any, ...]  # ("store", code, detail) | ("closed",) | ("fault", text)


class ProtocolError(RuntimeError):
    """The other end sent something that is not a frame of this version."""


class WriterFault(RuntimeError):
    """The writer's transaction failed with a fault of the ledger itself (the writer logged
    it): nothing was written; the operator must look."""


def frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    """The next frame's payload; `asyncio.IncompleteReadError` when the other end closed."""
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"a frame of {length:,} bytes, over the {MAX_FRAME_BYTES:,} limit")
    return await reader.readexactly(length)


def request(request_id: int, documents: list[Any],
            verdicts: list[SignatureVerdict] | None) -> bytes:
    return frame(pickle.dumps((request_id, documents, verdicts), pickle.HIGHEST_PROTOCOL))


def read_request(payload: bytes) -> tuple[int, list[Any], list[SignatureVerdict] | None]:
    try:
        request_id, documents, verdicts = pickle.loads(payload)
    except Exception as exc:
        raise ProtocolError(f"not a request of version {VERSION}: {exc}") from exc
    if not isinstance(request_id, int) or not isinstance(documents, list) or \
            not _verdicts_for(documents, verdicts):
        raise ProtocolError(f"not a request of version {VERSION}")
    return request_id, documents, verdicts


def _verdicts_for(documents: list[Any], verdicts: object) -> bool:
    return verdicts is None or (
        isinstance(verdicts, list) and len(verdicts) == len(documents)
        and all(isinstance(verdict, Verdict | Rejected) for verdict in verdicts))


def answer(request_id: int, results: list[Result]) -> bytes:
    return frame(pickle.dumps((request_id, ANSWERED, results), pickle.HIGHEST_PROTOCOL))


def failed(request_id: int, failure: BaseException) -> bytes:
    return frame(pickle.dumps((request_id, FAILED, failure_of(failure)),
                              pickle.HIGHEST_PROTOCOL))


def failure_of(failure: BaseException) -> Failure:
    if isinstance(failure, StoreError):
        return ("store", failure.code.name, failure.detail)
    if isinstance(failure, CommitterClosed):
        return ("closed",)
    return ("fault", f"{type(failure).__name__}: {failure}")


def read_answer(payload: bytes) -> tuple[int, list[Result] | BaseException]:
    """(request id, its results, or the exception that failed its transaction)."""
    try:
        request_id, kind, value = pickle.loads(payload)
    except Exception as exc:
        raise ProtocolError(f"not an answer of version {VERSION}: {exc}") from exc
    if kind == ANSWERED:
        return request_id, value
    if kind != FAILED:
        raise ProtocolError(f"an answer of kind {kind!r}")
    return request_id, _exception(value)


def _exception(failure: Failure) -> BaseException:
    if failure[0] == "store":
        return StoreError(StoreFailure[failure[1]], failure[2])
    if failure[0] == "closed":
        return CommitterClosed()
    return WriterFault(f"the writer's transaction failed: {failure[-1]}")


__all__ = ["HELLO", "READY", "VERSION", "ProtocolError", "WriterFault", "answer", "failed",
           "frame", "read_answer", "read_frame", "read_request", "request"]
