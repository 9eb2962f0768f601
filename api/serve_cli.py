"""`carbonledger serve`: the HTTP service (api/http/) on uvicorn, over the ledger in the data
directory, in one worker process or several (`--workers N`, PostgreSQL only).

Each worker builds its own App (api/http/served.py). One worker applies its writes with a
group committer of its own; several (PostgreSQL) hand theirs to one writer process that
`serve` starts before them, starts again if it dies, and stops after them (api/writer/). With
`--checkpoint-every` one worker among them, whichever holds the store's leader lock, cuts
checkpoints when due and anchors them on the chain the data directory records (api/duty.py);
it needs the operator key's password in CARBONLEDGER_PASSWORD. Without it the server asks for
no password: queries, proofs and signed instructions need no key of the data directory, and
checkpoints are cut and anchored by `carbonledger checkpoint` and `carbonledger chain anchor`.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.engine import make_url

from api.exit_codes import ExitCode, Failed, environment

if TYPE_CHECKING:  # FastAPI and uvicorn are imported by `serve` when it runs, not by every command
    from api.http.served import ServeSettings

APP_FACTORY = "api.http.served:app_from_environment"


@click.command(epilog="Several workers (--workers N) need the store on PostgreSQL "
                      "(CARBONLEDGER_STORE_URL or --store); SQLite has one writer, so it is "
                      "served by one worker. With --checkpoint-every, exactly one process "
                      "among all those serving the store (every worker, every `serve`) cuts "
                      "and anchors checkpoints at a time, under a PostgreSQL advisory lock "
                      "(SQLite: a file lock beside the database); if it dies another takes "
                      "over within a second.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data-dir", "serve_data_dir", default=None,
              help="Ledger data directory (default: carbonledger's --data-dir).")
@click.option("--store", "store", default=None, metavar="URL",
              help="Serve the ledger in this store (postgresql+psycopg://..., or a SQLite "
                   "database file) rather than the one config.json or CARBONLEDGER_STORE_URL "
                   "names.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes; more than one needs PostgreSQL.")
@click.option("--checkpoint-every", "checkpoint_every_s", default=None, metavar="SECONDS",
              type=click.FloatRange(min=0, min_open=True),
              help="Cut a checkpoint every SECONDS (or 1000 entries) while the journal grows, "
                   "and anchor it if a chain is deployed; the operator key's password comes "
                   "from CARBONLEDGER_PASSWORD.")
@click.option("--tiles-dir", default=None, metavar="DIR",
              help="Publish the log as C2SP tlog-tiles in DIR at each checkpoint the duty "
                   "cuts, and serve DIR read-only under /tiles/ (default: DATA_DIR/tiles).")
@click.option("--no-tiles", is_flag=True, default=False,
              help="Neither write nor serve the log's tiles.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.pass_obj
def serve(data_dir: Path, host: str, port: int, serve_data_dir: str | None,
          store: str | None, workers: int, checkpoint_every_s: float | None,
          tiles_dir: str | None, no_tiles: bool, log_level: str) -> None:
    """Serve the ledger over HTTP (OpenAPI at /v1/openapi.json, docs at /v1/docs) until
    Ctrl-C or SIGTERM, which finish the requests under way and stop."""
    from anchoring.operator.tiles import DEFAULT_TILES_DIR
    from api.bootstrap import store_url_of
    from api.config import resolve_data_dir
    from api.http.served import ServeSettings

    directory = resolve_data_dir(serve_data_dir) if serve_data_dir else data_dir
    # absolute: the workers are new processes, and must find it wherever they start
    if no_tiles and tiles_dir is not None:
        raise click.UsageError("--tiles-dir and --no-tiles: give one of them")
    tiles = None if no_tiles else Path(tiles_dir) if tiles_dir else directory / DEFAULT_TILES_DIR
    settings = ServeSettings(str(directory.resolve()), store_url_of(store) if store else None,
                             checkpoint_every_s,
                             tiles_dir=str(tiles.resolve()) if tiles is not None else None)
    url = settings.config().store_url  # a ConfigError: one line, exit 3
    if workers > 1 and make_url(url).get_backend_name() == "sqlite":
        raise Failed(f"--workers {workers} needs the store on PostgreSQL: SQLite takes one "
                     "writer at a time, so serve it with --workers 1, or move the ledger to "
                     "PostgreSQL (CARBONLEDGER_STORE_URL or --store) for several workers",
                     ExitCode.USAGE)
    duty = f"; a checkpoint every {checkpoint_every_s:g} s" if checkpoint_every_s else ""
    serving = (f"serving the ledger in {directory} on http://{host}:{port}/v1 with {workers} "
               f"worker{'s' if workers > 1 else ''}{duty} (OpenAPI: "
               f"http://{host}:{port}/v1/openapi.json)")
    if workers == 1:
        _serve_in_process(settings, serving, host=host, port=port, log_level=log_level)
    else:
        _serve_in_workers(settings, serving, workers, host=host, port=port,
                          log_level=log_level)
    click.echo("stopped")


def _serve_in_process(settings: ServeSettings, serving: str, *, host: str, port: int,
                      log_level: str) -> None:
    import uvicorn

    from api.http.served import serve_ledger

    served = serve_ledger(settings, check_keys=True)
    try:
        click.echo(serving)
        # no access log: a line per request, formatted on the event loop, at thousands of
        # requests a second (bench/api_load.py); httptools and uvloop are uvicorn's picks
        server = uvicorn.Server(uvicorn.Config(served.http, host=host, port=port, workers=1,
                                               log_level=log_level, access_log=False))
        with _stopped_by_signals():
            server.run()
    finally:
        served.close()  # the app's shutdown has done it, unless the server never started


def _serve_in_workers(settings: ServeSettings, serving: str, workers: int, *, host: str,
                      port: int, log_level: str) -> None:
    """uvicorn's supervisor: it spawns the workers, replaces one that dies, and on SIGINT or
    SIGTERM stops them all (each finishes its requests and closes) and returns. The writer
    process is started before the workers and stopped after them."""
    import uvicorn

    from api.http.served import STARTUP_FAILURE, serve_ledger
    from api.worker_sockets import SocketPerWorker, reserve_port
    from api.writer.supervisor import WriterProcess

    # the same settings as every worker will build, checked once here: a missing ledger or
    # key, or a wrong password, is one line and an exit code, not a worker failing N times
    serve_ledger(settings, check_keys=True).close()
    config = uvicorn.Config(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                            log_level=log_level, access_log=False)
    writer = WriterProcess(settings, log_level=log_level)
    writer.start()
    try:
        # what the spawned workers read
        os.environ.update(replace(settings, writer_socket=writer.socket_path)
                          .as_environment())
        try:
            reserved = reserve_port(host, port)
        except OSError as exc:
            raise environment(f"cannot listen on {host}:{port} ({exc.strerror}): choose "
                              "another --port, or stop what holds it") from exc
        try:
            supervisor = SocketPerWorker(config, reserved)
            click.echo(serving)
            supervisor.run()
        finally:
            reserved.close()
    finally:
        writer.stop()  # the workers have answered their requests: it applies what is queued
    if any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes):
        raise environment("a worker could not start (its reason is logged above): fix it and "
                          "start the server again")


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """uvicorn handles SIGINT and SIGTERM itself (it stops accepting, lets the requests under
    way finish, runs the app's shutdown), then raises the signal again for the handler that
    was there before it. That handler is this no-op while the server runs, so that a stop is
    a normal return: the committer and the store are closed, and the exit code is 0."""
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda _sig, _frame: None) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
