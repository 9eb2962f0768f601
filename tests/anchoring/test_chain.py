"""Reaching a chain: the embedded one, the managed anvil node, any JSON-RPC URL; the anchorer's
key; chain.json; and the `carbonledger chain` commands end to end."""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchoring.auditor.merkle import leaf_hash, root_from_leaf_hashes
from anchoring.operator.anvil import (
    ANVIL_BINARY_VARIABLE,
    ANVIL_CHAIN_ID,
    AnvilNode,
    AnvilNotInstalled,
    AnvilNotRunning,
    AnvilStartFailed,
    connect_anvil,
    find_anvil,
    set_balance,
)
from anchoring.operator.chain import (
    ANCHORER_KEY_VARIABLE,
    AnchorerKeyMissing,
    AnchorNotConfirmed,
    Chain,
    ChainRecord,
    ChainRecordError,
    ChainUnavailable,
    EmbeddedChain,
    InsufficientFunds,
    RpcChain,
    anchorer_account,
    confirm_anchor,
    deploy_registry,
    redact_url,
)
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    anchor_proof_from_leaf_hashes,
    marker_leaf_hash,
)
from api.bootstrap import init_ledger
from api.cli import main
from custody.keystore import write_keystore

KEY = "0x" + "11" * 32


def anvil_or_skip() -> Path:
    try:
        return find_anvil()
    except AnvilNotInstalled as missing:
        pytest.skip(f"{missing}")


# --- the interface ---------------------------------------------------------------------------


def test_the_embedded_chain_says_it_is_ephemeral_and_deploys() -> None:
    chain: Chain = EmbeddedChain()
    assert chain.ephemeral
    assert "EPHEMERAL" in chain.description and str(chain.chain_id) in chain.description
    assert chain.w3.eth.get_balance(chain.sender.address) > 0
    owner = Account.create().address
    client, deployment = deploy_registry(chain, owner=owner)
    assert (client.owner(), client.anchorer()) == (owner, chain.sender.address)
    assert deployment.chain_id == chain.chain_id and deployment.registry == client.address
    assert chain.w3.eth.get_code(client.address)


def test_an_unreachable_node_is_chain_unavailable_and_its_url_is_not_shown_whole() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chain = RpcChain(f"http://user:secret@127.0.0.1:{port}/v3/api-key?token=x",
                     Account.create(), timeout_s=2)
    assert not chain.ephemeral
    with pytest.raises(ChainUnavailable, match="chain up"):
        _ = chain.chain_id
    assert "secret" not in chain.description and "api-key" not in chain.description
    assert chain.description == f"JSON-RPC node at http://127.0.0.1:{port}/… (not reached yet)"
    assert redact_url("https://rpc.example.org") == "https://rpc.example.org"


def test_a_read_only_connection_has_no_sender() -> None:
    with pytest.raises(AnchorerKeyMissing, match="read-only"):
        _ = RpcChain("http://127.0.0.1:1", None).sender


def test_the_anchorer_key_comes_from_the_environment_or_a_keystore(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ANCHORER_KEY_VARIABLE, raising=False)
    keystore = tmp_path / "anchorer.json"
    with pytest.raises(AnchorerKeyMissing, match=ANCHORER_KEY_VARIABLE):
        anchorer_account(keystore, "pw")
    address = write_keystore(keystore, bytes.fromhex("22" * 32), "pw", scrypt_n=2**4)
    assert anchorer_account(keystore, "pw").address == address
    with pytest.raises(AnchorerKeyMissing, match="wrong password"):
        anchorer_account(keystore, "not it")
    with pytest.raises(AnchorerKeyMissing, match="needs its password"):
        anchorer_account(keystore, None)
    monkeypatch.setenv(ANCHORER_KEY_VARIABLE, KEY)  # the environment wins over the keystore
    assert anchorer_account(keystore, "pw").address == Account.from_key(KEY).address
    monkeypatch.setenv(ANCHORER_KEY_VARIABLE, "not a key")
    with pytest.raises(AnchorerKeyMissing, match="is not a private key"):
        anchorer_account(keystore, "pw")


