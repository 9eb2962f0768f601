"""anchoring.auditor.smt: jmt's root vectors, a literal reference under Hypothesis, and forged
proofs.

Every forged proof below is a valid one with one thing changed; it can only verify through a
SHA-256 collision, or through a check that is missing. The reasons are asserted, so that a test
fails when a proof is rejected for the wrong reason, which usually means a check is dead.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchoring.auditor import smt
from anchoring.auditor.smt import (
    EMPTY_ROOT,
    MAX_PROOF_SIBLINGS,
    Proof,
    ProofError,
    ProofFailure,
    ProofLeaf,
    SparseMerkleTree,
    verify,
)
from tests.anchoring import reference_smt as reference

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "jmt" / "sha2_256_vectors.json"
REFERENCE = settings(max_examples=120, deadline=None)


# --- jmt's vectors ---------------------------------------------------------------------------


def _jmt_vectors() -> list[Any]:
    vectors: list[Any] = json.loads(VECTORS.read_text())["vectors"]
    return vectors


def _jmt_pairs(vector: dict[str, Any]) -> dict[bytes, bytes]:
    """jmt's vectors hold raw keys; jmt hashes them (KeyHash::with::<Sha256>) into the path."""
    return {
        sha256(bytes.fromhex(pair["key"])).digest(): bytes.fromhex(pair["value"])
        for pair in vector["data"]
    }


@pytest.mark.parametrize("vector", _jmt_vectors(), ids=lambda v: f"{len(v['data'])}-pairs")
def test_jmt_root_vectors(vector: dict[str, Any]) -> None:
    pairs = _jmt_pairs(vector)
    want = bytes.fromhex(vector["expected_root"])
    assert SparseMerkleTree().update(pairs) == want
    assert SparseMerkleTree.from_items(pairs).root == want
    assert reference.root(pairs) == want  # the yardstick itself hashes like jmt


def test_vectors_cover_empty_single_and_branching_trees() -> None:
    assert sorted(len(vector["data"]) for vector in _jmt_vectors()) == [0, 1, 2]


# --- against the reference, under Hypothesis -------------------------------------------------

BASE = sha256(b"carbonledger smt base key").digest()


def flip(key: bytes, positions: list[int]) -> bytes:
    """``key`` with the given bits flipped (bit 0 is the most significant bit of key[0])."""
    number = int.from_bytes(key, "big")
    for position in positions:
        number ^= 1 << (255 - position)
    return number.to_bytes(32, "big")


# Keys near BASE share long prefixes with it and with each other, down to the last bit: they
# make deep paths, one-child levels and collapses on delete, which random keys almost never do.
keys = st.one_of(
    st.lists(st.integers(0, 255), max_size=3).map(lambda positions: flip(BASE, positions)),
    st.binary(min_size=32, max_size=32),
)
values = st.binary(max_size=8)
batches = st.lists(
    st.dictionaries(keys, st.none() | values, max_size=12), min_size=1, max_size=6
)


def _apply(state: dict[bytes, bytes], changes: dict[bytes, bytes | None]) -> None:
    for key, value in changes.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value


def _assert_proves(view: smt._View, root: bytes, key: bytes, want: bytes | None) -> None:
    proof = view.prove(key)
    verify(root, key, want, Proof.from_dict(json.loads(json.dumps(proof.to_dict()))))


@REFERENCE
@given(batches)
def test_batches_match_the_reference(batches: list[dict[bytes, bytes | None]]) -> None:
    tree = SparseMerkleTree()
    state: dict[bytes, bytes] = {}
    history = []
    for changes in batches:
        root = tree.update(changes)
        _apply(state, changes)
        assert root == tree.root == reference.root(state)
        assert len(tree) == len(state)
        assert list(tree.items()) == sorted(state.items())
        for key in changes:
            assert tree.get(key) == state.get(key)
            _assert_proves(tree, root, key, state.get(key))
        history.append((tree.snapshot(), root, dict(state)))
    assert SparseMerkleTree.from_items(state).root == tree.root
    for snapshot, root, old_state in history:  # the tree moved on; its snapshots did not
        assert snapshot.root == root
        assert list(snapshot.items()) == sorted(old_state.items())
        for key in {key for changes in batches for key in changes}:
            assert snapshot.get(key) == old_state.get(key)
            _assert_proves(snapshot, root, key, old_state.get(key))


