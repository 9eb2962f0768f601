"""The anchoring worker: operations -> checkpoints -> anchors, on the embedded chain always and
on a real anvil node when it is installed; a chain that is down, a worker stopped between a
receipt and its record, a rewritten history, and chains that lost or never had what the ledger
recorded.

The embedded chain is one per session (deployed once, rolled back after each test, as in
tests/contracts): eth-tester slows down as its chain grows."""

from __future__ import annotations

import itertools
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.note import sign_note
from anchoring.operator import checkpoints as checkpoints_module
from anchoring.operator.anvil import (
    AnvilNode,
    AnvilNotInstalled,
    connect_anvil,
    find_anvil,
    set_balance,
)
from anchoring.operator.chain import Chain, ChainUnavailable, EmbeddedChain, deploy_registry
from anchoring.operator.checkpoints import Checkpointer, StoredCheckpoint, stored_checkpoints
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    AnchorRejection,
    checkpoint_commitment,
)
from anchoring.operator.log_store import open_log
from anchoring.operator.worker import (
    AnchoredElsewhere,
    AnchorerMismatch,
    AnchoringWorker,
    AnchorRefused,
    AnchorResult,
    AnchorTarget,
    AnchorVanished,
    Backoff,
    CheckpointNotSigned,
    RegistryMissing,
    UnknownCheckpointOnChain,
    WrongChain,
)
from ledger.clock import FixedClock
from ledger.store.database import Store, sqlite_url
from tests.anchoring.ledger_history import OPERATOR_KEY, OTHER_KEY
from tests.world import OPERATIONS, World

FAST = Backoff(first_s=0.02, factor=2.0, max_s=0.2, jitter=0.0)


# --- fixtures ------------------------------------------------------------------------------


@dataclass
class Registry:
    chain: EmbeddedChain
    target: AnchorTarget
    client: AnchorRegistryClient


@pytest.fixture(scope="session")
def session_registry() -> Registry:
    chain = EmbeddedChain()
    client, deployment = deploy_registry(chain, owner=list(chain.w3.eth.accounts)[1])
    target = AnchorTarget(deployment.chain_id, deployment.registry, deployment.block_number)
    return Registry(chain, target, client)


@pytest.fixture
def registry(session_registry: Registry) -> Iterator[Registry]:
    snapshot = session_registry.chain.tester.take_snapshot()
    try:
        yield session_registry
    finally:
        session_registry.chain.tester.revert_to_snapshot(snapshot)


@dataclass
class LedgerUnderTest:
    world: World
    checkpointer: Checkpointer
    _ops: int = 0

    @property
    def store(self) -> Store:
        return self.world.store

    def operations(self, count: int) -> None:
        """``count`` journal entries: transfers back and forth between two holders."""
        for _ in range(count):
            self._ops += 1
            sender, receiver = ("HN", "GW") if self._ops % 2 else ("GW", "HN")
            who = "huaneng" if sender == "HN" else "gw"
            self.world.by(who, "transfer", fromAccount=sender, toAccount=receiver, batch="A1",
                          quantity=1)

    def cut(self) -> StoredCheckpoint:
        return self.checkpointer.cut()

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self.store.read() as tx:
            return stored_checkpoints(tx)


def make_ledger(store: Store, clock: FixedClock) -> LedgerUnderTest:
    world = World.create(store, clock)
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 1000)
    return LedgerUnderTest(world, Checkpointer(world.ledger, OPERATOR_KEY))


@pytest.fixture
def ledger(world: World) -> LedgerUnderTest:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 1000)
    return LedgerUnderTest(world, Checkpointer(world.ledger, OPERATOR_KEY))


def worker_for(ledger: LedgerUnderTest, registry: Registry, *, chain: Chain | None = None,
               **options: object) -> AnchoringWorker:
    target_chain = chain or registry.chain
    return AnchoringWorker(ledger.store, lambda: target_chain, registry.target,
                           operator=ledger.checkpointer.operator, backoff=FAST,
                           **options)  # type: ignore[arg-type]


