"""How `carbonledger serve --workers N` runs its writer process (api/writer/server.py).

    writer = WriterProcess(settings, log_level="info")
    writer.start()           # listening before this returns; a ledger it cannot open: Failed
    ... the HTTP workers, told `writer.socket_path` ...
    writer.stop()            # after the workers: it applies what is queued, then exits

The socket lives in a directory of its own, made private (0700) by `tempfile.mkdtemp` and
removed by `stop`. A thread watches the process: when it dies (killed, out of memory) another
is started on the same socket at once, and the workers connect to it at their next write;
meanwhile their writes are answered 503 (api/writer/client.py). A writer that dies within a
few seconds of starting, or cannot start (the store out of reach), is tried again every
second, so that a fault that kills every start does not spin.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

from api.exit_codes import environment
from api.writer.server import run_writer

if TYPE_CHECKING:
    from api.http.served import ServeSettings

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
QUICK_DEATH_S = 5.0  # a writer that dies sooner than this after starting waits a pause
RESTART_PAUSE_S = 1.0
logger = logging.getLogger("uvicorn.error")
_SPAWN = multiprocessing.get_context("spawn")  # as uvicorn starts its workers: no forked state


class WriterProcess:
    """The one writer process of a `serve` (see the module's docstring)."""

    def __init__(self, settings: ServeSettings, *, log_level: str = "info") -> None:
        self._settings = settings
        self._log_level = log_level
        self._directory = Path(tempfile.mkdtemp(prefix="carbonledger-writer-"))
        self.socket_path = str(self._directory / "writer.sock")
        self._process: BaseProcess | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="writer supervisor",
                                         daemon=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the writer and wait until it listens; a writer that cannot start is a
        `Failed` (its reason in one line) and the directory is removed."""
        try:
            failure = self._spawn()
        except BaseException:
            self._remove_directory()
            raise
        if failure is not None:
            self._remove_directory()
            raise environment(f"the writer process could not start: {failure}")
        self._watcher.start()

    def stop(self) -> None:
        """SIGTERM: the writer applies what is queued, answers it and exits (killed if it
        has not within STOP_TIMEOUT_S). Then the socket's directory is removed."""
        self._stopping.set()
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                logger.error("the writer process %d did not stop: killed", process.pid)
                process.kill()
                process.join()
        if self._watcher.is_alive():
            self._watcher.join()
        self._remove_directory()

    def _spawn(self) -> str | None:
        """Start a writer process; None once it listens, else why it could not start."""
        receiving, sending = _SPAWN.Pipe(duplex=False)
        process = _SPAWN.Process(target=run_writer, name="carbonledger writer", daemon=True,
                                 args=(self._settings, self.socket_path, sending,
                                       self._log_level))
        process.start()
        sending.close()  # only the child's copy stays: its end means the child has gone
        self._process = process
        try:
            if not receiving.poll(START_TIMEOUT_S):
                process.kill()
                return f"it did not listen within {START_TIMEOUT_S:g} s"
            said = receiving.recv()
        except EOFError:
            process.join()
            return f"it ended while starting (exit {process.exitcode})"
        finally:
            receiving.close()
        if said[0] == "ready":
            return None
        process.join(STOP_TIMEOUT_S)  # it exits once it has said why
        return str(said[1])

    def _watch(self) -> None:
        started = time.monotonic()
        while True:
            process = self._process
            assert process is not None
            process.join()
            if self._stopping.is_set():
                return
            logger.error("the writer process %d ended (exit %s): starting another",
                         process.pid, process.exitcode)
            if time.monotonic() - started < QUICK_DEATH_S:
                self._stopping.wait(RESTART_PAUSE_S)
            while not self._stopping.is_set():
                started = time.monotonic()
                failure = self._spawn()
                if failure is None:
                    break
                logger.error("the writer process could not start: %s; trying again in "
                             "%g s", failure, RESTART_PAUSE_S)
                self._stopping.wait(RESTART_PAUSE_S)
            if self._stopping.is_set():
                self._stop_started()
                return

    def _stop_started(self) -> None:
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(STOP_TIMEOUT_S)

    def _remove_directory(self) -> None:
        shutil.rmtree(self._directory, ignore_errors=True)


__all__ = ["WriterProcess"]
