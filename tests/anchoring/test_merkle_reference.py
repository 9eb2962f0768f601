"""The fast Merkle code against the literal RFC 9162 reference, under Hypothesis.

Covers roots, inclusion and consistency proofs from plain lists and from MerkleLog, including
roots and proofs at sizes below the log's head.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from anchoring.auditor.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog
from tests.anchoring import reference_merkle as ref
from tests.anchoring.merkle_strategies import (
    MAX_TREE_SIZE,
    entries,
    leaf_hashes,
    salts,
    tree_sizes,
)

# Each example hashes up to a few thousand entries in the slow reference; keep the count modest.
REFERENCE = settings(max_examples=150, deadline=None)


def _log_of(hashes: list[bytes]) -> MerkleLog:
    log = MerkleLog(MemoryNodeStore())
    log.extend(hashes)
    return log


@REFERENCE
@given(size=st.one_of(st.just(0), tree_sizes), salt=salts)
def test_root_matches_reference(size: int, salt: bytes) -> None:
    data = entries(size, salt)
    hashes = [leaf_hash(entry) for entry in data]
    expected = ref.mth(data)
    assert root_from_leaf_hashes(hashes) == expected
    log = MerkleLog(MemoryNodeStore())
    for value in hashes:
        log.append(value)
    assert log.root() == expected


@REFERENCE
@given(size=tree_sizes, salt=salts, data=st.data())
def test_inclusion_proof_matches_reference(size: int, salt: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    tree = entries(size, salt)
    hashes = [leaf_hash(entry) for entry in tree]
    expected = ref.path(index, tree)
    assert inclusion_proof(hashes, index, size) == expected
    assert _log_of(hashes).inclusion_proof(index, size) == expected
    # the verifier returns None on success, and that is what is asserted
    assert verify_inclusion(hashes[index], index, size, expected, ref.mth(tree)) is None  # type: ignore[func-returns-value]


@REFERENCE
@given(size2=tree_sizes, salt=salts, data=st.data())
def test_consistency_proof_matches_reference(size2: int, salt: bytes, data: st.DataObject) -> None:
    size1 = data.draw(st.integers(1, size2), label="size1")
    tree = entries(size2, salt)
    hashes = [leaf_hash(entry) for entry in tree]
    expected = ref.proof(size1, tree)
    assert consistency_proof(hashes, size1, size2) == expected
    assert _log_of(hashes).consistency_proof(size1, size2) == expected
    root1, root2 = ref.mth(tree[:size1]), ref.mth(tree)
    # the verifier returns None on success, and that is what is asserted
    assert verify_consistency(size1, size2, expected, root1, root2) is None  # type: ignore[func-returns-value]


# Batches of leaves, each added by one `extend` (True) or by repeated `append` (False).
batches = st.lists(st.tuples(st.booleans(), st.integers(0, 300)), min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(plan=batches, salt=salts, data=st.data())
def test_merkle_log_answers_every_earlier_size_like_a_plain_list(
    plan: list[tuple[bool, int]], salt: bytes, data: st.DataObject
) -> None:
    total = sum(count for _, count in plan)
    hashes = leaf_hashes(total, salt)
    log = MerkleLog(MemoryNodeStore())
    sizes_after_batches = []
    for use_extend, count in plan:
        batch = hashes[log.size : log.size + count]
        if use_extend:
            size_before = log.size
            assert log.extend(batch) == size_before + len(batch) == log.size
        else:
            for value in batch:
                index = log.size
                assert log.append(value) == index
        sizes_after_batches.append(log.size)
    assert log.size == total

    for size in {*sizes_after_batches, *data.draw(st.lists(st.integers(0, total), max_size=5))}:
        assert log.root(size) == root_from_leaf_hashes(hashes[:size])
    if total == 0:
        return
    size2 = data.draw(st.integers(1, total), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    index = data.draw(st.integers(0, size2 - 1), label="index")
    assert log.inclusion_proof(index, size2) == inclusion_proof(hashes, index, size2)
    assert log.consistency_proof(size1, size2) == consistency_proof(hashes, size1, size2)


@settings(max_examples=10, deadline=None)
@given(salt=salts)
def test_merkle_log_roots_at_every_size_match_reference(salt: bytes) -> None:
    """Every size 0..300 against the reference: each append path (carry depth) is taken."""
    tree = entries(300, salt)
    log = MerkleLog(MemoryNodeStore())
    assert log.root() == ref.mth([])
    for size, entry in enumerate(tree, start=1):
        log.append(leaf_hash(entry))
        assert log.root() == ref.mth(tree[:size])
    assert log.size == 300 <= MAX_TREE_SIZE
