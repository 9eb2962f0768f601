// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title RFC9162
/// @notice Verification of RFC 9162 (Certificate Transparency 2.0) Merkle tree proofs with
///         SHA-256: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right).
///         The algorithms are those of RFC 9162 §2.1.3.2 and §2.1.4.2 in the form
///         transparency-dev/merkle (proof/verify.go) gives them: a proof splits into an `inner`
///         part, below the level where two leaves' paths meet, and a `border` part of left
///         siblings on the tree's right edge above it. That form makes the exact proof length a
///         function of the sizes: a proof with extra or missing elements is rejected, never
///         read in part (rootsFromConsistencyProof checks its own length; callers of the
///         inclusion functions check theirs, to report it under their own error). Callers
///         decide the empty-tree and equal-size cases, which need no hashing.
/// @dev Hashes go through the SHA-256 precompile (address 0x02) by `staticcall` from memory past
///      the free-memory pointer, laid out once per proof as [31 spare bytes | 0x01][left][right]
///      so that each hash only stores its two children: about half the gas of
///      `sha256(abi.encodePacked(...))`, which allocates and copies every time. Sizes are uint64,
///      so no loop here runs more than 64 times.
library RFC9162 {
    /// @notice The SHA-256 precompile failed, which only happens when it runs out of gas.
    error Sha256Failed();
    /// @notice A consistency proof does not have exactly the length its two sizes imply.
    error ConsistencyProofLength(uint256 expected, uint256 length);

    /// @notice RFC 9162 interior node hash: SHA-256(0x01 || left || right).
    function hashChildren(bytes32 left, bytes32 right) internal view returns (bytes32 nodeHash) {
        bool ok;
        assembly ("memory-safe") {
            // Unallocated memory may be used as long as the free-memory pointer is not moved.
            let buffer := mload(0x40)
            mstore(buffer, 1) // byte 31 of this word is the 0x01 prefix
            mstore(add(buffer, 0x20), left)
            mstore(add(buffer, 0x40), right)
            ok := staticcall(gas(), 0x02, add(buffer, 31), 65, 0x00, 0x20)
            nodeHash := mload(0x00)
        }
        if (!ok) revert Sha256Failed();
    }

    /// @notice Number of proof elements below the level where the paths of leaf `index` and of
    ///         the last leaf (`size - 1`) meet: the bit length of `index ^ (size - 1)`.
    /// @dev Requires 0 < size.
    function innerProofSize(uint64 index, uint64 size) internal pure returns (uint256) {
        return bitLength(index ^ (size - 1));
    }

    /// @notice Splits the inclusion proof of leaf `index` in a tree of `size` leaves into its
    ///         inner and border parts; the proof has exactly inner + border elements.
    /// @dev Requires index < size.
    function decomposeInclusionProof(uint64 index, uint64 size)
        internal
        pure
        returns (uint256 inner, uint256 border)
    {
        inner = innerProofSize(index, size);
        border = popCount(uint64(uint256(index) >> inner));
    }

    /// @notice Recomputes the root from the inclusion proof of `leafHash` at `index` in a tree
    ///         of `size` leaves (RFC 9162 §2.1.3.2).
    /// @dev The caller checks index < size and proof.length == inner + border
    ///      (decomposeInclusionProof) and compares the result with the root it trusts.
    function rootFromInclusionProof(
        uint64 index,
        uint64 size,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) internal view returns (bytes32 root) {
        uint256 inner = innerProofSize(index, size);
        // Guards the calldata reads below; callers reject a wrong length with their own error.
        assert(inner <= proof.length);
        bool ok;
        assembly ("memory-safe") {
            let buffer := mload(0x40)
            mstore(buffer, 1) // byte 31 of this word is the 0x01 prefix
            let left := add(buffer, 0x20)
            let right := add(buffer, 0x40)
            let input := add(buffer, 31)
            ok := 1
            root := leafHash
            let path := index
            let element := proof.offset
            let innerStop := add(element, shl(5, inner))
            let proofStop := add(element, shl(5, proof.length))
            // Inner part: the sibling is on the left where the path's bit is 1.
            for {} lt(element, innerStop) {
                element := add(element, 0x20)
                path := shr(1, path)
            } {
                switch and(path, 1)
                case 0 {
                    mstore(left, root)
                    mstore(right, calldataload(element))
                }
                default {
                    mstore(left, calldataload(element))
                    mstore(right, root)
                }
                ok := and(ok, staticcall(gas(), 0x02, input, 65, 0x00, 0x20))
                root := mload(0x00)
            }
            // Border part: left siblings all the way up.
            for {} lt(element, proofStop) { element := add(element, 0x20) } {
                mstore(left, calldataload(element))
                mstore(right, root)
                ok := and(ok, staticcall(gas(), 0x02, input, 65, 0x00, 0x20))
                root := mload(0x00)
            }
        }
        if (!ok) revert Sha256Failed();
    }

    /// @notice Recomputes the root from the inclusion proof of a tree's last leaf.
    /// @dev Every sibling on the last leaf's path is on its left (the proof's inner part is
    ///      empty), so this is rootFromInclusionProof(size - 1, size, ...) without the bit tests;
    ///      the caller checks proof.length == popCount(size - 1).
    function rootFromLastLeafProof(bytes32 leafHash, bytes32[] calldata proof)
        internal
        view
        returns (bytes32 root)
    {
        bool ok;
        assembly ("memory-safe") {
            let buffer := mload(0x40)
            mstore(buffer, 1) // byte 31 of this word is the 0x01 prefix
            let right := add(buffer, 0x40)
            let input := add(buffer, 31)
            ok := 1
            root := leafHash
            let proofStop := add(proof.offset, shl(5, proof.length))
            for { let element := proof.offset } lt(element, proofStop) {
                element := add(element, 0x20)
            } {
                mstore(add(buffer, 0x20), calldataload(element))
                mstore(right, root)
                ok := and(ok, staticcall(gas(), 0x02, input, 65, 0x00, 0x20))
                root := mload(0x00)
            }
        }
        if (!ok) revert Sha256Failed();
    }

    /// @notice Length of the consistency proof between trees of size1 and size2 leaves.
    /// @dev Requires 0 < size1 < size2.
    function consistencyProofLength(uint64 size1, uint64 size2) internal pure returns (uint256) {
        (uint256 length,,,) = _consistencyLayout(size1, size2);
        return length;
    }

    /// @notice Recomputes both roots from the consistency proof (RFC 9162 §2.1.4.2) between the
    ///         tree of size1 leaves with root `root1` and a tree of size2 leaves.
    /// @dev Requires 0 < size1 < size2; reverts with ConsistencyProofLength unless the proof has
    ///      exactly consistencyProofLength(size1, size2) elements. The caller compares
    ///      root1Computed with root1 and root2Computed with the claimed second root.
    ///
    ///      Also returns the second tree's right-edge node at `rightEdgeLevel`, the highest bit
    ///      in which size1 - 1 and size2 - 1 differ: there the paths of those two leaves part,
    ///      leaf size1 - 1 in the left child and the last leaf in the right one, so the proof
    ///      element at that level is the right child, the root of the subtree that covers
    ///      leaves [size2 - 1 - ((size2 - 1) mod 2^rightEdgeLevel), size2). Above it the proof
    ///      holds only left siblings, so once root2Computed matches, that subtree lies on the
    ///      right edge of the second tree and its last leaf is the tree's last leaf.
    function rootsFromConsistencyProof(
        uint64 size1,
        uint64 size2,
        bytes32 root1,
        bytes32[] calldata proof
    )
        internal
        view
        returns (
            bytes32 root1Computed,
            bytes32 root2Computed,
            bytes32 rightEdgeNode,
            uint256 rightEdgeLevel
        )
    {
        (uint256 length, uint256 start, uint256 innerEnd, uint256 shift) =
            _consistencyLayout(size1, size2);
        if (proof.length != length) revert ConsistencyProofLength(length, proof.length);
        rightEdgeLevel = innerEnd - start + shift - 1;
        bytes32 seed = start == 0 ? root1 : proof[0];
        // The bits of leaf size1 - 1's index from level `shift` up: 1 where its sibling is on
        // the left.
        uint256 path = uint256(size1 - 1) >> shift;
        bool ok;
        assembly ("memory-safe") {
            let buffer := mload(0x40)
            mstore(buffer, 1) // byte 31 of this word is the 0x01 prefix
            let left := add(buffer, 0x20)
            let right := add(buffer, 0x40)
            let input := add(buffer, 31)
            ok := 1
            root1Computed := seed
            root2Computed := seed
            let element := add(proof.offset, shl(5, start))
            let innerStop := add(proof.offset, shl(5, innerEnd))
            for {} lt(element, innerStop) {
                element := add(element, 0x20)
                path := shr(1, path)
            } {
                let sibling := calldataload(element)
                switch and(path, 1)
                case 0 {
                    // A right sibling: leaves the first tree does not have.
                    mstore(left, root2Computed)
                    mstore(right, sibling)
                    ok := and(ok, staticcall(gas(), 0x02, input, 65, 0x00, 0x20))
                    root2Computed := mload(0x00)
                }
                default {
                    // A left sibling: inside the first tree, so both roots take it.
                    mstore(left, sibling)
                    mstore(right, root1Computed)
                    ok := and(ok, staticcall(gas(), 0x02, input, 65, 0x00, 0x20))
                    root1Computed := mload(0x00)
                    mstore(right, root2Computed)
                    ok := and(ok, staticcall(gas(), 0x02, input, 65, 0x00, 0x20))
                    root2Computed := mload(0x00)
                }
            }
            rightEdgeNode := calldataload(sub(element, 0x20))
            // Border: left siblings shared by both trees, up to the roots.
            let proofStop := add(proof.offset, shl(5, proof.length))
            for {} lt(element, proofStop) { element := add(element, 0x20) } {
                mstore(left, calldataload(element))
                mstore(right, root1Computed)
                ok := and(ok, staticcall(gas(), 0x02, input, 65, 0x00, 0x20))
                root1Computed := mload(0x00)
                mstore(right, root2Computed)
                ok := and(ok, staticcall(gas(), 0x02, input, 65, 0x00, 0x20))
                root2Computed := mload(0x00)
            }
        }
        if (!ok) revert Sha256Failed();
    }

    /// @dev Where things are in a consistency proof between trees of size1 and size2 leaves,
    ///      0 < size1 < size2, laid out as in transparency-dev/merkle: [seed] ++ inner ++ border.
    ///      `length` counts all elements; `start` is 1 if the proof begins with a seed element
    ///      and 0 if the seed is root1; `innerEnd` is the index one past the inner part;
    ///      `shift` is the seed's level.
    function _consistencyLayout(uint64 size1, uint64 size2)
        private
        pure
        returns (uint256 length, uint256 start, uint256 innerEnd, uint256 shift)
    {
        (uint256 inner, uint256 border) = decomposeInclusionProof(size1 - 1, size2);
        // Below level `shift` leaf size1 - 1 has only left siblings, all inside the perfect
        // subtree of 2^shift leaves that ends at it: the proof starts with that subtree's root
        // (the seed), unless the subtree is the whole first tree, whose root is root1.
        shift = trailingZeros(size1);
        start = uint256(size1) == 1 << shift ? 0 : 1;
        // shift < inner whenever size1 < size2: the inner part has at least one element.
        innerEnd = start + inner - shift;
        length = innerEnd + border;
    }

    /// @notice Number of bits needed to write x (0 for 0).
    function bitLength(uint64 x) internal pure returns (uint256 n) {
        // A branchless binary search: each step moves the top half down when it is not empty.
        assembly ("memory-safe") {
            n := shl(5, gt(x, 0xffffffff))
            x := shr(n, x)
            let step := shl(4, gt(x, 0xffff))
            x := shr(step, x)
            n := or(n, step)
            step := shl(3, gt(x, 0xff))
            x := shr(step, x)
            n := or(n, step)
            step := shl(2, gt(x, 0xf))
            x := shr(step, x)
            n := or(n, step)
            step := shl(1, gt(x, 0x3))
            x := shr(step, x)
            n := or(n, step)
            step := gt(x, 0x1)
            x := shr(step, x)
            n := add(or(n, step), x)
        }
    }

    /// @notice Number of one bits in x.
    function popCount(uint64 x) internal pure returns (uint256 n) {
        // SWAR: sums in 2-, 4- then 8-bit fields, then adds the eight bytes with one multiply.
        assembly ("memory-safe") {
            n := sub(x, and(shr(1, x), 0x5555555555555555))
            n := add(and(n, 0x3333333333333333), and(shr(2, n), 0x3333333333333333))
            n := and(add(n, shr(4, n)), 0x0f0f0f0f0f0f0f0f)
            n := shr(56, and(mul(n, 0x0101010101010101), 0xffffffffffffffff))
        }
    }

    /// @notice Number of zero bits below the lowest one bit of x (64 for 0).
    function trailingZeros(uint64 x) internal pure returns (uint256) {
        // The bits below the lowest one bit, set: (x - 1) & ~x; all 64 of them when x is 0.
        unchecked {
            return popCount((x - 1) & ~x);
        }
    }
}
