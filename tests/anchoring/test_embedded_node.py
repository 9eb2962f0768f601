"""The embedded py-evm chain served over JSON-RPC (`chain up --embedded`): its state file, the
node as web3 sees it over HTTP, and the `carbonledger chain` story against it with no anvil
anywhere; and the port a local node keeps across restarts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_typing import HexStr
from web3.types import Wei

from anchoring.auditor.merkle import leaf_hash, root_from_leaf_hashes
from anchoring.operator.anvil import ANVIL_BINARY_VARIABLE, AnvilNotInstalled, find_anvil
from anchoring.operator.chain import (
    ANCHORER_KEY_VARIABLE,
    ChainRecord,
    RpcChain,
    deploy_registry,
)
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    AnchorRejected,
    AnchorRejection,
    anchor_proof_from_leaf_hashes,
    marker_leaf_hash,
)
from anchoring.operator.embedded_node import EMBEDDED_NODE_CHAIN_ID, EmbeddedNode
from anchoring.operator.local_node import kept_port
from anchoring.operator.rpc_server import (
    CorruptStateFile,
    PersistentChain,
    RpcServer,
    StateFile,
)
from api.bootstrap import init_ledger
from api.cli import main

KEY = "0x" + "11" * 32


# --- the state file ---------------------------------------------------------------------------


def test_the_state_file_adds_up_its_frames_and_drops_a_torn_last_one(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "chain.bin")
    assert state.load() is None
    state.rewrite({b"a": b"1", b"b": b"2"})
    state.append({b"b": None, b"c": b"3"})
    assert state.load() == {b"a": b"1", b"c": b"3"}
    whole = state.path.read_bytes()

    state.append({b"d": b"4" * 100})
    torn = state.path.read_bytes()[:-40]  # a crash while the last frame was written
    state.path.write_bytes(torn)
    assert state.load() == {b"a": b"1", b"c": b"3"}

    damaged = bytearray(whole)
    damaged[10] ^= 0xFF  # inside the first frame, with a frame after it
    state.path.write_bytes(bytes(damaged))
    with pytest.raises(CorruptStateFile, match="damaged"):
        state.load()


def test_a_write_the_disk_refuses_is_not_answered_as_done(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "chain.bin")
    chain = PersistentChain(state)
    dev = chain.tester.get_accounts()
    saved = state.path.read_bytes()
    state.path.unlink()
    state.path.mkdir()  # the file cannot be appended to
    send = {"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
            "params": [{"from": dev[0], "to": dev[1], "value": "0x1", "gas": "0x5208"}]}
    answer = chain.answer(send)
    assert answer["error"]["code"] == -32603 and "cannot save" in answer["error"]["message"]
    state.path.rmdir()
    state.path.write_bytes(saved)
    head = chain.answer({"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []})
    assert head["result"] == "0x1"  # mined in memory, and saved with this request
    assert PersistentChain(state).head == 1


# --- the node over HTTP -----------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[RpcServer]:
    server = RpcServer(0, PersistentChain(StateFile(tmp_path / "chain.bin")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_web3_over_http_deploys_anchors_and_hears_a_refusal_by_name(served: RpcServer) -> None:
    chain = RpcChain(served.url, Account.from_key(KEY))
    assert chain.chain_id == EMBEDDED_NODE_CHAIN_ID
    dev = list(chain.w3.eth.accounts)
    funding = chain.w3.eth.send_transaction({"from": dev[0], "to": chain.sender.address,
                                             "value": Wei(10**20)})
    chain.w3.eth.wait_for_transaction_receipt(funding)
    client, deployment = deploy_registry(chain, owner=chain.sender.address)
    assert client.anchorer() == chain.sender.address

    leaves = [leaf_hash(b"entry %d" % i) for i in range(3)] + [marker_leaf_hash(1, 3)]
    checkpoint = AnchoredCheckpoint(1, 4, root_from_leaf_hashes(leaves), b"\x5a" * 32)
    proof = anchor_proof_from_leaf_hashes(leaves, 0, 4)
    # A funded account that is not the anchorer: the contract's custom error, by name, as
    # over anvil (the revert data travels in the JSON-RPC error).
    with pytest.raises(AnchorRejected) as refusal:
        client.anchor(checkpoint, proof, previous=None, sender=dev[1])
    assert refusal.value.reason is AnchorRejection.NOT_ANCHORER

    receipt = client.anchor(checkpoint, proof, previous=None, sender=chain.sender)
    assert client.is_anchored(checkpoint) and client.latest_number() == 1
    assert client.anchored_checkpoints(deployment.block_number) == [checkpoint]
    assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] > 0


def test_the_chain_comes_back_as_it_was_after_a_restart(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "chain.bin")
    first = RpcServer(0, PersistentChain(state))
    threading.Thread(target=first.serve_forever, daemon=True).start()
    chain = RpcChain(first.url, Account.from_key(KEY))
    funding = chain.w3.eth.send_transaction({"from": chain.w3.eth.accounts[0],
                                             "to": chain.sender.address,
                                             "value": Wei(10**20)})
    chain.w3.eth.wait_for_transaction_receipt(funding)
    client, deployment = deploy_registry(chain, owner=chain.sender.address)
    block = chain.w3.eth.get_block(deployment.block_number)
    first.shutdown()
    first.server_close()  # no goodbye needed: every answered write is already on disk

    again = RpcServer(0, PersistentChain(state))
    threading.Thread(target=again.serve_forever, daemon=True).start()
    try:
        reopened = RpcChain(again.url, None)
        assert reopened.w3.eth.block_number == deployment.block_number
        assert reopened.w3.eth.get_block(deployment.block_number) == block  # hash, time, all
        receipt = reopened.w3.eth.get_transaction_receipt(HexStr(deployment.tx_hash))
        assert receipt["contractAddress"] == client.address
        assert AnchorRegistryClient(reopened.w3, client.address).anchorer() == \
            chain.sender.address
    finally:
        again.shutdown()
        again.server_close()


def test_bad_requests_are_json_rpc_errors(served: RpcServer) -> None:
    import urllib.request

    def post(body: bytes) -> object:
        request = urllib.request.Request(served.url, body,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    assert post(b"{not json")["error"]["code"] == -32700  # type: ignore[index]
    assert post(b'{"jsonrpc": "2.0", "id": 1}')["error"]["code"] == -32600  # type: ignore[index]
    unknown = post(b'{"jsonrpc": "2.0", "id": 2, "method": "eth_nothing", "params": []}')
    assert unknown["id"] == 2 and "eth_nothing" in unknown["error"]["message"]  # type: ignore[index]
    batch = post(b'[{"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "params": []},'
                 b' {"jsonrpc": "2.0", "id": 4, "method": "net_version", "params": []}]')
    assert batch == [{"jsonrpc": "2.0", "id": 3, "result": "0x0"},
                     {"jsonrpc": "2.0", "id": 4, "result": "1"}]


# --- the commands, with no anvil anywhere -----------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.setenv(ANCHORER_KEY_VARIABLE, KEY)
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    # No anvil: not on PATH, and the variable that names one points at nothing.
    monkeypatch.setenv("PATH", os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep)
        if not (Path(d) / "anvil").exists()))
    monkeypatch.setenv(ANVIL_BINARY_VARIABLE, str(tmp_path / "no-anvil-here"))
    with pytest.raises(AnvilNotInstalled):
        find_anvil()
    data = tmp_path / "ledger"
    init_ledger(data, registry="MEE", registry_name="Registry", password="pw", scrypt_n=2**4)
    yield data
    EmbeddedNode(data / "chain").stop()


def invoke(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


def cli(data_dir: Path, *args: str) -> str:
    code, output = invoke(data_dir, *args)
    assert code == 0, output
    return output


def test_up_deploy_anchor_verify_audit_status_down_on_the_embedded_node(
        data_dir: Path, tmp_path: Path) -> None:
    owner = Account.create().address
    code, nothing = invoke(data_dir, "chain", "deploy", "--owner", owner)
    assert code == 3 and "no local chain node is running" in nothing and "--embedded" in nothing
    up = cli(data_dir, "chain", "up", "--embedded")
    assert "embedded chain node started: http://127.0.0.1:" in up
    port = kept_port(data_dir / "chain")
    assert port is not None and f"port {port} is kept" in up
    url = f"http://127.0.0.1:{port}"
    code, refused = invoke(data_dir, "chain", "up")  # anvil beside it: refused, not started
    assert code == 1 and "chain down" in refused

    deployed = cli(data_dir, "chain", "deploy", "--owner", owner)
    record = ChainRecord.load(data_dir)
    assert (record.network, record.chain_id) == ("embedded-rpc", EMBEDDED_NODE_CHAIN_ID)
    assert record.rpc_url == url and record.owner == owner
    assert f"deployed at {record.registry}" in deployed
    for _ in range(2):
        cli(data_dir, "checkpoint")
    anchored = cli(data_dir, "chain", "anchor")
    assert "checkpoint 1 anchored" in anchored and "checkpoint 2 anchored" in anchored
    status = cli(data_dir, "chain", "status")
    assert "local embedded py-evm node at " + url in status
    assert "2 checkpoints stored, 2 recorded as anchored on this registry, 0 waiting" in status
    assert "latest checkpoint 2" in status

    bundle = tmp_path / "entry.json"
    cli(data_dir, "proof", "entry", "0", "-o", str(bundle))
    verified = cli(data_dir, "verify", str(bundle), "--rpc", url)
    assert "VERIFIED" in verified and "ANCHORED: checkpoint 2" in verified
    audited = cli(data_dir, "audit", "--rpc", url)
    assert "2 of them held on chain exactly as recomputed" in audited

    stopped = cli(data_dir, "chain", "down")
    assert "embedded chain node stopped" in stopped
    cli(data_dir, "checkpoint")  # the ledger goes on with the chain down
    code, down = invoke(data_dir, "chain", "anchor")
    assert code == 3 and "Nothing is lost" in down
    assert "unreachable" in cli(data_dir, "chain", "status")
    assert "no local chain node is running" in cli(data_dir, "chain", "down")

    again = cli(data_dir, "chain", "up", "--embedded")  # the same port, the same chain
    assert f"started: {url} " in again
    assert "checkpoint 3 anchored" in cli(data_dir, "chain", "anchor")
    assert "ANCHORED: checkpoint 2" in cli(data_dir, "verify", str(bundle), "--rpc", url)
    assert "3 of them held on chain" in cli(data_dir, "audit", "--rpc", url)


def test_a_crash_keeps_every_anchor_it_answered(data_dir: Path) -> None:
    cli(data_dir, "chain", "up", "--embedded")
    cli(data_dir, "chain", "deploy", "--owner", Account.create().address)
    cli(data_dir, "checkpoint")
    assert "checkpoint 1 anchored" in cli(data_dir, "chain", "anchor")
    assert EmbeddedNode(data_dir / "chain").kill() is not None  # SIGKILL: no goodbye
    cli(data_dir, "chain", "up", "--embedded")
    status = cli(data_dir, "chain", "status")
    assert "1 recorded as anchored on this registry" in status
    assert "latest checkpoint 1" in status
    assert "nothing to anchor" in cli(data_dir, "chain", "anchor")


def test_a_second_node_on_the_same_chain_is_refused(data_dir: Path) -> None:
    running = EmbeddedNode(data_dir / "chain").start()
    second = subprocess.run(
        [sys.executable, "-m", "anchoring.operator.rpc_server", "--state", running.state_file,
         "--port", "0"], capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 1
    assert "another node is serving the chain" in second.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_port_is_set_kept_and_a_taken_one_is_named(data_dir: Path) -> None:
    port = free_port()
    assert f"http://127.0.0.1:{port} " in cli(data_dir, "chain", "up", "--embedded",
                                               "--port", str(port))
    assert kept_port(data_dir / "chain") == port
    code, output = invoke(data_dir, "chain", "up", "--embedded", "--port", str(free_port()))
    assert code == 1 and f"already running on port {port}" in output
    cli(data_dir, "chain", "down")

    with socket.socket() as squatter:  # someone else took the kept port meanwhile
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        code, output = invoke(data_dir, "chain", "up", "--embedded")
    assert code == 3 and f"port {port} is the one kept" in output and "--port" in output
    assert EmbeddedNode(data_dir / "chain").running() is None
    assert kept_port(data_dir / "chain") == port  # a failed start changes nothing


def test_anvil_listens_on_the_kept_port_too(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        find_anvil()
    except AnvilNotInstalled as missing:
        pytest.skip(f"{missing}")
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    data = tmp_path / "ledger"
    try:
        first = cli(data, "chain", "up")
        port = kept_port(data / "chain")
        assert port is not None and f"anvil started: http://127.0.0.1:{port} " in first
        cli(data, "chain", "down")
        assert f"anvil started: http://127.0.0.1:{port} " in cli(data, "chain", "up")
    finally:
        cli(data, "chain", "down")
