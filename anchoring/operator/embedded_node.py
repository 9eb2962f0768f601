"""The embedded chain as a managed local node: py-evm served over JSON-RPC, no anvil, no npm.

    node = EmbeddedNode(data_dir / "chain")
    running = node.start(port=8545)   # or the one already running; running.url
    chain = connect_embedded(data_dir / "chain", anchorer)
    node.stop()                       # SIGTERM: it finishes the request in hand and exits

The node is a process of this Python (`python -m anchoring.operator.rpc_server`), started in
a session of its own so that it outlives the command that started it, as the managed anvil
does (anchoring.operator.anvil). Its chain is kept in <dir>/embedded-chain.bin, every answered
transaction on disk before its answer is sent (rpc_server's docstring), so anchors survive a
restart and a crash. The running node is recorded in <dir>/embedded.json (pid, port, url),
which the next command reads to find it.

Unlike the in-process `EmbeddedChain`, this chain is not ephemeral: it is a local development
chain, like anvil's, whose accounts are eth-tester's well-known prefunded keys. `fund` pays an
anchorer from one of them (a transaction, so it is kept with the chain).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3.types import Wei

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
    "EMBEDDED_NODE_CHAIN_ID",
    "EmbeddedNode",
    "EmbeddedNodeNotRunning",
    "EmbeddedNodeStartFailed",
    "RunningEmbedded",
    "connect_embedded",
    "fund",
]

EMBEDDED_NODE_CHAIN_ID = 131277322940537
"""eth-tester's chain id (the in-process EmbeddedChain's too)."""

STATE_FILE = "embedded-chain.bin"
LOG_FILE = "embedded.log"
RUNNING_FILE = "embedded.json"
SERVER_MODULE = "anchoring.operator.rpc_server"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class EmbeddedNodeNotRunning(ChainUnavailable):
    """No embedded node is running for this directory (the worker waits for it)."""


class EmbeddedNodeStartFailed(ChainError):
    """The node did not start listening (a port in use, a damaged state file), or did not
    stop."""

    code = OperatorFailure.local_node_start_failed


@dataclass(frozen=True)
class RunningEmbedded:
    """A started node, as recorded in embedded.json."""

    pid: int
    port: int
    url: str
    state_file: str
    log_file: str
    started_at: float  # unix seconds

    @property
    def description(self) -> str:
        return (f"local embedded py-evm node at {self.url} (pid {self.pid}), its chain "
                f"persisted in {self.state_file}")


class EmbeddedNode(ManagedNode[RunningEmbedded]):
    """Starts, finds and stops the embedded chain node of one directory (the data dir's
    chain/)."""

    STATE_FILE, LOG_FILE, RUNNING_FILE = STATE_FILE, LOG_FILE, RUNNING_FILE

    def running(self) -> RunningEmbedded | None:
        """The node recorded in embedded.json if its process is alive and still this node."""
        running = recorded(self.running_file, RunningEmbedded)
        return running if running is not None and _is_our_node(running) else None

    def start(self, *, port: int = 0, timeout_s: float = 60.0) -> RunningEmbedded:
        """Start the node on 127.0.0.1:`port` (0: any free port), or return the one already
        running; wait until it listens."""
        already = self.running()
        if already is not None:
            return already
        self.directory.mkdir(parents=True, exist_ok=True)
        state = self.state_file.resolve()
        command = [sys.executable, "-m", SERVER_MODULE, "--state", str(state),
                   "--port", str(port)]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        child, offset = spawn(command, self.directory, self.log_file, env=environment)
        self._child = child
        listening = wait_until_listening(child, self.log_file, offset, timeout_s,
                                         _port_in_log, EmbeddedNodeStartFailed,
                                         "the embedded node")
        running = RunningEmbedded(pid=child.pid, port=listening,
                                  url=f"http://127.0.0.1:{listening}", state_file=str(state),
                                  log_file=str(self.log_file.resolve()), started_at=time.time())
        record(self.running_file, running)
        return running

    def _did_not_stop(self, running: RunningEmbedded, timeout_s: float) -> Exception:
        return EmbeddedNodeStartFailed(f"the embedded node (pid {running.pid}) did not stop "
                                       f"within {timeout_s:.0f} s of SIGTERM")



def _port_in_log(output: bytes) -> int | None:
    from anchoring.operator.rpc_server import HOST

    marker = f"Listening on {HOST}:".encode()
    at = output.find(marker)
    if at < 0 or b"\n" not in output[at:]:
        return None
    return int(output[at + len(marker):].split(b"\n", 1)[0])


def _is_our_node(running: RunningEmbedded) -> bool:
    """Alive, and (where /proc says) this node on this state file."""
    return runs_with(running.pid, lambda arguments: running.state_file.encode() in arguments
                     and SERVER_MODULE.encode() in arguments)


def connect_embedded(directory: Path, anchorer: LocalAccount | None, *,
                     timeout_s: float = 10.0) -> RpcChain:
    """The embedded node of ``directory`` as a `Chain`; ``anchorer`` None connects
    read-only."""
    running = EmbeddedNode(directory).running()
    if running is None:
        raise EmbeddedNodeNotRunning(f"the local embedded chain node is not running "
                                     f"({directory}): start it with `carbonledger chain up "
                                     "--embedded`")
    return RpcChain(running.url, anchorer, label=running.description, timeout_s=timeout_s)


def fund(chain: RpcChain, address: str, wei: int) -> None:
    """Send ``wei`` to ``address`` from the node's first prefunded development account."""
    funder = chain.w3.eth.accounts[0]
    tx_hash = chain.w3.eth.send_transaction(
        {"from": funder, "to": to_checksum_address(address), "value": Wei(wei)})
    chain.w3.eth.wait_for_transaction_receipt(tx_hash)
