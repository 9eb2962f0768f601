"""A journal's leaf hashes for contract tests: ordinary entries, and a checkpoint marker as the
last leaf of every checkpoint, as the ledger writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from hashlib import sha256

from anchoring.auditor import merkle
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorProof,
    anchor_proof_from_leaf_hashes,
    marker_leaf_hash,
)


@dataclass
class MarkedLog:
    """Leaf hashes of a journal; ``label`` makes two logs' entries differ."""

    label: bytes = b"entry"
    leaf_hashes: list[bytes] = field(default_factory=list)
    checkpoints: list[AnchoredCheckpoint] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.leaf_hashes)

    def append_entries(self, count: int) -> None:
        start = self.size
        self.leaf_hashes.extend(
            merkle.leaf_hash(b"%s %d" % (self.label, start + i)) for i in range(count)
        )

    def cut_checkpoint(self) -> AnchoredCheckpoint:
        """Appends the next checkpoint's marker and returns that checkpoint."""
        number = len(self.checkpoints) + 1
        self.leaf_hashes.append(marker_leaf_hash(number, self.size))
        checkpoint = AnchoredCheckpoint(
            number=number,
            size=self.size,
            log_root=merkle.root_from_leaf_hashes(self.leaf_hashes),
            state_root=sha256(b"state %s %d" % (self.label, number)).digest(),
        )
        self.checkpoints.append(checkpoint)
        return checkpoint

    def grow_to(self, size: int) -> AnchoredCheckpoint:
        """Appends entries so that the next checkpoint's marker lands at index size - 1."""
        assert size > self.size, "a checkpoint appends at least its marker"
        self.append_entries(size - 1 - self.size)
        return self.cut_checkpoint()

    @property
    def previous(self) -> AnchoredCheckpoint | None:
        """The checkpoint before the latest one (None if the latest is the first)."""
        return self.checkpoints[-2] if len(self.checkpoints) > 1 else None

    def proof(self) -> AnchorProof:
        """The proofs for anchoring the latest checkpoint after the one before it."""
        previous_size = self.previous.size if self.previous else 0
        return anchor_proof_from_leaf_hashes(
            self.leaf_hashes, previous_size, self.checkpoints[-1].size
        )
