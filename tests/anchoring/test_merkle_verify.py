"""The edge-case policy of verify_inclusion / verify_consistency, one named case at a time.

The policy is transparency-dev/merkle's (the vectors' source), with one deliberate difference:
consistency from size 0 is refused even to size 0.
"""

from __future__ import annotations

from typing import Any

import pytest

from anchoring.auditor.merkle import (
    EMPTY_ROOT,
    MAX_TREE_SIZE,
    ProofError,
    ProofFailure,
    consistency_proof,
    consistency_proof_ranges,
    inclusion_proof,
    inclusion_proof_ranges,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from tests.anchoring.merkle_strategies import leaf_hashes

HASHES = leaf_hashes(8, b"verify")
ROOT8 = root_from_leaf_hashes(HASHES)
ROOT5 = root_from_leaf_hashes(HASHES[:5])
PROOF_3_OF_8 = inclusion_proof(HASHES, 3, 8)
PROOF_5_TO_8 = consistency_proof(HASHES, 5, 8)


def _inclusion_failure(**changes: Any) -> ProofError:
    arguments: dict[str, Any] = {
        "leaf_hash": HASHES[3],
        "index": 3,
        "size": 8,
        "proof": PROOF_3_OF_8,
        "root": ROOT8,
    }
    arguments.update(changes)
    with pytest.raises(ProofError) as raised:
        verify_inclusion(**arguments)
    return raised.value


def _consistency_failure(**changes: Any) -> ProofError:
    arguments: dict[str, Any] = {
        "size1": 5,
        "size2": 8,
        "proof": PROOF_5_TO_8,
        "root1": ROOT5,
        "root2": ROOT8,
    }
    arguments.update(changes)
    with pytest.raises(ProofError) as raised:
        verify_consistency(**arguments)
    return raised.value


def test_valid_proofs_return_none() -> None:
    # the verifier returns None on success, and that is what is asserted
    assert verify_inclusion(HASHES[3], 3, 8, PROOF_3_OF_8, ROOT8) is None  # type: ignore[func-returns-value]
    assert verify_consistency(5, 8, PROOF_5_TO_8, ROOT5, ROOT8) is None  # type: ignore[func-returns-value]
    assert verify_consistency(8, 8, [], ROOT8, ROOT8) is None  # type: ignore[func-returns-value]
    assert verify_inclusion(HASHES[0], 0, 1, [], HASHES[0]) is None  # type: ignore[func-returns-value]


def test_node_hash_is_the_rfc_interior_hash() -> None:
    assert node_hash(HASHES[0], HASHES[1]) == root_from_leaf_hashes(HASHES[:2])
    assert leaf_hash(b"") != node_hash(b"", b"")  # domain separation of leaves and nodes


def test_proof_error_carries_reason_and_failure() -> None:
    error = _inclusion_failure(root=ROOT5)
    assert error.failure is ProofFailure.root_mismatch
    assert str(error) == error.reason
    assert ROOT5.hex() in error.reason and "index 3" in error.reason


@pytest.mark.parametrize(
    ("changes", "failure"),
    [
        ({"leaf_hash": HASHES[3][:31]}, ProofFailure.malformed_input),
        ({"leaf_hash": HASHES[3] + b"\x00"}, ProofFailure.malformed_input),
        ({"leaf_hash": HASHES[3].hex()}, ProofFailure.malformed_input),
        ({"root": b""}, ProofFailure.malformed_input),
        ({"proof": [*PROOF_3_OF_8[:2], PROOF_3_OF_8[2][:16]]}, ProofFailure.malformed_input),
        ({"proof": PROOF_3_OF_8[0]}, ProofFailure.malformed_input),
        ({"proof": None}, ProofFailure.malformed_input),
        ({"proof": iter(PROOF_3_OF_8)}, ProofFailure.malformed_input),
        ({"index": -1}, ProofFailure.malformed_input),
        ({"index": True}, ProofFailure.malformed_input),
        ({"index": 3.0}, ProofFailure.malformed_input),
        ({"size": MAX_TREE_SIZE + 1}, ProofFailure.malformed_input),
        ({"index": 8}, ProofFailure.index_out_of_range),
        ({"index": 0, "size": 0, "proof": []}, ProofFailure.index_out_of_range),
        ({"index": MAX_TREE_SIZE}, ProofFailure.index_out_of_range),
        ({"proof": PROOF_3_OF_8[:2]}, ProofFailure.wrong_proof_length),
        ({"proof": [*PROOF_3_OF_8, ROOT8]}, ProofFailure.wrong_proof_length),
        ({"proof": []}, ProofFailure.wrong_proof_length),
        ({"root": EMPTY_ROOT}, ProofFailure.root_mismatch),
        ({"leaf_hash": HASHES[4]}, ProofFailure.root_mismatch),
    ],
)
def test_inclusion_policy(changes: dict[str, Any], failure: ProofFailure) -> None:
    error = _inclusion_failure(**changes)
    assert error.failure is failure
    assert error.reason


@pytest.mark.parametrize(
    ("changes", "failure"),
    [
        ({"root1": ROOT5[:31]}, ProofFailure.malformed_input),
        ({"root2": None}, ProofFailure.malformed_input),
        ({"proof": [b""]}, ProofFailure.malformed_input),
        ({"size2": -8}, ProofFailure.malformed_input),
        ({"size1": 0}, ProofFailure.sizes_out_of_order),
        ({"size1": 0, "proof": []}, ProofFailure.sizes_out_of_order),
        (
            {"size1": 0, "size2": 0, "proof": [], "root1": EMPTY_ROOT, "root2": EMPTY_ROOT},
            ProofFailure.sizes_out_of_order,
        ),
        ({"size1": 8, "size2": 5, "root1": ROOT8, "root2": ROOT5}, ProofFailure.sizes_out_of_order),
        ({"size1": 8, "root1": ROOT8}, ProofFailure.wrong_proof_length),
        ({"size1": 8, "root1": ROOT8, "root2": ROOT5, "proof": []}, ProofFailure.root_mismatch),
        ({"proof": []}, ProofFailure.wrong_proof_length),
        ({"proof": PROOF_5_TO_8[:-1]}, ProofFailure.wrong_proof_length),
        ({"proof": [*PROOF_5_TO_8, ROOT8]}, ProofFailure.wrong_proof_length),
        ({"root1": ROOT8}, ProofFailure.root_mismatch),
        ({"root2": ROOT5}, ProofFailure.root_mismatch),
    ],
)
def test_consistency_policy(changes: dict[str, Any], failure: ProofFailure) -> None:
    error = _consistency_failure(**changes)
    assert error.failure is failure
    assert error.reason


def test_huge_sizes_are_checked_without_hashing() -> None:
    """A hostile size asks for a long proof; the length check refuses it before any hashing."""
    error = _inclusion_failure(size=MAX_TREE_SIZE)
    assert error.failure is ProofFailure.wrong_proof_length
    assert "exactly 64" in error.reason


@pytest.mark.parametrize(
    "call",
    [
        lambda: inclusion_proof(HASHES, 8, 8),
        lambda: inclusion_proof(HASHES, 0, 9),
        lambda: inclusion_proof(HASHES, -1, 8),
        lambda: consistency_proof(HASHES, 0, 8),
        lambda: consistency_proof(HASHES, 6, 5),
        lambda: consistency_proof(HASHES, 1, 9),
        lambda: inclusion_proof_ranges(0, 0),
        lambda: consistency_proof_ranges(0, 0),
        lambda: root_from_leaf_hashes([*HASHES, b"short"]),
    ],
)
def test_generators_refuse_impossible_requests(call: Any) -> None:
    with pytest.raises(ValueError):
        call()


def test_equal_sizes_have_an_empty_consistency_proof() -> None:
    assert consistency_proof(HASHES, 8, 8) == []
    assert consistency_proof_ranges(3, 3) == []