def assert_all_anchored(ledger: LedgerUnderTest, client: AnchorRegistryClient, target: AnchorTarget,
                        w3_block: Callable[[int], int] | None = None) -> None:
    """Every stored checkpoint is on chain, in order, recorded with its transaction."""
    checkpoints = ledger.checkpoints()
    assert client.latest_number() == len(checkpoints)
    blocks = []
    for checkpoint in checkpoints:
        assert checkpoint.anchor is not None, f"checkpoint {checkpoint.number} not recorded"
        assert (checkpoint.anchor.chain_id, checkpoint.anchor.contract) == \
            (target.chain_id, target.registry)
        assert client.commitment_of(checkpoint.number) == checkpoint_commitment(
            _anchored(checkpoint))
        receipt = client.w3.eth.get_transaction_receipt(HexBytes(checkpoint.anchor.tx_hash))
        assert receipt["blockNumber"] == checkpoint.anchor.block_number
        assert client.checkpoint_from_receipt(receipt).number == checkpoint.number
        block = client.w3.eth.get_block(checkpoint.anchor.block_number)
        assert block["timestamp"] == checkpoint.anchor.block_time
        blocks.append(checkpoint.anchor.block_number)
    assert blocks == sorted(blocks)


def _anchored(checkpoint: StoredCheckpoint) -> AnchoredCheckpoint:
    return AnchoredCheckpoint(checkpoint.number, checkpoint.log_size, checkpoint.log_root,
                              checkpoint.state_root)


@dataclass
class OtherKey:
    """The same chain, signed for with another key."""

    base: EmbeddedChain
    sender: LocalAccount
    ephemeral = True

    @property
    def w3(self) -> Web3:
        return self.base.w3

    @property
    def chain_id(self) -> int:
        return self.base.chain_id

    @property
    def description(self) -> str:
        return self.base.description


# --- the embedded chain --------------------------------------------------------------------


def test_operations_checkpoints_anchors(ledger: LedgerUnderTest, registry: Registry) -> None:
    worker = worker_for(ledger, registry)
    assert worker.anchor_pending() == []  # nothing cut yet
    for count in (3, 1, 6):
        ledger.operations(count)
        ledger.cut()
    results = worker.anchor_pending()
    assert [r.number for r in results] == [1, 2, 3]
    assert all(r.gas_used <= 80_000 for r in results)
    assert_all_anchored(ledger, registry.client, registry.target)

    # Another pass, and another worker: nothing is sent twice.
    block = registry.chain.w3.eth.block_number
    assert worker.anchor_pending() == []
    again = worker_for(ledger, registry)
    reconciliation = again.reconcile()
    assert (reconciliation.chain_latest, reconciliation.pending, reconciliation.adopted) == \
        (3, 0, ())
    assert again.anchor_pending() == []
    assert registry.chain.w3.eth.block_number == block

    ledger.operations(2)
    ledger.cut()
    assert [r.number for r in again.anchor_pending()] == [4]
    assert_all_anchored(ledger, registry.client, registry.target)


def test_the_ledger_goes_on_while_the_chain_is_down(ledger: LedgerUnderTest,
                                                    registry: Registry) -> None:
    up = threading.Event()

    def connect() -> Chain:
        if not up.is_set():
            raise ChainUnavailable("the node is down (test)")
        return registry.chain

    worker = AnchoringWorker(ledger.store, connect, registry.target, backoff=FAST)
    for _ in range(3):
        ledger.operations(2)
        ledger.cut()  # the ledger does not wait for the chain
        with pytest.raises(ChainUnavailable):
            worker.anchor_pending()
    assert all(c.anchor is None for c in ledger.checkpoints())
    up.set()
    assert [r.number for r in worker.anchor_pending()] == [1, 2, 3]
    assert_all_anchored(ledger, registry.client, registry.target)


def test_run_retries_with_backoff_and_wakes_on_a_cut(ledger: LedgerUnderTest,
                                                     registry: Registry) -> None:
    failures_left = [3]
    attempts: list[float] = []

    def connect() -> Chain:
        attempts.append(time.monotonic())
        if failures_left[0]:
            failures_left[0] -= 1
            raise ChainUnavailable("flaky node (test)")
        return registry.chain

    backoff = Backoff(first_s=0.05, factor=2.0, max_s=1.0, jitter=0.0)
    worker = AnchoringWorker(ledger.store, connect, registry.target, backoff=backoff)
    anchored: list[int] = []
    done = threading.Event()

    def on_anchor(result: AnchorResult) -> None:
        anchored.append(result.number)
        if len(anchored) == 3:
            done.set()

    errors: list[BaseException] = []

    def run() -> None:
        try:
            worker.run(poll_s=30.0, on_anchor=on_anchor)
        except BaseException as error:  # surfaced in the test thread
            errors.append(error)

    thread = threading.Thread(target=run)
    ledger.operations(1)
    ledger.cut()
    thread.start()
    try:
        for _ in range(2):
            time.sleep(0.05)
            ledger.operations(1)
            ledger.cut()
            worker.wake()  # poll_s is 30 s: only a wake gets these anchored in time
        assert done.wait(10), f"anchored only {anchored}; errors {errors}"
    finally:
        worker.stop()
        thread.join(10)
    assert not errors and anchored == [1, 2, 3]
    gaps = [b - a for a, b in itertools.pairwise(attempts[:4])]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2, gaps  # backing off
    assert_all_anchored(ledger, registry.client, registry.target)


