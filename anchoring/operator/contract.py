"""The AnchorRegistry contract from Python: its artifact, its proofs, its calls and its errors.

The contract (contracts/AnchorRegistry.sol, docs/adr/0003-anchor-registry.md) anchors the
journal's checkpoints in order. Checkpoint k + 1 must come with

- an RFC 9162 consistency proof from checkpoint k's log to its own (none for the first), and
- a *marker proof*: the ledger ends every checkpoint's log with the marker entry
  ``{"checkpoint":K,"seq":S}`` (S = size - 1), and the contract rebuilds that leaf from the
  claimed number and size and checks that it is the log's last leaf. That is what binds the
  claimed size, which a consistency proof alone does not.

`anchor_proof` builds both from any log that answers RFC 9162 proofs
(`anchoring.auditor.merkle_log`'s `MerkleLog` does; `anchor_proof_from_leaf_hashes` takes a
plain list). `AnchorRegistryClient` deploys, anchors and reads; every contract error reaches
the caller as one `AnchorRejected` whose `reason` names it, whether it came from py-evm in
process (eth-tester's ``TransactionFailed``) or from a node over HTTP (web3's
``ContractCustomError``).

The artifact lives in contracts/ at the repository root, outside the Python packages, and is
found relative to this file: that works from a source checkout and from an editable install
(``pip install -e``), which imports this file from the checkout. Pass ``path`` to
`load_artifact` to use another copy.
"""

from __future__ import annotations

import ast
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput, ContractLogicError
from web3.types import TxParams, TxReceipt

from anchoring.auditor import merkle
from anchoring.operator.errors import OperatorError, OperatorFailure

__all__ = [
    "ANCHOR_GAS_LIMIT",
    "CONTRACTS_DIR",
    "MAX_CHECKPOINT_NUMBER",
    "ROTATE_GAS_LIMIT",
    "AnchorProof",
    "AnchorRegistryClient",
    "AnchorRegistryError",
    "AnchorRejected",
    "AnchorRejection",
    "AnchorTransactionFailed",
    "AnchoredCheckpoint",
    "Artifact",
    "LogProofs",
    "anchor_proof",
    "anchor_proof_from_leaf_hashes",
    "artifact_path",
    "attestation_digest",
    "checkpoint_commitment",
    "load_artifact",
    "marker_entry_bytes",
    "marker_leaf_hash",
    "marker_proof_length",
    "rejection_from_exception",
    "rejection_from_revert_data",
]

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
"""contracts/ of the checkout this module was imported from."""

MAX_CHECKPOINT_NUMBER = (1 << 32) - 1
"""Checkpoint numbers are uint32 on chain (packed with the anchorer in one slot)."""

ANCHOR_GAS_LIMIT = 400_000
"""Gas limit of an anchor transaction. Fixed rather than estimated, because py-evm's estimates
are loose; the longest possible proofs (uint64 sizes) stay well below it."""

ROTATE_GAS_LIMIT = 100_000


# ---------------------------------------------------------------------------------------------
# The artifact


@dataclass(frozen=True)
class Artifact:
    """One contract's build output, as contracts/build.mjs writes it."""

    contract_name: str
    abi: list[dict[str, Any]]
    bytecode: str
    """Creation bytecode, 0x-prefixed hex."""
    deployed_bytecode: str
    """Runtime bytecode, 0x-prefixed hex: what `eth_getCode` returns after deployment."""
    compiler_version: str


