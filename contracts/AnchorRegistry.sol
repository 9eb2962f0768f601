// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CheckpointMarker} from "./CheckpointMarker.sol";
import {RFC9162} from "./RFC9162.sol";

/// @title AnchorRegistry
/// @notice Anchors the checkpoints of the carbonledger journal, an RFC 9162 Merkle log, in
///         order and only from the anchorer. The chain enforces that history is append-only:
///         checkpoint k + 1 is accepted only with an RFC 9162 consistency proof from checkpoint
///         k's log root to its own, and only if the last leaf of its log is the checkpoint
///         marker {"checkpoint":k+1,"seq":size-1}, which binds the claimed log size.
///         See docs/adr/0003-anchor-registry.md.
///
///         Deployed with a witness set and a threshold k > 0, it accepts a checkpoint only with
///         k attestations by distinct witnesses (anchorWitnessed): each an EIP-712 signature by
///         the witness's secp256k1 key over CheckpointAttestation(number, size, logRoot,
///         stateRoot) in this registry's domain (name "carbonledger AnchorRegistry", version
///         "1", chain id, this contract's address). A witness cosigns the checkpoint's note
///         with Ed25519 (c2sp.org/tlog-cosignature) for verifiers off chain; the EVM has no
///         Ed25519 precompile, so on chain it attests with a secp256k1 key instead, and a
///         witness's identity is the pair. With k = 0, anchor() is unchanged.
/// @dev Storage: one slot per checkpoint holding checkpointCommitment(fields), plus one slot
///      (the head) packing the anchorer with the latest number and size. The fields themselves
///      are in the CheckpointAnchored event; the anchorer passes the previous checkpoint's roots
///      back in, checked against its stored commitment, rather than the contract keeping a copy.
///      The witness set is fixed at deployment: one slot per witness, the threshold and the
///      EIP-712 domain separator immutable.
contract AnchorRegistry {
    /// @notice The caller is not the owner.
    error NotOwner(address caller);
    /// @notice The caller is not the current anchorer.
    error NotAnchorer(address caller);
    /// @notice An owner or anchorer cannot be the zero address.
    error ZeroAddress();
    /// @notice The log root is zero.
    error ZeroLogRoot();
    /// @notice The state root is zero.
    error ZeroStateRoot();
    /// @notice Checkpoints are anchored one after the other: `expected` is the only number
    ///         accepted now (a uint64, so that it can say 2^32 once every number is used).
    error WrongCheckpointNumber(uint64 expected, uint32 number);
    /// @notice Every checkpoint appends at least its own marker, so the log size must grow.
    error LogSizeNotIncreasing(uint64 previousSize, uint64 size);
    /// @notice The previous checkpoint's roots given do not match its stored commitment (for
    ///         the first anchor, number 0, they must be zero).
    error PreviousCheckpointMismatch(uint32 number);
    /// @notice The consistency proof does not lead from the previous log root to the new one:
    ///         the new log is not an append-only extension of the anchored one.
    error NotConsistentExtension();
    /// @notice The marker proof does not have exactly the length the sizes imply.
    error MarkerProofLength(uint256 expected, uint256 length);
    /// @notice The new log's last leaf is not the marker {"checkpoint":number,"seq":seq}, so
    ///         the claimed size (seq + 1) is not the size of the log whose root was given.
    error MarkerNotLastLeaf(uint32 number, uint64 seq);
    /// @notice The witness set given at deployment is not usable: a zero or repeated address,
    ///         or a threshold above the number of witnesses.
    error InvalidWitnessSet();
    /// @notice This registry requires witnesses' attestations: anchor with anchorWitnessed.
    error WitnessesRequired(uint256 threshold);
    /// @notice Fewer attestations than the threshold (`given` counts the 65-byte signatures).
    error TooFewAttestations(uint256 threshold, uint256 given);
    /// @notice The attestations are not a whole number of 65-byte signatures.
    error AttestationsLength(uint256 length);
    /// @notice Attestation `index` is not a valid signature (v not 27 or 28, high s, or no
    ///         signer recovered).
    error InvalidAttestation(uint256 index);
    /// @notice The signer of an attestation is not one of the registry's witnesses.
    error NotAWitness(address signer);
    /// @notice Attestations must come in strictly ascending order of signer, so that no
    ///         witness is counted twice.
    error AttestationsNotAscending(address signer);

    /// @notice One per anchored checkpoint, with every field of it: enough for an auditor to
    ///         recompute its commitment and, with the previous event, to check consistency.
    ///         The anchorer and time are the transaction's sender and the block's timestamp.
    event CheckpointAnchored(
        uint32 indexed number, uint64 size, bytes32 logRoot, bytes32 stateRoot
    );
    /// @notice The anchorer changed (at deployment `previousAnchorer` is zero).
    event AnchorerRotated(address indexed previousAnchorer, address indexed newAnchorer);
    /// @notice The witnesses whose attestations anchors need, and how many (at deployment).
    event WitnessSet(address[] witnesses, uint256 threshold);

    /// @dev Packed into one slot so that a single cold read both authorizes an anchor and says
    ///      which checkpoint comes next. Number 0 with size 0 is the empty log: no checkpoint yet.
    ///      A uint32 number lasts 136 years at one checkpoint a second.
    struct Head {
        address anchorer;
        uint32 latestNumber;
        uint64 latestSize;
    }

    /// @notice The EIP-712 type of a witness's attestation.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "CheckpointAttestation(uint32 number,uint64 size,bytes32 logRoot,bytes32 stateRoot)"
    );
    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    /// @dev secp256k1's order / 2: a signature with a higher s has a twin; only the low one is
    ///      accepted, so that an attestation's bytes are unique (EIP-2).
    uint256 private constant _HALF_ORDER =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice May rotate the anchorer; fixed at deployment.
    address public immutable owner;
    /// @notice How many witnesses' attestations an anchor needs; 0: none (anchor() as ever).
    uint256 public immutable witnessThreshold;
    /// @notice How many witnesses there are.
    uint256 public immutable witnessCount;
    uint256 private immutable _deployedChainId;
    bytes32 private immutable _deployedDomainSeparator;

    Head private _head;
    /// @dev Checkpoint number => checkpointCommitment(number, size, logRoot, stateRoot).
    mapping(uint32 number => bytes32 commitment) private _commitments;
    /// @notice Whether `account` is one of the registry's witnesses.
    mapping(address account => bool) public isWitness;

    constructor(address owner_, address anchorer_, address[] memory witnesses_, uint256 threshold_)
    {
        if (owner_ == address(0) || anchorer_ == address(0)) revert ZeroAddress();
        if (threshold_ > witnesses_.length) revert InvalidWitnessSet();
        for (uint256 i = 0; i < witnesses_.length; ++i) {
            address witness = witnesses_[i];
            if (witness == address(0) || isWitness[witness]) revert InvalidWitnessSet();
            isWitness[witness] = true;
        }
        owner = owner_;
        witnessThreshold = threshold_;
        witnessCount = witnesses_.length;
        _deployedChainId = block.chainid;
        _deployedDomainSeparator = _domainSeparator();
        _head.anchorer = anchorer_;
        emit AnchorerRotated(address(0), anchorer_);
        emit WitnessSet(witnesses_, threshold_);
    }

    /// @notice Anchors checkpoint `number`, which must be latestNumber() + 1; the first is 1.
    /// @param number The checkpoint number.
    /// @param size The log size at the checkpoint. Its last leaf, index size - 1, must be the
    ///        marker {"checkpoint":number,"seq":size-1}.
    /// @param logRoot The RFC 9162 root of the log's first `size` leaves.
    /// @param stateRoot The ledger's state commitment at the checkpoint.
    /// @param previousLogRoot The log root of checkpoint number - 1 (zero for the first).
    /// @param previousStateRoot The state root of checkpoint number - 1 (zero for the first).
    /// @param consistencyProof The RFC 9162 consistency proof from checkpoint number - 1's log
    ///        (latestSize() leaves) to this one; empty for the first checkpoint.
    /// @param markerProof For the first checkpoint, the RFC 9162 inclusion proof of the marker
    ///        at index size - 1. For the others only the part of that proof the consistency
    ///        proof does not already hold: its first elements, the left siblings inside the
    ///        consistency proof's right-edge node (RFC9162.rootsFromConsistencyProof).
    function anchor(
        uint32 number,
        uint64 size,
        bytes32 logRoot,
        bytes32 stateRoot,
        bytes32 previousLogRoot,
        bytes32 previousStateRoot,
        bytes32[] calldata consistencyProof,
        bytes32[] calldata markerProof
    ) external {
        if (witnessThreshold != 0) revert WitnessesRequired(witnessThreshold);
        _anchor(
            number, size, logRoot, stateRoot, previousLogRoot, previousStateRoot,
            consistencyProof, markerProof
        );
    }

    /// @notice anchor(), with the witnesses' attestations this registry requires: at least
    ///         witnessThreshold() 65-byte signatures (r, s, v), concatenated in strictly
    ///         ascending order of their signers, each a witness's signature of
    ///         attestationDigest(number, size, logRoot, stateRoot). A signer that is not a
    ///         witness, or a signature that does not recover, refuses the whole anchor.
    function anchorWitnessed(
        uint32 number,
        uint64 size,
        bytes32 logRoot,
        bytes32 stateRoot,
        bytes32 previousLogRoot,
        bytes32 previousStateRoot,
        bytes32[] calldata consistencyProof,
        bytes32[] calldata markerProof,
        bytes calldata attestations
    ) external {
        _checkAttestations(attestationDigest(number, size, logRoot, stateRoot), attestations);
        _anchor(
            number, size, logRoot, stateRoot, previousLogRoot, previousStateRoot,
            consistencyProof, markerProof
        );
    }

    function _anchor(
        uint32 number,
        uint64 size,
        bytes32 logRoot,
        bytes32 stateRoot,
        bytes32 previousLogRoot,
        bytes32 previousStateRoot,
        bytes32[] calldata consistencyProof,
        bytes32[] calldata markerProof
    ) private {
        Head memory head = _head;
        if (msg.sender != head.anchorer) revert NotAnchorer(msg.sender);
        if (logRoot == bytes32(0)) revert ZeroLogRoot();
        if (stateRoot == bytes32(0)) revert ZeroStateRoot();
        // Widened so that after the last uint32 number this reports an error, not an overflow.
        uint64 expected = uint64(head.latestNumber) + 1;
        if (number != expected) revert WrongCheckpointNumber(expected, number);
        if (size <= head.latestSize) revert LogSizeNotIncreasing(head.latestSize, size);

        bytes32 marker = CheckpointMarker.leafHash(number, size - 1);
        if (head.latestNumber == 0) {
            if (previousLogRoot != bytes32(0) || previousStateRoot != bytes32(0)) {
                revert PreviousCheckpointMismatch(0);
            }
            _checkFirst(number, size, logRoot, consistencyProof, markerProof, marker);
        } else {
            bytes32 previous = checkpointCommitment(
                head.latestNumber, head.latestSize, previousLogRoot, previousStateRoot
            );
            if (previous != _commitments[head.latestNumber]) {
                revert PreviousCheckpointMismatch(head.latestNumber);
            }
            _checkExtension(
                number,
                head.latestSize,
                size,
                previousLogRoot,
                logRoot,
                consistencyProof,
                markerProof,
                marker
            );
        }

        _head = Head(head.anchorer, number, size);
        _commitments[number] = checkpointCommitment(number, size, logRoot, stateRoot);
        emit CheckpointAnchored(number, size, logRoot, stateRoot);
    }

    /// @notice Replaces the anchorer. Only the owner may; the old anchorer is refused at once.
    function rotateAnchorer(address newAnchorer) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (newAnchorer == address(0)) revert ZeroAddress();
        emit AnchorerRotated(_head.anchorer, newAnchorer);
        _head.anchorer = newAnchorer;
    }

    /// @notice The only address that may anchor.
    function anchorer() external view returns (address) {
        return _head.anchorer;
    }

    /// @notice Number of the latest anchored checkpoint; 0 before the first.
    function latestNumber() external view returns (uint32) {
        return _head.latestNumber;
    }

    /// @notice Log size at the latest anchored checkpoint; 0 before the first.
    function latestSize() external view returns (uint64) {
        return _head.latestSize;
    }

    /// @notice The stored commitment of checkpoint `number`; zero if it is not anchored.
    function commitmentOf(uint32 number) external view returns (bytes32) {
        return _commitments[number];
    }

    /// @notice Whether checkpoint `number` is anchored with exactly these fields.
    function isAnchored(uint32 number, uint64 size, bytes32 logRoot, bytes32 stateRoot)
        external
        view
        returns (bool)
    {
        bytes32 stored = _commitments[number];
        return stored != bytes32(0)
            && stored == checkpointCommitment(number, size, logRoot, stateRoot);
    }

    /// @notice The commitment stored for a checkpoint:
    ///         keccak256(abi.encode(number, size, logRoot, stateRoot)).
    function checkpointCommitment(uint32 number, uint64 size, bytes32 logRoot, bytes32 stateRoot)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(number, size, logRoot, stateRoot));
    }

    /// @notice The EIP-712 digest a witness signs to attest a checkpoint to this registry.
    function attestationDigest(uint32 number, uint64 size, bytes32 logRoot, bytes32 stateRoot)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash =
            keccak256(abi.encode(ATTESTATION_TYPEHASH, number, size, logRoot, stateRoot));
        bytes32 domain =
            block.chainid == _deployedChainId ? _deployedDomainSeparator : _domainSeparator();
        return keccak256(abi.encodePacked(hex"1901", domain, structHash));
    }

    /// @dev Recomputed only if the chain id changed since deployment (a fork), so that an
    ///      attestation for one chain is never good on another.
    function _domainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(
                _DOMAIN_TYPEHASH,
                keccak256("carbonledger AnchorRegistry"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    /// @dev At least witnessThreshold signatures, each by a witness, signers strictly
    ///      ascending (so distinct).
    function _checkAttestations(bytes32 digest, bytes calldata attestations) private view {
        if (attestations.length % 65 != 0) revert AttestationsLength(attestations.length);
        uint256 given = attestations.length / 65;
        if (given < witnessThreshold) revert TooFewAttestations(witnessThreshold, given);
        address previous = address(0);
        for (uint256 i = 0; i < given; ++i) {
            bytes32 r = bytes32(attestations[i * 65:i * 65 + 32]);
            bytes32 s = bytes32(attestations[i * 65 + 32:i * 65 + 64]);
            uint8 v = uint8(attestations[i * 65 + 64]);
            if ((v != 27 && v != 28) || uint256(s) > _HALF_ORDER) revert InvalidAttestation(i);
            address signer = ecrecover(digest, v, r, s);
            if (signer == address(0)) revert InvalidAttestation(i);
            if (!isWitness[signer]) revert NotAWitness(signer);
            if (signer <= previous) revert AttestationsNotAscending(signer);
            previous = signer;
        }
    }

    /// @dev The first checkpoint extends the empty log, with which every log is consistent, so
    ///      there is nothing to prove about history: only the size is checked, by the marker's
    ///      full inclusion proof against the new root.
    function _checkFirst(
        uint32 number,
        uint64 size,
        bytes32 logRoot,
        bytes32[] calldata consistencyProof,
        bytes32[] calldata markerProof,
        bytes32 marker
    ) private view {
        if (consistencyProof.length != 0) {
            revert RFC9162.ConsistencyProofLength(0, consistencyProof.length);
        }
        uint256 expected = RFC9162.popCount(size - 1);
        if (markerProof.length != expected) revert MarkerProofLength(expected, markerProof.length);
        if (RFC9162.rootFromLastLeafProof(marker, markerProof) != logRoot) {
            revert MarkerNotLastLeaf(number, size - 1);
        }
    }

    /// @dev Checks that (size, logRoot) extends (previousSize, previousLogRoot) and that the new
    ///      log's last leaf is the marker. The marker's inclusion path from the consistency
    ///      proof's right-edge node up to the root is already checked with the consistency
    ///      proof; markerProof supplies the rest, inside that node.
    function _checkExtension(
        uint32 number,
        uint64 previousSize,
        uint64 size,
        bytes32 previousLogRoot,
        bytes32 logRoot,
        bytes32[] calldata consistencyProof,
        bytes32[] calldata markerProof,
        bytes32 marker
    ) private view {
        // Reverts with RFC9162.ConsistencyProofLength unless the proof has the exact length.
        (bytes32 previousRoot, bytes32 newRoot, bytes32 rightEdgeNode, uint256 level) =
            RFC9162.rootsFromConsistencyProof(previousSize, size, previousLogRoot, consistencyProof);
        if (previousRoot != previousLogRoot || newRoot != logRoot) revert NotConsistentExtension();

        // rightEdgeNode covers the last offset + 1 leaves, offset = (size - 1) mod 2^level; the
        // marker is its last leaf.
        uint64 offset = uint64(uint256(size - 1) & ((uint256(1) << level) - 1));
        uint256 expectedMarker = RFC9162.popCount(offset);
        if (markerProof.length != expectedMarker) {
            revert MarkerProofLength(expectedMarker, markerProof.length);
        }
        if (RFC9162.rootFromLastLeafProof(marker, markerProof) != rightEdgeNode) {
            revert MarkerNotLastLeaf(number, size - 1);
        }
    }
}
