"""EIP-712: the fast hashing and recovery agree with eth-account, the reference wallets use."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from custody.eip712 import full_message
from custody.signatures import SECP256K1_N, SignatureError, recover_signer
from ledger.engine import Ledger
from ledger.errors import Reason
from ledger.instructions import BIDI_CONTROLS, Approval, SignedInstruction, sign
from tests.world import DOMAIN, OPERATIONS, World

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")

EXAMPLES: dict[str, dict[str, Any]] = {
    "transfer": dict(fromAccount="HN", toAccount="BW", batch="A1", quantity=7),
    "retire": dict(account="LI", batch="C1", quantity=2, beneficiary="李伟", reason="voluntary",
                   claim="Offsets 2025 flights ✈"),
    "issue_batch": dict(batch="C9", scheme="CCER", kind="credit", vintage=2024,
                        project="Wind", monitoringStart="2024-01-01",
                        monitoringEnd="2024-12-31", issuance="credit_issuance",
                        quantity=9_000_000_000_000, account="GW"),
    "register_key": dict(participant="bank", key="0x" + "ab" * 20),
    "genesis": dict(registry="r", registryName="R", registryKey="0x" + "11" * 20,
                    chainId=31337, rules="{}"),
}


@pytest.mark.parametrize("op", sorted(EXAMPLES))
def test_digest_matches_eth_account(op: str) -> None:
    instruction = OPERATIONS.instruction(op, **EXAMPLES[op])
    approval = sign(instruction, KEY, nonce=5, domain=DOMAIN)
    message = full_message(DOMAIN, instruction.schema.struct,
                           instruction.struct_values(approval.signer, 5))
    signable = encode_typed_data(full_message=message)
    assert Account.recover_message(signable, signature=approval.signature) == approval.signer
    reference = Account.sign_message(signable, KEY)
    assert recover_signer(instruction.digest(DOMAIN, approval.signer, 5),
                          bytes(reference.signature)) == approval.signer


def test_every_operation_has_a_distinct_struct() -> None:
    schemas = [operation.schema for operation in OPERATIONS]
    names = [schema.struct.name for schema in schemas]
    assert len(set(names)) == len(names)
    for schema in schemas:
        assert schema.struct.encode_type().startswith(
            f"{schema.struct.name}(bytes32 instructionId,address signer,uint64 nonce,"
            "uint64 deadline,")


# any text the ledger admits (format 2): NFC, no control or bidi-override characters
ADMISSIBLE_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=40).map(
    lambda text: unicodedata.normalize("NFC", text)).filter(
    lambda text: not BIDI_CONTROLS.intersection(text))


@settings(max_examples=30, deadline=None)
@given(quantity=st.integers(1, 2**53 - 1), text=ADMISSIBLE_TEXT)
def test_eth_account_signature_accepted_by_fast_path(quantity: int, text: str) -> None:
    instruction = OPERATIONS.instruction("cancel", account="A", batch="B", quantity=quantity,
                                  reason=text)
    address = Account.from_key(KEY).address
    message = full_message(DOMAIN, instruction.schema.struct,
                           instruction.struct_values(address, 1))
    signed = Account.sign_typed_data(KEY, full_message=message)
    assert recover_signer(instruction.digest(DOMAIN, address, 1),
                          bytes(signed.signature)) == address


def test_high_s_signatures_are_refused() -> None:
    instruction = OPERATIONS.instruction("transfer", **EXAMPLES["transfer"])
    approval = sign(instruction, KEY, 1, DOMAIN)
    r, s, v = approval.signature[:32], int.from_bytes(approval.signature[32:64], "big"), \
        approval.signature[64]
    flipped = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    with pytest.raises(SignatureError, match="high-s"):
        recover_signer(instruction.digest(DOMAIN, approval.signer, 1), flipped)


def test_ledger_refuses_tampered_and_misattributed_signatures(world: World) -> None:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("baowu", "emitter", "BW", "compliance")
    world.allocate("A1", "HN", 100)
    instruction = world.instruction("transfer", fromAccount="HN", toAccount="BW", batch="A1",
                                    quantity=5)
    good = world.wallets["huaneng"].sign(instruction)
    approval = good.approvals[0]
    tampered = bytearray(approval.signature)
    tampered[10] ^= 1
    cases = [
        Approval(approval.signer, approval.nonce, bytes(tampered)),
        Approval(world.wallets["baowu"].address, approval.nonce, approval.signature),
        Approval(approval.signer, approval.nonce + 1, approval.signature),
    ]
    for bad in cases:
        results = world.ledger.submit_many([SignedInstruction(instruction, (bad,))])
        assert results[0].reason == Reason.bad_signature  # type: ignore[union-attr]
    # the untouched instruction is still good: nothing above consumed its nonce
    assert Ledger(world.store, OPERATIONS, world.clock).submit(good).seq == world.head()
