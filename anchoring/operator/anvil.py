"""A managed local anvil node whose chain persists in the data directory.

    node = AnvilNode(data_dir / "chain")
    running = node.start()       # or the one already running; running.url
    chain = connect_anvil(data_dir / "chain", anchorer)
    node.stop()                  # SIGTERM: anvil writes its state file and exits

The binary comes from the npm package @foundry-rs/anvil, pinned in chain/package.json and
installed by `npm ci --prefix chain`; CARBONLEDGER_ANVIL names another binary. anvil runs with
``--host 127.0.0.1 --port 0 --hardfork prague --state <dir>/anvil-state.json``:

- port 0 lets the kernel pick a free port, which anvil prints as ``Listening on 127.0.0.1:PORT``;
  `chain up` asks for the port the data directory kept instead (anchoring.operator.local_node).
  Its output goes to a file, not a pipe: nobody drains a pipe once `chain up` has returned, and
  anvil would block on a full one;
- Prague, so that gas matches py-evm's (the embedded chain) to the unit;
- ``--state`` loads the chain at start and writes it back on exit (SIGTERM), blocks, receipts
  and all; ``--state-interval`` also writes it every few seconds, so that a crash (SIGKILL,
  power loss) loses at most that much. What is lost is detected: the anchoring worker finds the
  recorded anchors missing from the chain and stops (anchoring.operator.worker.AnchorVanished).

The running node is recorded in <dir>/anvil.json (pid, port, url, ...), which `connect_anvil`
and `stop` read, so that another process (the next CLI command) finds it.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from anchoring.operator.chain import ChainError, ChainUnavailable, RpcChain
from anchoring.operator.errors import OperatorFailure
from anchoring.operator.node_process import (
    ManagedNode,
    record,
    recorded,
    runs_with,
    spawn,
    wait_until_listening,
)

__all__ = [
    "ANVIL_BINARY_VARIABLE",
    "ANVIL_CHAIN_ID",
    "ANVIL_VERSION",
    "PACKAGE_DIR",
    "AnvilError",
    "AnvilNode",
    "AnvilNotInstalled",
    "AnvilNotRunning",
    "AnvilStartFailed",
    "RunningAnvil",
    "connect_anvil",
    "find_anvil",
    "set_balance",
]

ANVIL_VERSION = "1.7.1"
"""The version chain/package.json pins."""

ANVIL_CHAIN_ID = 31337
ANVIL_BINARY_VARIABLE = "CARBONLEDGER_ANVIL"

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "chain"
"""chain/ of the checkout: package.json, package-lock.json and, once installed, node_modules."""

STATE_FILE = "anvil-state.json"
LOG_FILE = "anvil.log"
RUNNING_FILE = "anvil.json"
LOG_ROTATE_BYTES = 16 * 2**20
"""anvil logs every RPC call it serves; past this size the log is set aside at the next start."""

_LISTENING = re.compile(rb"Listening on 127\.0\.0\.1:(\d+)")


class AnvilError(ChainError):
    """Root of the errors of the managed anvil node."""


class AnvilNotInstalled(AnvilError):
    code = OperatorFailure.anvil_not_installed


class AnvilStartFailed(AnvilError):
    code = OperatorFailure.anvil_start_failed


class AnvilCommandFailed(AnvilError):
    """The running node did not stop, or refused a command."""

    code = OperatorFailure.anvil_command_failed


class AnvilNotRunning(AnvilError, ChainUnavailable):
    """No managed anvil is running (a `ChainUnavailable`: the worker waits for it)."""

    code = OperatorFailure.anvil_not_running


def find_anvil() -> Path:
    """The anvil binary: $CARBONLEDGER_ANVIL, else the npm package's for this platform."""
    override = os.environ.get(ANVIL_BINARY_VARIABLE)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise AnvilNotInstalled(f"{ANVIL_BINARY_VARIABLE}={override} is not an executable")
        return path
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform)
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower())
    name = "anvil.exe" if sys.platform == "win32" else "anvil"
    path = PACKAGE_DIR / "node_modules" / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / name
    if system is None or machine is None or not path.is_file():
        raise AnvilNotInstalled(
            f"anvil is not installed (looked for {path}): run `npm ci --prefix chain` (or "
            f"`make chain`), or set {ANVIL_BINARY_VARIABLE} to an anvil {ANVIL_VERSION} binary")
    return path


