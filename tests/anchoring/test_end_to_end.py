"""End to end, on the embedded chain and on a real anvil node (when installed): operations ->
signed checkpoints -> anchors by the worker -> proof bundles checked against the chain the way an
outside auditor checks them; bundles whose anchor claims another registry, chain, transaction
or history refused with a named reason; a tampered, rewritten or truncated database caught by
the audit against the chain's roots.

One ledger per chain, built once (module scope) and never changed: every test that tampers works
on a copy of its database.

    honest ledger:  checkpoint 1 = genesis, participants, issuance
                    checkpoint 2 = + a transfer of 70 t of A1 HN -> GW, a retirement of 5 t of C1
                    checkpoint 3 = + a transfer of 20 t of A1 GW -> HN
                    all three anchored on the registry (the auditor trusts this one)
    fork:           a copy taken at checkpoint 2 in which the operator, holding its key, signed
                    another checkpoint 3 (21 t, not 20) and a checkpoint 4, anchored on a second
                    registry it deployed itself
    unanchored:     a copy of the honest ledger with a checkpoint 4 cut and not anchored
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from eth_account import Account
from web3 import Web3

from anchoring.audit import AuditReport, audit
from anchoring.auditor.errors import VerificationFailed
from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.state_keys import lot_key
from anchoring.operator.anvil import (
    AnvilNode,
    AnvilNotInstalled,
    connect_anvil,
    find_anvil,
    set_balance,
)
from anchoring.operator.bundles import Prover
from anchoring.operator.chain import (
    AnchorMismatch,
    AnchorNotConfirmed,
    Chain,
    EmbeddedChain,
    RegistryReader,
    RpcChain,
    deploy_registry,
    read_registry,
)
from anchoring.operator.checkpoints import (
    Checkpointer,
    StoredCheckpoint,
    record_anchor,
    stored_checkpoints,
)
from anchoring.operator.contract import load_artifact
from anchoring.operator.worker import AnchoringWorker, AnchorTarget
from anchoring.verify_chain import verify_bundle_on_chain
from api.cli import main
from api.config import LedgerConfig
from custody.signatures import address_of
from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.store.database import Store, sqlite_url
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.isolation import LEDGER_AND_DATABASES, run_without
from tests.world import OPERATIONS, World

OPERATOR = address_of(OPERATOR_KEY)
Bundle = dict[str, Any]


# --- the ledgers and the chains -------------------------------------------------------------


@dataclass
class Scene:
    chain: Chain
    auditor_w3: Web3
    """How an outside auditor reaches the chain: over RPC for anvil (nothing shared with the
    ledger's process), the chain's own web3 for the embedded one."""
    rpc_url: str | None
    registry: str
    other_registry: str
    """Deployed by the operator for the fork's anchors."""
    not_a_registry: str
    """A contract of another kind (an ERC-20-style token)."""
    honest: Path
    fork: Path
    unanchored: Path
    backup: Path
    """A copy taken at checkpoint 2, before anything was anchored: an honest, older backup."""
    retirement: int
    """Seq of the retirement entry (in checkpoint 2)."""
    directory: Path

    def store(self, path: Path) -> Store:
        return Store(sqlite_url(path))

    def copy(self, path: Path, name: str) -> Path:
        """A copy of a ledger's database to tamper with."""
        return _backup(sqlite_url(path), self.directory / name)

    def checkpoints(self, path: Path) -> list[StoredCheckpoint]:
        store = self.store(path)
        try:
            with store.read() as tx:
                return stored_checkpoints(tx)
        finally:
            store.dispose()

    def bundle(self, path: Path, make: Callable[[Prover], Bundle]) -> Bundle:
        store = self.store(path)
        try:
            return make(Prover(store))
        finally:
            store.dispose()

    def reader(self, registry: str | None = None) -> RegistryReader:
        return read_registry(self.auditor_w3, registry or self.registry,
                             chain_id=self.chain.chain_id)

    def audit(self, path: Path, *, registry: str | None = None,
              chain: bool = True) -> AuditReport:
        store = self.store(path)
        try:
            return audit(store, OPERATIONS, OPERATOR,
                         chain=self.reader(registry) if chain else None)
        finally:
            store.dispose()


def _backup(url: str, path: Path) -> Path:
    """A consistent copy of a SQLite database, what its write-ahead log holds included."""
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as source, \
            closing(sqlite3.connect(path)) as target:
        source.backup(target)
    return path


def _deploy_token(chain: Chain) -> str:
    token = load_artifact("MinimalToken")
    build = chain.w3.eth.contract(abi=token.abi, bytecode=token.bytecode).constructor(10**24)
    tx = build.build_transaction({"from": chain.sender.address, "nonce":
                                  chain.w3.eth.get_transaction_count(chain.sender.address)})
    signed = chain.sender.sign_transaction(cast(dict[str, Any], tx))
    receipt = chain.w3.eth.wait_for_transaction_receipt(
        chain.w3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["contractAddress"] is not None
    return str(receipt["contractAddress"])


def _anchor_all(store: Store, chain: Chain, registry: str, block: int) -> None:
    worker = AnchoringWorker(store, lambda: chain, AnchorTarget(chain.chain_id, registry, block),
                             operator=OPERATOR)
    worker.anchor_pending()


def _build(chain: Chain, directory: Path, template: Path, auditor_w3: Web3,
           rpc_url: str | None) -> Scene:
    honest = directory / "honest.db"
    shutil.copy(template, honest)
    store = Store(sqlite_url(honest))
    clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    world = World.create(store, clock)
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 1000)
    world.issue_credits("C1", "GW", 500)
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=70)
    retirement = world.by("gw", "retire", account="GW", batch="C1", quantity=5,
                          beneficiary="Gansu Wind", reason="voluntary", claim="2025").seq
    clock.advance(seconds=30)
    checkpointer.cut()
    fork = _backup(store.url, directory / "fork.db")
    backup = _backup(store.url, directory / "backup-at-2.db")
    world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1", quantity=20)
    checkpointer.cut()
    world.assert_invariants()

    owner = Account.create().address
    _, deployment = deploy_registry(chain, owner=owner)
    _anchor_all(store, chain, deployment.registry, deployment.block_number)

    # The operator's rewritten history: its own key, its own registry.
    fork_store = Store(sqlite_url(fork))
    forked = World(Ledger(fork_store, OPERATIONS, clock), clock, world.registry, world.wallets)
    forked.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1", quantity=21)
    fork_checkpointer = Checkpointer(forked.ledger, OPERATOR_KEY)
    fork_checkpointer.cut()
    forked.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=1)
    fork_checkpointer.cut()
    _, other = deploy_registry(chain, owner=owner)
    _anchor_all(fork_store, chain, other.registry, other.block_number)
    fork_store.dispose()

    unanchored = _backup(store.url, directory / "unanchored.db")
    later_store = Store(sqlite_url(unanchored))
    later = World(Ledger(later_store, OPERATIONS, clock), clock, world.registry, world.wallets)
    later.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=1)
    Checkpointer(later.ledger, OPERATOR_KEY).cut()
    later_store.dispose()
    store.dispose()
    return Scene(chain, auditor_w3, rpc_url, deployment.registry, other.registry,
                 _deploy_token(chain), honest,
                 fork, unanchored, backup, retirement, directory)


