"""The background process of a local chain node (the managed anvil, the embedded node): started
detached from the command that starts it, recorded in a JSON file of its directory, found again
only while its pid is still that node, stopped with SIGTERM and reaped.

    child, offset = spawn(command, directory, log_file)
    port = wait_until_listening(child, log_file, offset, timeout_s, port_in_log, failed)
    record(running_file, running)                 # the node's dataclass, written atomically
    found = recorded(running_file, RunningNode)   # None if missing or unreadable
    exited, reaped = wait_for_exit(pid, timeout_s, child)
    class AnvilNode(ManagedNode[RunningAnvil]): ...      # the files, stop, kill, reaping
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")

PortInLog = Callable[[bytes], int | None]
"""The port a node's log says it listens on, once it says so (None: not yet)."""


def spawn(command: Sequence[str], directory: Path, log_file: Path, *,
          env: Mapping[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """Start `command` in `directory`, its output appended to `log_file`, in a session of its
    own (a shell's Ctrl-C does not reach it: it outlives the command that started it).
    Returns the child and where its output starts in the log."""
    with open(log_file, "ab") as log:
        offset = log.tell()
        child = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=directory, env=None if env is None else dict(env), start_new_session=True)
    return child, offset


def wait_until_listening(child: subprocess.Popen[bytes], log_file: Path, offset: int,
                         timeout_s: float, port_in: PortInLog,
                         failed: Callable[[str], Exception], what: str) -> int:
    """The port `child` listens on, read from its log; `failed(message)` is raised if it
    exits first or is not listening within `timeout_s` (it is then killed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with open(log_file, "rb") as log:
            log.seek(offset)
            output = log.read()
        port = port_in(output)
        if port is not None:
            return port
        if child.poll() is not None:
            raise failed(f"{what} exited with status {child.returncode} before listening; its "
                         f"last words ({log_file}):\n{tail(output)}")
        if time.monotonic() > deadline:
            child.kill()
            child.wait()
            raise failed(f"{what} did not listen within {timeout_s:.0f} s; see {log_file}")
        time.sleep(0.01)


def record(path: Path, running: Any) -> None:
    """Write the node's record (a dataclass) to `path`, never half-written."""
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(running), indent=2) + "\n")
    temporary.replace(path)


def recorded(path: Path, kind: type[T]) -> T | None:
    """The node recorded in `path`; None if there is none or it cannot be read."""
    try:
        return kind(**json.loads(path.read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def wait_for_exit(pid: int, timeout_s: float,
                  child: subprocess.Popen[bytes] | None) -> tuple[bool, bool]:
    """Wait for `pid` to exit: (exited, reaped). A child this process started is reaped (an
    exited child left unreaped stays a zombie, which still answers kill(pid, 0))."""
    mine = child if child is not None and child.pid == pid else None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if mine is not None:
            if mine.poll() is not None:
                return True, True
        elif not alive(pid):
            return True, False
        time.sleep(0.005)
    return False, False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours (see runs_with)
    # An exited child that nobody reaped yet still has a pid; /proc tells (where there is one).
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def runs_with(pid: int, is_ours: Callable[[list[bytes]], bool]) -> bool:
    """Alive, and (where /proc says) the same node: `is_ours` judges its command line. A
    recycled pid must never be signalled."""
    if not alive(pid):
        return False
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): the pid is all there is to go on
    return is_ours(arguments)


def tail(output: bytes, lines: int = 15) -> str:
    return "\n".join(output.decode("utf-8", "replace").splitlines()[-lines:])


class Recorded(Protocol):
    """A started node's record (RunningAnvil, RunningEmbedded): what stopping it needs."""

    @property
    def pid(self) -> int: ...


R = TypeVar("R", bound=Recorded)


class ManagedNode(Generic[R]):
    """The files and the lifecycle every local node of a directory shares: its state, its log
    and its record (file names: the subclass's `STATE_FILE`, `LOG_FILE`, `RUNNING_FILE`),
    stopping with SIGTERM and killing with SIGKILL. The subclass starts it and says whether a
    recorded pid is still its node (`running`)."""

    STATE_FILE: str
    LOG_FILE: str
    RUNNING_FILE: str

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # The process this object started, kept so that stop() can reap it: a child that exits
        # unreaped stays a zombie, which still answers kill(pid, 0).
        self._child: subprocess.Popen[bytes] | None = None

    @property
    def state_file(self) -> Path:
        return self.directory / self.STATE_FILE

    @property
    def log_file(self) -> Path:
        return self.directory / self.LOG_FILE

    @property
    def running_file(self) -> Path:
        return self.directory / self.RUNNING_FILE

    def running(self) -> R | None:
        raise NotImplementedError

    def _did_not_stop(self, running: R, timeout_s: float) -> Exception:
        """The failure `stop` raises when the node outlives its SIGTERM."""
        raise NotImplementedError

    def stop(self, timeout_s: float = 15.0) -> R | None:
        """SIGTERM the running node and wait for it to exit (it saves its state on the way
        out). Returns what was stopped; None if nothing was running."""
        running = self.running()
        if running is None:
            self.running_file.unlink(missing_ok=True)
            return None
        os.kill(running.pid, signal.SIGTERM)
        if not self._wait_for_exit(running.pid, timeout_s):
            raise self._did_not_stop(running, timeout_s)
        self.running_file.unlink(missing_ok=True)
        return running

    def kill(self) -> R | None:
        """SIGKILL the node, as a crash would: nothing is written on the way out. For tests
        of what a crash keeps; `stop` is the way to stop a node."""
        running = self.running()
        if running is None:
            return None
        os.kill(running.pid, signal.SIGKILL)
        self._wait_for_exit(running.pid, 15.0)
        self.running_file.unlink(missing_ok=True)
        return running

    def _wait_for_exit(self, pid: int, timeout_s: float) -> bool:
        exited, reaped = wait_for_exit(pid, timeout_s, self._child)
        if reaped:
            self._child = None
        return exited
