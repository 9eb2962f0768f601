"""SIGKILL at every stage of cutting a checkpoint and of anchoring it: after a restart nothing is
lost, nothing is signed twice with different content, and the chain and the ledger agree.

The cut or the anchoring runs in a child process (CHILD, run with this Python) that wraps the
function of the named stage so that the process kills itself with SIGKILL right before or after
it: no `finally`, no rollback by Python, only what SQLite and the chain node kept. Then a fresh
process does the same work again (the restart), and the test checks from outside:

- the journal, the signed checkpoints and the chain agree: the audit passes, compared with the
  registry on the node;
- every note any process signed for checkpoint K is the one stored for K (the children cut at
  the same ledger time, and signatures are deterministic, so a checkpoint signed again after a
  kill is signed with the same bytes, and one cut short is never stored);
- the registry holds each checkpoint once, as stored, and the anchorer sent one transaction per
  checkpoint: an anchor sent before the kill is adopted from the chain, never sent again;
- the next cut and anchor proceed.

Both processes reach one persistent chain: a managed anvil node (tests skip without it; `make
chain` installs it), found through its directory as the CLI's commands find it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from anchoring.audit import audit
from anchoring.operator.anvil import (
    AnvilNode,
    AnvilNotInstalled,
    connect_anvil,
    find_anvil,
    set_balance,
)
from anchoring.operator.chain import Chain, deploy_registry, read_registry
from anchoring.operator.checkpoints import Checkpointer, StoredCheckpoint, stored_checkpoints
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    checkpoint_commitment,
)
from anchoring.operator.worker import AnchoringWorker, AnchorTarget, Backoff
from ledger.clock import FixedClock
from ledger.store.database import Store, sqlite_url
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.world import OPERATIONS, World

pytestmark = pytest.mark.slow  # two or three processes per stage

REPO_ROOT = Path(__file__).resolve().parents[2]
FAST = Backoff(first_s=0.02, factor=2.0, max_s=0.2, jitter=0.0)

CHILD = r'''
"""Cut a checkpoint or anchor the stored ones; with a stage named, SIGKILL self there."""
import json, os, signal, sys
from datetime import datetime
from pathlib import Path

from eth_account import Account

from anchoring.operator import checkpoints, worker as worker_module
from anchoring.operator.anvil import connect_anvil
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.state_commitment import StateCommitment
from anchoring.operator.worker import AnchoringWorker, AnchorTarget, Backoff
from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.store.database import Store
from tests.world import OPERATIONS

task = json.loads(sys.argv[1])


def say(**record):
    """A line of what this process did, on disk before it may die."""
    with open(task["log"], "a") as log:
        log.write(json.dumps(record) + "\n")
        log.flush()
        os.fsync(log.fileno())


def wrapped(function, stage, when, note=None):
    def wrapper(*args, **kwargs):
        if task["kill"] == stage and when == "before":
            say(reached=stage)
            os.kill(os.getpid(), signal.SIGKILL)
        result = function(*args, **kwargs)
        if note is not None:
            say(**note(args, result))
        if task["kill"] == stage and when == "after":
            say(reached=stage)
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapper


def signed(args, note):
    return {"signed": args[0].number, "note": note}


def sent(args, tx_hash):
    return {"sent": "0x" + bytes(tx_hash).hex()}


# cutting a checkpoint (one write transaction)
Ledger.append_checkpoint_marker = wrapped(Ledger.append_checkpoint_marker, "cut:after-marker",
                                          "after")
checkpoints.sign_note = wrapped(checkpoints.sign_note, "cut:after-signing", "after", signed)
checkpoints._insert = wrapped(checkpoints._insert, "cut:after-storing", "after")
StateCommitment.committed = wrapped(StateCommitment.committed, "cut:after-commit", "before")
# anchoring it
worker_module.record_anchor = wrapped(worker_module.record_anchor, "anchor:before-recording",
                                      "before")
AnchoringWorker.anchor_next = wrapped(AnchoringWorker.anchor_next, "anchor:after-recording",
                                      "after")

store = Store(task["store_url"])
if task["action"] == "cut":
    ledger = Ledger(store, OPERATIONS, FixedClock(datetime.fromisoformat(task["moment"])))
    cut = Checkpointer(ledger, bytes.fromhex(task["operator_key"])).cut()
    say(cut=cut.number)
else:
    anchorer = Account.from_key(task["anchorer_key"])

    def connect():
        chain = connect_anvil(Path(task["anvil_dir"]), anchorer)
        eth = chain.w3.eth
        send = eth.send_raw_transaction
        eth.send_raw_transaction = wrapped(
            wrapped(send, "anchor:after-sending", "after", sent), "anchor:before-sending",
            "before")
        return chain

    anchoring = AnchoringWorker(store, connect, AnchorTarget(**task["target"]),
                                operator=task["operator"], backoff=Backoff(first_s=0.02))
    say(anchored=[result.number for result in anchoring.anchor_pending()])
store.dispose()
'''

CUT_STAGES = ["cut:after-marker", "cut:after-signing", "cut:after-storing", "cut:after-commit"]
ANCHOR_STAGES = ["anchor:before-sending", "anchor:after-sending", "anchor:before-recording",
                 "anchor:after-recording"]


@dataclass
class Scene:
    world: World
    checkpointer: Checkpointer
    anvil_dir: Path
    anchorer: LocalAccount
    target: AnchorTarget
    directory: Path
    transfers: int = 0

    @property
    def store(self) -> Store:
        return self.world.store

    @property
    def log(self) -> Path:
        return self.directory / "children.jsonl"

    def operations(self, count: int) -> None:
        for _ in range(count):
            self.transfers += 1
            sender, receiver, who = ("HN", "GW", "huaneng") if self.transfers % 2 \
                else ("GW", "HN", "gw")
            self.world.by(who, "transfer", fromAccount=sender, toAccount=receiver, batch="A1",
                          quantity=1)

    def chain(self) -> Chain:
        return connect_anvil(self.anvil_dir, self.anchorer)

    def worker(self) -> AnchoringWorker:
        return AnchoringWorker(self.store, self.chain, self.target,
                               operator=self.checkpointer.operator, backoff=FAST)

    def child(self, action: str, kill: str | None = None) -> int:
        """Run CHILD: `action` (cut or anchor), killed at stage `kill`; its exit status."""
        task = {"action": action, "kill": kill, "store_url": self.store.url,
                "operator_key": OPERATOR_KEY.hex(), "operator": self.checkpointer.operator,
                "moment": self.world.clock().isoformat(), "anvil_dir": str(self.anvil_dir),
                "anchorer_key": self.anchorer.key.hex(), "log": str(self.log),
                "target": {"chain_id": self.target.chain_id, "registry": self.target.registry,
                           "deployment_block": self.target.deployment_block}}
        script = self.directory / "child.py"
        script.write_text(CHILD)
        done = subprocess.run([sys.executable, str(script), json.dumps(task)], cwd=REPO_ROOT,
                              env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=120)
        expected = 0 if kill is None else -signal.SIGKILL
        assert done.returncode == expected, done.stderr
        return done.returncode

    def records(self, key: str) -> list[Any]:
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [line[key] if len(line) == 1 else line for line in lines if key in line]

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self.store.read() as tx:
            return stored_checkpoints(tx)


def _anvil_or_skip() -> None:
    try:
        find_anvil()
    except AnvilNotInstalled as missing:
        pytest.skip(f"{missing}")


@pytest.fixture(scope="module")
def anvil_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    _anvil_or_skip()
    directory = tmp_path_factory.mktemp("anvil") / "chain"
    node = AnvilNode(directory, state_interval_s=None)
    node.start()
    try:
        yield directory
    finally:
        node.stop()


@pytest.fixture
def scene(anvil_dir: Path, tmp_path: Path) -> Iterator[Scene]:
    """A ledger on a SQLite file with checkpoint 1 cut and anchored on a registry of its own,
    and three operations since."""
    store = Store(sqlite_url(tmp_path / "ledger.db"))
    store.upgrade(OPERATIONS)
    world = World.create(store, FixedClock(datetime.now(UTC).replace(microsecond=0)))
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 1000)
    anchorer: LocalAccount = Account.create()
    chain = connect_anvil(anvil_dir, anchorer)
    set_balance(chain, anchorer.address, 10**21)
    _, deployment = deploy_registry(chain, owner=Account.create().address)
    target = AnchorTarget(deployment.chain_id, deployment.registry, deployment.block_number)
    scene = Scene(world, Checkpointer(world.ledger, OPERATOR_KEY), anvil_dir, anchorer, target,
                  tmp_path)
    scene.checkpointer.cut()
    assert [r.number for r in scene.worker().anchor_pending()] == [1]
    scene.world.clock.advance(seconds=1)
    scene.operations(3)
    yield scene
    store.dispose()


def _agree(scene: Scene) -> None:
    """The journal, the checkpoints and the chain agree, and nothing was signed or anchored
    twice with different content."""
    stored = scene.checkpoints()
    numbers = [c.number for c in stored]
    assert numbers == list(range(1, len(stored) + 1))
    chain = scene.chain()
    report = audit(scene.store, OPERATIONS,
                   scene.checkpointer.operator,
                   chain=read_registry(chain.w3, scene.target.registry,
                                       chain_id=scene.target.chain_id))
    assert report.ok, report.first_discrepancy
    assert report.anchored == len(stored)
    notes = {c.number: c.note for c in stored}
    for signed in scene.records("signed"):  # every note any child signed, killed or not
        assert notes[signed["signed"]] == signed["note"], \
            f"checkpoint {signed['signed']} was signed with other content than stored"
    client = AnchorRegistryClient(chain.w3, scene.target.registry)
    events = client.contract.events.CheckpointAnchored.get_logs(
        from_block=scene.target.deployment_block)
    assert [int(e["args"]["number"]) for e in events] == numbers  # each once, in order
    for event, checkpoint in zip(events, stored, strict=True):
        assert checkpoint.anchor is not None
        assert checkpoint.anchor.tx_hash == bytes(event["transactionHash"])
        assert client.commitment_of(checkpoint.number) == checkpoint_commitment(
            AnchoredCheckpoint(checkpoint.number, checkpoint.log_size, checkpoint.log_root,
                               checkpoint.state_root))
    # one transaction per anchor: nothing was sent twice (the deployment was sent first)
    assert chain.w3.eth.get_transaction_count(scene.anchorer.address) == len(stored) + 1


def _next_proceeds(scene: Scene) -> None:
    scene.world.clock.advance(seconds=1)
    scene.operations(2)
    following = scene.checkpointer.cut()  # this process's tree, behind the children's: synced
    assert [r.number for r in scene.worker().anchor_pending()] == [following.number]
    _agree(scene)


@pytest.mark.parametrize("stage", CUT_STAGES)
def test_a_cut_killed_at_each_stage(scene: Scene, stage: str) -> None:
    with scene.store.read() as tx:
        before = (tx.head, tx.checkpoint)
    assert scene.child("cut", kill=stage) == -signal.SIGKILL
    assert scene.records("reached") == [stage]
    committed = stage == "cut:after-commit"
    with scene.store.read() as tx:  # all of the cut or none of it
        assert (tx.head, tx.checkpoint) == ((before[0] + 1, 2) if committed else before)
    assert [c.number for c in scene.checkpoints()] == ([1, 2] if committed else [1])

    scene.child("cut")  # the restart: cuts checkpoint 2, or checkpoint 3 on top of it
    cut = scene.records("cut")
    assert cut == [3 if committed else 2]
    assert [r.number for r in scene.worker().anchor_pending()] == list(range(2, cut[0] + 1))
    _agree(scene)
    _next_proceeds(scene)


@pytest.mark.parametrize("stage", ANCHOR_STAGES)
def test_anchoring_killed_at_each_stage(scene: Scene, stage: str) -> None:
    scene.checkpointer.cut()  # checkpoint 2, to be anchored by the child
    assert scene.child("anchor", kill=stage) == -signal.SIGKILL
    assert scene.records("reached") == [stage]
    on_chain = AnchorRegistryClient(scene.chain().w3, scene.target.registry).latest_number()
    assert on_chain == (1 if stage == "anchor:before-sending" else 2)
    recorded = [c.number for c in scene.checkpoints() if c.anchor is not None]
    assert recorded == ([1, 2] if stage == "anchor:after-recording" else [1])

    scene.child("anchor")  # the restart: adopts what was sent, or sends what was not
    assert scene.records("anchored") == [[2] if stage == "anchor:before-sending" else []]
    sent = scene.records("sent")
    assert len(sent) == 1, sent  # one transaction for checkpoint 2, whoever sent it
    (second,) = [c for c in scene.checkpoints() if c.number == 2]
    assert second.anchor is not None and "0x" + second.anchor.tx_hash.hex() == sent[0]
    _agree(scene)
    _next_proceeds(scene)
