"""The witnesses' cosignatures the operator was handed: checked, stored, and put back on notes.

    accept_cosigned_note(tx, note, witnesses, operator)   # `carbonledger cosignature add`
    cosignature_lines(tx, number)                         # what bundles carry

A witness hands back the checkpoint's note with its cosignature line added
(anchoring.witness). Before a line is stored, the note must be one this ledger signed: the
operator's signature verifies against its key and the text equals the stored checkpoint's, so
a witness that cosigned another checkpoint of the same number (the operator showing it a
different history) is refused by name; and the line must verify against the witness's vkey.
The prover adds the stored lines to the notes it puts in bundles (anchoring.operator.bundles);
a verifier counts the lines of the witnesses it trusts.

Attestations are a witness's agreement in the form the registry checks on chain (secp256k1,
anchoring.operator.contract.attestation_digest): kept per checkpoint, chain and registry, for
the anchoring worker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from anchoring.auditor.cosignature import (
    CosignatureError,
    WitnessKey,
    checkpoint_text,
    cosignatures,
    with_cosignatures,
)
from anchoring.auditor.errors import VerifyFailure
from anchoring.auditor.note import open_note, parse_address, split_note
from anchoring.operator.checkpoints import (
    STORED_COLUMNS,
    StoredCheckpoint,
    checkpoint_at,
    stored_from_row,
)
from anchoring.operator.contract import AnchoredCheckpoint, attestation_digest
from anchoring.operator.errors import NotCheckpointed
from custody.signatures import SignatureError, recover_address_bytes, to_checksum_address
from ledger.store.sql import Read, SqlTransaction


@dataclass(frozen=True)
class StoredCosignature:
    number: int
    witness: str  # the witness's key name
    key_id: bytes
    cosigned_at: int  # unix seconds, as the cosignature says
    line: str  # the signature line, newline included


def accept_cosigned_note(tx: SqlTransaction, note: str, witnesses: Sequence[WitnessKey],
                         operator: str) -> list[StoredCosignature]:
    """Store the cosignatures on `note` by any of `witnesses`, once `note` is shown to be this
    ledger's stored checkpoint. Returns what was new. Raises `CosignatureError` (a line by a
    named witness that does not verify; none at all), `NoteError` (not signed by the
    operator) or `NotCheckpointed` (no such checkpoint here)."""
    body = open_note(note, operator)
    stored = checkpoint_at(tx, body.number)
    if stored is None:
        raise NotCheckpointed(f"checkpoint {body.number} is not stored in this ledger: the "
                              "cosignature is for another ledger, or from a later backup")
    if checkpoint_text(stored.note) != checkpoint_text(note):
        raise CosignatureError(
            VerifyFailure.cosignature_invalid,
            f"the note cosigned as checkpoint {body.number} is not the one this ledger stores "
            "under that number, though the operator key signed both: the operator key signed "
            "two histories (a split view); stop and audit")
    found = cosignatures(note, witnesses)
    if not found:
        names = ", ".join(w.name for w in witnesses)
        raise CosignatureError(VerifyFailure.too_few_cosignatures,
                               f"checkpoint {body.number}'s note carries no cosignature by "
                               f"{names}")
    lines = _lines_by_key(note)
    have = {(c.witness, c.key_id) for c in cosignatures_at(tx, body.number)}
    added = []
    for cosignature in found:
        witness = cosignature.witness
        if (witness.name, witness.key_id) in have:
            continue  # a witness's first cosignature of a checkpoint is kept
        row = StoredCosignature(body.number, witness.name, witness.key_id,
                                cosignature.timestamp, lines[(witness.name, witness.key_id)])
        tx.execute("INSERT INTO cosignatures (number, witness, key_id, cosigned_at, line) "
                   "VALUES (:number, :witness, :key_id, :at, :line)",
                   {"number": row.number, "witness": row.witness, "key_id": row.key_id,
                    "at": row.cosigned_at, "line": row.line})
        added.append(row)
    # Bundles carry the note with every kept line: it must stay a note verifiers accept
    # (signed-note lets them stop at 16 signature lines). Raises NoteError, and nothing is kept.
    with_cosignatures(stored.note, cosignature_lines(tx, body.number))
    return added


def accept_attestation(tx: SqlTransaction, document: Any) -> tuple[int, str, bool]:
    """Keep a witness's on-chain attestation (what `carbonledger witness run` writes as
    <K>.attestation.json) once its signature is shown to be the named attester's over this
    ledger's stored checkpoint K for that registry. Returns (K, attester, whether it is new)."""
    fields = {"checkpoint", "chain_id", "registry", "attester", "signature"}
    if not isinstance(document, dict) or set(document) != fields:
        raise CosignatureError(VerifyFailure.cosignature_invalid,
                               f"an attestation is an object with exactly "
                               f"{', '.join(sorted(fields))}")
    number, chain_id = document["checkpoint"], document["chain_id"]
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in (number, chain_id)):
        raise CosignatureError(VerifyFailure.cosignature_invalid,
                               "an attestation's checkpoint and chain_id are positive integers")
    registry = to_checksum_address(parse_address(document["registry"], "the registry"))
    attester = to_checksum_address(parse_address(document["attester"], "the attester"))
    signature = document["signature"]
    if not isinstance(signature, str) or not re.fullmatch(r"0x[0-9a-f]{130}", signature):
        raise CosignatureError(VerifyFailure.cosignature_invalid,
                               "an attestation's signature is 0x and 65 bytes in lowercase hex")
    stored = checkpoint_at(tx, number)
    if stored is None:
        raise NotCheckpointed(f"checkpoint {number} is not stored in this ledger")
    checkpoint = AnchoredCheckpoint(number, stored.log_size, stored.log_root, stored.state_root)
    raw = bytes.fromhex(signature[2:])
    try:
        signer = recover_address_bytes(attestation_digest(chain_id, registry, checkpoint), raw)
    except SignatureError as exc:
        raise CosignatureError(VerifyFailure.cosignature_invalid,
                               f"the attestation of checkpoint {number} by {attester} is not a "
                               f"valid signature: {exc}") from exc
    if to_checksum_address(signer) != attester:
        raise CosignatureError(VerifyFailure.cosignature_invalid,
                               f"the attestation of checkpoint {number} is not signed by "
                               f"{attester} over this ledger's checkpoint {number} for "
                               f"registry {registry} on chain {chain_id}")
    return number, attester, store_attestation(tx, number, attester, chain_id, registry, raw)