@pytest.fixture(scope="module", params=["embedded", "anvil"])
def scene(request: pytest.FixtureRequest, migrated_template: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    directory = tmp_path_factory.mktemp(f"e2e-{request.param}")
    if request.param == "embedded":
        chain = EmbeddedChain()
        yield _build(chain, directory, migrated_template, chain.w3, None)
        return
    try:
        find_anvil()
    except AnvilNotInstalled as missing:
        pytest.skip(f"{missing} (`make chain` installs it)")
    node = AnvilNode(directory / "chain")
    running = node.start()
    try:
        anchorer = Account.create()
        anvil = connect_anvil(node.directory, anchorer)
        set_balance(anvil, anchorer.address, 10**20)
        auditor = RpcChain(running.url, None)  # a connection of its own, read-only
        yield _build(anvil, directory, migrated_template, auditor.w3, running.url)
    finally:
        node.stop()


def _lot(scene: Scene, path: Path) -> str:
    """GW's tradable lot of credits (what the retirement left)."""
    store = scene.store(path)
    try:
        with store.read() as tx:
            (lot_id,) = tx.one("SELECT id FROM lots WHERE account = 'GW' AND batch = 'C1' "
                               "AND state = 'tradable'")
    finally:
        store.dispose()
    return str(lot_id)


def _with(bundle: Bundle, field: str = "anchor", **changes: Any) -> Bundle:
    return {**bundle, field: {**bundle[field], **changes}}


def _refused(scene: Scene, bundle: Bundle, mismatch: AnchorMismatch, words: str,
             **pin: Any) -> None:
    with pytest.raises(AnchorNotConfirmed) as refused:
        verify_bundle_on_chain(bundle, OPERATOR, scene.auditor_w3, **pin)
    assert refused.value.mismatch is mismatch, refused.value
    assert words in str(refused.value), refused.value


# --- proofs checked against the chain ---------------------------------------------------------


def test_entry_lot_and_consistency_bundles_verify_against_the_chain(scene: Scene) -> None:
    anchors = {c.number: c.anchor for c in scene.checkpoints(scene.honest)}
    assert all(anchor is not None for anchor in anchors.values()) and len(anchors) == 3
    lot_id = _lot(scene, scene.honest)
    bundles = {
        "entry": scene.bundle(scene.honest, lambda p: p.entry(scene.retirement)),
        "lot": scene.bundle(scene.honest, lambda p: p.lot(lot_id)),
        "consistency": scene.bundle(scene.honest, lambda p: p.consistency(1, 3)),
    }
    for kind, bundle in bundles.items():
        for registry, chain_id in ((scene.registry, scene.chain.chain_id), (None, None)):
            result = verify_bundle_on_chain(bundle, OPERATOR, scene.auditor_w3,
                                            registry=registry, chain_id=chain_id)
            numbers = [claim.checkpoint.number for claim in result.verified.anchors]
            assert numbers == ([3, 1] if kind == "consistency" else [3]), kind
            for number, confirmed in zip(numbers, result.confirmed, strict=True):
                recorded = anchors[number]
                assert recorded is not None
                assert (confirmed.chain_id, confirmed.contract, confirmed.block_number,
                        confirmed.block_time) == (recorded.chain_id, recorded.contract,
                                                  recorded.block_number, recorded.block_time)
                assert confirmed.confirmations >= 1
    assert "retire" in verify_bundle_on_chain(bundles["entry"], OPERATOR,
                                              scene.auditor_w3).verified.statement
    assert "serials 6..500 of batch C1, held by account GW, tradable" in \
        verify_bundle_on_chain(bundles["lot"], OPERATOR, scene.auditor_w3).verified.statement

    if scene.rpc_url is None:
        return
    # The command an outside auditor runs: no data directory, nothing but the bundle.
    nowhere = scene.directory / "auditor"
    for kind, bundle in bundles.items():
        path = scene.directory / f"{kind}.json"
        path.write_text(json.dumps(bundle))
        command = CliRunner().invoke(main, ["--data-dir", str(nowhere), "verify", str(path),
                                            "--operator-key", OPERATOR, "--rpc", scene.rpc_url,
                                            "--anchor-registry", scene.registry])
        assert command.exit_code == 0, command.output
        assert "VERIFIED: " in command.output \
            and "(given with --anchor-registry)" in command.output
        assert "ANCHORED: checkpoint 3 (its size and both roots, as signed) is held by the " \
               f"registry {scene.registry}" in command.output
    assert "ANCHORED: checkpoint 1" in command.output  # the consistency bundle's earlier one
    offline = CliRunner().invoke(main, ["--data-dir", str(nowhere), "verify", str(path),
                                        "--operator-key", OPERATOR])
    assert offline.exit_code == 0 and "NOT CHECKED: this check is offline" in offline.output


_ON_CHAIN = """
from web3 import Web3
from anchoring.verify_chain import verify_bundle_on_chain

bundle, operator, url, registry = json.load(open(sys.argv[1])), *sys.argv[2:]
result = verify_bundle_on_chain(bundle, operator, Web3(Web3.HTTPProvider(url)),
                                registry=registry)
print(result.verified.statement, "| block", result.confirmed[0].block_number)
"""


def test_the_on_chain_verifier_needs_no_ledger_and_no_database(scene: Scene) -> None:
    if scene.rpc_url is None:
        pytest.skip("an outside process reaches the chain over RPC: anvil only")
    path = scene.directory / "alone.json"
    path.write_text(json.dumps(scene.bundle(scene.honest, lambda p: p.entry(scene.retirement))))
    result = run_without(LEDGER_AND_DATABASES, _ON_CHAIN, str(path), OPERATOR,
                         scene.rpc_url, scene.registry)
    assert result.returncode == 0, result.stderr
    assert f"journal entry {scene.retirement} (retire" in result.stdout


# --- anchors the chain does not bear out ------------------------------------------------------


def test_a_bundle_claiming_another_registry_or_chain_is_refused(scene: Scene) -> None:
    honest = scene.bundle(scene.honest, lambda p: p.entry(scene.retirement))
    anchor = honest["anchor"]
    trusted = {"registry": scene.registry, "chain_id": scene.chain.chain_id}
    first = scene.checkpoints(scene.honest)[0].anchor
    assert first is not None

    # The operator's own registry holds a checkpoint 3, but not this one.
    _refused(scene, _with(honest, contract=scene.other_registry), AnchorMismatch.ROOTS_DIFFER,
             f"the registry {scene.other_registry} does not hold this checkpoint as signed")
    _refused(scene, _with(honest, contract=scene.other_registry),
             AnchorMismatch.UNTRUSTED_REGISTRY, "the registry you trust is", **trusted)
    nobody = "0x" + "42" * 20
    _refused(scene, _with(honest, contract=Web3.to_checksum_address(nobody)),
             AnchorMismatch.NO_REGISTRY, "there is no contract at")
    _refused(scene, _with(honest, contract=scene.not_a_registry), AnchorMismatch.NO_REGISTRY,
             "is not an AnchorRegistry")
    with pytest.raises(AnchorNotConfirmed, match="is not an AnchorRegistry"):
        read_registry(scene.auditor_w3, scene.not_a_registry)
    _refused(scene, _with(honest, chain_id=anchor["chain_id"] + 1), AnchorMismatch.WRONG_CHAIN,
             f"the anchor claims chain {anchor['chain_id'] + 1}")
    _refused(scene, honest, AnchorMismatch.WRONG_CHAIN, "the registry you trust is on chain 1",
             registry=scene.registry, chain_id=1)
    _refused(scene, _with(honest, tx_hash="0x" + first.tx_hash.hex()),
             AnchorMismatch.WRONG_TRANSACTION, "anchored another checkpoint")
    _refused(scene, _with(honest, block_number=anchor["block_number"] + 1),
             AnchorMismatch.WRONG_BLOCK, "as claimed")
    # The offline verifier refuses what is malformed before any node is asked.
    with pytest.raises(VerificationFailed, match="anchor chain_id must be an integer"):
        verify_bundle_on_chain(_with(honest, chain_id="31337"), OPERATOR, scene.auditor_w3)

    if scene.rpc_url is None:
        return
    path = scene.directory / "elsewhere.json"
    path.write_text(json.dumps(_with(honest, contract=scene.other_registry)))
    result = CliRunner().invoke(main, ["--data-dir", str(scene.directory / "auditor"), "verify",
                                       str(path), "--operator-key", OPERATOR, "--rpc",
                                       scene.rpc_url, "--anchor-registry", scene.registry])
    assert result.exit_code == 1
    assert "NOT VERIFIED: (untrusted_registry) checkpoint 3: the anchor names the registry " \
           f"{scene.other_registry}" in result.output


def test_a_rewritten_history_is_refused_against_the_trusted_registry(scene: Scene) -> None:
    """The operator signs another checkpoint 3 with its own key and anchors it on a registry
    of its own: its bundles verify against that registry, never against the trusted one."""
    forged = scene.bundle(scene.fork, lambda p: p.lot(_lot(scene, scene.fork), 3))
    assert forged["anchor"]["contract"] == scene.other_registry
    assert verify_bundle_on_chain(forged, OPERATOR, scene.auditor_w3).confirmed  # unpinned
    _refused(scene, forged, AnchorMismatch.UNTRUSTED_REGISTRY, "the registry you trust",
             registry=scene.registry)
    honest_anchor = scene.bundle(scene.honest, lambda p: p.lot(_lot(scene, scene.honest), 3))
    _refused(scene, {**forged, "anchor": honest_anchor["anchor"]}, AnchorMismatch.ROOTS_DIFFER,
             "does not hold this checkpoint as signed", registry=scene.registry)


def test_a_checkpoint_not_anchored_is_refused(scene: Scene) -> None:
    bundle = scene.bundle(scene.unanchored, lambda p: p.entry(scene.retirement))
    assert bundle["anchor"] is None and "checkpoint 4\n" in bundle["checkpoint"]
    _refused(scene, bundle, AnchorMismatch.NO_ANCHOR, "records no anchor for it")
    third = scene.bundle(scene.honest, lambda p: p.entry(scene.retirement))["anchor"]
    _refused(scene, {**bundle, "anchor": {**third, "checkpoint": 4}},
             AnchorMismatch.NOT_ANCHORED, "has not anchored checkpoint 4 (its latest is 3)")


# --- the audit against the chain's roots ------------------------------------------------------


def _execute(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        for sql, parameters in statements:
            db.execute(sql, parameters)


def _retimed_entry(path: Path, seq: int) -> None:
    """One byte of an entry changed (its acceptance time, 09:00:00 -> 09:00:01), and the row
    made consistent with it (time and leaf hash columns): the replay accepts the entry, and
    only the roots betray it."""
    with closing(sqlite3.connect(path)) as db:
        (entry,) = db.execute("SELECT entry FROM journal WHERE seq = ?", (seq,)).fetchone()
    old, new = b"T09:00:00.000Z", b"T09:00:01.000Z"
    assert bytes(entry).count(old) == 1
    changed = bytes(entry).replace(old, new)
    _execute(path, ("UPDATE journal SET entry = ?, leaf_hash = ?, accepted_at = "
                    "replace(accepted_at, ?, ?) WHERE seq = ?",
                    (changed, leaf_hash(changed), old.decode(), new.decode(), seq)))


def _lot_version_changed(path: Path, lot_id: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        (value,) = db.execute("SELECT value FROM state_leaves WHERE key = ? AND "
                              "to_checkpoint IS NULL", (lot_key(lot_id),)).fetchone()
    raw = bytes(value) if not isinstance(value, str) else value.encode()
    changed = raw.replace(b'"last":500', b'"last":509')
    assert changed != raw
    _execute(path, ("UPDATE state_leaves SET value = ? WHERE key = ? AND to_checkpoint IS NULL",
                    (changed if not isinstance(value, str) else changed.decode(),
                     lot_key(lot_id))))


def test_the_audit_compares_every_checkpoint_with_the_chain(scene: Scene) -> None:
    report = scene.audit(scene.honest)
    assert report.ok, report.first_discrepancy
    assert (report.checkpoints, report.anchored, report.chain_latest) == (3, 3, 3)
    unanchored = scene.audit(scene.unanchored)
    assert unanchored.ok and (unanchored.checkpoints, unanchored.anchored) == (4, 3)

    retimed = scene.copy(scene.honest, "retimed.db")
    _retimed_entry(retimed, scene.retirement)
    report = scene.audit(retimed)
    assert report.first_discrepancy is not None
    assert report.first_discrepancy.startswith(
        f"checkpoint 2 (marker entry {scene.checkpoints(scene.honest)[1].log_size - 1}): the "
        f"registry {scene.registry} on chain {scene.chain.chain_id} anchored another "
        "checkpoint 2: the journal gives log size"), report.first_discrepancy

    releaved = scene.copy(scene.honest, "leaf-version.db")
    _lot_version_changed(releaved, _lot(scene, scene.honest))
    report = scene.audit(releaved)
    assert report.first_discrepancy is not None
    assert "checkpoint 2 (marker entry" in report.first_discrepancy
    assert "the state leaf version of key" in report.first_discrepancy

    # A rewritten history, re-signed with the operator's key: consistent with itself, so the
    # audit without the chain passes; the chain's checkpoint 3 is another one.
    assert scene.audit(scene.fork, chain=False).ok
    assert scene.audit(scene.fork, registry=scene.other_registry).ok  # its own registry's
    report = scene.audit(scene.fork)
    assert report.first_discrepancy is not None
    assert "checkpoint 3 (marker entry" in report.first_discrepancy
    assert "anchored another checkpoint 3" in report.first_discrepancy

    # A database restored from an older backup: nothing in it is wrong, but the chain holds a
    # checkpoint more than its journal.
    assert scene.audit(scene.backup, chain=False).ok
    report = scene.audit(scene.backup)
    assert report.first_discrepancy == (
        f"the registry {scene.registry} on chain {scene.chain.chain_id} holds checkpoints up "
        "to 3, but the journal's markers stop at checkpoint 2: checkpoint 3 is missing from "
        "this database (restored from an older backup, or cut short), or the registry anchors "
        "another ledger")

    # A record of an anchor the registry does not hold.
    claimed = scene.copy(scene.unanchored, "claimed.db")
    third = scene.checkpoints(scene.honest)[2].anchor
    assert third is not None
    store = scene.store(claimed)
    with store.write() as tx:
        record_anchor(tx, 4, replace(third, block_number=third.block_number + 1))
    store.dispose()
    report = scene.audit(claimed)
    assert report.first_discrepancy == (
        f"checkpoint 4: recorded as anchored on the registry {scene.registry} on chain "
        f"{scene.chain.chain_id} in block {third.block_number + 1}, but the registry holds "
        "checkpoints up to 3 only: the chain lost it (a node reset or reorganised) or the "
        "record is false")


def test_the_audit_command_against_the_chain(scene: Scene) -> None:
    if scene.rpc_url is None:
        pytest.skip("the command reaches the chain over RPC: anvil only")
    runner = CliRunner()
    for name, path, code, words in (
            ("honest", scene.honest, 0, "3 of them held on chain exactly as recomputed, 0 not "
                                        "anchored yet"),
            ("fork", scene.fork, 1, "audit FAILED: checkpoint 3 (marker entry")):
        data_dir = scene.directory / f"cli-{name}"
        LedgerConfig(sqlite_url(path), 31337, "registry", "keystores/none.json").save(data_dir)
        result = runner.invoke(main, ["--data-dir", str(data_dir), "audit", "--operator-key",
                                      OPERATOR, "--rpc", scene.rpc_url, "--anchor-registry",
                                      scene.registry])
        assert result.exit_code == code, result.output
        assert f"comparing with the registry {scene.registry} on chain 31337" in result.output
        assert words in result.output, result.output


def test_a_node_out_of_reach_is_no_verdict_and_its_url_stays_private(scene: Scene) -> None:
    path = scene.directory / "unreachable.json"
    path.write_text(json.dumps(scene.bundle(scene.honest, lambda p: p.entry(scene.retirement))))
    data_dir = scene.directory / "cli-unreachable"
    LedgerConfig(sqlite_url(scene.honest), 31337, "registry", "keystores/none.json").save(data_dir)
    url = "http://127.0.0.1:1/v3/secret-api-key"  # nothing listens on port 1
    for args in (["verify", str(path)], ["audit", "--anchor-registry", scene.registry]):
        result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args, "--operator-key",
                                           OPERATOR, "--rpc", url])
        assert result.exit_code == 3, result.output
        assert "NOT CHECKED" in result.output or "audit NOT STARTED" in result.output
        assert "secret-api-key" not in result.output and "http://127.0.0.1:1/…" in result.output
