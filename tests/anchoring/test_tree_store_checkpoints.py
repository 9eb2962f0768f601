"""The persisted state tree as the checkpointer and the prover use it: a cold process proves
every checkpoint without rebuilding, a ledger cut before the tree was persisted builds it once,
a changed tree is refused, a process another one overtook moves on, and the retention set in
config.json prunes as the checkpointer cuts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Anchor, Checkpointer, record_anchor
from anchoring.operator.state_commitment import StateLeavesMismatch
from anchoring.operator.state_tree import TreeRetention, TreeStore
from api.config import ConfigError, LedgerConfig, StateTreeSettings, load_config
from ledger.clock import FixedClock
from ledger.store.database import Store
from ledger.store.state_leaves import all_leaves
from tests.anchoring.ledger_history import (
    OPERATOR_KEY,
    History,
    build_history,
    reference_state_root,
)
from tests.world import OPERATIONS


@pytest.fixture
def history(sqlite_store: Store, clock: FixedClock) -> History:
    return build_history(sqlite_store, clock)


def _stored_versions(store: Store, up_to: int) -> list[int]:
    tree = TreeStore()
    with store.read() as tx:
        return [n for n in range(1, up_to + 1) if tree.has_version(tx, n)]


def _transfer(history: History) -> None:
    history.world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1",
                     quantity=1)


def _proves_every_checkpoint(history: History, prover: Prover) -> None:
    for checkpoint in history.checkpoints:
        for bundle in (prover.holding("HN", "A1", checkpoint.number),
                       prover.account("GW", checkpoint.number),
                       prover.lot("10.0", checkpoint.number)):
            verify_bundle(json.loads(json.dumps(bundle)), history.operator)


def test_a_cold_prover_proves_every_checkpoint_from_the_persisted_tree(
        any_store: Store, clock: FixedClock) -> None:
    history = build_history(any_store, clock)
    cold = Prover(any_store)  # a fresh process: nothing in memory
    live = Prover(any_store, history.checkpointer.state)
    _proves_every_checkpoint(history, cold)
    for checkpoint in history.checkpoints:
        with any_store.read() as tx:
            assert TreeStore().root_at(tx, checkpoint.number) == checkpoint.state_root
        assert cold.holding("GW", "C1", checkpoint.number) == \
            live.holding("GW", "C1", checkpoint.number)
    assert cold._reader._rebuilt is None  # no tree was rebuilt from the leaf versions
    snapshot = history.checkpointer.state.snapshot(2)
    assert snapshot is not None and snapshot.root == history.checkpoints[1].state_root


def test_a_ledger_cut_before_the_tree_was_persisted_builds_it_once(history: History) -> None:
    with history.store.write() as tx:  # as a ledger migrated from revision 0007 is
        tx.execute("DELETE FROM state_tree_nodes")
        tx.execute("DELETE FROM state_tree_stale")
        tx.commit()
    assert _stored_versions(history.store, 3) == []
    prover = Prover(history.store)
    _proves_every_checkpoint(history, prover)  # from rebuilds, as before
    history.checkpointer = Checkpointer(history.world.ledger, OPERATOR_KEY)  # restarted
    fourth = history.cut()
    assert fourth.state_root == reference_state_root(history.store)
    assert _stored_versions(history.store, 4) == [3, 4]  # the latest, built; then the cut
    _proves_every_checkpoint(history, Prover(history.store))


def test_a_tree_built_in_a_transaction_that_did_not_commit_is_built_again(
        history: History) -> None:
    with history.store.write() as tx:
        tx.execute("DELETE FROM state_tree_nodes")
        tx.execute("DELETE FROM state_tree_stale")
        tx.commit()
    checkpointer = Checkpointer(history.world.ledger, OPERATOR_KEY)
    with pytest.raises(RuntimeError), history.store.write() as tx:
        checkpointer.state.sync(tx, 3, history.checkpoints[-1].state_root)  # builds it...
        raise RuntimeError("...in a transaction that rolls back")
    assert _stored_versions(history.store, 3) == []
    history.checkpointer = checkpointer
    assert history.cut().state_root == reference_state_root(history.store)
    assert _stored_versions(history.store, 4) == [3, 4]


def test_a_restarted_checkpointer_refuses_a_changed_tree(history: History) -> None:
    with history.store.write() as tx:
        (node,) = tx.one("SELECT node FROM state_tree_nodes WHERE version = 3 AND path = :root",
                         {"root": b""})
        changed = bytes(node)[:-1] + bytes([node[-1] ^ 1])
        tx.execute("UPDATE state_tree_nodes SET node = :node WHERE version = 3 AND "
                   "path = :root", {"node": changed, "root": b""})
        tx.commit()
    _transfer(history)
    with pytest.raises(StateLeavesMismatch, match="table state_tree_nodes was changed"):
        Checkpointer(history.world.ledger, OPERATOR_KEY).cut()
    with history.store.read() as tx:
        assert tx.checkpoint == 3  # nothing was signed on top of it


def test_a_checkpointer_another_process_overtook_moves_on_without_reloading(
        history: History) -> None:
    mine = history.checkpointer
    leaves = mine.state.leaves
    other = Checkpointer(history.world.ledger, OPERATOR_KEY)  # another process
    for _ in range(2):
        _transfer(history)
        other.cut()
    _transfer(history)
    sixth = mine.cut()
    assert sixth.number == 6 and sixth.state_root == reference_state_root(history.store)
    assert mine.state.leaves is leaves  # moved on by the recorded versions, not loaded anew
    with history.store.read() as tx:
        assert dict(mine.state.leaves) == dict(all_leaves(tx, OPERATIONS.leaf_kinds.values()))


def test_the_retention_prunes_as_the_checkpointer_cuts(history: History) -> None:
    with history.store.write() as tx:
        record_anchor(tx, 2, Anchor(31337, "0x" + "11" * 20, bytes(32), 12, 1_780_000_000))
        tx.commit()
    history.checkpointer.retention = TreeRetention(keep=2, pinned=(1,))
    for _ in range(2):
        _transfer(history)
        history.cut()
    # 4 and 5 are the latest two, 1 is pinned, 2 the latest anchored: only 3 is pruned
    assert _stored_versions(history.store, 5) == [1, 2, 4, 5]
    prover = Prover(history.store)
    _proves_every_checkpoint(history, prover)  # 3 from a rebuild
    assert prover._reader._rebuilt is not None and prover._reader._rebuilt[0] == 3


# --- the setting in config.json --------------------------------------------------------------

def _config_with(tmp_path: Path, state_tree: object) -> Path:
    LedgerConfig("sqlite:///x.db", 31337, "CN-ETS", "keystores/r.json").save(tmp_path)
    document = json.loads((tmp_path / "config.json").read_text())
    document["state_tree"] = state_tree
    (tmp_path / "config.json").write_text(json.dumps(document))
    return tmp_path


def test_the_retention_is_read_from_config_json(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    LedgerConfig("sqlite:///x.db", 31337, "CN-ETS", "keystores/r.json").save(tmp_path)
    assert load_config(tmp_path).tree_retention() is None  # the default: keep everything
    config = load_config(_config_with(tmp_path, {"keep_checkpoints": 100, "pinned": [3, 7]}))
    assert config.state_tree == StateTreeSettings(100, [3, 7])
    assert config.tree_retention() == TreeRetention(100, (3, 7))


@pytest.mark.parametrize("state_tree, says", [
    ({"keep_checkpoints": 0}, "keep must be a whole number of checkpoints from 1, got 0"),
    ({"keep_checkpoints": "all"}, "got 'all'"),
    ({"keep_checkpoints": 5, "pinned": [0]}, "pinned checkpoints are numbers from 1"),
    ({"pinned": "3"}, "pinned must be a list"),
    ({"keep": 5}, "is not a valid config.json"),
])
def test_a_bad_retention_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  state_tree: object, says: str) -> None:
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    with pytest.raises(ConfigError) as refused:
        load_config(_config_with(tmp_path, state_tree))
    assert says in str(refused.value)
