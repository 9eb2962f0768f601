"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and verification.

Pure and I/O-free: everything here works on plain values, so the auditor's offline verifier
can import it without the ledger, its database or the network.

Hashing (RFC 9162 §2.1.1):

- leaf  = SHA-256(0x00 ‖ data)
- node  = SHA-256(0x01 ‖ left ‖ right)
- empty = SHA-256("")

The distinct prefixes keep a leaf from ever being passed off as an interior node (a second
preimage of the tree), which is why callers must hash entries with `leaf_hash`, never with
plain SHA-256.

Verification (`verify_inclusion`, `verify_consistency`) follows RFC 9162 §2.1.3.2 and §2.1.4.2
step by step, and rejects the malformed inputs that transparency-dev/merkle rejects before the
algorithm runs: hashes that are not 32 bytes, an index outside the tree, proofs of the wrong
length, and consistency from the empty tree. Each failure raises `ProofError` whose `reason`
says what was wrong in words an auditor can act on.

Proof generation is split in two so that any storage can answer it: the `*_ranges` functions
name the leaf ranges whose hashes form a proof (they depend on sizes only), and a caller hashes
those ranges from whatever it has: `inclusion_proof` and `consistency_proof` from a plain list
of leaf hashes here, `anchoring.auditor.merkle_log.MerkleLog` from stored subtree hashes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from hashlib import sha256
from typing import NoReturn

from anchoring.auditor.errors import VerifyError, VerifyFailure

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE_BYTES",
    "LEAF_PREFIX",
    "MAX_TREE_SIZE",
    "NODE_PREFIX",
    "ProofError",
    "ProofFailure",
    "consistency_proof",
    "consistency_proof_ranges",
    "fold_subtree_hashes",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE_BYTES = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"").digest()
# RFC 9162 encodes tree sizes and leaf indices as uint64.
MAX_TREE_SIZE = (1 << 64) - 1

LeafRange = tuple[int, int]
"""Half-open range of leaf indices ``(begin, end)``."""

NodeKey = tuple[int, int]
"""A perfect subtree ``(level, index)``: the ``index``-th block of ``2**level`` leaves."""


class ProofFailure(enum.Enum):
    """Why a proof was rejected: a closed list, so scripts can branch on it."""

    malformed_input = "malformed_input"
    """A hash is not 32 bytes, or an index or size is not a uint64."""
    index_out_of_range = "index_out_of_range"
    """The leaf index is not below the tree size."""
    sizes_out_of_order = "sizes_out_of_order"
    """The consistency check is from the empty tree, or the second size is the smaller."""
    wrong_proof_length = "wrong_proof_length"
    """The proof has more or fewer hashes than the sizes (and index) call for."""
    root_mismatch = "root_mismatch"
    """The proof is well formed, but the hashes do not lead to the given root(s)."""