@REFERENCE
@given(st.dictionaries(keys, values, max_size=40), st.randoms(use_true_random=False))
def test_root_ignores_the_order_of_updates(state: dict[bytes, bytes], rng: Any) -> None:
    pairs = list(state.items())
    rng.shuffle(pairs)
    tree = SparseMerkleTree()
    for start in range(0, len(pairs), 3):
        tree.update(dict(pairs[start : start + 3]))
    assert tree.root == reference.root(state) == SparseMerkleTree.from_items(pairs).root


@REFERENCE
@given(st.dictionaries(keys, values, min_size=1, max_size=30), keys, st.data())
def test_a_flipped_bit_anywhere_is_rejected(
    state: dict[bytes, bytes], key: bytes, data: st.DataObject
) -> None:
    tree = SparseMerkleTree.from_items(state)
    proof = tree.prove(key)
    value = state.get(key)
    fields = [proof.leaf.key, proof.leaf.value_hash] if proof.leaf else []
    fields += list(proof.siblings)
    assert fields, "a non-empty tree's proof has a leaf or a sibling"
    index = data.draw(st.integers(0, len(fields) - 1))
    position = data.draw(st.integers(0, 255))
    flipped = flip(fields[index], [position])
    leaf, siblings = proof.leaf, list(proof.siblings)
    if leaf is not None and index == 0:
        leaf = ProofLeaf(flipped, leaf.value_hash)
    elif leaf is not None and index == 1:
        leaf = ProofLeaf(leaf.key, flipped)
    else:
        siblings[index - (2 if leaf is not None else 0)] = flipped
    with pytest.raises(ProofError):
        verify(tree.root, key, value, Proof(leaf, tuple(siblings)))
    with pytest.raises(ProofError):
        verify(flip(tree.root, [position]), key, value, proof)


# --- forged proofs, one change each ----------------------------------------------------------


def _sample_tree() -> SparseMerkleTree:
    pairs = {sha256(b"lot:%d" % n).digest(): b"record %d" % n for n in range(300)}
    pairs.update({flip(BASE, [position]): b"deep %d" % position for position in range(200, 256)})
    pairs[BASE] = b"base"
    return SparseMerkleTree.from_items(pairs)


TREE = _sample_tree()


def _absent_key(want_leaf: bool) -> bytes:
    """An absent key whose path ends at another leaf (want_leaf) or at an empty position."""
    for n in range(10_000):
        key = sha256(b"absent:%d" % n).digest()
        proof = TREE.prove(key)
        if (proof.leaf is not None) == want_leaf and len(proof.siblings) >= 3:
            return key
    raise AssertionError("no such key")


# The claims a verifier is asked about: (key, value or None); each proof is TREE.prove(key).
CLAIMS = {
    "member": (sha256(b"lot:7").digest(), b"record 7"),
    "deep_member": (flip(BASE, [255]), b"deep 255"),
    "absent_at_leaf": (_absent_key(want_leaf=True), None),
    "absent_at_empty": (_absent_key(want_leaf=False), None),
}

Claim = tuple[bytes, bytes | None, Proof]
Mutation = Callable[[bytes, bytes | None, Proof], Claim]
Reasons = frozenset[ProofFailure]

OTHER = sha256(b"some other hash").digest()
ROOT = frozenset({ProofFailure.ROOT_MISMATCH})
MUTATIONS: dict[str, tuple[Mutation, dict[str, Reasons]]] = {}


def mutation(name: str, **want: Reasons) -> Callable[[Mutation], Mutation]:
    """Register a one-change forgery with the reasons it must be rejected for, per claim."""
    assert set(want) == set(CLAIMS), name

    def register(change: Mutation) -> Mutation:
        MUTATIONS[name] = (change, want)
        return change

    return register


def _for_all(reasons: Reasons) -> dict[str, Reasons]:
    return dict.fromkeys(CLAIMS, reasons)


def _with_siblings(proof: Proof, siblings: tuple[bytes, ...]) -> Proof:
    return replace(proof, siblings=siblings)


def _one(reason: ProofFailure) -> Reasons:
    return frozenset({reason})


