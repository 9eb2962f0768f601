"""Building and signing instructions, as a participant's software does.

    wallet = Wallet(private_key, domain)
    signed = wallet.sign(new_instruction(operations, "transfer", fromAccount=..., ...))
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
    Instruction,
    Operations,
    SignedInstruction,
    parse_instruction,
    sign,
)

DEFAULT_VALIDITY_S = 3600
_RANGE_DEFAULTS = {"serialFirst": 0, "serialLast": 0}
_TEXT_DEFAULTS = {"project": "", "monitoringStart": "", "monitoringEnd": "", "beneficiary": "",
                  "claim": ""}


def new_instruction_id() -> bytes:
    """A fresh instruction id: the time in milliseconds (6 bytes), then 26 random bytes.

    The ledger accepts any 32 bytes; ids that begin with the time, as UUIDv7 does, are appended
    near the end of the journal's id index instead of at a random place in it, which keeps a
    large store's writes local (docs/DESIGN.md, "Store and concurrency"). 208 random bits keep
    two ids of the same millisecond apart."""
    return (time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(26)


def new_instruction(operations: Operations, op: str, *, deadline: int | None = None,
                    instruction_id: bytes | None = None, **fields: Any) -> Instruction:
    """An instruction of one of `operations` (the ledger's operation set) with a fresh id;
    range fields default to 'by quantity'."""
    names = {spec.name for spec in operations.schema(op).fields}
    complete = {k: v for k, v in {**_RANGE_DEFAULTS, **_TEXT_DEFAULTS}.items() if k in names}
    complete.update(fields)
    document = {
        "op": op,
        "id": "0x" + (instruction_id or new_instruction_id()).hex(),
        "deadline": deadline if deadline is not None else int(time.time()) + DEFAULT_VALIDITY_S,
        "fields": complete,
    }
    return parse_instruction(document, operations)


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