@dataclass
class Unfunded:
    """The embedded chain, signed for with a key that holds nothing."""

    base: EmbeddedChain
    sender: LocalAccount
    ephemeral = True
    description = "test chain"

    @property
    def w3(self) -> Web3:
        return self.base.w3

    @property
    def chain_id(self) -> int:
        return self.base.chain_id


def test_an_unfunded_anchorer_is_told_to_get_funds() -> None:
    chain = EmbeddedChain()
    poor = Unfunded(chain, Account.create())
    with pytest.raises(InsufficientFunds, match="fund it"):
        deploy_registry(poor, owner=chain.sender.address)


def test_chain_json_round_trips(tmp_path: Path) -> None:
    with pytest.raises(ChainRecordError, match="chain deploy"):
        ChainRecord.load(tmp_path)
    assert ChainRecord.load_if_present(tmp_path) is None
    record = ChainRecord(network="rpc", chain_id=1337, registry="0x" + "ab" * 20,
                         deployment_block=7, deployment_tx="0x" + "cd" * 32,
                         owner="0x" + "01" * 20,
                         anchorer="0x" + "02" * 20, rpc_url="http://node:8545",
                         anchorer_keystore="keystores/anchorer.json")
    path = record.save(tmp_path)
    assert path == tmp_path / "chain.json"
    assert ChainRecord.load(tmp_path) == record
    path.write_text("{")
    with pytest.raises(ChainRecordError, match="not valid JSON"):
        ChainRecord.load(tmp_path)


def test_an_anchor_claim_is_confirmed_against_the_chain() -> None:
    chain = EmbeddedChain()
    client, _ = deploy_registry(chain, owner=chain.sender.address)
    leaves = [leaf_hash(b"entry %d" % i) for i in range(6)] + [marker_leaf_hash(1, 6)]
    checkpoint = AnchoredCheckpoint(1, 7, root_from_leaf_hashes(leaves), b"\x5a" * 32)
    receipt = client.anchor(checkpoint, anchor_proof_from_leaf_hashes(leaves, 0, 7),
                            previous=None, sender=chain.sender)
    block = chain.w3.eth.get_block(receipt["blockNumber"])
    claim = {"chain_id": chain.chain_id, "contract": client.address, "checkpoint": 1,
             "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
             "block_number": receipt["blockNumber"], "block_time": block["timestamp"]}
    confirmed = confirm_anchor(chain.w3, claim, checkpoint)
    assert (confirmed.block_number, confirmed.confirmations) == (receipt["blockNumber"], 1)

    other = replace(checkpoint, state_root=b"\x5b" * 32)
    for claimed, wanted, reason in [
        (claim, other, "does not hold this checkpoint"),
        ({**claim, "chain_id": 1}, checkpoint, "claims chain 1"),
        ({**claim, "checkpoint": 2}, checkpoint, "is for checkpoint 2"),
        ({**claim, "contract": "0x" + "42" * 20}, checkpoint, "no contract at"),
        ({**claim, "tx_hash": "0x" + "00" * 32}, checkpoint, "no transaction"),
        ({**claim, "block_number": 1}, checkpoint, "not 1 as claimed"),
        ({**claim, "block_time": 7}, checkpoint, "not 7 as claimed"),
    ]:
        with pytest.raises(AnchorNotConfirmed, match=reason):
            confirm_anchor(chain.w3, claimed, wanted)


# --- the managed anvil node -------------------------------------------------------------------


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilNode]:
    anvil_or_skip()
    managed = AnvilNode(tmp_path / "chain")
    yield managed
    managed.stop()


def test_anvil_starts_records_itself_and_keeps_its_chain_across_restarts(
        node: AnvilNode) -> None:
    running = node.start()
    assert node.start() == running  # already running: the same node
    recorded = json.loads(node.running_file.read_text())
    assert recorded["pid"] == running.pid and recorded["port"] == running.port
    assert running.url == f"http://127.0.0.1:{running.port}"
    anchorer = Account.create()
    chain = connect_anvil(node.directory, anchorer)
    assert chain.chain_id == ANVIL_CHAIN_ID and not chain.ephemeral
    assert str(node.state_file) in chain.description
    set_balance(chain, anchorer.address, 10**20)
    client, _ = deploy_registry(chain, owner=anchorer.address)

    stopped = node.stop()
    assert stopped == running and node.running() is None
    assert not node.running_file.exists() and node.state_file.is_file()
    assert node.stop() is None  # stopping twice is harmless
    with pytest.raises(AnvilNotRunning, match="chain up"):
        connect_anvil(node.directory, anchorer)

    again = node.start()
    chain = connect_anvil(node.directory, anchorer)
    assert AnchorRegistryClient(chain.w3, client.address).anchorer() == anchorer.address
    assert again.pid != running.pid