@dataclass(frozen=True)
class RunningAnvil:
    """A started node, as recorded in anvil.json."""

    pid: int
    port: int
    url: str
    binary: str
    state_file: str
    log_file: str
    started_at: float  # unix seconds

    @property
    def description(self) -> str:
        return (f"local anvil node at {self.url} (pid {self.pid}), its chain persisted in "
                f"{self.state_file}")


class AnvilNode(ManagedNode[RunningAnvil]):
    """Starts, finds and stops the managed anvil of one directory (the data dir's chain/)."""

    STATE_FILE, LOG_FILE, RUNNING_FILE = STATE_FILE, LOG_FILE, RUNNING_FILE

    def __init__(self, directory: Path, *, binary: Path | None = None,
                 state_interval_s: int | None = 1) -> None:
        super().__init__(directory)
        self.binary = binary
        self.state_interval_s = state_interval_s

    def running(self) -> RunningAnvil | None:
        """The node recorded in anvil.json if its process is alive and still anvil."""
        running = recorded(self.running_file, RunningAnvil)
        return running if running is not None and _is_our_anvil(running) else None

    def start(self, timeout_s: float = 15.0, *, port: int = 0) -> RunningAnvil:
        """Start anvil on 127.0.0.1:`port` (0: any free port), or return the one already
        running; wait until it listens."""
        already = self.running()
        if already is not None:
            return already
        binary = self.binary or find_anvil()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._rotate_log()
        command = [str(binary), "--host", "127.0.0.1", "--port", str(port),
                   "--hardfork", "prague", "--state", str(self.state_file.resolve())]
        if self.state_interval_s:
            command += ["--state-interval", str(self.state_interval_s)]
        child, offset = spawn(command, self.directory, self.log_file)
        self._child = child
        port = wait_until_listening(child, self.log_file, offset, timeout_s, _port_in_log,
                                    AnvilStartFailed, "anvil")
        running = RunningAnvil(pid=child.pid, port=port, url=f"http://127.0.0.1:{port}",
                               binary=str(binary), state_file=str(self.state_file.resolve()),
                               log_file=str(self.log_file.resolve()), started_at=time.time())
        record(self.running_file, running)
        return running

    def _did_not_stop(self, running: RunningAnvil, timeout_s: float) -> Exception:
        return AnvilCommandFailed(f"anvil (pid {running.pid}) did not stop within "
                                  f"{timeout_s:.0f} s of SIGTERM; its state file may be stale")


    def _rotate_log(self) -> None:
        try:
            if self.log_file.stat().st_size > LOG_ROTATE_BYTES:
                self.log_file.replace(self.log_file.with_suffix(".log.1"))
        except FileNotFoundError:
            pass


def connect_anvil(directory: Path, anchorer: LocalAccount | None, *,
                  timeout_s: float = 10.0) -> RpcChain:
    """The managed anvil of ``directory`` as a `Chain`. Call again after a restart: the port
    changes with every start. ``anchorer`` None connects read-only."""
    running = AnvilNode(directory).running()
    if running is None:
        raise AnvilNotRunning(f"the local anvil node is not running ({directory}): start it "
                              "with `carbonledger chain up`")
    return RpcChain(running.url, anchorer, label=running.description, timeout_s=timeout_s)


def _port_in_log(output: bytes) -> int | None:
    found = _LISTENING.search(output)
    return int(found.group(1)) if found else None


def _is_our_anvil(running: RunningAnvil) -> bool:
    """Alive, and (where /proc says) the same anvil on the same state file."""
    return runs_with(running.pid, lambda arguments: running.state_file.encode() in arguments
                     and any(argument.endswith((b"anvil", b"anvil.exe"))
                             for argument in arguments))


def set_balance(chain: RpcChain, address: str, wei: int) -> None:
    """Give ``address`` a balance on an anvil node (its anvil_setBalance method: a local
    development chain's own way to fund an account; no other node has it)."""
    response = chain.w3.provider.make_request(
        "anvil_setBalance", [to_checksum_address(address), hex(wei)])  # type: ignore[arg-type]
    if response.get("error"):
        raise AnvilCommandFailed(f"anvil_setBalance failed: {response['error']}")
