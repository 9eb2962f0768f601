"""The persisted state tree (anchoring/operator/state_tree) against anchoring.auditor.smt, the
in-memory tree whose roots and proofs it must give byte for byte: jmt's vectors, random batches
over many versions under Hypothesis, a cold process, pruning, and what refuses bad input."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchoring.auditor.smt import EMPTY_ROOT, SparseMerkleTree, verify
from anchoring.operator.errors import OperatorFailure, StoreInconsistent
from anchoring.operator.state_commitment import StateReader
from anchoring.operator.state_tree import TreeStore, VersionNotStored
from anchoring.operator.state_tree import store as tree_store
from anchoring.operator.state_tree.nodes import decode, encode
from anchoring.operator.state_versions import record_versions
from ledger.store.database import Store

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "jmt" / "sha2_256_vectors.json"
EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
Changes = dict[bytes, bytes | None]

BASE = sha256(b"carbonledger persisted tree base key").digest()


def near(key: bytes, bit: int) -> bytes:
    """`key` with bit `bit` flipped (0: the top bit): shares the first `bit` bits with it."""
    number = int.from_bytes(key, "big") ^ (1 << (255 - bit))
    return number.to_bytes(32, "big")


# Keys near one base share long prefixes (so paths run deep and collapse on delete); random
# ones spread the tree wide.
keys = st.one_of(
    st.builds(near, st.just(BASE), st.integers(0, 255)),
    st.builds(lambda a, b: near(near(BASE, a), b), st.integers(0, 255), st.integers(0, 255)),
    st.binary(min_size=32, max_size=32),
)
batches = st.lists(st.dictionaries(keys, st.none() | st.binary(max_size=8), max_size=24),
                   min_size=1, max_size=8)


def _cleared(store: Store) -> Store:
    """The store without a tree or leaf versions (a test's examples share one store)."""
    with store.write() as tx:
        for table in ("state_tree_nodes", "state_tree_stale", "state_leaves"):
            tx.execute(f"DELETE FROM {table}")
        tx.commit()
    return store


def _apply_all(store: Store, tree: TreeStore, history: list[Changes],
               start: int = 1) -> Iterator[tuple[int, bytes, dict[bytes, bytes]]]:
    """Apply each batch as the next version, with its leaf versions, as a cut does; yield
    (version, root, the version's pairs)."""
    pairs: dict[bytes, bytes] = {}
    for version, changes in enumerate(history, start):
        effective = {k: v for k, v in changes.items() if pairs.get(k) != v}
        with store.write() as tx:
            root = tree.apply(tx, version, changes)
            record_versions(tx, version, effective)
            tx.commit()
        tree.committed()
        for key, value in changes.items():
            if value is None:
                pairs.pop(key, None)
            else:
                pairs[key] = value
        yield version, root, dict(pairs)


def _probes(pairs: dict[bytes, bytes], batch: Changes) -> list[bytes]:
    """Keys worth proving: every key present, every key changed, and neighbours of them."""
    chosen = set(pairs) | set(batch) | {BASE}
    chosen |= {near(key, 255) for key in list(chosen)[:8]}
    chosen |= {near(key, 3) for key in list(chosen)[:8]}
    return sorted(chosen)


def _stored_keys(store: Store) -> set[tuple[int, bytes]]:
    with store.read() as tx:
        return {(int(v), bytes(p)) for v, p in tx.all("SELECT version, path FROM "
                                                        "state_tree_nodes")}


def _reachable(store: Store, versions: list[int]) -> set[tuple[int, bytes]]:
    """Every node the trees of `versions` are made of, walked from their roots."""
    found: set[tuple[int, bytes]] = set()
    with store.read() as tx:
        for version in versions:
            pending = [(version, b"")]
            while pending:
                key = pending.pop()
                found.add(key)
                (blob,) = tx.one("SELECT node FROM state_tree_nodes WHERE version = :v AND "
                                 "path = :p", {"v": key[0], "p": key[1]})
                for index, slot in enumerate(decode(bytes(blob))):
                    if slot is not None and isinstance(slot[1], int):
                        pending.append((slot[1], key[1] + bytes([index])))
    return found


# --- jmt's vectors -------------------------------------------------------------------------

def test_jmt_root_vectors(sqlite_store: Store) -> None:
    vectors = json.loads(VECTORS.read_text())["vectors"]
    assert sorted(len(v["data"]) for v in vectors) == [0, 1, 2]
    for vector in vectors:
        pairs: Changes = {sha256(bytes.fromhex(p["key"])).digest(): bytes.fromhex(p["value"])
                          for p in vector["data"]}
        [(_, root, _)] = _apply_all(_cleared(sqlite_store), TreeStore(), [pairs])
        assert root == bytes.fromhex(vector["expected_root"])


# --- against smt, under Hypothesis ------------------------------------------------------------

@EXAMPLES
@given(history=batches)
def test_every_version_has_smts_root_and_proofs(any_store: Store,
                                                history: list[Changes]) -> None:
    store = _cleared(any_store)
    warm = TreeStore(cache_bytes=4_000)  # small: evictions happen during the run
    versions = list(_apply_all(store, warm, history))
    cold = TreeStore(cache_bytes=0)  # a new process, and no cache at all
    with store.read() as tx:
        for (version, root, pairs), batch in zip(versions, history, strict=True):
            reference = SparseMerkleTree.from_items(pairs)
            assert root == reference.root == cold.root_at(tx, version)
            for key in _probes(pairs, batch):
                proof = cold.prove(tx, key, version)
                assert proof == reference.prove(key)
                verify(reference.root, key, pairs.get(key), proof)
                assert cold.get(tx, key, version) == pairs.get(key)
            assert sorted(cold.leaves(tx, version)) == sorted(
                (key, sha256(value).digest()) for key, value in pairs.items())
    assert 0 < warm.cached_bytes <= 4_000


@EXAMPLES
@given(history=batches)
def test_a_tree_built_at_once_is_the_tree_built_by_batches(any_store: Store,
                                                          history: list[Changes]) -> None:
    store = _cleared(any_store)
    *_, (last, root, pairs) = _apply_all(store, TreeStore(), history)
    built = last + 1
    with store.write() as tx:  # another version, built whole from the leaf versions
        record_versions(tx, built, {})
        assert TreeStore().build_from_leaves(tx, built) == root
        tx.commit()
    cold = TreeStore()
    with store.read() as tx:
        for key in _probes(pairs, history[-1]):
            assert cold.prove(tx, key, built) == cold.prove(tx, key, last)
    # the same nodes, at another version: what a batch writes is the canonical shape
    stored = _stored_keys(store)
    assert {path for version, path in _reachable(store, [built])} == \
        {path for version, path in _reachable(store, [last])}
    assert {(v, p) for v, p in stored if v == built} == _reachable(store, [built])


# --- pruning -------------------------------------------------------------------------------

@EXAMPLES
@given(history=st.lists(st.dictionaries(keys, st.none() | st.binary(max_size=4),
                                        min_size=1, max_size=12), min_size=6, max_size=10),
       keep=st.integers(1, 3), pinned=st.sets(st.integers(1, 10), max_size=2))
def test_pruning_keeps_retained_and_pinned_versions_and_drops_the_rest(
        any_store: Store, history: list[Changes], keep: int, pinned: set[int]) -> None:
    store = _cleared(any_store)
    tree = TreeStore()
    versions = list(_apply_all(store, tree, history))
    latest = len(history)
    with store.write() as tx:
        pruned = tree.prune(tx, latest, keep, pinned)
        tx.commit()
    assert pruned.complete and pruned.oldest_kept == max(1, latest - keep + 1)
    kept = [v for v, _, _ in versions if v >= pruned.oldest_kept or v in pinned]
    # exactly the nodes of the kept versions remain
    assert _stored_keys(store) == _reachable(store, kept)
    cold = TreeStore()
    reader = StateReader(TreeStore())
    with store.read() as tx:
        for version, root, pairs in versions:
            probes = _probes(pairs, history[version - 1])
            if version in kept:
                assert cold.root_at(tx, version) == root
                for key in probes:
                    verify(root, key, pairs.get(key), cold.prove(tx, key, version))
                continue
            with pytest.raises(VersionNotStored) as missing:
                cold.prove(tx, probes[0], version)
            assert missing.value.code is OperatorFailure.state_tree_not_stored
            for key in probes:  # the slow path still answers, from the leaf versions
                value, proof = reader.value_and_proof(tx, key, version)
                assert value == pairs.get(key)
                verify(root, key, value, proof)


def test_pruning_in_steps_ends_where_one_prune_does(any_store: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree_store, "PRUNE_PAGE", 5)  # pages of stale records, read in turn
    store = _cleared(any_store)
    tree = TreeStore()
    history: list[Changes] = [{os.urandom(32): b"%d" % i for i in range(40)} for _ in range(6)]
    list(_apply_all(store, tree, history))
    steps = 0
    while True:
        with store.write() as tx:
            pruned = tree.prune(tx, 6, 2, (), max_nodes=7)
            tx.commit()
        steps += 1
        assert pruned.nodes <= 7
        if pruned.complete:
            break
    assert steps > 2
    assert _stored_keys(store) == _reachable(store, [5, 6])


# --- the cache and transactions -------------------------------------------------------------

def test_a_rolled_back_version_leaves_nothing_behind(any_store: Store) -> None:
    store = _cleared(any_store)
    tree = TreeStore()
    first: Changes = {BASE: b"a", near(BASE, 200): b"b", near(BASE, 7): b"c"}
    list(_apply_all(store, tree, [first]))
    with pytest.raises(RuntimeError), store.write() as tx:
        tree.apply(tx, 2, {near(BASE, 201): b"gone"})
        raise RuntimeError("the cut failed after the tree moved")
    tree.rolled_back()
    second: Changes = {near(BASE, 201): b"kept", BASE: None}
    [(_, root, _)] = _apply_all(store, tree, [second], start=2)
    pairs = {near(BASE, 200): b"b", near(BASE, 7): b"c", near(BASE, 201): b"kept"}
    assert root == SparseMerkleTree.from_items(pairs).root
    with store.read() as tx:  # through the same cache
        assert tree.get(tx, near(BASE, 201), 2) == b"kept"
        assert tree.root_at(tx, 2) == root


def test_an_unchanged_version_still_has_its_root(sqlite_store: Store) -> None:
    store = _cleared(sqlite_store)
    tree = TreeStore()
    versions = list(_apply_all(store, tree, [{BASE: b"x"}, {}, {near(BASE, 9): None}]))
    assert [root for _, root, _ in versions] == [SparseMerkleTree.from_items(
        {BASE: b"x"}).root] * 3
    with store.read() as tx:
        assert tree.root_at(tx, 0) == EMPTY_ROOT
        assert [tree.has_version(tx, v) for v in range(5)] == [True, True, True, True, False]


# --- bad input and changed tables -----------------------------------------------------------

@pytest.mark.parametrize("changes, error", [
    ({b"short": b"v"}, ValueError),
    ({BASE: bytearray(b"v")}, TypeError),
])
def test_a_bad_change_is_refused_and_writes_nothing(sqlite_store: Store, changes: Any,
                                                   error: type[Exception]) -> None:
    store = _cleared(sqlite_store)
    with store.write() as tx:
        with pytest.raises(error):
            TreeStore().apply(tx, 1, changes)
        tx.commit()
    assert _stored_keys(store) == set()


def test_a_version_without_a_base_is_refused(sqlite_store: Store) -> None:
    store = _cleared(sqlite_store)
    with store.write() as tx, pytest.raises(StoreInconsistent, match="checkpoint 4 has no "):
        TreeStore().apply(tx, 5, {BASE: b"v"})


@pytest.mark.parametrize("change", ["truncated", "missing"])
def test_a_changed_node_table_is_named(sqlite_store: Store, change: str) -> None:
    store = _cleared(sqlite_store)
    many: Changes = {os.urandom(32): b"v" for _ in range(64)}
    list(_apply_all(store, TreeStore(), [many]))
    with store.write() as tx:
        (path,) = tx.one("SELECT path FROM state_tree_nodes WHERE path <> :root LIMIT 1",
                         {"root": b""})
        if change == "truncated":
            tx.execute("UPDATE state_tree_nodes SET node = :node WHERE path = :path",
                       {"node": b"\x00\x01", "path": path})
        else:
            tx.execute("DELETE FROM state_tree_nodes WHERE path = :path", {"path": path})
        tx.commit()
    cold = TreeStore()
    with store.read() as tx, pytest.raises(StoreInconsistent, match="state_tree_nodes"):
        for key in many:
            cold.prove(tx, key, 1)


def test_nodes_encode_and_decode_strictly() -> None:
    node = (None, (BASE, sha256(b"v").digest()), (sha256(b"h").digest(), 7)) + (None,) * 13
    assert decode(encode(node)) == node
    for bad in (b"", b"\x00\x01\x00\x00", encode(node) + b"\x00", b"\x00\x00\x00\x01"):
        with pytest.raises(ValueError):
            decode(bad)