def test_a_dead_or_foreign_pid_is_never_signalled(node: AnvilNode) -> None:
    running = node.start()
    os.kill(running.pid, signal.SIGKILL)  # dies behind the record's back
    node._wait_for_exit(running.pid, 5)
    assert node.running() is None
    # A record naming a live process that is not this anvil (the test itself).
    record = json.loads(node.running_file.read_text())
    node.running_file.write_text(json.dumps({**record, "pid": os.getpid()}))
    assert node.running() is None
    assert node.stop() is None  # and nothing was signalled: this test is still running


def test_anvil_missing_or_broken_is_named(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ANVIL_BINARY_VARIABLE, str(tmp_path / "nowhere"))
    with pytest.raises(AnvilNotInstalled, match="not an executable"):
        find_anvil()
    broken = tmp_path / "anvil"
    broken.write_text("#!/bin/sh\necho 'no such flag' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(AnvilStartFailed, match="status 3"):
        AnvilNode(tmp_path / "chain", binary=broken).start()


# --- the commands ----------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.setenv(ANCHORER_KEY_VARIABLE, KEY)  # no keystore: no scrypt in the tests
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    data = tmp_path / "ledger"
    init_ledger(data, registry="MEE", registry_name="Registry", password="pw", scrypt_n=2**4)
    return data


def cli(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_deploying_on_the_embedded_chain_says_ephemeral_and_records_nothing(
        data_dir: Path) -> None:
    output = cli(data_dir, "chain", "deploy", "--chain", "embedded")
    assert output.count("EPHEMERAL") == 2 and "nothing was recorded" in output
    assert not (data_dir / "chain.json").exists()


def test_chain_up_deploy_anchor_status_down(data_dir: Path) -> None:
    anvil_or_skip()
    owner = Account.create().address
    try:
        assert "anvil started" in cli(data_dir, "chain", "up")
        output = cli(data_dir, "chain", "deploy", "--owner", owner)
        record = ChainRecord.load(data_dir)
        assert record.network == "anvil" and record.chain_id == ANVIL_CHAIN_ID
        assert record.owner == owner and record.anchorer == Account.from_key(KEY).address
        assert record.anchorer_keystore is None  # the key came from the environment
        assert f"deployed at {record.registry}" in output
        refused = CliRunner().invoke(main, ["--data-dir", str(data_dir), "chain", "deploy",
                                            "--owner", owner])
        assert refused.exit_code == 1 and "--replace" in refused.output

        assert "nothing to anchor" in cli(data_dir, "chain", "anchor")
        for _ in range(2):
            cli(data_dir, "checkpoint")
        output = cli(data_dir, "chain", "anchor")
        assert "checkpoint 1 anchored" in output and "checkpoint 2 anchored" in output
        status = cli(data_dir, "chain", "status")
        assert "2 checkpoints stored, 2 recorded as anchored on this registry, 0 waiting" in \
            status
        assert "latest checkpoint 2" in status

        assert "anvil stopped" in cli(data_dir, "chain", "down")
        cli(data_dir, "checkpoint")  # the ledger goes on with the chain down
        down = CliRunner().invoke(main, ["--data-dir", str(data_dir), "chain", "anchor"])
        assert down.exit_code == 3 and "Nothing is lost" in down.output
        assert "unreachable" in cli(data_dir, "chain", "status")

        cli(data_dir, "chain", "up")  # the same chain, from its state file
        assert "checkpoint 3 anchored" in cli(data_dir, "chain", "anchor")
    finally:
        cli(data_dir, "chain", "down")


def test_anchoring_stops_loudly_on_a_reset_node(data_dir: Path) -> None:
    anvil_or_skip()
    try:
        cli(data_dir, "chain", "up")
        cli(data_dir, "chain", "deploy", "--owner", Account.create().address)
        registry = ChainRecord.load(data_dir).registry
        cli(data_dir, "checkpoint")
        cli(data_dir, "chain", "anchor")
        cli(data_dir, "chain", "down")
        (data_dir / "chain" / "anvil-state.json").unlink()  # the node loses its chain
        cli(data_dir, "chain", "up")
        assert "the registry is NOT on it" in cli(data_dir, "chain", "status")
        stopped = CliRunner().invoke(main, ["--data-dir", str(data_dir), "chain", "anchor"])
        assert stopped.exit_code == 3  # the environment: the node lost the registry
        assert "ANCHORING STOPPED" in stopped.output and "was reset" in stopped.output

        # The way out: a new registry, and the checkpoints anchored again on it. The same
        # key deploying first on an empty chain gets the same address back, so the record of
        # checkpoint 1 now names a registry that lacks it: still refused without --reanchor.
        cli(data_dir, "chain", "deploy", "--owner", Account.create().address)
        assert ChainRecord.load(data_dir).registry == registry
        lost = CliRunner().invoke(main, ["--data-dir", str(data_dir), "chain", "anchor"])
        assert lost.exit_code == 1 and "the chain lost them" in lost.output
        assert "checkpoint 1 anchored" in cli(data_dir, "chain", "anchor", "--reanchor")
        assert "nothing to anchor" in cli(data_dir, "chain", "anchor")
    finally:
        cli(data_dir, "chain", "down")


def test_the_chain_commands_name_the_variable_and_file_the_chain_reads() -> None:
    """Named twice so that a command's start imports no web3: the names must agree."""
    from anchoring.operator.chain import CHAIN_FILE
    from api import bootstrap, chain_cli

    assert chain_cli.ANCHORER_KEY_VARIABLE == ANCHORER_KEY_VARIABLE
    assert bootstrap.CHAIN_FILE == CHAIN_FILE


def test_a_witnessed_registry_waits_for_its_witness_then_anchors(data_dir: Path,
                                                                 tmp_path: Path) -> None:
    """An operator deploys a registry that needs one witness's attestation; `chain anchor`
    says what it waits for, and anchors once the witness's attestation is added."""
    anvil_or_skip()
    owner = Account.create().address
    witness = ["witness", "--witness-dir", str(tmp_path / "w1")]
    try:
        cli(data_dir, "chain", "up")
        operator = cli(data_dir, "operator-key", "--create").strip().split()[-1]
        created = cli(data_dir, *witness, "init", "--name", "witness.example/w1",
                      "--operator-key", operator)
        attester = next(line.split()[1] for line in created.splitlines()
                        if line.startswith("attester "))
        twice = CliRunner().invoke(main, ["--data-dir", str(data_dir), "chain", "deploy",
                                          "--owner", owner, "--witness", attester,
                                          "--witness", attester.lower()])
        assert twice.exit_code == 2 and "named twice" in twice.output
        deployed = cli(data_dir, "chain", "deploy", "--owner", owner, "--witness", attester)
        assert f"anchors need 1 of 1 witnesses' attestations: {attester}" in deployed
        record = ChainRecord.load(data_dir)
        assert (record.witnesses, record.witness_threshold) == ([attester], 1)

        cli(data_dir, "checkpoint")
        waiting = cli(data_dir, "chain", "anchor")
        assert "checkpoint 1 waits for its witnesses: 0 of the 1 attestations" in waiting
        assert "anchored" not in waiting

        cli(data_dir, *witness, "run", "--source", str(data_dir), "--attest-chain-id",
            str(record.chain_id), "--attest-registry", record.registry)
        attestation = tmp_path / "w1" / "cosigned" / "1.attestation.json"
        cli(data_dir, "cosignature", "add", str(attestation))
        assert "checkpoint 1 anchored" in cli(data_dir, "chain", "anchor")
    finally:
        cli(data_dir, "chain", "down")