def artifact_path(name: str = "AnchorRegistry") -> Path:
    """Where the committed artifact of contract ``name`` is: contracts/NAME.json, or
    contracts/test/NAME.json for the test-only contracts."""
    for candidate in (CONTRACTS_DIR / f"{name}.json", CONTRACTS_DIR / "test" / f"{name}.json"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no artifact for contract {name!r} under {CONTRACTS_DIR}")


def load_artifact(name: str = "AnchorRegistry", path: Path | None = None) -> Artifact:
    """Reads a committed artifact (by contract name, or from ``path``)."""
    raw = json.loads((path or artifact_path(name)).read_text(encoding="utf-8"))
    return Artifact(
        contract_name=raw["contractName"],
        abi=raw["abi"],
        bytecode=raw["bytecode"],
        deployed_bytecode=raw["deployedBytecode"],
        compiler_version=raw["compiler"]["version"],
    )


# ---------------------------------------------------------------------------------------------
# Checkpoints, the marker and the proofs


@dataclass(frozen=True)
class AnchoredCheckpoint:
    """The fields of a checkpoint that the chain anchors."""

    number: int
    size: int
    log_root: bytes
    state_root: bytes

    def __post_init__(self) -> None:
        # Checked here so that a bad value fails in Python with a message, not as an ABI
        # encoding error or a revert.
        if not 1 <= self.number <= MAX_CHECKPOINT_NUMBER:
            raise ValueError(f"checkpoint number {self.number} is outside 1..2^32-1")
        if not 1 <= self.size <= merkle.MAX_TREE_SIZE:
            raise ValueError(f"log size {self.size} is outside 1..2^64-1")
        for name in ("log_root", "state_root"):
            value = getattr(self, name)
            if len(value) != merkle.HASH_SIZE_BYTES:
                raise ValueError(f"{name} has {len(value)} bytes, want {merkle.HASH_SIZE_BYTES}")


def checkpoint_commitment(checkpoint: AnchoredCheckpoint) -> bytes:
    """What the contract stores for a checkpoint:
    keccak256(abi.encode(uint32 number, uint64 size, bytes32 logRoot, bytes32 stateRoot))."""
    return keccak(
        abi_encode(
            ["uint32", "uint64", "bytes32", "bytes32"],
            [checkpoint.number, checkpoint.size, checkpoint.log_root, checkpoint.state_root],
        )
    )


def marker_entry_bytes(number: int, seq: int) -> bytes:
    """The journal entry the ledger appends as the last leaf of checkpoint ``number``'s log,
    at sequence number ``seq`` = size - 1: the RFC 8785 canonical JSON of
    {"checkpoint": number, "seq": seq}, which for two integer members is exactly this."""
    return b'{"checkpoint":%d,"seq":%d}' % (number, seq)


def marker_leaf_hash(number: int, seq: int) -> bytes:
    """RFC 9162 leaf hash of `marker_entry_bytes`."""
    return merkle.leaf_hash(marker_entry_bytes(number, seq))


ATTESTATION_DOMAIN_NAME = "carbonledger AnchorRegistry"
ATTESTATION_DOMAIN_VERSION = "1"
_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,"
                               "address verifyingContract)")
ATTESTATION_TYPEHASH = keccak(text="CheckpointAttestation(uint32 number,uint64 size,"
                                   "bytes32 logRoot,bytes32 stateRoot)")


def attestation_digest(chain_id: int, registry: str, checkpoint: AnchoredCheckpoint) -> bytes:
    """The EIP-712 digest a witness signs (secp256k1) to attest `checkpoint` to the registry at
    `registry` on chain `chain_id`: domain {name "carbonledger AnchorRegistry", version "1",
    chainId, verifyingContract}, struct CheckpointAttestation(uint32 number, uint64 size,
    bytes32 logRoot, bytes32 stateRoot). The domain binds the chain and the contract, so an
    attestation is good for one registry only; the struct, every field the registry anchors."""
    domain = keccak(abi_encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [_DOMAIN_TYPEHASH, keccak(text=ATTESTATION_DOMAIN_NAME),
         keccak(text=ATTESTATION_DOMAIN_VERSION), chain_id, to_checksum_address(registry)]))
    struct = keccak(abi_encode(
        ["bytes32", "uint32", "uint64", "bytes32", "bytes32"],
        [ATTESTATION_TYPEHASH, checkpoint.number, checkpoint.size, checkpoint.log_root,
         checkpoint.state_root]))
    return keccak(b"\x19\x01" + domain + struct)


