"""anchoring.auditor.merkle against the RFC 9162 vectors of transparency-dev/merkle, byte for byte.

Every file under tests/vectors/rfc9162/ is one probe: `wantErr` probes must raise ProofError,
the others must verify. The happy paths are also regenerated from the RFC 6962 test entries
and must match the vectors' proofs exactly.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from anchoring.auditor.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "rfc9162"
INCLUSION_FILES = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((VECTORS / "consistency").rglob("*.json"))

# The entries and roots that the RFC 6962 reference tests (and these vectors) are built on.
RFC6962_ENTRIES = [
    bytes.fromhex(entry)
    for entry in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
RFC6962_ROOTS = [
    bytes.fromhex(root)
    for root in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
RFC6962_LEAF_HASHES = [leaf_hash(entry) for entry in RFC6962_ENTRIES]


def _load(path: Path) -> dict[str, Any]:
    probe: dict[str, Any] = json.loads(path.read_text())
    return probe


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(probe: dict[str, Any]) -> list[bytes]:
    # Go writes a nil slice as null; it means an empty proof.
    return [_b64(value) for value in probe["proof"] or []]


def _vector_id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def test_every_vector_folder_is_loaded() -> None:
    """Guards against a glob that silently matches nothing (a test that cannot fail)."""
    assert len(INCLUSION_FILES) == 86
    assert len(CONSISTENCY_FILES) == 84
    assert (VECTORS / "NOTICE.md").is_file()


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_vector_id)
def test_inclusion_vector(path: Path) -> None:
    probe = _load(path)
    arguments = (
        _b64(probe["leafHash"]),
        probe["leafIdx"],
        probe["treeSize"],
        _proof(probe),
        _b64(probe["root"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError) as raised:
            verify_inclusion(*arguments)
        assert raised.value.reason
    else:
        # the verifier returns None on success, and that is what is asserted
        assert verify_inclusion(*arguments) is None  # type: ignore[func-returns-value]


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_vector_id)
def test_consistency_vector(path: Path) -> None:
    probe = _load(path)
    arguments = (
        probe["size1"],
        probe["size2"],
        _proof(probe),
        _b64(probe["root1"]),
        _b64(probe["root2"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError) as raised:
            verify_consistency(*arguments)
        assert raised.value.reason
    else:
        # the verifier returns None on success, and that is what is asserted
        assert verify_consistency(*arguments) is None  # type: ignore[func-returns-value]


def test_hashing_known_answers() -> None:
    assert RFC6962_ROOTS[0] == EMPTY_ROOT
    assert leaf_hash(b"") == RFC6962_ROOTS[1]
    for size, root in enumerate(RFC6962_ROOTS):
        assert root_from_leaf_hashes(RFC6962_LEAF_HASHES[:size]) == root


def test_merkle_log_roots_known_answers() -> None:
    log = MerkleLog(MemoryNodeStore())
    log.extend(RFC6962_LEAF_HASHES)
    assert [log.root(size) for size in range(len(RFC6962_ROOTS))] == RFC6962_ROOTS


HAPPY_INCLUSION = [p for p in INCLUSION_FILES if p.name == "happy-path.json"]
HAPPY_CONSISTENCY = [p for p in CONSISTENCY_FILES if p.name == "happy-path.json"]


@pytest.mark.parametrize("path", HAPPY_INCLUSION, ids=_vector_id)
def test_generated_inclusion_proof_matches_vector(path: Path) -> None:
    probe = _load(path)
    index, size = probe["leafIdx"], probe["treeSize"]
    assert _b64(probe["leafHash"]) == RFC6962_LEAF_HASHES[index]
    log = MerkleLog(MemoryNodeStore())
    log.extend(RFC6962_LEAF_HASHES)
    assert inclusion_proof(RFC6962_LEAF_HASHES, index, size) == _proof(probe)
    assert log.inclusion_proof(index, size) == _proof(probe)


@pytest.mark.parametrize("path", HAPPY_CONSISTENCY, ids=_vector_id)
def test_generated_consistency_proof_matches_vector(path: Path) -> None:
    probe = _load(path)
    size1, size2 = probe["size1"], probe["size2"]
    log = MerkleLog(MemoryNodeStore())
    log.extend(RFC6962_LEAF_HASHES)
    assert consistency_proof(RFC6962_LEAF_HASHES, size1, size2) == _proof(probe)
    assert log.consistency_proof(size1, size2) == _proof(probe)
    assert log.root(size1) == _b64(probe["root1"])
    assert log.root(size2) == _b64(probe["root2"])
