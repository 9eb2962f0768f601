// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CheckpointMarker} from "../CheckpointMarker.sol";
import {RFC9162} from "../RFC9162.sol";

/// @title RFC9162Harness
/// @notice Exposes the libraries AnchorRegistry uses, for tests only: the transparency-dev
///         proof vectors run against exactly the code the registry runs.
contract RFC9162Harness {
    /// @notice transparency-dev/merkle's VerifyInclusion, as a boolean.
    function verifyInclusion(
        uint64 index,
        uint64 size,
        bytes32 leafHash,
        bytes32 root,
        bytes32[] calldata proof
    ) external view returns (bool) {
        if (index >= size) return false;
        (uint256 inner, uint256 border) = RFC9162.decomposeInclusionProof(index, size);
        if (proof.length != inner + border) return false;
        return RFC9162.rootFromInclusionProof(index, size, leafHash, proof) == root;
    }

    /// @notice rootFromLastLeafProof for the last leaf of a tree of `size` leaves, as a boolean.
    function verifyLastLeaf(uint64 size, bytes32 leafHash, bytes32 root, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (size == 0 || proof.length != RFC9162.popCount(size - 1)) return false;
        return RFC9162.rootFromLastLeafProof(leafHash, proof) == root;
    }

    /// @notice transparency-dev/merkle's VerifyConsistency, as a boolean: equal sizes need an
    ///         empty proof and equal roots; the empty tree is consistent with every tree, with
    ///         an empty proof; otherwise the proof must have exactly the implied length.
    function verifyConsistency(
        uint64 size1,
        uint64 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof
    ) external view returns (bool) {
        if (size2 < size1) return false;
        if (size1 == size2) return proof.length == 0 && root1 == root2;
        if (size1 == 0) return proof.length == 0;
        if (proof.length != RFC9162.consistencyProofLength(size1, size2)) return false;
        (bytes32 computed1, bytes32 computed2,,) =
            RFC9162.rootsFromConsistencyProof(size1, size2, root1, proof);
        return computed1 == root1 && computed2 == root2;
    }

    /// @notice The right-edge node rootsFromConsistencyProof reports, for tests of its position.
    function consistencyRightEdgeNode(
        uint64 size1,
        uint64 size2,
        bytes32 root1,
        bytes32[] calldata proof
    ) external view returns (bytes32 rightEdgeNode, uint256 rightEdgeLevel) {
        (,, rightEdgeNode, rightEdgeLevel) =
            RFC9162.rootsFromConsistencyProof(size1, size2, root1, proof);
    }

    /// @notice Gas of the proof checks AnchorRegistry makes for an extension (rebuild the
    ///         marker, recompute both roots, fold the marker proof), measured with gasleft().
    ///         For bench/contract_gas.py: a receipt's gasUsed can be Prague's calldata floor
    ///         (EIP-7623) rather than what execution cost, and this shows the latter.
    function extensionCheckGas(
        uint32 number,
        uint64 size1,
        uint64 size2,
        bytes32 root1,
        bytes32[] calldata consistencyProof,
        bytes32[] calldata markerProof
    ) external view returns (uint256 gasUsed, bytes32 root2, bool markerIsLastLeaf) {
        uint256 start = gasleft();
        bytes32 marker = CheckpointMarker.leafHash(number, size2 - 1);
        (, bytes32 computed2, bytes32 rightEdgeNode,) =
            RFC9162.rootsFromConsistencyProof(size1, size2, root1, consistencyProof);
        markerIsLastLeaf = RFC9162.rootFromLastLeafProof(marker, markerProof) == rightEdgeNode;
        gasUsed = start - gasleft();
        root2 = computed2;
    }

    function hashChildren(bytes32 left, bytes32 right) external view returns (bytes32) {
        return RFC9162.hashChildren(left, right);
    }

    function markerLeafHash(uint64 number, uint64 seq) external view returns (bytes32) {
        return CheckpointMarker.leafHash(number, seq);
    }

    function bitLength(uint64 x) external pure returns (uint256) {
        return RFC9162.bitLength(x);
    }

    function popCount(uint64 x) external pure returns (uint256) {
        return RFC9162.popCount(x);
    }

    function trailingZeros(uint64 x) external pure returns (uint256) {
        return RFC9162.trailingZeros(x);
    }
}