class ProofError(VerifyError):
    """A Merkle proof did not verify.

    ``reason`` is a sentence for a person; ``failure`` is the machine-readable class of it
    within the package's code, ``log_proof_failed``. A rejected proof never becomes valid on
    retry: the inputs themselves are wrong.
    """

    code = VerifyFailure.log_proof_failed

    def __init__(self, failure: ProofFailure, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


# ---------------------------------------------------------------------------------------------
# Hashing


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 hash of one entry's bytes: SHA-256(0x00 ‖ data)."""
    return sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return sha256(NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 Merkle Tree Hash (MTH) of all of ``leaf_hashes``; `EMPTY_ROOT` if none.

    Hashes level by level and carries an odd last node up unchanged, which builds the same tree
    as the RFC's "split at the largest power of two" recursion, without recursion or per-node
    objects.
    """
    _require_hash_sizes(leaf_hashes)
    row = list(leaf_hashes)
    if not row:
        return EMPTY_ROOT
    while len(row) > 1:
        pairs = iter(row)  # zip(pairs, pairs) walks the row two at a time
        parents = [
            sha256(NODE_PREFIX + left + right).digest()
            for left, right in zip(pairs, pairs, strict=False)
        ]
        if len(row) & 1:
            parents.append(row[-1])
        row = parents
    return row[0]


def fold_subtree_hashes(subtree_hashes: Sequence[bytes]) -> bytes:
    """Hash of a leaf range from its `perfect_subtrees`' hashes, given left to right.

    The range's tree is the first (largest) subtree on the left of the tree of the rest, so the
    fold runs from the right.
    """
    assert subtree_hashes, "an empty range has no subtrees to fold"
    accumulator = subtree_hashes[-1]
    for position in range(len(subtree_hashes) - 2, -1, -1):
        accumulator = sha256(NODE_PREFIX + subtree_hashes[position] + accumulator).digest()
    return accumulator


# ---------------------------------------------------------------------------------------------
# Proof layout: which leaf ranges' hashes make up a proof. Depends on sizes only.


def _split_point(width: int) -> int:
    """RFC 9162's k: the largest power of two smaller than ``width`` (``width`` >= 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def perfect_subtrees(begin: int, end: int) -> list[NodeKey]:
    """The perfect subtrees, left to right, whose fold is the hash of leaves [begin, end).

    Every range that appears in a root or a proof starts at a multiple of the largest power of
    two not above its width, so it splits into the binary digits of its width, largest first.
    """
    keys: list[NodeKey] = []
    remaining = end - begin
    while remaining:
        level = remaining.bit_length() - 1
        assert begin % (1 << level) == 0, f"range [{begin}, {end}) is not aligned"
        keys.append((level, begin >> level))
        begin += 1 << level
        remaining -= 1 << level
    return keys


def inclusion_proof_ranges(index: int, size: int) -> list[LeafRange]:
    """Leaf ranges whose hashes form RFC 9162 PATH(index, D[0:size]), leaf end first.

    Follows the RFC's recursion top-down: at each split the proof gets the hash of the half that
    does not hold the leaf.
    """
    if not 0 <= index < size:
        raise ValueError(f"no inclusion proof for index {index} in a tree of size {size}")
    ranges: list[LeafRange] = []
    begin, end = 0, size
    while end - begin > 1:
        split = begin + _split_point(end - begin)
        if index < split:
            ranges.append((split, end))
            end = split
        else:
            ranges.append((begin, split))
            begin = split
    ranges.reverse()
    return ranges


def consistency_proof_ranges(size1: int, size2: int) -> list[LeafRange]:
    """Leaf ranges whose hashes form RFC 9162 PROOF(size1, D[0:size2]), deepest first.

    Follows SUBPROOF(m, D[n], b) top-down. ``whole_old_tree`` is the RFC's b: it stays true
    while the subtree in hand starts at leaf 0, because then the verifier already knows the
    old tree's hash and the proof need not repeat it.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    ranges: list[LeafRange] = []
    begin, end = 0, size2
    whole_old_tree = True
    while size1 - begin != end - begin:
        split = begin + _split_point(end - begin)
        if size1 <= split:
            ranges.append((split, end))
            end = split
        else:
            ranges.append((begin, split))
            begin = split
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((begin, end))
    ranges.reverse()
    return ranges


# ---------------------------------------------------------------------------------------------
# Proof generation from a plain list of leaf hashes. O(size) hashing per proof: fine for tests
# and small logs; MerkleLog answers the same from stored subtree hashes in O(log size).


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof for leaf ``index`` in the tree of the first ``size`` leaves."""
    _require_prefix(leaf_hashes, size)
    return [_range_root(leaf_hashes, r) for r in inclusion_proof_ranges(index, size)]


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """RFC 9162 consistency proof that the tree of ``size2`` leaves extends that of ``size1``."""
    _require_prefix(leaf_hashes, size2)
    return [_range_root(leaf_hashes, r) for r in consistency_proof_ranges(size1, size2)]


def _range_root(leaf_hashes: Sequence[bytes], leaf_range: LeafRange) -> bytes:
    begin, end = leaf_range
    return root_from_leaf_hashes(leaf_hashes[begin:end])


def _require_prefix(leaf_hashes: Sequence[bytes], size: int) -> None:
    if size > len(leaf_hashes):
        raise ValueError(f"size {size} exceeds the {len(leaf_hashes)} leaf hashes given")


def _require_hash_sizes(hashes: Sequence[bytes]) -> None:
    # A short or long hash would still fold into a root, just the wrong one: refuse it early.
    # map(len, ...) runs in C; the slow search for the culprit only happens on failure.
    if not set(map(len, hashes)) <= {HASH_SIZE_BYTES}:
        position = next(i for i, value in enumerate(hashes) if len(value) != HASH_SIZE_BYTES)
        raise ValueError(
            f"leaf hash {position} has {len(hashes[position])} bytes, want {HASH_SIZE_BYTES}"
        )


# ---------------------------------------------------------------------------------------------
# Verification


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Returns None on success and raises `ProofError` otherwise. ``size`` and ``root`` must come
    from the same signed checkpoint: the proof binds the leaf to the root, and the size only
    through the shape of the path, so a size taken from elsewhere proves nothing.
    """
    _check_uint64("index", index)
    _check_uint64("size", size)
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    _check_proof_hashes(proof)
    if index >= size:
        _fail(
            ProofFailure.index_out_of_range,
            f"index {index} is not in a tree of size {size} (indices run 0..size-1)",
        )
    _check_proof_length(
        len(proof), _inclusion_proof_length(index, size), f"index {index} in a tree of size {size}"
    )
    computed_root = _root_from_inclusion_path(leaf_hash, index, size, proof)
    if computed_root != root:
        _fail(
            ProofFailure.root_mismatch,
            f"the inclusion proof for index {index} leads to root {computed_root.hex()}, "
            f"not the given root {root.hex()} of size {size}",
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` leaves with ``root2`` extends that of ``size1``/``root1``.

    Returns None on success and raises `ProofError` otherwise. Consistency from size 0 is
    always rejected, even to size 0: every tree extends the empty one, so such a check proves
    nothing, and accepting it would let a caller believe it had checked something.
    """
    _check_uint64("size1", size1)
    _check_uint64("size2", size2)
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    _check_proof_hashes(proof)
    if size1 == 0:
        _fail(
            ProofFailure.sizes_out_of_order,
            "consistency from the empty tree (size1 = 0) proves nothing and is not checked",
        )
    if size2 < size1:
        _fail(
            ProofFailure.sizes_out_of_order,
            f"size2 {size2} is smaller than size1 {size1}: a log never shrinks",
        )
    if size1 == size2:
        _verify_same_size(size1, proof, root1, root2)
        return
    _check_proof_length(
        len(proof), _consistency_proof_length(size1, size2), f"sizes {size1} to {size2}"
    )
    computed_root1, computed_root2 = _roots_from_consistency_path(size1, size2, proof, root1)
    if computed_root1 != root1:
        _fail(
            ProofFailure.root_mismatch,
            f"the consistency proof leads to root {computed_root1.hex()} at size {size1}, "
            f"not the given root1 {root1.hex()}",
        )
    if computed_root2 != root2:
        _fail(
            ProofFailure.root_mismatch,
            f"the consistency proof leads to root {computed_root2.hex()} at size {size2}, "
            f"not the given root2 {root2.hex()}",
        )


def _verify_same_size(size: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    if proof:
        _fail(
            ProofFailure.wrong_proof_length,
            f"both sizes are {size}, so the proof must be empty, but it has {len(proof)} hashes",
        )
    if root1 != root2:
        _fail(
            ProofFailure.root_mismatch,
            f"both sizes are {size} but the roots differ ({root1.hex()} vs {root2.hex()}): "
            "two different trees were published at the same size",
        )


def _root_from_inclusion_path(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.3.2 steps 2-5, literally: fn walks the leaf's path, sn the last leaf's."""
    fn, sn = index, size - 1  # step 2
    r = leaf_hash  # step 3
    for p in proof:  # step 4
        if sn == 0:  # 4a; unreachable after the length check, kept as the RFC's own guard
            _fail(ProofFailure.wrong_proof_length, "the inclusion proof is too long")
        if fn & 1 or fn == sn:  # 4b: p is a left sibling
            r = sha256(NODE_PREFIX + p + r).digest()
            while fn and not fn & 1:  # 4b.2: skip levels where the right border has no sibling
                fn >>= 1
                sn >>= 1
        else:  # p is a right sibling
            r = sha256(NODE_PREFIX + r + p).digest()
        fn >>= 1  # 4c
        sn >>= 1
    if sn != 0:  # step 5; the caller compares r with the root
        _fail(ProofFailure.wrong_proof_length, "the inclusion proof is too short")
    return r


def _roots_from_consistency_path(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2 steps 2-7, literally; returns (fr, sr) for the caller to compare."""
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2: the old tree is one perfect subtree, its root
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a; unreachable after the length check, kept as the RFC's own guard
            _fail(ProofFailure.wrong_proof_length, "the consistency proof is too long")
        if fn & 1 or fn == sn:  # 6b: c is a left sibling, in both trees
            fr = sha256(NODE_PREFIX + c + fr).digest()
            sr = sha256(NODE_PREFIX + c + sr).digest()
            while fn and not fn & 1:  # 6b.3
                fn >>= 1
                sn >>= 1
        else:  # c is a right sibling, only in the new tree
            sr = sha256(NODE_PREFIX + sr + c).digest()
        fn >>= 1  # 6c
        sn >>= 1
    if sn != 0:  # step 7; the caller compares fr and sr with the roots
        _fail(ProofFailure.wrong_proof_length, "the consistency proof is too short")
    return fr, sr


def _inclusion_proof_length(index: int, size: int) -> int:
    """Hashes in a proof for ``index`` < ``size``: siblings below the point where the paths to
    ``index`` and to the last leaf part, plus the left-hand subtrees along the right border."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def _consistency_proof_length(size1: int, size2: int) -> int:
    """Hashes in a proof for 0 < ``size1`` < ``size2``: the inclusion path of the old tree's
    rightmost perfect subtree, plus that subtree itself unless it is the whole old tree."""
    shift = (size1 & -size1).bit_length() - 1
    inner = (((size1 - 1) ^ (size2 - 1)).bit_length()) - shift
    border = ((size1 - 1) >> (inner + shift)).bit_count()
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner + border


def _check_proof_length(got: int, want: int, what: str) -> None:
    if got != want:
        _fail(
            ProofFailure.wrong_proof_length,
            f"the proof has {got} hashes, but a proof for {what} has exactly {want}",
        )


def _check_uint64(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(ProofFailure.malformed_input, f"{name} must be an integer, got {value!r}")
    if not 0 <= value <= MAX_TREE_SIZE:
        _fail(ProofFailure.malformed_input, f"{name} {value} is outside 0..2^64-1")


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes):
        _fail(ProofFailure.malformed_input, f"{name} must be bytes, got {type(value).__name__}")
    if len(value) != HASH_SIZE_BYTES:
        _fail(
            ProofFailure.malformed_input,
            f"{name} has {len(value)} bytes; a SHA-256 hash has {HASH_SIZE_BYTES}",
        )


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    # A single hash passed where a list was meant would otherwise iterate as integers.
    if not isinstance(proof, Sequence) or isinstance(proof, (bytes, bytearray, str)):
        _fail(
            ProofFailure.malformed_input,
            f"the proof must be a list of hashes, got {type(proof).__name__}",
        )
    for position, value in enumerate(proof):
        _check_hash(f"proof hash {position}", value)


def _fail(failure: ProofFailure, reason: str) -> NoReturn:
    raise ProofError(failure, reason)
