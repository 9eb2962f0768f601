"""AnchorRegistry on py-evm: every rule of anchor() and rotateAnchorer(), one named error each."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3.logs import DISCARD
from web3.types import TxReceipt

from anchoring.auditor import merkle
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorProof,
    AnchorRegistryClient,
    AnchorRejected,
    AnchorRejection,
    anchor_proof_from_leaf_hashes,
    checkpoint_commitment,
    marker_proof_length,
    rejection_from_exception,
)
from tests.contracts.conftest import Chain
from tests.contracts.journal import MarkedLog

ZERO = bytes(32)


def anchor_latest(chain: Chain, log: MarkedLog, **overrides: Any) -> TxReceipt:
    """Anchors the log's latest checkpoint; keyword arguments replace parts of the call."""
    arguments: dict[str, Any] = {
        "checkpoint": log.checkpoints[-1],
        "proof": log.proof(),
        "previous": log.previous,
        "sender": chain.anchorer,
    }
    arguments.update(overrides)
    return chain.registry.anchor(**arguments)


@contextmanager
def rejected(reason: AnchorRejection, **error_args: Any) -> Iterator[None]:
    """Expects AnchorRejected with ``reason`` and, if given, these decoded error arguments."""
    with pytest.raises(AnchorRejected) as raised:
        yield
    assert raised.value.reason is reason, str(raised.value)
    for key, value in error_args.items():
        assert raised.value.error_args[key] == value, str(raised.value)


def anchored_log(chain: Chain, *sizes: int, label: bytes = b"entry") -> MarkedLog:
    """A log anchored at each of ``sizes`` in turn."""
    log = MarkedLog(label=label)
    for size in sizes:
        log.grow_to(size)
        anchor_latest(chain, log)
    return log