_LINE_ORDER = "ORDER BY witness, key_id"  # a note's cosignature lines, however they are read


def cosignatures_at(tx: SqlTransaction, number: int) -> list[StoredCosignature]:
    rows = tx.all("SELECT number, witness, key_id, cosigned_at, line FROM cosignatures "
                  f"WHERE number = :n {_LINE_ORDER}", {"n": number})
    return [StoredCosignature(int(r[0]), r[1], bytes(r[2]), int(r[3]), r[4]) for r in rows]


def cosignature_lines(tx: SqlTransaction, number: int) -> list[str]:
    """The signature lines the witnesses added to checkpoint `number`, in a stable order."""
    return [row.line for row in cosignatures_at(tx, number)]


def checkpoint_and_cosignatures(tx: SqlTransaction, number: int | None
                                ) -> tuple[StoredCheckpoint | None, list[str]]:
    """Checkpoint `number` (None: the latest) as stored, and the signature lines the
    witnesses added to it (`cosignature_lines`), read together: one round trip on
    PostgreSQL, which a proof bundle makes for every request. (None, []): no such
    checkpoint."""
    if number is None:
        where, params = "number = (SELECT MAX(number) FROM checkpoints)", {}
    else:
        where, params = "number = :n", {"n": number}
    checkpoint, lines = tx.run([
        Read(f"SELECT {STORED_COLUMNS} FROM checkpoints WHERE {where}", params,
             lambda rows: stored_from_row(rows[0]) if rows else None),
        Read(f"SELECT line FROM cosignatures WHERE {where} {_LINE_ORDER}", params,
             lambda rows: [row[0] for row in rows]),
    ])
    return checkpoint, lines


def store_attestation(tx: SqlTransaction, number: int, attester: str, chain_id: int,
                      registry: str, signature: bytes) -> bool:
    """Keep a witness's on-chain attestation of checkpoint `number` (checked by the caller);
    False if one by that attester for that registry is already kept."""
    key = {"number": number, "attester": attester, "chain": chain_id, "registry": registry}
    held = tx.one("SELECT 1 FROM witness_attestations WHERE number = :number AND attester = "
                  ":attester AND chain_id = :chain AND registry = :registry", key)
    if held is not None:
        return False
    tx.execute("INSERT INTO witness_attestations (number, attester, chain_id, registry, "
               "signature) VALUES (:number, :attester, :chain, :registry, :signature)",
               {**key, "signature": signature})
    return True


def attestations_at(tx: SqlTransaction, number: int, chain_id: int,
                    registry: str) -> dict[str, bytes]:
    """The attestations of checkpoint `number` for this registry: attester -> signature."""
    rows = tx.all("SELECT attester, signature FROM witness_attestations WHERE number = :n AND "
                  "chain_id = :chain AND registry = :registry ORDER BY attester",
                  {"n": number, "chain": chain_id, "registry": registry})
    return {str(r[0]): bytes(r[1]) for r in rows}


def _lines_by_key(note: str) -> dict[tuple[str, bytes], str]:
    """Each signature line of `note`, by (key name, key ID)."""
    text, signatures = split_note(note)
    raw = note[len(text) + 1:].splitlines(keepends=True)
    return {(name, blob[:4]): line for (name, blob), line in zip(signatures, raw, strict=True)}


__all__ = ["StoredCosignature", "accept_attestation", "accept_cosigned_note", "attestations_at",
           "cosignature_lines", "cosignatures_at", "store_attestation"]
