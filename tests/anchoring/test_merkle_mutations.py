"""Mutated proofs are always rejected.

Each test takes a valid proof and changes one thing: a flipped bit anywhere, a hash added or
dropped, the index or a size off by one, the roots swapped. Leaves are distinct, so a change can
only verify through a SHA-256 collision.

A size off by one is checked against the root *of that size*, which is what a forged claim would
have to match. Against the original root it can verify; see the last tests, which pin why an
auditor must take a size and its root from the same signed checkpoint.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchoring.auditor.merkle import (
    HASH_SIZE_BYTES,
    ProofError,
    consistency_proof,
    inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog
from tests.anchoring.merkle_strategies import (
    MAX_TREE_SIZE,
    flip_bit,
    leaf_hashes,
    tree_sizes,
)

HASH_BITS = HASH_SIZE_BYTES * 8
MUTATIONS = settings(max_examples=150, deadline=None)

# One log of distinct leaves serves every example: proofs and roots come from it in O(log n).
_HASHES = leaf_hashes(MAX_TREE_SIZE + 1, b"mutations")
_LOG = MerkleLog(MemoryNodeStore())
_LOG.extend(_HASHES)


def _rejects_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, root)


def _rejects_consistency(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> None:
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root1, root2)


def _with_hash_inserted(proof: list[bytes], position: int, extra: bytes) -> list[bytes]:
    return [*proof[:position], extra, *proof[position:]]


@MUTATIONS
@given(size=tree_sizes, data=st.data())
def test_inclusion_proof_with_a_flipped_bit_is_rejected(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = _LOG.inclusion_proof(index, size)
    fields = [_HASHES[index], *proof, _LOG.root(size)]  # leaf, proof..., root
    field = data.draw(st.integers(0, len(fields) - 1), label="field")
    fields[field] = flip_bit(fields[field], data.draw(st.integers(0, HASH_BITS - 1), label="bit"))
    _rejects_inclusion(fields[0], index, size, fields[1:-1], fields[-1])


@MUTATIONS
@given(size=tree_sizes, data=st.data())
def test_inclusion_proof_with_a_hash_added_or_dropped_is_rejected(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    extra = data.draw(
        st.sampled_from([_HASHES[index], _LOG.root(size), bytes(HASH_SIZE_BYTES)]), label="extra"
    )
    leaf, proof, root = _HASHES[index], _LOG.inclusion_proof(index, size), _LOG.root(size)
    for position in range(len(proof) + 1):
        _rejects_inclusion(leaf, index, size, _with_hash_inserted(proof, position, extra), root)
    for position in range(len(proof)):
        _rejects_inclusion(leaf, index, size, proof[:position] + proof[position + 1 :], root)


@MUTATIONS
@given(size=tree_sizes, data=st.data())
def test_inclusion_proof_with_index_or_size_off_by_one_is_rejected(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf, proof, root = _HASHES[index], _LOG.inclusion_proof(index, size), _LOG.root(size)
    for wrong_index in (index - 1, index + 1):
        _rejects_inclusion(leaf, wrong_index, size, proof, root)
    for wrong_size in (size - 1, size + 1):
        _rejects_inclusion(leaf, index, wrong_size, proof, _LOG.root(wrong_size))


@MUTATIONS
@given(size2=tree_sizes, data=st.data())
def test_consistency_proof_with_a_flipped_bit_is_rejected(size2: int, data: st.DataObject) -> None:
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = _LOG.consistency_proof(size1, size2)
    fields = [_LOG.root(size1), _LOG.root(size2), *proof]  # root1, root2, proof...
    field = data.draw(st.integers(0, len(fields) - 1), label="field")
    fields[field] = flip_bit(fields[field], data.draw(st.integers(0, HASH_BITS - 1), label="bit"))
    _rejects_consistency(size1, size2, fields[2:], fields[0], fields[1])


@MUTATIONS
@given(size2=tree_sizes, data=st.data())
def test_consistency_proof_with_a_hash_added_or_dropped_is_rejected(
    size2: int, data: st.DataObject
) -> None:
    size1 = data.draw(st.integers(1, size2), label="size1")
    root1, root2 = _LOG.root(size1), _LOG.root(size2)
    proof = _LOG.consistency_proof(size1, size2)
    extra = data.draw(st.sampled_from([root1, root2, bytes(HASH_SIZE_BYTES)]), label="extra")
    for position in range(len(proof) + 1):
        _rejects_consistency(
            size1, size2, _with_hash_inserted(proof, position, extra), root1, root2
        )
    for position in range(len(proof)):
        _rejects_consistency(size1, size2, proof[:position] + proof[position + 1 :], root1, root2)


@MUTATIONS
@given(size2=tree_sizes, data=st.data())
def test_consistency_proof_with_a_size_off_by_one_or_swapped_roots_is_rejected(
    size2: int, data: st.DataObject
) -> None:
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = _LOG.consistency_proof(size1, size2)
    for wrong1, wrong2 in [
        (size1 - 1, size2),
        (size1 + 1, size2),
        (size1, size2 - 1),
        (size1, size2 + 1),
    ]:
        if 0 <= wrong2 <= _LOG.size and 0 <= wrong1 <= _LOG.size:
            _rejects_consistency(wrong1, wrong2, proof, _LOG.root(wrong1), _LOG.root(wrong2))
    if size1 != size2:
        _rejects_consistency(size1, size2, proof, _LOG.root(size2), _LOG.root(size1))


def test_every_small_tree_rejects_every_index_and_size_shift() -> None:
    """Exhaustive over sizes 1..64, where the border cases of the RFC loop all occur."""
    for size in range(1, 65):
        hashes = _HASHES[:size]
        root = root_from_leaf_hashes(hashes)
        for index in range(size):
            proof = inclusion_proof(hashes, index, size)
            verify_inclusion(hashes[index], index, size, proof, root)
            for wrong_index in (index - 1, index + 1):
                _rejects_inclusion(hashes[index], wrong_index, size, proof, root)
        for size1 in range(1, size + 1):
            proof = consistency_proof(hashes, size1, size)
            root1 = root_from_leaf_hashes(hashes[:size1])
            verify_consistency(size1, size, proof, root1, root)
            _rejects_consistency(size1, size, [*proof, root], root1, root)
            if proof:
                _rejects_consistency(size1, size, proof[:-1], root1, root)


def test_a_size_is_only_bound_together_with_its_root() -> None:
    """The proof for leaf 0 of 6 leaves also chains to root(6) when told the size is 7.

    Leaf 0's path turns the same way at every level in trees of 6 and of 7 leaves, so the
    verifier cannot tell the sizes apart from the proof: RFC 9162 binds the leaf to the root,
    and the size only as far as the path's shape. This is why the audit guide says to take
    size and root from one signed checkpoint, never from separate sources.
    """
    hashes = _HASHES[:7]
    root6 = root_from_leaf_hashes(hashes[:6])
    proof = inclusion_proof(hashes, 0, 6)
    # the verifier returns None on success, and that is what is asserted
    assert verify_inclusion(hashes[0], 0, 7, proof, root6) is None  # type: ignore[func-returns-value]
    _rejects_inclusion(hashes[0], 0, 7, proof, root_from_leaf_hashes(hashes))


def test_a_consistency_size_is_only_bound_together_with_its_root() -> None:
    """Same for consistency: the proof from 4 to 6 leaves also chains when told size2 = 7."""
    hashes = _HASHES[:7]
    root4, root6 = root_from_leaf_hashes(hashes[:4]), root_from_leaf_hashes(hashes[:6])
    proof = consistency_proof(hashes, 4, 6)
    # the verifier returns None on success, and that is what is asserted
    assert verify_consistency(4, 7, proof, root4, root6) is None  # type: ignore[func-returns-value]
    _rejects_consistency(4, 7, proof, root4, root_from_leaf_hashes(hashes))