@dataclass(frozen=True)
class AnchorProof:
    """The two proofs the contract wants with a checkpoint (see `anchor_proof`)."""

    consistency: tuple[bytes, ...]
    marker: tuple[bytes, ...]


class LogProofs(Protocol):
    """A log that answers RFC 9162 proofs for any size up to its own (MerkleLog does)."""

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...


def marker_proof_length(previous_size: int, size: int) -> int:
    """Number of elements in the marker proof from a log of ``previous_size`` leaves (0 for the
    first checkpoint) to one of ``size``.

    The marker is the last leaf, so its inclusion proof is the left siblings on the tree's right
    edge, one per one bit of size - 1. After the first checkpoint the consistency proof already
    holds that path from the level where leaves previous_size - 1 and size - 1 part, upwards:
    only the siblings below that level, one per one bit of size - 1 under it, are sent.
    """
    if not 0 <= previous_size < size:
        raise ValueError(f"no anchor from size {previous_size} to size {size}")
    if previous_size == 0:
        return (size - 1).bit_count()
    level = ((previous_size - 1) ^ (size - 1)).bit_length() - 1
    return ((size - 1) & ((1 << level) - 1)).bit_count()


def anchor_proof(log: LogProofs, previous_size: int, size: int) -> AnchorProof:
    """The proofs for anchoring ``log`` at ``size`` after it was anchored at ``previous_size``
    (0 for the first checkpoint). The log's leaf ``size - 1`` must be the checkpoint's marker."""
    marker_length = marker_proof_length(previous_size, size)
    # The marker proof is the bottom of the last leaf's inclusion proof, which runs leaf first.
    marker = log.inclusion_proof(size - 1, size)[:marker_length]
    consistency = log.consistency_proof(previous_size, size) if previous_size else []
    return AnchorProof(consistency=tuple(consistency), marker=tuple(marker))


