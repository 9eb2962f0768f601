"""Journal entries: sequence number, the signed instruction, the acceptance time and the
effects, as RFC 8785 canonical JSON; their leaf hash is SHA-256(0x00 ‖ bytes) (RFC 9162).

An entry names its format version under "format". Entries written before the key existed
carry none: they are format 1 in its legacy form. Their bytes are in the log and under anchored
roots, so they are never rewritten, and a replay rebuilds each entry in the form it was stored
in (`stored_form`, `writing_form`). Any change to an entry's bytes needs a new format version
and a new golden vector (tests/vectors/formats/).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.canonical import canonical_json, leaf_hash, sha256
from ledger.formats import (  # re-exported: the journal's readers find them here
    ENTRY_FORMAT,
    KNOWN_FORMATS,
    EntryForm,
    current_form,
    writing_form,
)
from ledger.instructions import Instruction, SignedInstruction
from ledger.state import JournalRow


@dataclass(frozen=True)
class Receipt:
    """What the caller gets for an accepted instruction."""

    seq: int
    instruction_id: str
    entry_hash: str
    accepted_at: str
    effects: dict[str, Any]
    duplicate: bool = False  # True when the instruction id was accepted before

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "instruction_id": self.instruction_id,
            "entry_hash": self.entry_hash,
            "accepted_at": self.accepted_at,
            "effects": self.effects,
            "duplicate": self.duplicate,
        }


def body_hash(instruction: Instruction) -> bytes:
    """Identifies an instruction's body, whoever signed it: the idempotency check compares it."""
    return sha256(canonical_json(instruction.body_json(), checked=False))


class UnknownEntryFormat(ValueError):
    """A stored entry names a format version this code does not know."""


def stored_form(document: Mapping[str, Any]) -> EntryForm:
    """The form a stored entry document was written in: None when it has no "format" key
    (format 1, legacy form), else its format version, which must be one this code knows."""
    if "format" not in document:
        return None
    version = document["format"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise UnknownEntryFormat(f"journal format {version!r} is not a format version")
    if version not in KNOWN_FORMATS:
        raise UnknownEntryFormat(
            f"journal format {version} is newer than this code knows: upgrade carbonledger"
            if version > ENTRY_FORMAT else f"journal format {version} is not a format version")
    return version


def make_entry(seq: int, signed: SignedInstruction, accepted_at: str,
               effects: dict[str, Any]) -> JournalRow:
    document = {
        "seq": seq,
        "accepted_at": accepted_at,
        "instruction": signed.as_json(),
        "effects": effects,
    }
    # Formats 1 and 2 share one document shape (they differ in the rules that admitted the
    # instruction); format 1's legacy form is the same document without the key.
    form = current_form()
    if form is not None:
        document["format"] = form
    entry = canonical_json(document, checked=False)
    return JournalRow(
        seq=seq,
        instruction_id=signed.instruction.id,
        body_hash=body_hash(signed.instruction),
        op=signed.instruction.op,
        entry=entry,
        leaf_hash=leaf_hash(entry),
        accepted_at=accepted_at,
    )


MARKER_OP = "checkpoint"


def make_marker(seq: int, number: int, accepted_at: str) -> JournalRow:
    """The entry that closes checkpoint `number`: its bytes are exactly
    `{"checkpoint":K,"seq":S}` (RFC 8785), so the leaf commits to its own position and the
    anchoring contract can rebuild it from the checkpoint's number and log size alone.

    A marker carries no "format" key and never will: its format is fixed by the anchoring
    contract, which rebuilds these exact bytes (contracts/CheckpointMarker.sol), not by
    ENTRY_FORMAT."""
    entry = canonical_json({"checkpoint": number, "seq": seq})
    return JournalRow(
        seq=seq,
        instruction_id=sha256(b"carbonledger checkpoint marker " + str(number).encode()),
        body_hash=sha256(entry),
        op=MARKER_OP,
        entry=entry,
        leaf_hash=leaf_hash(entry),
        accepted_at=accepted_at,
    )


def receipt_of(row: JournalRow, duplicate: bool = False,
               effects: dict[str, Any] | None = None) -> Receipt:
    """The receipt of a journal row; `effects` saves re-reading them from the entry bytes."""
    if effects is None:
        effects = json.loads(row.entry)["effects"]
    return Receipt(
        seq=row.seq,
        instruction_id="0x" + row.instruction_id.hex(),
        entry_hash="0x" + row.leaf_hash.hex(),
        accepted_at=row.accepted_at,
        effects=effects,
        duplicate=duplicate,
    )


__all__ = ["ENTRY_FORMAT", "KNOWN_FORMATS", "MARKER_OP", "EntryForm", "Receipt",
           "UnknownEntryFormat", "body_hash", "make_entry", "make_marker", "receipt_of",
           "stored_form", "writing_form"]