def test_an_anchor_mined_but_not_recorded_is_adopted_not_resent(
        ledger: LedgerUnderTest, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger.operations(2)
    ledger.cut()
    worker = worker_for(ledger, registry)
    assert [r.number for r in worker.anchor_pending()] == [1]
    ledger.operations(2)
    ledger.cut()

    # The worker stops after checkpoint 2's receipt and before its record.
    import anchoring.operator.worker as worker_module

    def crash(*_args: object) -> None:
        raise KeyboardInterrupt("the worker's process stops here (test)")

    monkeypatch.setattr(worker_module, "record_anchor", crash)
    with pytest.raises(KeyboardInterrupt):
        worker.anchor_pending()
    monkeypatch.setattr(worker_module, "record_anchor", checkpoints_module.record_anchor)
    assert registry.client.latest_number() == 2
    assert ledger.checkpoints()[1].anchor is None
    block = registry.chain.w3.eth.block_number

    restarted = worker_for(ledger, registry)
    assert restarted.reconcile().adopted == (2,)
    assert restarted.anchor_pending() == []
    assert registry.chain.w3.eth.block_number == block  # nothing sent again
    assert_all_anchored(ledger, registry.client, registry.target)


def test_a_slow_chain_gets_the_same_transaction_waited_for_not_a_second_one(
        ledger: LedgerUnderTest, registry: Registry) -> None:
    tester = registry.chain.tester
    ledger.operations(2)
    ledger.cut()
    worker = worker_for(ledger, registry, receipt_timeout_s=0.1)
    sender = registry.chain.sender.address
    nonce = registry.chain.w3.eth.get_transaction_count(sender)
    tester.disable_auto_mine_transactions()  # transactions wait in the pool: a slow chain
    try:
        for _ in range(3):
            with pytest.raises(ChainUnavailable, match="TimeExhausted"):
                worker.anchor_pending()
            ledger.operations(1)  # the ledger goes on meanwhile
        ledger.cut()
    finally:
        tester.enable_auto_mine_transactions()  # mines what waits: checkpoint 1's anchor
    # Found on chain and recorded (adopted), then checkpoint 2 sent: one transaction each.
    assert [r.number for r in worker.anchor_pending()] == [2]
    assert registry.chain.w3.eth.get_transaction_count(sender) == nonce + 2  # one each
    assert_all_anchored(ledger, registry.client, registry.target)


def rewrite_history(store: Store, first: StoredCheckpoint, second: StoredCheckpoint) -> None:
    """Someone with the database and the operator's key rewrites a transfer that checkpoint 1
    covers, rebuilds the log over it and re-signs checkpoint 2, so that all looks in order
    (checkpoint 1, anchored, is left as it was)."""
    with store.write() as tx:
        row = next(r for r in tx.journal_rows(0, first.log_size) if r.op == "transfer")
        forged = row.entry.replace(b'"quantity":1', b'"quantity":9')
        assert forged != row.entry
        tx.execute("UPDATE journal SET entry = :e, leaf_hash = :h WHERE seq = :s",
                   {"e": forged, "h": leaf_hash(forged), "s": row.seq})
        tx.execute("DELETE FROM log_nodes")
        log = open_log(tx, 0)
        log.extend(r.leaf_hash for r in tx.journal_rows(0, second.log_size))
        body = replace(second.body, log_root=log.root())
        tx.execute("UPDATE checkpoints SET log_root = :r, note = :n WHERE number = 2",
                   {"r": body.log_root, "n": sign_note(body, OPERATOR_KEY)})
    assert body.log_root != second.log_root


def test_a_rewritten_history_is_refused_by_the_contract(
        sqlite_store: Store, clock: FixedClock, registry: Registry) -> None:
    ledger = make_ledger(sqlite_store, clock)
    ledger.operations(4)
    first = ledger.cut()
    worker = worker_for(ledger, registry)
    worker.anchor_pending()
    ledger.operations(3)
    rewrite_history(sqlite_store, first, ledger.cut())

    with pytest.raises(AnchorRefused) as refused:
        worker_for(ledger, registry).anchor_pending()
    assert refused.value.rejection.reason is AnchorRejection.NOT_CONSISTENT_EXTENSION
    assert "carbonledger audit" in str(refused.value)
    assert registry.client.latest_number() == 1
    assert registry.client.is_anchored(_anchored(first))
    assert ledger.checkpoints()[1].anchor is None


def test_vanished_anchors_stop_anchoring_until_reanchored(
        ledger: LedgerUnderTest, registry: Registry) -> None:
    ledger.operations(2)
    ledger.cut()
    worker = worker_for(ledger, registry)
    worker.anchor_pending()
    before_reorg = registry.chain.tester.take_snapshot()
    for _ in range(2):
        ledger.operations(2)
        ledger.cut()
    worker.anchor_pending()
    assert registry.client.latest_number() == 3

    registry.chain.tester.revert_to_snapshot(before_reorg)  # the chain loses checkpoints 2, 3
    ledger.operations(1)
    ledger.cut()
    with pytest.raises(AnchorVanished) as vanished:
        worker_for(ledger, registry).anchor_pending()
    assert vanished.value.numbers == [2, 3]
    assert "2-3" in str(vanished.value) and "--reanchor" in str(vanished.value)
    assert registry.client.latest_number() == 1  # nothing was sent

    assert [r.number for r in worker_for(ledger, registry, reanchor=True).anchor_pending()] == \
        [2, 3, 4]
    assert_all_anchored(ledger, registry.client, registry.target)


def test_anchors_recorded_on_another_registry_are_not_silently_redone(
        ledger: LedgerUnderTest, registry: Registry) -> None:
    ledger.operations(2)
    ledger.cut()
    worker_for(ledger, registry).anchor_pending()
    chain = registry.chain
    client, deployment = deploy_registry(chain, owner=chain.sender.address)  # a new registry
    target = AnchorTarget(deployment.chain_id, deployment.registry, deployment.block_number)
    moved = Registry(chain, target, client)
    with pytest.raises(AnchoredElsewhere, match=f"not on {target.registry}"):
        worker_for(ledger, moved).anchor_pending()
    assert [r.number for r in worker_for(ledger, moved, reanchor=True).anchor_pending()] == [1]
    assert_all_anchored(ledger, client, target)


def test_a_moved_anchor_transaction_is_reported(ledger: LedgerUnderTest,
                                                registry: Registry) -> None:
    ledger.operations(2)
    ledger.cut()
    worker_for(ledger, registry).anchor_pending()
    # The record says block 999: as if a reorganisation had moved the transaction.
    (checkpoint,) = ledger.checkpoints()
    assert checkpoint.anchor is not None
    with ledger.store.write() as tx:
        checkpoints_module.record_anchor(tx, 1, replace(checkpoint.anchor, block_number=999))
    with pytest.raises(AnchorVanished, match="is now in block"):
        worker_for(ledger, registry).reconcile()
    assert worker_for(ledger, registry, reanchor=True).reconcile().adopted == (1,)
    assert_all_anchored(ledger, registry.client, registry.target)


def test_a_checkpoint_the_ledger_does_not_know_stops_anchoring(
        ledger: LedgerUnderTest, registry: Registry, tmp_path: Path, clock: FixedClock) -> None:
    # Another ledger anchors on the same registry first.
    other_store = Store(sqlite_url(tmp_path / "other.db"))
    other_store.upgrade(OPERATIONS)
    try:
        other = make_ledger(other_store, clock)
        other.operations(1)
        other.cut()
        worker_for(other, registry).anchor_pending()
        ledger.operations(2)
        ledger.cut()
        with pytest.raises(UnknownCheckpointOnChain, match="is not this ledger's checkpoint 1"):
            worker_for(ledger, registry).anchor_pending()
        # The chain ahead of the ledger: this ledger restored from before its checkpoints.
        other.operations(1)
        other.cut()
        worker_for(other, registry).anchor_pending()
        with other_store.write() as tx:
            tx.execute("DELETE FROM checkpoints WHERE number = 2")
        with pytest.raises(UnknownCheckpointOnChain, match="holds checkpoint 2, but this "
                                                             "ledger's latest is 1"):
            worker_for(other, registry).reconcile()
    finally:
        other_store.dispose()


def test_misconfiguration_is_named(ledger: LedgerUnderTest, registry: Registry) -> None:
    ledger.operations(1)
    ledger.cut()
    stranger = OtherKey(registry.chain, Account.create())
    registry.chain.fund(stranger.sender.address, 10**18)
    with pytest.raises(AnchorerMismatch, match="rotate the anchorer"):
        worker_for(ledger, registry, chain=stranger).anchor_pending()

    wrong = replace(registry.target, chain_id=1)
    with pytest.raises(WrongChain, match="is on chain 131277322940537"):
        AnchoringWorker(ledger.store, lambda: registry.chain, wrong).reconcile()

    nowhere = replace(registry.target, registry="0x" + "42" * 20)
    with pytest.raises(RegistryMissing, match="no contract at"):
        AnchoringWorker(ledger.store, lambda: registry.chain, nowhere).reconcile()

    worker = AnchoringWorker(ledger.store, lambda: registry.chain, registry.target,
                             operator=Account.from_key(OTHER_KEY).address)
    with pytest.raises(CheckpointNotSigned, match="does not verify"):
        worker.anchor_pending()
    assert registry.client.latest_number() == 0


# --- a real node: anvil ----------------------------------------------------------------------


def _anvil_or_skip() -> Path:
    try:
        return find_anvil()
    except AnvilNotInstalled as missing:
        pytest.skip(f"{missing}")


@dataclass
class Anvil:
    node: AnvilNode
    directory: Path
    anchorer: LocalAccount

    def connect(self) -> Chain:
        return connect_anvil(self.directory, self.anchorer)


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[Anvil]:
    _anvil_or_skip()
    directory = tmp_path / "chain"
    node = AnvilNode(directory, state_interval_s=None)  # only SIGTERM writes the state
    node.start()
    try:
        yield Anvil(node, directory, Account.create())
    finally:
        node.stop()


def deploy_on(anvil: Anvil) -> tuple[AnchorRegistryClient, AnchorTarget]:
    chain = anvil.connect()
    set_balance(chain, anvil.anchorer.address, 10**21)  # type: ignore[arg-type]
    client, deployment = deploy_registry(chain, owner=list(chain.w3.eth.accounts)[1])
    return client, AnchorTarget(deployment.chain_id, deployment.registry, deployment.block_number)


def test_anvil_stopped_mid_run_and_restarted_resumes_without_a_gap(
        ledger: LedgerUnderTest, anvil: Anvil, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="carbonledger.anchoring")
    _, target = deploy_on(anvil)
    worker = AnchoringWorker(ledger.store, anvil.connect, target,
                             operator=ledger.checkpointer.operator, backoff=FAST)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            worker.run(poll_s=0.02)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        for round_ in range(12):
            ledger.operations(3)
            ledger.cut()
            if round_ == 4:
                anvil.node.stop()  # SIGTERM while the worker polls: it writes its state
            if round_ == 8:
                anvil.node.start()  # same state file, another port
            time.sleep(0.03)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(c.anchor is None
                                                  for c in ledger.checkpoints()):
            time.sleep(0.02)
    finally:
        worker.stop()
        thread.join(10)
    assert not errors, errors
    assert any("chain unavailable" in r.getMessage() for r in caplog.records)  # it was down
    chain = anvil.connect()
    client = AnchorRegistryClient(chain.w3, target.registry)
    assert_all_anchored(ledger, client, target)
    assert client.latest_number() == 12


def test_anvil_reset_or_crashed_is_detected_by_reconciliation(
        ledger: LedgerUnderTest, anvil: Anvil) -> None:
    _, target = deploy_on(anvil)
    ledger.operations(2)
    ledger.cut()
    worker = AnchoringWorker(ledger.store, anvil.connect, target, backoff=FAST)
    worker.anchor_pending()
    anvil.node.stop()  # SIGTERM: checkpoint 1 is in the state file
    anvil.node.start()
    ledger.operations(2)
    ledger.cut()
    worker.anchor_pending()

    anvil.node.kill()  # SIGKILL: no state written since the start, checkpoint 2 is lost
    anvil.node.start()
    with pytest.raises(AnchorVanished) as vanished:
        worker.anchor_pending()
    assert vanished.value.numbers == [2]

    anvil.node.stop()  # a node reset: its state file gone
    state = anvil.node.state_file
    shutil.move(state, state.with_suffix(".bak"))
    anvil.node.start()
    with pytest.raises(RegistryMissing, match="the node was reset"):
        worker.anchor_pending()


def test_anvil_refuses_a_rewritten_history_by_name(
        sqlite_store: Store, clock: FixedClock, anvil: Anvil) -> None:
    client, target = deploy_on(anvil)
    ledger = make_ledger(sqlite_store, clock)
    ledger.operations(2)
    first = ledger.cut()
    worker = AnchoringWorker(sqlite_store, anvil.connect, target, backoff=FAST)
    worker.anchor_pending()
    ledger.operations(2)
    rewrite_history(sqlite_store, first, ledger.cut())
    with pytest.raises(AnchorRefused) as refused:  # over HTTP: web3's ContractCustomError
        worker.anchor_pending()
    assert refused.value.rejection.reason is AnchorRejection.NOT_CONSISTENT_EXTENSION
    assert client.latest_number() == 1
