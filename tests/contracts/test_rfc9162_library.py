"""The contracts' RFC 9162 and marker libraries, through RFC9162Harness: transparency-dev's
proof vectors, then properties against anchoring.auditor.merkle as the reference."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from anchoring.auditor import merkle
from anchoring.operator.contract import marker_entry_bytes, marker_leaf_hash, marker_proof_length

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "rfc9162"
UINT64_MAX = (1 << 64) - 1
# RFC 8785 writes numbers as IEEE doubles, exact up to 2^53 - 1; the rfc8785 package refuses
# larger integers. No log reaches 2^53 entries, but the contract writes any uint64.
MAX_SAFE_INTEGER = (1 << 53) - 1


def _vectors(kind: str) -> list[Any]:
    files = sorted((VECTORS / kind).glob("*/*.json"))
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no vectors in {VECTORS}"))]
    return [pytest.param(path, id=f"{path.parent.name}/{path.stem}") for path in files]


def _decode(value: str) -> bytes:
    return base64.b64decode(value)


def _fits(*hashes: bytes, sizes: tuple[int, ...] = ()) -> bool:
    """Whether the inputs can be passed as bytes32 and uint64 at all."""
    return all(len(h) == 32 for h in hashes) and all(0 <= s <= UINT64_MAX for s in sizes)


@pytest.mark.parametrize("path", _vectors("consistency"))
def test_consistency_vectors(harness: Contract, path: Path) -> None:
    vector = json.loads(path.read_text())
    root1, root2 = _decode(vector["root1"]), _decode(vector["root2"])
    proof = [_decode(p) for p in vector["proof"] or []]
    sizes = (vector["size1"], vector["size2"])
    if not _fits(root1, root2, *proof, sizes=sizes):
        # A malformed hash cannot even be encoded as bytes32: the ABI refuses it.
        assert vector["wantErr"]
        return
    verified = harness.functions.verifyConsistency(*sizes, root1, root2, proof).call()
    assert verified is not vector["wantErr"], vector["desc"]


@pytest.mark.parametrize("path", _vectors("inclusion"))
def test_inclusion_vectors(harness: Contract, path: Path) -> None:
    vector = json.loads(path.read_text())
    leaf, root = _decode(vector["leafHash"]), _decode(vector["root"])
    proof = [_decode(p) for p in vector["proof"] or []]
    index, size = vector["leafIdx"], vector["treeSize"]
    if not _fits(leaf, root, *proof, sizes=(index, size)):
        assert vector["wantErr"]
        return
    verified = harness.functions.verifyInclusion(index, size, leaf, root, proof).call()
    assert verified is not vector["wantErr"], vector["desc"]
    if index == size - 1:
        # The last-leaf shortcut the registry uses must agree with the general verifier.
        assert harness.functions.verifyLastLeaf(size, leaf, root, proof).call() is verified


def _leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(b"leaf %d" % i) for i in range(count)]


LEAVES = _leaves(300)

sizes = st.integers(min_value=1, max_value=len(LEAVES))
# The harness fixture holds only view functions, so sharing it across examples is safe.
FIXTURE_HEALTH_CHECK = HealthCheck.function_scoped_fixture


@settings(max_examples=60, deadline=None, suppress_health_check=[FIXTURE_HEALTH_CHECK])
@given(size1=sizes, size2=sizes)
def test_consistency_agrees_with_the_reference(harness: Contract, size1: int, size2: int) -> None:
    size1, size2 = sorted((size1, size2))
    root1 = merkle.root_from_leaf_hashes(LEAVES[:size1])
    root2 = merkle.root_from_leaf_hashes(LEAVES[:size2])
    proof = merkle.consistency_proof(LEAVES, size1, size2) if size1 < size2 else []
    assert harness.functions.verifyConsistency(size1, size2, root1, root2, proof).call()
    if size1 == size2:
        return
    node, level = harness.functions.consistencyRightEdgeNode(size1, size2, root1, proof).call()
    # The right-edge node is the root of the last (size2 - 1) mod 2^level + 1 leaves, and the
    # level is where leaves size1 - 1 and size2 - 1 part.
    assert level == ((size1 - 1) ^ (size2 - 1)).bit_length() - 1
    first = size2 - 1 - ((size2 - 1) % (1 << level))
    assert bytes(node) == merkle.root_from_leaf_hashes(LEAVES[first:size2])
    # The marker proof is the last leaf's inclusion path below that node.
    tail = merkle.inclusion_proof(LEAVES, size2 - 1, size2)[: marker_proof_length(size1, size2)]
    assert harness.functions.verifyLastLeaf(size2 - first, LEAVES[size2 - 1], node, tail).call()
    # One element too many or too few is refused.
    assert not harness.functions.verifyConsistency(size1, size2, root1, root2, proof[:-1]).call()
    assert not harness.functions.verifyConsistency(
        size1, size2, root1, root2, [*proof, proof[-1]]
    ).call()


@settings(max_examples=40, deadline=None, suppress_health_check=[FIXTURE_HEALTH_CHECK])
@given(size=sizes, data=st.data())
def test_inclusion_agrees_with_the_reference(harness: Contract, size: int, data: Any) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    root = merkle.root_from_leaf_hashes(LEAVES[:size])
    proof = merkle.inclusion_proof(LEAVES, index, size)
    assert harness.functions.verifyInclusion(index, size, LEAVES[index], root, proof).call()
    extended = [*proof, LEAVES[0]]
    assert not harness.functions.verifyInclusion(index, size, LEAVES[index], root, extended).call()


EDGE_VALUES = [
    *range(11),
    *(10**k + d for k in (2, 3, 6) for d in (-1, 0, 1)),
    *(2**k + d for k in (31, 32, 63) for d in (-1, 0, 1)),
    UINT64_MAX,
]


@pytest.mark.parametrize("value", EDGE_VALUES)
def test_bit_functions_agree_with_python(harness: Contract, value: int) -> None:
    assert harness.functions.bitLength(value).call() == value.bit_length()
    assert harness.functions.popCount(value).call() == value.bit_count()
    trailing = 64 if value == 0 else (value & -value).bit_length() - 1
    assert harness.functions.trailingZeros(value).call() == trailing


@pytest.mark.parametrize("number", [0, 1, 9, 10, 12345, 2**32 - 1, UINT64_MAX])
@pytest.mark.parametrize("seq", [0, 1, 99, 1_000_999, 2**30 - 1, UINT64_MAX])
def test_the_marker_is_rfc8785_json_on_both_sides(harness: Contract, number: int, seq: int) -> None:
    entry = marker_entry_bytes(number, seq)
    if max(number, seq) <= MAX_SAFE_INTEGER:
        assert entry == rfc8785.dumps({"seq": seq, "checkpoint": number})
    assert bytes(harness.functions.markerLeafHash(number, seq).call()) == marker_leaf_hash(
        number, seq
    )


def test_node_hash_matches(harness: Contract) -> None:
    left, right = b"\x01" * 32, b"\xfe" * 32
    assert bytes(harness.functions.hashChildren(left, right).call()) == merkle.node_hash(
        left, right
    )
