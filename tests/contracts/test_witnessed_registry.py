"""AnchorRegistry deployed with witnesses: k of n attestations (EIP-712, secp256k1) required.
Too few, a duplicate, a non-witness, a signature over another checkpoint, registry or chain, a
malformed one: each refused with its named error; k valid ones accepted. The digest is the same
from the contract, from our Python and from eth-account's EIP-712 encoder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    AnchorRejection,
    attestation_digest,
)
from custody.signatures import SECP256K1_N, address_of, unsafe_sign_digest
from tests.contracts.conftest import Chain
from tests.contracts.journal import MarkedLog
from tests.contracts.test_anchor_registry import rejected

KEYS = [(0x5EED + n).to_bytes(32, "big") for n in range(4)]
WITNESSES = [address_of(key) for key in KEYS[:3]]  # KEYS[3] is no witness
STRANGER = KEYS[3]


@pytest.fixture
def witnessed(chain: Chain) -> Iterator[AnchorRegistryClient]:
    registry, _ = AnchorRegistryClient.deploy(chain.w3, owner=chain.owner,
                                              anchorer=chain.anchorer, sender=chain.owner,
                                              witnesses=WITNESSES, witness_threshold=2)
    yield registry


def _attest(registry: AnchorRegistryClient, checkpoint: AnchoredCheckpoint,
            *keys: bytes, chain_id: int | None = None,
            address: str | None = None) -> dict[str, bytes]:
    digest = attestation_digest(chain_id or registry.w3.eth.chain_id,
                                address or registry.address, checkpoint)
    return {address_of(key): unsafe_sign_digest(key, digest) for key in keys}


def _anchor(chain: Chain, registry: AnchorRegistryClient, log: MarkedLog,
            attestations: dict[str, bytes] | None) -> Any:
    return registry.anchor(log.checkpoints[-1], log.proof(), previous=log.previous,
                           sender=chain.anchorer, attestations=attestations)


def _raw(chain: Chain, registry: AnchorRegistryClient, log: MarkedLog, blob: bytes) -> Any:
    """anchorWitnessed with attestation bytes exactly as given (no reordering)."""
    checkpoint, proof, zero = log.checkpoints[-1], log.proof(), bytes(32)
    call = registry.contract.functions.anchorWitnessed(
        checkpoint.number, checkpoint.size, checkpoint.log_root, checkpoint.state_root,
        zero, zero, list(proof.consistency), list(proof.marker), blob)
    return registry._transact(call, chain.anchorer, 400_000)


def test_the_digest_is_eip712_as_the_contract_and_eth_account_compute_it(
        chain: Chain, witnessed: AnchorRegistryClient) -> None:
    checkpoint = AnchoredCheckpoint(7, 1234, bytes(range(32)), bytes(range(1, 33)))
    ours = attestation_digest(chain.w3.eth.chain_id, witnessed.address, checkpoint)
    assert witnessed.attestation_digest(checkpoint) == ours
    typed = encode_typed_data(full_message={
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"},
                             {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"},
                             {"name": "verifyingContract", "type": "address"}],
            "CheckpointAttestation": [{"name": "number", "type": "uint32"},
                                      {"name": "size", "type": "uint64"},
                                      {"name": "logRoot", "type": "bytes32"},
                                      {"name": "stateRoot", "type": "bytes32"}]},
        "primaryType": "CheckpointAttestation",
        "domain": {"name": "carbonledger AnchorRegistry", "version": "1",
                   "chainId": chain.w3.eth.chain_id, "verifyingContract": witnessed.address},
        "message": {"number": 7, "size": 1234, "logRoot": bytes(range(32)),
                    "stateRoot": bytes(range(1, 33))}})
    signed = Account.sign_message(typed, KEYS[0])
    assert Account._recover_hash(ours, signature=signed.signature) == WITNESSES[0]
    assert witnessed.witness_threshold() == 2 and witnessed.is_witness(WITNESSES[1])
    assert not witnessed.is_witness(address_of(STRANGER))
    assert chain.registry.witness_threshold() == 0  # the registry without witnesses


def test_k_valid_attestations_anchor_and_too_few_do_not(
        chain: Chain, witnessed: AnchorRegistryClient) -> None:
    log = MarkedLog()
    checkpoint = log.grow_to(10)
    with rejected(AnchorRejection.WITNESSES_REQUIRED, threshold=2):
        _anchor(chain, witnessed, log, None)
    with rejected(AnchorRejection.TOO_FEW_ATTESTATIONS, threshold=2, given=1):
        _anchor(chain, witnessed, log, _attest(witnessed, checkpoint, KEYS[0]))
    with rejected(AnchorRejection.TOO_FEW_ATTESTATIONS, given=0):
        _anchor(chain, witnessed, log, {})
    _anchor(chain, witnessed, log, _attest(witnessed, checkpoint, KEYS[2], KEYS[0]))
    assert witnessed.is_anchored(checkpoint)
    # all three: more than k is fine
    checkpoint = log.grow_to(25)
    _anchor(chain, witnessed, log, _attest(witnessed, checkpoint, *KEYS[:3]))
    assert witnessed.latest_number() == 2


def test_duplicate_unordered_foreign_and_malformed_attestations_are_refused(
        chain: Chain, witnessed: AnchorRegistryClient) -> None:
    log = MarkedLog()
    checkpoint = log.grow_to(10)
    good = _attest(witnessed, checkpoint, *KEYS[:2])
    low, high = sorted(good, key=lambda a: int(a, 16))
    with rejected(AnchorRejection.ATTESTATIONS_NOT_ASCENDING):  # the same witness twice
        _raw(chain, witnessed, log, good[low] + good[low])
    with rejected(AnchorRejection.ATTESTATIONS_NOT_ASCENDING):  # out of order
        _raw(chain, witnessed, log, good[high] + good[low])
    stranger = _attest(witnessed, checkpoint, STRANGER, KEYS[0])
    with rejected(AnchorRejection.NOT_A_WITNESS, signer=address_of(STRANGER)):
        _anchor(chain, witnessed, log, stranger)
    # signatures over another checkpoint, registry or chain recover someone who is no witness
    other = AnchoredCheckpoint(1, 11, checkpoint.log_root, checkpoint.state_root)
    for moved in (_attest(witnessed, other, *KEYS[:2]),
                  _attest(witnessed, checkpoint, *KEYS[:2], address=chain.registry.address),
                  _attest(witnessed, checkpoint, *KEYS[:2], chain_id=1)):
        with rejected(AnchorRejection.NOT_A_WITNESS):
            _anchor(chain, witnessed, log, moved)
    with rejected(AnchorRejection.ATTESTATIONS_LENGTH, length=129):
        _raw(chain, witnessed, log, good[low] + good[high][:64])
    twin = bytearray(good[low])  # the high-s twin of a valid signature
    twin[32:64] = (SECP256K1_N - int.from_bytes(twin[32:64], "big")).to_bytes(32, "big")
    twin[64] = 55 - twin[64]
    with rejected(AnchorRejection.INVALID_ATTESTATION, index=0):
        _raw(chain, witnessed, log, bytes(twin) + good[high])
    assert witnessed.latest_number() == 0
    _anchor(chain, witnessed, log, good)
    assert witnessed.latest_number() == 1


@pytest.mark.parametrize(("witnesses", "threshold"), [
    (WITNESSES[:2], 3),
    ([WITNESSES[0], WITNESSES[0]], 1),
    (["0x" + "00" * 20], 1),
])
def test_an_unusable_witness_set_is_refused_at_deployment(
        chain: Chain, witnesses: list[str], threshold: int) -> None:
    with rejected(AnchorRejection.INVALID_WITNESS_SET):
        AnchorRegistryClient.deploy(chain.w3, owner=chain.owner, anchorer=chain.anchorer,
                                    sender=chain.owner, witnesses=witnesses,
                                    witness_threshold=threshold)