def flip_bit(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# ---------------------------------------------------------------------------------------------
# The happy path


def test_a_run_of_anchors_is_stored_viewable_and_emitted(chain: Chain) -> None:
    registry = chain.registry
    start_block = chain.w3.eth.block_number + 1
    log = MarkedLog()
    # Sizes that cross powers of two, land on them, and grow by the marker alone.
    sizes = [1, 2, 3, 4, 5, 8, 9, 16, 17, 100, 101, 128, 1000, 1023, 1024, 1025]
    for size in sizes:
        checkpoint = log.grow_to(size)
        receipt = anchor_latest(chain, log)
        assert registry.checkpoint_from_receipt(receipt) == checkpoint
        assert registry.latest_number() == checkpoint.number
        assert registry.latest_size() == size

    for checkpoint in log.checkpoints:
        assert registry.commitment_of(checkpoint.number) == checkpoint_commitment(checkpoint)
        assert registry.is_anchored(checkpoint)
        assert not registry.is_anchored(
            dataclasses.replace(checkpoint, state_root=flip_bit(checkpoint.state_root))
        )
        assert not registry.is_anchored(dataclasses.replace(checkpoint, size=checkpoint.size + 1))
    assert registry.commitment_of(len(sizes) + 1) == ZERO
    assert registry.anchored_checkpoints(from_block=start_block) == log.checkpoints


def test_the_contract_commitment_is_the_documented_hash(chain: Chain) -> None:
    checkpoint = AnchoredCheckpoint(7, 12345, b"\x11" * 32, b"\x22" * 32)
    on_chain = chain.registry.contract.functions.checkpointCommitment(
        checkpoint.number, checkpoint.size, checkpoint.log_root, checkpoint.state_root
    ).call()
    assert bytes(on_chain) == checkpoint_commitment(checkpoint)


# ---------------------------------------------------------------------------------------------
# The first anchor


def test_the_first_anchor_is_number_one_and_may_be_a_lone_marker(chain: Chain) -> None:
    log = MarkedLog()
    checkpoint = log.grow_to(1)
    assert log.proof() == AnchorProof(consistency=(), marker=())
    anchor_latest(chain, log)
    assert chain.registry.latest_number() == 1
    assert chain.registry.is_anchored(checkpoint)


def test_the_first_anchor_must_be_number_one(chain: Chain) -> None:
    log = MarkedLog()
    checkpoint = log.grow_to(10)
    with rejected(AnchorRejection.WRONG_CHECKPOINT_NUMBER, expected=1, number=2):
        anchor_latest(chain, log, checkpoint=dataclasses.replace(checkpoint, number=2))
    # AnchoredCheckpoint refuses number 0 in Python; the contract refuses it too.
    call = chain.registry.contract.functions.anchor(
        0, 10, checkpoint.log_root, checkpoint.state_root, ZERO, ZERO, [], list(log.proof().marker)
    )
    with pytest.raises(Exception) as raised:
        call.call({"from": chain.anchorer})
    rejection = rejection_from_exception(raised.value)
    assert rejection is not None
    assert rejection.reason is AnchorRejection.WRONG_CHECKPOINT_NUMBER
    assert rejection.error_args == {"expected": 1, "number": 0}


def test_the_first_anchor_takes_no_consistency_proof(chain: Chain) -> None:
    log = MarkedLog()
    log.grow_to(10)
    proof = dataclasses.replace(log.proof(), consistency=(b"\x01" * 32,))
    with rejected(AnchorRejection.CONSISTENCY_PROOF_LENGTH, expected=0, length=1):
        anchor_latest(chain, log, proof=proof)


def test_the_first_anchor_takes_no_previous_roots(chain: Chain) -> None:
    log = MarkedLog()
    checkpoint = log.grow_to(10)
    with rejected(AnchorRejection.PREVIOUS_CHECKPOINT_MISMATCH, number=0):
        anchor_latest(chain, log, previous=checkpoint)


@pytest.mark.parametrize("wrong_size", [5, 9, 11, 16])
def test_the_first_anchor_binds_its_size(chain: Chain, wrong_size: int) -> None:
    log = MarkedLog()
    log.grow_to(10)
    checkpoint = dataclasses.replace(log.checkpoints[-1], size=wrong_size)
    honest = log.proof()
    if marker_proof_length(0, wrong_size) != len(honest.marker):
        with rejected(AnchorRejection.MARKER_PROOF_LENGTH, length=len(honest.marker)):
            anchor_latest(chain, log, checkpoint=checkpoint)
    else:
        with rejected(AnchorRejection.MARKER_NOT_LAST_LEAF, number=1, seq=wrong_size - 1):
            anchor_latest(chain, log, checkpoint=checkpoint)


def test_the_first_anchor_needs_its_marker_as_last_leaf(chain: Chain) -> None:
    log = MarkedLog()
    log.append_entries(10)  # no marker: the log's last leaf is an ordinary entry
    leaf_hashes = log.leaf_hashes
    checkpoint = AnchoredCheckpoint(1, 10, merkle.root_from_leaf_hashes(leaf_hashes), b"\x02" * 32)
    proof = anchor_proof_from_leaf_hashes(leaf_hashes, 0, 10)
    with rejected(AnchorRejection.MARKER_NOT_LAST_LEAF, number=1, seq=9):
        chain.registry.anchor(checkpoint, proof, previous=None, sender=chain.anchorer)


# ---------------------------------------------------------------------------------------------
# Who, which number, which size


def test_only_the_anchorer_may_anchor(chain: Chain) -> None:
    log = MarkedLog()
    log.grow_to(10)
    for sender in (chain.owner, chain.stranger):
        with rejected(AnchorRejection.NOT_ANCHORER, caller=sender):
            anchor_latest(chain, log, sender=sender)


def test_checkpoint_numbers_are_consecutive(chain: Chain) -> None:
    log = anchored_log(chain, 10, 20)
    log.grow_to(30)
    for number in (1, 2, 4, 100):
        checkpoint = dataclasses.replace(log.checkpoints[-1], number=number)
        with rejected(AnchorRejection.WRONG_CHECKPOINT_NUMBER, expected=3, number=number):
            anchor_latest(chain, log, checkpoint=checkpoint)


@pytest.mark.parametrize("size", [1, 19, 20])
def test_the_log_size_must_grow(chain: Chain, size: int) -> None:
    log = anchored_log(chain, 10, 20)
    log.grow_to(30)
    checkpoint = dataclasses.replace(log.checkpoints[-1], size=size)
    with rejected(AnchorRejection.LOG_SIZE_NOT_INCREASING, previousSize=20, size=size):
        anchor_latest(chain, log, checkpoint=checkpoint)


def test_zero_roots_are_refused(chain: Chain) -> None:
    log = MarkedLog()
    checkpoint = log.grow_to(10)
    with rejected(AnchorRejection.ZERO_LOG_ROOT):
        anchor_latest(chain, log, checkpoint=dataclasses.replace(checkpoint, log_root=ZERO))
    with rejected(AnchorRejection.ZERO_STATE_ROOT):
        anchor_latest(chain, log, checkpoint=dataclasses.replace(checkpoint, state_root=ZERO))


def test_the_previous_roots_must_open_the_stored_commitment(chain: Chain) -> None:
    log = anchored_log(chain, 10, 20)
    log.grow_to(30)
    previous = log.checkpoints[-2]
    for wrong in (
        dataclasses.replace(previous, log_root=flip_bit(previous.log_root)),
        dataclasses.replace(previous, state_root=flip_bit(previous.state_root)),
        log.checkpoints[0],
    ):
        with rejected(AnchorRejection.PREVIOUS_CHECKPOINT_MISMATCH, number=2):
            anchor_latest(chain, log, previous=wrong)
    with rejected(AnchorRejection.PREVIOUS_CHECKPOINT_MISMATCH, number=2):
        anchor_latest(chain, log, previous=None)


# ---------------------------------------------------------------------------------------------
# The consistency proof


def test_every_bit_flip_in_the_consistency_proof_is_refused(chain: Chain) -> None:
    log = anchored_log(chain, 1000)
    log.grow_to(2000)
    honest = log.proof()
    assert len(honest.consistency) == 9  # seed, 8 inner, no border
    for position in range(len(honest.consistency)):
        for bit in (0, 7):
            forged = list(honest.consistency)
            forged[position] = flip_bit(forged[position], bit)
            proof = dataclasses.replace(honest, consistency=tuple(forged))
            with rejected(AnchorRejection.NOT_CONSISTENT_EXTENSION):
                anchor_latest(chain, log, proof=proof)
    anchor_latest(chain, log)


def test_a_consistency_proof_of_the_wrong_length_is_refused(chain: Chain) -> None:
    log = anchored_log(chain, 1_000)
    log.grow_to(2_000)
    honest = log.proof()
    expected = len(honest.consistency)
    extra = b"\x5a" * 32
    for consistency in (
        honest.consistency[:-1],  # truncated
        honest.consistency[1:],  # first element dropped
        (*honest.consistency, extra),  # trailing garbage
        (extra, *honest.consistency),  # preceding garbage
        (*honest.consistency, honest.consistency[-1]),  # last element repeated
        (),
    ):
        proof = dataclasses.replace(honest, consistency=consistency)
        with rejected(
            AnchorRejection.CONSISTENCY_PROOF_LENGTH, expected=expected, length=len(consistency)
        ):
            anchor_latest(chain, log, proof=proof)


def test_a_rewritten_history_is_refused(chain: Chain) -> None:
    honest = anchored_log(chain, 100, 1000)
    # Another log that agrees on the anchored checkpoints' markers but not on all entries
    # before them: its honest proofs cannot start from the anchored root.
    for rewritten_index in (0, 500, 998):
        other = MarkedLog(
            leaf_hashes=list(honest.leaf_hashes), checkpoints=list(honest.checkpoints)
        )
        other.leaf_hashes[rewritten_index] = merkle.leaf_hash(b"rewritten")
        checkpoint = other.grow_to(1500)
        proof = anchor_proof_from_leaf_hashes(other.leaf_hashes, 1000, 1500)
        # The anchorer must give the anchored previous roots, so the rewritten log's own
        # (recomputed) root at 1000 is never the one the proof starts from.
        with rejected(AnchorRejection.NOT_CONSISTENT_EXTENSION):
            chain.registry.anchor(
                checkpoint, proof, previous=honest.checkpoints[-1], sender=chain.anchorer
            )
    # A wholly different log, from its first leaf.
    stranger = MarkedLog(label=b"forged")
    stranger.grow_to(100)
    stranger.grow_to(1000)
    checkpoint = stranger.grow_to(1500)
    proof = anchor_proof_from_leaf_hashes(stranger.leaf_hashes, 1000, 1500)
    with rejected(AnchorRejection.NOT_CONSISTENT_EXTENSION):
        chain.registry.anchor(
            dataclasses.replace(checkpoint, number=3),
            proof,
            previous=honest.checkpoints[-1],
            sender=chain.anchorer,
        )


# ---------------------------------------------------------------------------------------------
# The size binding


def test_a_wrong_size_that_the_consistency_proof_alone_accepts_is_refused(chain: Chain) -> None:
    log = anchored_log(chain, 1000)
    checkpoint = log.grow_to(2000)
    honest = log.proof()
    previous = log.checkpoints[-2]
    accepted_elsewhere = 0
    for wrong_size in range(1025, 2049):
        if wrong_size == 2000:
            continue
        try:
            merkle.verify_consistency(
                1000, wrong_size, list(honest.consistency), previous.log_root, checkpoint.log_root
            )
        except merkle.ProofError:
            continue
        accepted_elsewhere += 1
        wrong = dataclasses.replace(checkpoint, size=wrong_size)
        if marker_proof_length(1000, wrong_size) != len(honest.marker):
            # A length check refuses these; a sample keeps the test fast (~30 ms a call).
            if wrong_size % 8:
                continue
            expected = (AnchorRejection.MARKER_PROOF_LENGTH, {"length": len(honest.marker)})
        else:
            # Only the marker itself tells these from the true size: every one is sent.
            expected = (AnchorRejection.MARKER_NOT_LAST_LEAF, {"seq": wrong_size - 1})
        with rejected(expected[0], **expected[1]):
            anchor_latest(chain, log, checkpoint=wrong, proof=honest)
    # STACK.md's observation: the plain proof verifies for every size in [1025, 2048].
    assert accepted_elsewhere == 2048 - 1025
    anchor_latest(chain, log)
    assert chain.registry.latest_size() == 2000


@pytest.mark.parametrize("wrong_size", [1952, 2015])  # smaller and larger, same proof lengths
def test_a_wrong_size_is_refused_by_name(chain: Chain, wrong_size: int) -> None:
    log = anchored_log(chain, 1000)
    checkpoint = log.grow_to(2000)
    assert marker_proof_length(1000, wrong_size) == marker_proof_length(1000, 2000)
    # The plain consistency check, in the contract's own library, accepts the wrong size.
    honest = log.proof()
    assert chain.harness.functions.verifyConsistency(
        1000,
        wrong_size,
        log.checkpoints[-2].log_root,
        checkpoint.log_root,
        list(honest.consistency),
    ).call()
    with rejected(AnchorRejection.MARKER_NOT_LAST_LEAF, number=2, seq=wrong_size - 1):
        anchor_latest(chain, log, checkpoint=dataclasses.replace(checkpoint, size=wrong_size))


def test_a_forged_or_misshapen_marker_proof_is_refused(chain: Chain) -> None:
    log = anchored_log(chain, 1000)
    log.grow_to(2000)
    honest = log.proof()
    assert len(honest.marker) == 8
    for position in range(len(honest.marker)):
        forged = list(honest.marker)
        forged[position] = flip_bit(forged[position])
        with rejected(AnchorRejection.MARKER_NOT_LAST_LEAF, number=2, seq=1999):
            anchor_latest(chain, log, proof=dataclasses.replace(honest, marker=tuple(forged)))
    for marker in (honest.marker[:-1], (*honest.marker, b"\x5a" * 32), ()):
        with rejected(AnchorRejection.MARKER_PROOF_LENGTH, expected=8, length=len(marker)):
            anchor_latest(chain, log, proof=dataclasses.replace(honest, marker=marker))


def test_a_marker_for_another_checkpoint_number_is_refused(chain: Chain) -> None:
    # The log ends with checkpoint 3's marker, but it is anchored as checkpoint 2.
    log = anchored_log(chain, 10)
    log.checkpoints.append(log.checkpoints[-1])  # skip a number in the log's own count
    checkpoint = log.grow_to(20)
    assert checkpoint.number == 3
    with rejected(AnchorRejection.MARKER_NOT_LAST_LEAF, number=2, seq=19):
        chain.registry.anchor(
            dataclasses.replace(checkpoint, number=2),
            anchor_proof_from_leaf_hashes(log.leaf_hashes, 10, 20),
            previous=log.checkpoints[0],
            sender=chain.anchorer,
        )


# ---------------------------------------------------------------------------------------------
# Rotating the anchorer


def test_only_the_owner_rotates_the_anchorer_and_the_old_one_is_refused(chain: Chain) -> None:
    registry = chain.registry
    new_anchorer = list(chain.w3.eth.accounts)[5]
    for sender in (chain.anchorer, chain.stranger, new_anchorer):
        with rejected(AnchorRejection.NOT_OWNER, caller=sender):
            registry.rotate_anchorer(new_anchorer, sender=sender)
    with rejected(AnchorRejection.ZERO_ADDRESS):
        registry.rotate_anchorer("0x" + "00" * 20, sender=chain.owner)

    log = anchored_log(chain, 10)
    receipt = registry.rotate_anchorer(new_anchorer, sender=chain.owner)
    events = registry.contract.events.AnchorerRotated().process_receipt(receipt)
    assert [(e["args"]["previousAnchorer"], e["args"]["newAnchorer"]) for e in events] == [
        (chain.anchorer, new_anchorer)
    ]
    assert registry.anchorer() == new_anchorer

    log.grow_to(20)
    with rejected(AnchorRejection.NOT_ANCHORER, caller=chain.anchorer):
        anchor_latest(chain, log)
    anchor_latest(chain, log, sender=new_anchorer)
    assert registry.latest_number() == 2


def test_deployment_needs_an_owner_and_an_anchorer(chain: Chain) -> None:
    zero = "0x" + "00" * 20
    with rejected(AnchorRejection.ZERO_ADDRESS):
        AnchorRegistryClient.deploy(
            chain.w3, owner=zero, anchorer=chain.anchorer, sender=chain.owner
        )
    with rejected(AnchorRejection.ZERO_ADDRESS):
        AnchorRegistryClient.deploy(chain.w3, owner=chain.owner, anchorer=zero, sender=chain.owner)
    registry, receipt = AnchorRegistryClient.deploy(
        chain.w3, owner=chain.owner, anchorer=chain.anchorer, sender=chain.owner
    )
    # the deployment also logs its (empty) witness set: read each event kind on its own
    events = registry.contract.events.AnchorerRotated().process_receipt(receipt, errors=DISCARD)
    assert [(e["args"]["previousAnchorer"], e["args"]["newAnchorer"]) for e in events] == [
        (zero, chain.anchorer)
    ]
    assert registry.owner() == chain.owner
    assert (registry.latest_number(), registry.latest_size()) == (0, 0)


def test_storage_is_the_head_slot_and_one_slot_per_checkpoint(chain: Chain) -> None:
    log = anchored_log(chain, 10, 20, 30)
    address = chain.registry.address
    # Slot 0 packs, from the low-order end: anchorer (160 bits), latestNumber (32), latestSize.
    head = int.from_bytes(chain.w3.eth.get_storage_at(address, 0), "big")
    assert head == int(chain.anchorer, 16) | (3 << 160) | (30 << 192)
    # The mapping at slot 1: checkpoint n's commitment at keccak256(abi.encode(n, 1)).
    for checkpoint in log.checkpoints:
        slot = keccak(abi_encode(["uint256", "uint256"], [checkpoint.number, 1]))
        stored = chain.w3.eth.get_storage_at(address, int.from_bytes(slot, "big"))
        assert bytes(stored) == checkpoint_commitment(checkpoint)
    # Nothing else: the slots a copy of the latest root or a second head would take are empty.
    for slot_number in (1, 2, 3):
        assert int.from_bytes(chain.w3.eth.get_storage_at(address, slot_number), "big") == 0
