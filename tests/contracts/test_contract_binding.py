"""anchoring.operator.contract: the artifact, the proof helpers, local signing, and one exception
for both shapes in which a custom error reaches web3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak
from web3._utils.error_formatters_utils import raise_contract_logic_error_on_revert
from web3.exceptions import ContractCustomError, ContractPanicError
from web3.types import Wei

from anchoring.auditor import merkle
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    AnchorRejected,
    AnchorRejection,
    anchor_proof_from_leaf_hashes,
    artifact_path,
    load_artifact,
    marker_entry_bytes,
    marker_leaf_hash,
    marker_proof_length,
    rejection_from_exception,
    rejection_from_revert_data,
)
from tests.contracts.conftest import Chain
from tests.contracts.journal import MarkedLog


def wrong_number_revert_data(expected: int, number: int) -> bytes:
    return keccak(text="WrongCheckpointNumber(uint64,uint32)")[:4] + abi_encode(
        ["uint64", "uint32"], [expected, number]
    )


def test_the_artifact_is_pinned_and_deploys_its_runtime_code(chain: Chain) -> None:
    raw = json.loads(artifact_path().read_text())
    assert raw["compiler"]["version"].startswith("0.8.37+commit.")
    assert raw["settings"]["evmVersion"] == "prague"
    assert raw["settings"]["optimizer"]["enabled"] is True
    artifact = load_artifact()
    code = chain.w3.eth.get_code(chain.registry.address)
    # Equal up to the immutable owner, which deployment writes into the runtime code.
    assert len(code) == len(bytes.fromhex(artifact.deployed_bytecode[2:]))
    assert {entry["name"] for entry in artifact.abi if entry["type"] == "error"} == {
        member.value for member in AnchorRejection
    }


def test_an_in_process_revert_is_decoded_by_name(chain: Chain) -> None:
    call = chain.registry.contract.functions.anchor(
        5, 10, b"\x01" * 32, b"\x02" * 32, bytes(32), bytes(32), [], []
    )
    with pytest.raises(Exception) as raised:
        call.call({"from": chain.anchorer})
    assert type(raised.value).__name__ == "TransactionFailed"
    rejection = rejection_from_exception(raised.value)
    assert rejection is not None
    assert rejection.name == "WrongCheckpointNumber"
    assert rejection.error_args == {"expected": 1, "number": 5}
    assert rejection.reason.retryable


def test_an_http_revert_is_decoded_by_name() -> None:
    # What a node (geth, anvil) answers for a reverted eth_call, through web3's own formatter.
    data = wrong_number_revert_data(3, 7)
    response: Any = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": 3, "message": "execution reverted", "data": "0x" + data.hex()},
    }
    with pytest.raises(ContractCustomError) as raised:
        raise_contract_logic_error_on_revert(response)
    rejection = rejection_from_exception(raised.value)
    assert rejection is not None
    assert rejection.reason is AnchorRejection.WRONG_CHECKPOINT_NUMBER
    assert rejection.error_args == {"expected": 3, "number": 7}
    assert str(rejection).startswith("WrongCheckpointNumber(expected=3, number=7): ")


def test_revert_data_that_is_not_a_registry_error_is_not_a_rejection() -> None:
    assert rejection_from_revert_data(b"") is None
    assert rejection_from_revert_data(keccak(text="Unrelated()")[:4]) is None
    panic = ContractPanicError("Panic error 0x01: Assert evaluates to false.", data="0x4e487b71")
    assert rejection_from_exception(panic) is None
    assert rejection_from_exception(ValueError("no revert here")) is None


def test_every_rejection_has_a_message() -> None:
    for reason in AnchorRejection:
        assert reason.message
        error = AnchorRejected(reason, {})
        assert error.name == reason.value


def test_a_local_key_deploys_rotates_and_anchors(chain: Chain) -> None:
    account = Account.from_key(b"\x42" * 32)
    chain.w3.eth.send_transaction(
        {"from": chain.owner, "to": account.address, "value": Wei(10**18)}
    )
    registry, _ = AnchorRegistryClient.deploy(
        chain.w3, owner=account.address, anchorer=chain.anchorer, sender=account
    )
    registry.rotate_anchorer(account.address, sender=account)
    log = MarkedLog()
    checkpoint = log.grow_to(7)
    registry.anchor(checkpoint, log.proof(), previous=None, sender=account)
    assert registry.is_anchored(checkpoint)
    with pytest.raises(AnchorRejected) as raised:
        registry.anchor(checkpoint, log.proof(), previous=None, sender=account)
    assert raised.value.reason is AnchorRejection.WRONG_CHECKPOINT_NUMBER


@pytest.mark.parametrize(
    "fields",
    [
        (0, 10, b"\x01" * 32, b"\x02" * 32),
        (2**32, 10, b"\x01" * 32, b"\x02" * 32),
        (1, 0, b"\x01" * 32, b"\x02" * 32),
        (1, 2**64, b"\x01" * 32, b"\x02" * 32),
        (1, 10, b"\x01" * 31, b"\x02" * 32),
        (1, 10, b"\x01" * 32, b""),
    ],
)
def test_a_checkpoint_out_of_range_fails_in_python(fields: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        AnchoredCheckpoint(*fields)


def test_the_marker_proof_is_the_bottom_of_the_last_leafs_inclusion_proof() -> None:
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(300)]
    for previous_size, size in [(0, 1), (0, 300), (1, 2), (100, 101), (128, 256), (255, 300)]:
        proof = anchor_proof_from_leaf_hashes(leaves, previous_size, size)
        full = merkle.inclusion_proof(leaves, size - 1, size)
        assert len(proof.marker) == marker_proof_length(previous_size, size)
        assert list(proof.marker) == full[: len(proof.marker)]
        if previous_size:
            assert list(proof.consistency) == merkle.consistency_proof(leaves, previous_size, size)
        else:
            assert proof.consistency == ()
    with pytest.raises(ValueError):
        marker_proof_length(5, 5)


@pytest.mark.parametrize(("number", "seq"), [(1, 0), (2, 999), (12, 1_000_999)])
def test_the_marker_is_the_one_the_ledger_writes(number: int, seq: int) -> None:
    from ledger.journal import make_marker

    row = make_marker(seq, number, "2026-01-01T00:00:00Z")
    assert row.entry == marker_entry_bytes(number, seq)
    assert row.leaf_hash == marker_leaf_hash(number, seq)