@mutation("lowest-sibling-bit-flipped", **_for_all(ROOT))
def _flip_lowest(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, value, _with_siblings(proof, (flip(proof.siblings[0], [7]), *proof.siblings[1:]))


@mutation("top-sibling-bit-flipped", **_for_all(ROOT))
def _flip_top(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    top = flip(proof.siblings[-1], [200])
    return key, value, _with_siblings(proof, (*proof.siblings[:-1], top))


# The next sibling up may be the placeholder of a one-child level: then the canonical check
# fires first.
@mutation("lowest-sibling-dropped", **_for_all(ROOT | _one(ProofFailure.NON_CANONICAL)))
def _drop_lowest(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, value, _with_siblings(proof, proof.siblings[1:])


@mutation("top-sibling-dropped", **_for_all(ROOT))
def _drop_top(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, value, _with_siblings(proof, proof.siblings[:-1])


@mutation(
    "placeholder-added-at-bottom",
    member=_one(ProofFailure.NON_CANONICAL),
    deep_member=_one(ProofFailure.TOO_LONG),  # the length is checked first
    absent_at_leaf=_one(ProofFailure.NON_CANONICAL),
    absent_at_empty=_one(ProofFailure.NON_CANONICAL),
)
def _add_placeholder(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, value, _with_siblings(proof, (EMPTY_ROOT, *proof.siblings))


@mutation(
    "hash-added-at-bottom",
    member=ROOT,
    deep_member=_one(ProofFailure.TOO_LONG),
    absent_at_leaf=ROOT | _one(ProofFailure.PREFIX_MISMATCH),
    absent_at_empty=ROOT,
)
def _add_bottom(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, value, _with_siblings(proof, (OTHER, *proof.siblings))


@mutation(
    "hash-added-at-top",
    member=ROOT,
    deep_member=_one(ProofFailure.TOO_LONG),
    absent_at_leaf=ROOT | _one(ProofFailure.PREFIX_MISMATCH),
    absent_at_empty=ROOT,
)
def _add_top(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, value, _with_siblings(proof, (*proof.siblings, OTHER))


@mutation("two-siblings-swapped", **_for_all(ROOT | _one(ProofFailure.NON_CANONICAL)))
def _swap(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    first, second, *rest = proof.siblings
    return key, value, _with_siblings(proof, (second, first, *rest))


@mutation(
    "value-changed",
    member=_one(ProofFailure.VALUE_MISMATCH),
    deep_member=_one(ProofFailure.VALUE_MISMATCH),
    absent_at_leaf=_one(ProofFailure.KEY_MISMATCH),
    absent_at_empty=_one(ProofFailure.WRONG_KIND),
)
def _change_value(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, (value or b"") + b"!", proof


@mutation(
    "key-changed",
    member=_one(ProofFailure.KEY_MISMATCH),
    deep_member=_one(ProofFailure.KEY_MISMATCH),
    absent_at_leaf=ROOT | _one(ProofFailure.PREFIX_MISMATCH),
    absent_at_empty=ROOT,
)
def _change_key(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return flip(key, [1]), value, proof


@mutation(
    "presented-as-the-other-kind",
    member=_one(ProofFailure.WRONG_KIND),
    deep_member=_one(ProofFailure.WRONG_KIND),
    absent_at_leaf=_one(ProofFailure.KEY_MISMATCH),
    absent_at_empty=_one(ProofFailure.WRONG_KIND),
)
def _other_kind(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, None if value is not None else b"record 7", proof


@mutation(
    "leaf-value-hash-changed",
    member=_one(ProofFailure.VALUE_MISMATCH),
    deep_member=_one(ProofFailure.VALUE_MISMATCH),
    absent_at_leaf=ROOT,
    absent_at_empty=_one(ProofFailure.WRONG_KIND),  # the forgery adds a leaf for the key itself
)
def _change_value_hash(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    leaf = proof.leaf or ProofLeaf(key, OTHER)
    return key, value, replace(proof, leaf=ProofLeaf(leaf.key, flip(leaf.value_hash, [0])))


@mutation(
    "leaf-removed",
    member=_one(ProofFailure.WRONG_KIND),
    deep_member=_one(ProofFailure.WRONG_KIND),
    absent_at_leaf=ROOT,
    absent_at_empty=ROOT,  # no leaf to remove: the forgery drops the top sibling instead
)
def _remove_leaf(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    if proof.leaf is None:
        return key, value, _with_siblings(proof, proof.siblings[:-1])
    return key, value, replace(proof, leaf=None)


@mutation(
    "leaf-from-elsewhere",
    member=_one(ProofFailure.KEY_MISMATCH),
    deep_member=_one(ProofFailure.KEY_MISMATCH),
    absent_at_leaf=_one(ProofFailure.PREFIX_MISMATCH),
    absent_at_empty=_one(ProofFailure.PREFIX_MISMATCH),
)
def _leaf_from_elsewhere(key: bytes, value: bytes | None, proof: Proof) -> Claim:
    return key, value, replace(proof, leaf=_leaf_across_the_root(key))


def _leaf_across_the_root(key: bytes) -> ProofLeaf:
    """A leaf of the tree whose key differs from ``key`` in bit 0: it lies off the key's path."""
    for position in range(1, 256):
        leaf = TREE.prove(flip(key, [0, position])).leaf
        if leaf is not None:
            return leaf
    raise AssertionError("no leaf across the root")


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_the_honest_claims_verify(claim: str) -> None:
    key, value = CLAIMS[claim]
    proof = TREE.prove(key)
    verify(TREE.root, key, value, proof)
    assert (proof.leaf is not None and proof.leaf.key == key) == (value is not None)
    assert (proof.leaf is None) == (claim == "absent_at_empty")


@pytest.mark.parametrize("claim", sorted(CLAIMS))
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_forged_proof_is_rejected_for_its_reason(name: str, claim: str) -> None:
    change, want = MUTATIONS[name]
    key, value = CLAIMS[claim]
    forged_key, forged_value, forged = change(key, value, TREE.prove(key))
    with pytest.raises(ProofError) as rejected:
        verify(TREE.root, forged_key, forged_value, forged)
    assert rejected.value.reason in want[claim], str(rejected.value)


def test_a_deep_member_has_256_siblings_and_verifies() -> None:
    key, value = CLAIMS["deep_member"]
    proof = TREE.prove(key)
    assert len(proof.siblings) == MAX_PROOF_SIBLINGS
    verify(TREE.root, key, value, Proof.from_dict(proof.to_dict()))


def test_a_proof_longer_than_256_is_rejected() -> None:
    key, value = CLAIMS["deep_member"]
    proof = TREE.prove(key)
    longer = _with_siblings(proof, (OTHER, *proof.siblings))
    with pytest.raises(ProofError) as rejected:
        verify(TREE.root, key, value, longer)
    assert rejected.value.reason is ProofFailure.TOO_LONG
    with pytest.raises(ProofError) as rejected:
        Proof.from_dict(longer.to_dict())
    assert rejected.value.reason is ProofFailure.TOO_LONG


# --- the checks only a dishonest tree needs ---------------------------------------------------
# An honest tree cannot have these roots; a dishonest operator can publish one. The root check
# passes in both tests, so the named check alone stands between the forgery and success.


def test_a_leaf_off_its_own_path_does_not_prove_absence() -> None:
    intruder = flip(bytes(32), [0])  # bit 0 is 1: it belongs in the right half
    forged_root = reference.internal_hash(reference.leaf_hash(intruder, b"v"), OTHER)
    victim = flip(bytes(32), [255])  # bit 0 is 0: its path runs through the left half
    proof = Proof(ProofLeaf(intruder, sha256(b"v").digest()), (OTHER,))
    with pytest.raises(ProofError) as rejected:
        verify(forged_root, victim, None, proof)
    assert rejected.value.reason is ProofFailure.PREFIX_MISMATCH


def test_an_uncollapsed_leaf_is_rejected() -> None:
    key = bytes(32)
    forged_root = reference.internal_hash(reference.leaf_hash(key, b"v"), EMPTY_ROOT)
    proof = Proof(ProofLeaf(key, sha256(b"v").digest()), (EMPTY_ROOT,))
    with pytest.raises(ProofError) as rejected:
        verify(forged_root, key, b"v", proof)
    assert rejected.value.reason is ProofFailure.NON_CANONICAL


# --- serialisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_proofs_round_trip_through_json(claim: str) -> None:
    proof = TREE.prove(CLAIMS[claim][0])
    document = json.loads(json.dumps(proof.to_dict()))
    assert Proof.from_dict(document) == proof
    assert document["format"] == "jmt-sha256"


def _first_sibling(change: Callable[[str], object]) -> Callable[[dict[str, Any]], object]:
    return lambda d: {**d, "siblings": [change(d["siblings"][0]), *d["siblings"][1:]]}


BAD_DOCUMENTS: dict[str, Callable[[dict[str, Any]], object]] = {
    "not-a-mapping": lambda d: [d],
    "field-added": lambda d: {**d, "depth": 3},
    "field-missing": lambda d: {k: v for k, v in d.items() if k != "leaf"},
    "unknown-format": lambda d: {**d, "format": "rfc6962"},
    "siblings-not-a-list": lambda d: {**d, "siblings": "00" * 32},
    "sibling-uppercase": _first_sibling(str.upper),
    "sibling-0x-prefixed": _first_sibling(lambda s: "0x" + s[2:]),
    "sibling-short": _first_sibling(lambda s: s[:-2]),
    "sibling-with-space": _first_sibling(lambda s: s[:-2] + " a"),
    "sibling-not-a-string": _first_sibling(lambda s: 1),
    "leaf-not-a-mapping": lambda d: {**d, "leaf": d["leaf"]["key"]},
    "leaf-field-added": lambda d: {**d, "leaf": {**d["leaf"], "value": "00"}},
    "leaf-key-short": lambda d: {**d, "leaf": {**d["leaf"], "key": "ab"}},
}


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_a_malformed_document_is_rejected(name: str) -> None:
    document = BAD_DOCUMENTS[name](TREE.prove(CLAIMS["member"][0]).to_dict())
    with pytest.raises(ProofError) as rejected:
        Proof.from_dict(document)  # type: ignore[arg-type]
    assert rejected.value.reason is ProofFailure.MALFORMED


@pytest.mark.parametrize(
    ("root", "key", "value"),
    [
        (bytes(31), bytes(32), None),
        (EMPTY_ROOT, bytes(31), None),
        (EMPTY_ROOT, bytes(33), None),
        (EMPTY_ROOT, bytearray(32), None),
        (EMPTY_ROOT, bytes(32), "text"),
    ],
)
def test_verify_rejects_a_malformed_claim(root: Any, key: Any, value: Any) -> None:
    with pytest.raises(ProofError) as rejected:
        verify(root, key, value, Proof(None, ()))
    assert rejected.value.reason is ProofFailure.MALFORMED


@pytest.mark.parametrize(
    "proof",
    [
        Proof(None, (bytes(31),)),
        Proof(None, [OTHER]),  # type: ignore[arg-type]
        Proof(ProofLeaf(bytes(32), bytes(31)), ()),
        "not a proof",
    ],
)
def test_verify_rejects_a_malformed_proof(proof: Any) -> None:
    with pytest.raises(ProofError) as rejected:
        verify(EMPTY_ROOT, bytes(32), None, proof)
    assert rejected.value.reason is ProofFailure.MALFORMED


# --- the tree's own contract -----------------------------------------------------------------


def test_an_empty_tree_proves_every_key_absent() -> None:
    tree = SparseMerkleTree()
    assert tree.root == EMPTY_ROOT and len(tree) == 0 and list(tree.items()) == []
    proof = tree.prove(BASE)
    assert proof == Proof(None, ())
    verify(EMPTY_ROOT, BASE, None, proof)
    with pytest.raises(ProofError) as rejected:
        verify(EMPTY_ROOT, BASE, b"v", proof)
    assert rejected.value.reason is ProofFailure.WRONG_KIND


def test_a_single_leaf_is_the_root() -> None:
    tree = SparseMerkleTree()
    assert tree.update({BASE: b"v"}) == reference.leaf_hash(BASE, b"v")
    assert tree.prove(BASE) == Proof(ProofLeaf(BASE, sha256(b"v").digest()), ())


def test_deleting_the_last_keys_empties_the_tree() -> None:
    tree = SparseMerkleTree.from_items({BASE: b"a", flip(BASE, [255]): b"b"})
    assert tree.update({BASE: None, flip(BASE, [255]): None}) == EMPTY_ROOT
    assert len(tree) == 0


def test_a_batch_with_a_bad_key_changes_nothing() -> None:
    tree = SparseMerkleTree.from_items({BASE: b"v"})
    before = tree.root
    with pytest.raises(ValueError, match="32 bytes"):
        tree.update({flip(BASE, [3]): b"new", b"short": b"v"})
    assert tree.root == before and tree.get(flip(BASE, [3])) is None and len(tree) == 1


@pytest.mark.parametrize("value", [bytearray(b"v"), "v", 1])
def test_values_must_be_bytes(value: Any) -> None:
    with pytest.raises(TypeError):
        SparseMerkleTree().update({BASE: value})
    with pytest.raises(TypeError):
        SparseMerkleTree.from_items({BASE: value})


@pytest.mark.parametrize("key", [b"", bytes(31), bytes(33), "00" * 32, memoryview(bytes(32))])
def test_keys_must_be_32_bytes(key: Any) -> None:
    tree = SparseMerkleTree()
    actions: list[Callable[[Any], object]] = [
        tree.get,
        tree.prove,
        lambda k: tree.update({k: b"v"}),
        lambda k: SparseMerkleTree.from_items({k: b"v"}),
    ]
    for action in actions:
        with pytest.raises(ValueError):
            action(key)


def test_a_batch_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smt, "MAX_BATCH_CHANGES", 2)
    tree = SparseMerkleTree()
    tree.update({BASE: b"a", flip(BASE, [9]): b"b"})
    with pytest.raises(ValueError, match="exceeds"):
        tree.update({flip(BASE, [p]): b"v" for p in range(3)})
    assert len(tree) == 2


def test_from_items_refuses_a_repeated_key() -> None:
    with pytest.raises(ValueError, match="repeated"):
        SparseMerkleTree.from_items([(BASE, b"a"), (flip(BASE, [1]), b"b"), (BASE, b"c")])


@pytest.mark.parametrize("settle_after", [1, 10**9])
@pytest.mark.parametrize("enabled", [True, False])
def test_from_items_restores_the_garbage_collector(
    enabled: bool, settle_after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(smt, "SETTLE_AFTER_LEAVES", settle_after)
    was_enabled = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        assert SparseMerkleTree.from_items({BASE: b"v"}).get(BASE) == b"v"
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError):
            SparseMerkleTree.from_items([(BASE, b"v"), (BASE, b"w")])
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_deleting_an_absent_key_is_a_no_op() -> None:
    tree = _sample_tree()
    before = tree.snapshot()
    assert tree.update({flip(BASE, [100]): None, sha256(b"nothing").digest(): None}) == before.root
    assert len(tree) == len(before)


# --- versions ---------------------------------------------------------------------------------


def _nodes(view: smt._View) -> Iterator[tuple[bytes, Any, Any]]:
    """Every node of a version. Reads the private root node: sharing is not visible otherwise."""
    stack = [view._node] if view._node is not None else []
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node[1], bytes):
            stack.extend(child for child in node[1:] if child is not None)


def test_an_update_rebuilds_only_the_changed_path() -> None:
    tree = _sample_tree()
    before = tree.snapshot()
    key = sha256(b"lot:42").digest()
    depth = len(tree.prove(key).siblings)
    tree.update({key: b"changed"})
    old_ids = {id(node) for node in _nodes(before)}
    new_nodes = [node for node in _nodes(tree) if id(node) not in old_ids]
    assert len(new_nodes) == depth + 1  # the leaf and one node per level above it


def test_a_snapshot_stays_provable_while_the_tree_moves_on() -> None:
    tree = _sample_tree()
    checkpoint = tree.snapshot()
    numbers = range(0, 300, 7)
    members = [sha256(b"lot:%d" % n).digest() for n in numbers]
    tree.update(dict.fromkeys(members[::2]))
    tree.update(dict.fromkeys(members[1::2], b"moved"))
    tree.update({sha256(b"new:%d" % n).digest(): b"new" for n in range(50)})
    assert tree.root != checkpoint.root
    for n, key in zip(numbers, members, strict=True):
        old_value = b"record %d" % n
        assert checkpoint.get(key) == old_value
        verify(checkpoint.root, key, old_value, checkpoint.prove(key))
        with pytest.raises(ProofError):
            verify(tree.root, key, old_value, checkpoint.prove(key))
    assert len(checkpoint) == 300 + 56 + 1
