"""The background process of a local chain node (the managed anvil, the embedded node): started
detached from the command that starts it, recorded in a JSON file of its directory, found again
only while its pid is still that node, stopped with SIGTERM and reaped.

    child, offset = spawn(command, directory, log_file)
    port = wait_until_listening(child, log_file, offset, timeout_s, port_in_log, failed)
    record(running_file, running)                 # the node's dataclass, written atomically
    found = recorded(running_file, RunningNode)   # None if missing or unreadable
    exited, reaped = wait_for_exit(pid, timeout_s, child)
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

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
