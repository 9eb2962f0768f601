"""A served ledger: what each worker process of `carbonledger serve` runs.

One worker builds its own App (api.bootstrap.build), a group committer over its service, the
HTTP app (api.http.create_app) and, with `--checkpoint-every`, the checkpoint duty thread
(api/duty.py). The duty starts with the app's lifespan and, when the server stops, the duty
is stopped (its lock released), the committer drained and the store closed, in that order.

With several workers uvicorn spawns each one and builds its app with `app_from_environment`,
an import-string factory: the settings travel in the environment (CARBONLEDGER_SERVE, JSON),
and so does the password (CARBONLEDGER_PASSWORD), never a command line.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE  # a worker that exits so stops the whole server

from api.access import sessions_for
from api.bootstrap import CHAIN_FILE, App, build, load_operator, password_from_env
from api.config import ConfigError, LedgerConfig, load_config
from api.duty import CheckpointDuty
from api.exit_codes import failed
from api.group_commit import GroupCommitter
from api.heap import settle_startup_objects
from api.http.app import create_app
from api.http.reads import PROOF_THREADS_OF_SEVERAL_WORKERS
from api.service import ServiceUnavailable
from api.session_key import session_secret
from api.writer.client import WriterCommitter, install_problems
from custody.keystore import read_keystore

SETTINGS_VARIABLE = "CARBONLEDGER_SERVE"
logger = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class ServeSettings:
    """What every worker serves: the data directory, the store (default: config.json's, or
    CARBONLEDGER_STORE_URL), the checkpoint duty's period (None: no duty) and the socket of
    the writer process that applies the workers' writes (None: each its own committer)."""

    data_dir: str
    store_url: str | None = None
    checkpoint_every_s: float | None = None
    writer_socket: str | None = None
    tiles_dir: str | None = None  # where the log is published as tiles and served (/tiles/)

    def as_environment(self) -> dict[str, str]:
        return {SETTINGS_VARIABLE: json.dumps(asdict(self))}

    @classmethod
    def from_environment(cls) -> ServeSettings:
        document = os.environ.get(SETTINGS_VARIABLE)
        if not document:
            raise ConfigError(f"{SETTINGS_VARIABLE} is not set: start workers with "
                              "`carbonledger serve --workers N`")
        return cls(**json.loads(document))

    def config(self) -> LedgerConfig:
        config = load_config(Path(self.data_dir))
        return replace(config, store_url=self.store_url) if self.store_url else config


class ServedLedger:
    """One worker's ledger, committer, HTTP app and duty (see the module's docstring)."""

    def __init__(self, app: App, duty: CheckpointDuty | None,
                 writer_socket: str | None = None, tiles_dir: Path | None = None) -> None:
        self.app = app
        self.duty = duty
        # concurrent submissions share commits: in the writer process, or in this one
        self.committer: GroupCommitter | WriterCommitter = (
            WriterCommitter(writer_socket, app.service.check_signatures) if writer_socket
            else GroupCommitter(app.service))
        # every worker signs logins with the data directory's one secret (api/session_key.py)
        sessions = sessions_for(app.service, secret=session_secret(app.data_dir))
        self.http = create_app(app.service, committer=self.committer, sessions=sessions,
                               tiles_dir=tiles_dir,
                               # a writer process: one of several workers (bench/api_proofs.py)
                               proof_threads=PROOF_THREADS_OF_SEVERAL_WORKERS if writer_socket
                               else None)
        install_problems(self.http)
        self._closed = False
        self._closing = threading.Lock()
        _run_with_lifespan(self.http, self)

    def start(self) -> None:
        if self.duty is not None:
            self.duty.start()
        settle_startup_objects()  # built and about to serve: out of the collector's way

    def close(self) -> None:
        """Stop the duty, drain the committer, close the store; once, whoever calls first."""
        with self._closing:
            if self._closed:
                return
            self._closed = True
            try:
                if self.duty is not None:
                    self.duty.stop()
                self.committer.close()
            finally:
                self.app.close()


def serve_ledger(settings: ServeSettings, *, check_keys: bool = False) -> ServedLedger:
    """The worker's served ledger. `check_keys` opens the operator key once, so that a wrong
    password is refused before serving rather than logged at the first cut."""
    directory = Path(settings.data_dir)
    config = settings.config()
    every_s = settings.checkpoint_every_s
    password = duty_password(directory, check_keys=check_keys) if every_s else None
    policy = None
    if every_s:
        from anchoring.operator.checkpoints import CheckpointPolicy

        policy = CheckpointPolicy(every_s=every_s)
    app = build(config, directory, password=(lambda: password) if password else None,
                policy=policy)
    try:
        tiles_dir = Path(settings.tiles_dir) if settings.tiles_dir else None
        duty = CheckpointDuty(app.service, every_s=every_s,
                              anchors=(directory / CHAIN_FILE).exists(),
                              tiles_dir=tiles_dir) if every_s else None
        return ServedLedger(app, duty, settings.writer_socket, tiles_dir)
    except BaseException:
        app.close()
        raise


def duty_password(directory: Path, *, check_keys: bool) -> str:
    """The password of the operator key the duty signs checkpoints with, from the
    environment: the server runs unattended and never prompts."""
    operator = load_operator(directory)
    if operator is None:
        raise ServiceUnavailable(f"--checkpoint-every signs checkpoints with the operator key, "
                                 f"and {directory} has none: create one with `carbonledger "
                                 "operator-key --create`")
    password = password_from_env()
    if not password:
        raise ServiceUnavailable("--checkpoint-every signs checkpoints with the operator key: "
                                 "set CARBONLEDGER_PASSWORD to its keystore's password (the "
                                 "server never prompts for it)")
    if check_keys:
        read_keystore(directory / operator.keystore, password)  # KeystoreError if wrong
    return password


def app_from_environment() -> FastAPI:
    """uvicorn's app factory in each worker process (`--workers N`). A failure the CLI knows
    is logged as its one line and ends the worker as a startup failure, which stops the
    server; `serve` checked the same settings before starting any worker."""
    try:
        return serve_ledger(ServeSettings.from_environment()).http
    except Exception as failure:
        known = failed(failure)
        if known is None:
            raise  # a bug: uvicorn logs its traceback
        logger.error("worker %d cannot serve: %s", os.getpid(), known.message)
        sys.exit(STARTUP_FAILURE)


def _run_with_lifespan(http: FastAPI, served: ServedLedger) -> None:
    """Start the duty once the app has started, and close everything once it has stopped
    (after the requests under way are answered), inside create_app's own lifespan."""
    inner = http.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            served.start()
            try:
                yield state
            finally:
                await anyio.to_thread.run_sync(served.close)  # blocks: joins threads

    http.router.lifespan_context = lifespan


__all__ = ["SETTINGS_VARIABLE", "ServeSettings", "ServedLedger", "app_from_environment",
           "duty_password", "serve_ledger"]