class _LeafHashList:
    """`LogProofs` over a plain list of leaf hashes (O(size) hashing per proof)."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._leaf_hashes = leaf_hashes

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(self._leaf_hashes, index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return merkle.consistency_proof(self._leaf_hashes, size1, size2)


def anchor_proof_from_leaf_hashes(
    leaf_hashes: Sequence[bytes], previous_size: int, size: int
) -> AnchorProof:
    """`anchor_proof` for a log given as its list of leaf hashes."""
    return anchor_proof(_LeafHashList(leaf_hashes), previous_size, size)


# ---------------------------------------------------------------------------------------------
# Errors


class AnchorRejection(enum.Enum):
    """Why the contract refused a call: one member per custom error, valued by its name."""

    NOT_OWNER = "NotOwner"
    NOT_ANCHORER = "NotAnchorer"
    ZERO_ADDRESS = "ZeroAddress"
    ZERO_LOG_ROOT = "ZeroLogRoot"
    ZERO_STATE_ROOT = "ZeroStateRoot"
    WRONG_CHECKPOINT_NUMBER = "WrongCheckpointNumber"
    LOG_SIZE_NOT_INCREASING = "LogSizeNotIncreasing"
    PREVIOUS_CHECKPOINT_MISMATCH = "PreviousCheckpointMismatch"
    CONSISTENCY_PROOF_LENGTH = "ConsistencyProofLength"
    NOT_CONSISTENT_EXTENSION = "NotConsistentExtension"
    MARKER_PROOF_LENGTH = "MarkerProofLength"
    MARKER_NOT_LAST_LEAF = "MarkerNotLastLeaf"
    SHA256_FAILED = "Sha256Failed"
    INVALID_WITNESS_SET = "InvalidWitnessSet"
    WITNESSES_REQUIRED = "WitnessesRequired"
    TOO_FEW_ATTESTATIONS = "TooFewAttestations"
    ATTESTATIONS_LENGTH = "AttestationsLength"
    INVALID_ATTESTATION = "InvalidAttestation"
    NOT_A_WITNESS = "NotAWitness"
    ATTESTATIONS_NOT_ASCENDING = "AttestationsNotAscending"

    @property
    def message(self) -> str:
        return _REJECTION_MESSAGES[self]

    @property
    def retryable(self) -> bool:
        """Whether the same call can ever succeed later (the chain moving on, more gas)."""
        return self in _RETRYABLE


_REJECTION_MESSAGES = {
    AnchorRejection.NOT_OWNER: "only the registry's owner may do this",
    AnchorRejection.NOT_ANCHORER: "only the registry's current anchorer may anchor; "
    "check the signing key against anchorer()",
    AnchorRejection.ZERO_ADDRESS: "the owner and the anchorer cannot be the zero address",
    AnchorRejection.ZERO_LOG_ROOT: "the checkpoint's log root is zero",
    AnchorRejection.ZERO_STATE_ROOT: "the checkpoint's state root is zero",
    AnchorRejection.WRONG_CHECKPOINT_NUMBER: "checkpoints are anchored one after the other; "
    "anchor the expected number first",
    AnchorRejection.LOG_SIZE_NOT_INCREASING: "the log size must be larger than at the previous "
    "checkpoint (each checkpoint appends at least its marker)",
    AnchorRejection.PREVIOUS_CHECKPOINT_MISMATCH: "the previous checkpoint's roots given do not "
    "match what the registry stored for it",
    AnchorRejection.CONSISTENCY_PROOF_LENGTH: "the consistency proof has the wrong number of "
    "hashes for the two sizes",
    AnchorRejection.NOT_CONSISTENT_EXTENSION: "the new log is not an append-only extension of "
    "the anchored one: the consistency proof does not join the two roots",
    AnchorRejection.MARKER_PROOF_LENGTH: "the marker proof has the wrong number of hashes for "
    "the sizes",
    AnchorRejection.MARKER_NOT_LAST_LEAF: "the log's last leaf is not this checkpoint's "
    "marker: the claimed size is not the size of the log whose root was given",
    AnchorRejection.SHA256_FAILED: "the SHA-256 precompile ran out of gas; raise the gas limit",
    AnchorRejection.INVALID_WITNESS_SET: "the witness set has a zero or repeated address, or a "
    "threshold above the number of witnesses",
    AnchorRejection.WITNESSES_REQUIRED: "this registry requires witnesses' attestations: "
    "anchor with them (anchorWitnessed)",
    AnchorRejection.TOO_FEW_ATTESTATIONS: "fewer witnesses attested the checkpoint than the "
    "registry requires; wait for more attestations",
    AnchorRejection.ATTESTATIONS_LENGTH: "the attestations are not whole 65-byte signatures",
    AnchorRejection.INVALID_ATTESTATION: "an attestation is not a valid low-s signature",
    AnchorRejection.NOT_A_WITNESS: "an attestation is signed by a key that is not one of the "
    "registry's witnesses (or over another checkpoint, registry or chain)",
    AnchorRejection.ATTESTATIONS_NOT_ASCENDING: "attestations must be ordered by signer, each "
    "witness once",
}

_RETRYABLE = frozenset(
    {
        # Succeeds once the checkpoints before it are anchored.
        AnchorRejection.WRONG_CHECKPOINT_NUMBER,
        AnchorRejection.SHA256_FAILED,
        # Succeeds once enough witnesses have attested.
        AnchorRejection.TOO_FEW_ATTESTATIONS,
    }
)


class AnchorRegistryError(OperatorError):
    """Root of the errors of this module: a call to the registry failed."""


class AnchorRejected(AnchorRegistryError):
    """The contract reverted with one of its custom errors.

    ``reason`` names the error; ``error_args`` holds its decoded arguments by name (for
    example ``{"expected": 3, "number": 5}`` for WrongCheckpointNumber).
    """

    code = OperatorFailure.anchor_rejected

    def __init__(self, reason: AnchorRejection, error_args: dict[str, Any]) -> None:
        shown = ", ".join(f"{key}={_show(value)}" for key, value in error_args.items())
        super().__init__(f"{reason.value}({shown}): {reason.message}")
        self.reason = reason
        self.error_args = error_args

    @property
    def name(self) -> str:
        """The Solidity name of the error, e.g. ``"MarkerNotLastLeaf"``."""
        return self.reason.value


class AnchorTransactionFailed(AnchorRegistryError):
    """A transaction failed without a custom error of the registry (out of gas, a panic, or a
    revert whose data is not one of the registry's errors)."""

    code = OperatorFailure.anchor_transaction_failed


class UnexpectedRegistryAnswer(AnchorRegistryError):
    """The contract answered as an AnchorRegistry of this version does not."""

    code = OperatorFailure.unexpected_registry_answer


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def _error_table(abi: Sequence[dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    table = {}
    for entry in abi:
        if entry.get("type") == "error":
            signature = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
            table[keccak(text=signature)[:4]] = entry
    return table


def rejection_from_revert_data(
    data: bytes, abi: Sequence[dict[str, Any]] | None = None
) -> AnchorRejected | None:
    """The `AnchorRejected` that revert ``data`` encodes, or None if it is not a custom error
    of the contract (``abi`` defaults to the registry's)."""
    entry = _error_table(abi if abi is not None else _registry_abi()).get(data[:4])
    if entry is None:
        return None
    try:
        reason = AnchorRejection(entry["name"])
    except ValueError:
        return None
    types = [i["type"] for i in entry["inputs"]]
    values = abi_decode(types, data[4:])
    decoded = {
        i["name"]: to_checksum_address(v) if t == "address" else v
        for i, t, v in zip(entry["inputs"], types, values, strict=True)
    }
    return AnchorRejected(reason, decoded)


def rejection_from_exception(
    error: BaseException, abi: Sequence[dict[str, Any]] | None = None
) -> AnchorRejected | None:
    """The `AnchorRejected` hidden in what web3 raised for a reverted call, or None.

    Two shapes reach us. In process, web3's EthereumTesterProvider lets eth-tester's
    ``TransactionFailed`` through, its message the text ``execution reverted: b'...'`` with the
    raw revert bytes as a Python literal. Over HTTP, web3 raises ``ContractCustomError`` (a
    ``ContractLogicError``) whose ``data`` is the revert data in hex.
    """
    data = _revert_data(error)
    return None if data is None else rejection_from_revert_data(data, abi)


def _revert_data(error: BaseException) -> bytes | None:
    if isinstance(error, ContractLogicError):
        data = error.data
        if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        return None
    if type(error).__name__ == "TransactionFailed":
        # eth_tester.exceptions.TransactionFailed; matched by name so that eth-tester, a test
        # dependency of web3, is not imported by the runtime.
        payload = error.args[0] if error.args else None
        if isinstance(payload, bytes):
            return payload
        if isinstance(payload, str):
            _, _, literal = payload.partition("execution reverted: ")
            if literal.startswith(("b'", 'b"')):
                try:
                    parsed = ast.literal_eval(literal)
                except (ValueError, SyntaxError):
                    return None
                return parsed if isinstance(parsed, bytes) else None
    return None


_REGISTRY_ABI: list[dict[str, Any]] | None = None


def _registry_abi() -> list[dict[str, Any]]:
    global _REGISTRY_ABI
    if _REGISTRY_ABI is None:
        _REGISTRY_ABI = load_artifact().abi
    return _REGISTRY_ABI


# ---------------------------------------------------------------------------------------------
# The client


Sender = ChecksumAddress | LocalAccount
"""Who sends a transaction: an account the node holds (eth-tester's and anvil's dev accounts)
or a local key, which signs here and sends the raw transaction."""


class AnchorRegistryClient:
    """One deployed AnchorRegistry. Reads are view calls; writes wait for their receipt."""

    def __init__(self, w3: Web3, address: str, artifact: Artifact | None = None) -> None:
        self.w3 = w3
        self.artifact = artifact or load_artifact()
        self.address = to_checksum_address(address)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=self.artifact.abi)

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        *,
        owner: str,
        anchorer: str,
        sender: Sender,
        artifact: Artifact | None = None,
        witnesses: Sequence[str] = (),
        witness_threshold: int = 0,
    ) -> tuple[AnchorRegistryClient, TxReceipt]:
        """Deploys a registry; returns its client and the deployment receipt. With witnesses
        (their attester addresses) and a threshold k > 0, every anchor needs k of their
        attestations (`anchor(..., attestations=...)`)."""
        artifact = artifact or load_artifact()
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        constructor = factory.constructor(
            to_checksum_address(owner), to_checksum_address(anchorer),
            [to_checksum_address(w) for w in witnesses], witness_threshold)
        try:
            # Estimates gas, which runs the constructor: a refusal surfaces here.
            tx = constructor.build_transaction(_base_tx(sender))
        except Exception as error:
            raise _translate(error, artifact.abi) from error
        receipt = _send(w3, tx, sender, artifact.abi)
        address = receipt["contractAddress"]
        assert address is not None, "a successful deployment has a contract address"
        return cls(w3, address, artifact), receipt

    # -- writes --------------------------------------------------------------------------------

    def anchor(
        self,
        checkpoint: AnchoredCheckpoint,
        proof: AnchorProof,
        *,
        previous: AnchoredCheckpoint | None,
        sender: Sender,
        gas: int = ANCHOR_GAS_LIMIT,
        attestations: Mapping[str, bytes] | None = None,
    ) -> TxReceipt:
        """Anchors ``checkpoint``, the successor of ``previous`` (None for the first); with
        ``attestations`` (witness address -> 65-byte signature of `attestation_digest`), for a
        registry that requires witnesses.

        Raises `AnchorRejected` if the contract refuses it. The call is simulated first, so a
        refusal costs no gas and carries the error's name on every provider.
        """
        return self._transact(self.anchor_call(checkpoint, proof, previous, attestations),
                              sender, gas)

    def anchor_call(self, checkpoint: AnchoredCheckpoint, proof: AnchorProof,
                    previous: AnchoredCheckpoint | None,
                    attestations: Mapping[str, bytes] | None = None) -> Any:
        """The contract call that anchors ``checkpoint``: anchor(), or anchorWitnessed() with
        the attestations concatenated in ascending order of witness, as the registry wants."""
        zero = bytes(32)
        arguments = [
            checkpoint.number,
            checkpoint.size,
            checkpoint.log_root,
            checkpoint.state_root,
            previous.log_root if previous else zero,
            previous.state_root if previous else zero,
            list(proof.consistency),
            list(proof.marker),
        ]
        if attestations is None:
            return self.contract.functions.anchor(*arguments)
        ordered = sorted(attestations.items(), key=lambda item: int(item[0], 16))
        return self.contract.functions.anchorWitnessed(
            *arguments, b"".join(signature for _, signature in ordered))

    def rotate_anchorer(
        self, new_anchorer: str, *, sender: Sender, gas: int = ROTATE_GAS_LIMIT
    ) -> TxReceipt:
        """Makes ``new_anchorer`` the only address that may anchor. Owner only."""
        call = self.contract.functions.rotateAnchorer(to_checksum_address(new_anchorer))
        return self._transact(call, sender, gas)

    def _transact(self, call: Any, sender: Sender, gas: int) -> TxReceipt:
        tx = _base_tx(sender)
        try:
            call.call(tx)
        except Exception as error:
            raise _translate(error, self.artifact.abi) from error
        tx["gas"] = gas
        return _send(self.w3, call.build_transaction(tx), sender, self.artifact.abi)

    # -- reads ---------------------------------------------------------------------------------

    def owner(self) -> ChecksumAddress:
        return cast(ChecksumAddress, self.contract.functions.owner().call())

    def anchorer(self) -> ChecksumAddress:
        return cast(ChecksumAddress, self.contract.functions.anchorer().call())

    def latest_number(self) -> int:
        """Number of the latest anchored checkpoint; 0 before the first."""
        return cast(int, self.contract.functions.latestNumber().call())

    def latest_size(self) -> int:
        """Log size at the latest anchored checkpoint; 0 before the first."""
        return cast(int, self.contract.functions.latestSize().call())

    def witness_threshold(self) -> int:
        """How many witnesses' attestations an anchor needs (0: none). A registry deployed
        before witnesses existed has no such function, and needs none."""
        try:
            return cast(int, self.contract.functions.witnessThreshold().call())
        except (ContractLogicError, BadFunctionCallOutput):
            return 0

    def is_witness(self, address: str) -> bool:
        return bool(self.contract.functions.isWitness(to_checksum_address(address)).call())

    def attestation_digest(self, checkpoint: AnchoredCheckpoint) -> bytes:
        """The digest the contract checks attestations against (`attestation_digest`)."""
        return bytes(self.contract.functions.attestationDigest(
            checkpoint.number, checkpoint.size, checkpoint.log_root, checkpoint.state_root
        ).call())

    def commitment_of(self, number: int) -> bytes:
        """The commitment stored for checkpoint ``number``; 32 zero bytes if not anchored."""
        return bytes(self.contract.functions.commitmentOf(number).call())

    def is_anchored(self, checkpoint: AnchoredCheckpoint) -> bool:
        """Whether the chain holds exactly this checkpoint (asked of the contract)."""
        return bool(
            self.contract.functions.isAnchored(
                checkpoint.number, checkpoint.size, checkpoint.log_root, checkpoint.state_root
            ).call()
        )

    def anchored_checkpoints(
        self, from_block: int, to_block: int | str = "latest"
    ) -> list[AnchoredCheckpoint]:
        """The CheckpointAnchored events in a block range, oldest first.

        ``from_block`` is required: eth-tester scans logs in quadratic time over the chain, so
        always bound the range (or read single checkpoints with `is_anchored`).
        """
        events = self.contract.events.CheckpointAnchored.get_logs(
            from_block=from_block, to_block=to_block
        )
        return [_checkpoint_from_event(event["args"]) for event in events]

    def checkpoint_from_receipt(self, receipt: TxReceipt) -> AnchoredCheckpoint:
        """The checkpoint an anchor transaction's receipt records."""
        events = self.contract.events.CheckpointAnchored().process_receipt(receipt)
        if len(events) != 1:
            raise UnexpectedRegistryAnswer(f"expected one CheckpointAnchored event, got "
                                           f"{len(events)}")
        return _checkpoint_from_event(events[0]["args"])


def _checkpoint_from_event(args: Any) -> AnchoredCheckpoint:
    return AnchoredCheckpoint(
        number=args["number"],
        size=args["size"],
        log_root=bytes(args["logRoot"]),
        state_root=bytes(args["stateRoot"]),
    )


def _base_tx(sender: Sender) -> TxParams:
    address = sender.address if isinstance(sender, LocalAccount) else sender
    return {"from": to_checksum_address(address)}


def _send(w3: Web3, tx: TxParams, sender: Sender, abi: Sequence[dict[str, Any]]) -> TxReceipt:
    try:
        if isinstance(sender, LocalAccount):
            tx.setdefault("nonce", w3.eth.get_transaction_count(sender.address, "pending"))
            signed = sender.sign_transaction(cast(dict[str, Any], tx))
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        else:
            tx_hash = w3.eth.send_transaction(tx)
    except Exception as error:
        raise _translate(error, abi) from error
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        # Simulated fine a moment ago: the chain moved in between, or the gas limit was short.
        raise AnchorTransactionFailed(
            f"transaction {tx_hash.hex()} failed in block {receipt['blockNumber']} "
            f"after using {receipt['gasUsed']} gas"
        )
    return receipt


def _translate(error: Exception, abi: Sequence[dict[str, Any]]) -> Exception:
    rejection = rejection_from_exception(error, abi)
    if rejection is not None:
        return rejection
    if isinstance(error, ContractLogicError) or type(error).__name__ == "TransactionFailed":
        return AnchorTransactionFailed(str(error))
    return error
