"""Building and signing instructions, as a participant's software does.

    wallet = Wallet(private_key, domain)
    signed = wallet.sign(new_instruction("transfer", fromAccount=..., ...))
    cosigned = bank.cosign(signed)          # a second party adds its approval

A wallet keeps its own nonce counter: nonces only have to increase, so a wallet that restarts
can continue from any larger value (e.g. a time-based one).
"""

from __future__ import annotations

import os
import time
from typing import Any

from custody.eip712 import Domain
from custody.signatures import address_of
from ledger.instructions import (
    SCHEMAS,
    Instruction,
    SignedInstruction,
    parse_instruction,
    sign,
)

DEFAULT_VALIDITY_S = 3600
_RANGE_DEFAULTS = {"serialFirst": 0, "serialLast": 0}
_TEXT_DEFAULTS = {"project": "", "monitoringStart": "", "monitoringEnd": "", "beneficiary": "",
                  "claim": ""}


def new_instruction(op: str, *, deadline: int | None = None,
                    instruction_id: bytes | None = None, **fields: Any) -> Instruction:
    """An instruction with a fresh random id; range fields default to 'by quantity'."""
    names = {spec.name for spec in SCHEMAS[op].fields} if op in SCHEMAS else set()
    complete = {k: v for k, v in {**_RANGE_DEFAULTS, **_TEXT_DEFAULTS}.items() if k in names}
    complete.update(fields)
    document = {
        "op": op,
        "id": "0x" + (instruction_id or os.urandom(32)).hex(),
        "deadline": deadline if deadline is not None else int(time.time()) + DEFAULT_VALIDITY_S,
        "fields": complete,
    }
    return parse_instruction(document)


class Wallet:
    def __init__(self, private_key: bytes, domain: Domain, *, nonce: int = 0) -> None:
        self.private_key = private_key
        self.address = address_of(private_key)
        self.domain = domain
        self.nonce = nonce

    def sign(self, instruction: Instruction) -> SignedInstruction:
        return SignedInstruction(instruction, (self._approve(instruction),))

    def cosign(self, signed: SignedInstruction) -> SignedInstruction:
        return SignedInstruction(signed.instruction,
                                 (*signed.approvals, self._approve(signed.instruction)))

    def _approve(self, instruction: Instruction) -> Any:
        self.nonce += 1
        return sign(instruction, self.private_key, self.nonce, self.domain)
