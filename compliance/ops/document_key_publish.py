"""document_key_publish: a participant publishes the public key of one of its active signing
keys, so that confidential documents (monthly data, reports) can be sealed for it
(compliance/sealing.py). The key is named by its public key, since an address alone cannot be
encrypted to; its address must be one of the participant's active keys. Any role may publish:
an emitter reads its own documents, the registry and verifiers read those shared with them."""

from __future__ import annotations

from dataclasses import dataclass

import coincurve

from compliance.reasons import ComplianceReason
from compliance.schema import document_keys
from custody.signatures import public_key_to_address
from ledger.effects import Changes, Row
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class DocumentKeyPublish(Payload):
    participant: str
    public_key: str  # 0x02/0x03 and 64 hex digits: compressed secp256k1


SCHEMA = define_schema(
    "document_key_publish", "DocumentKeyPublish", DocumentKeyPublish,
    ("participant", "string", "id"),
    ("publicKey", "string", "public_key"),
)


def document_key_publish(p: DocumentKeyPublish, ctx: Context) -> Changes:
    participant = ctx.participant(p.participant)
    require(ctx.is_signed_by(participant.id), Reason.missing_signature,
            f"a document key is published by its participant, {participant.id}")
    address = key_address(p.public_key)
    active = {key.address for key in ctx.ws.active_keys_of(participant.id)}
    require(address in active, ComplianceReason.public_key_not_registered,
            f"{p.public_key} is the key {address}, not an active key of {participant.id}")
    require(ctx.ws.row(document_keys, (participant.id, address)) is None,
            ComplianceReason.public_key_published, f"{address} of {participant.id}")
    return Changes(rows=[Row(document_keys, (participant.id, address), {
        "participant": participant.id, "address": address, "public_key": p.public_key,
        "published_seq": ctx.seq}, new=True)])


def key_address(public_key: str) -> str:
    """The EIP-55 address of a compressed public key (as signing keys are registered). A
    string of the right shape that is not a point of the curve is no key of anyone's."""
    try:
        point = coincurve.PublicKey(bytes.fromhex(public_key[2:]))
    except ValueError:
        return "0x" + "00" * 20  # matches no registered key: refused as not registered
    return public_key_to_address(point.format(compressed=False))
