"""The writer process: one group committer applying the submissions of every HTTP worker.

`carbonledger serve --workers N` on PostgreSQL starts it (api/writer/supervisor.py) before the
workers. It builds the App as a worker does, without keys (it only submits), and one
`GroupCommitter` over its service; the workers hand it their admitted submissions over a Unix
socket (api/writer/protocol.py). Every guarantee is the group committer's: whatever is queued
when its writer thread is free goes in one transaction, each instruction its own entry with
its own receipt, a refused one refusing nothing else, one request's instructions together and
in order, no answer before the commit, and a transaction's failure answered to exactly its own
requests. Two workers' writers no longer queue on the journal head, and no worker's event loop
shares this writer's GIL.

The event loop here only moves frames: it reads a request, hands it to the committer
(`submit_many_soon`) and writes the answer from the future's callback, once the committer's
writer thread has answered the loop (one wake-up per transaction).

It ignores SIGINT (Ctrl-C reaches the whole process group, and the workers must finish their
requests first): SIGTERM, which `serve` sends once its workers have stopped, makes it stop
taking requests, apply those queued, answer them and exit 0. It exits too when `serve` is gone
(its parent process changes), so that a killed `serve` leaves no writer behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import os
import signal
import sys
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path

import uvloop

from api.exit_codes import one_line
from api.group_commit import CommitterClosed, GroupCommitter
from api.heap import settle_startup_objects
from api.writer import protocol
from ledger.engine import Result

STARTUP_FAILURE = 3  # the ledger could not be opened (the reason went to the supervisor)
PARENT_CHECK_S = 1.0
logger = logging.getLogger("uvicorn.error")  # the server's log, its lines as the workers'


async def serve_writes(committer: GroupCommitter, socket_path: str, stop: asyncio.Event,
                       started: Callable[[], None] = lambda: None) -> None:
    """Answer the workers' requests on `socket_path` until `stop` is set, then apply what is
    queued and answer it. `started` is called once the socket listens."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)  # the socket of a writer that died: nobody listens on it
    connected: set[asyncio.StreamWriter] = set()
    server = await asyncio.start_unix_server(partial(_connection, committer, connected),
                                             path=socket_path)
    started()
    try:
        await stop.wait()
    finally:
        server.close()  # no new connections; those open take no new requests once closed
        await asyncio.to_thread(committer.close)  # applies what is queued, answers this loop
        await asyncio.sleep(0)  # the answers' callbacks, scheduled by the committer, run
        await asyncio.sleep(0)
        for writer in list(connected):  # the workers see the end, and connect again later
            writer.close()
        with contextlib.suppress(OSError):
            os.unlink(socket_path)


async def _connection(committer: GroupCommitter, connected: set[asyncio.StreamWriter],
                      reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    connected.add(writer)
    try:
        if await protocol.read_frame(reader) != protocol.HELLO:
            logger.warning("writer: a connection spoke another protocol version: closed")
            return
        writer.write(protocol.frame(protocol.READY))
        while True:
            request_id, documents, verdicts = protocol.read_request(
                await protocol.read_frame(reader))
            try:
                future = committer.submit_many_soon(documents, verdicts)
            except CommitterClosed as closed:
                writer.write(protocol.failed(request_id, closed))
                continue
            future.add_done_callback(partial(_answer, writer, request_id))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the worker closed the connection, or stopped
    except protocol.ProtocolError as garbled:
        logger.warning("writer: %s: the connection is closed", garbled)
    finally:
        connected.discard(writer)
        writer.close()


def _answer(writer: asyncio.StreamWriter, request_id: int,
            settled: asyncio.Future[list[Result]]) -> None:
    """The request's answer, once its transaction has committed or failed as a whole; a
    worker gone since gets nothing (its instructions were applied all the same)."""
    if writer.is_closing():
        return
    failure = settled.exception()
    if failure is None:
        writer.write(protocol.answer(request_id, settled.result()))
        return
    if not isinstance(failure, CommitterClosed) and \
            protocol.failure_of(failure)[0] == "fault":
        logger.error("writer: a transaction failed", exc_info=failure)
    writer.write(protocol.failed(request_id, failure))


def run_writer(settings: object, socket_path: str, ready: Connection, log_level: str) -> None:
    """The process's entry (multiprocessing, spawned): build the ledger, listen, say so on
    `ready` — ("ready", pid) or ("failed", one line) — and serve until told to stop."""
    from api.bootstrap import build
    from api.http.served import ServeSettings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # serve stops it after the workers: SIGTERM
    _configure_logging(log_level)
    assert isinstance(settings, ServeSettings)
    parent = os.getppid()
    try:
        app = build(settings.config(), Path(settings.data_dir))
    except Exception as failure:
        ready.send(("failed", one_line(str(failure))))
        sys.exit(STARTUP_FAILURE)
    try:
        committer = GroupCommitter(app.service)
        settle_startup_objects()  # built and about to serve: out of the collector's way
        # uvloop, as uvicorn's workers run: the loop's share of the GIL is the writer's loss
        uvloop.run(_serve_until_stopped(committer, socket_path, ready, parent))
    finally:
        app.close()


async def _serve_until_stopped(committer: GroupCommitter, socket_path: str, ready: Connection,
                               parent: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def started() -> None:
        logger.info("writer process %d applies the workers' writes", os.getpid())
        ready.send(("ready", os.getpid()))
        ready.close()

    async def watch_parent() -> None:
        while os.getppid() == parent:
            await asyncio.sleep(PARENT_CHECK_S)
        logger.warning("writer process %d: serve is gone, stopping", os.getpid())
        stop.set()

    watching = loop.create_task(watch_parent())
    try:
        await serve_writes(committer, socket_path, stop, started)
    finally:
        watching.cancel()


def _configure_logging(log_level: str) -> None:
    from uvicorn.config import LOGGING_CONFIG

    logging.config.dictConfig(LOGGING_CONFIG)
    logger.setLevel(log_level.upper())


__all__ = ["run_writer", "serve_writes"]
