"""What a journal entry in a bundle must be, beyond being in the log: its fields and their
types, and the two rules a checkpoint's log keeps (docs/proof-format.md, "The checkpoint"):
it ends with that checkpoint's marker, and its entry 0 is the genesis the origin names.

The offline verifier reads an entry's seq, time, operation and fields to say what a bundle
proves; each of them is checked here first. The instruction's signatures are not: replay
checks them (`carbonledger audit`). Pure, like the rest of anchoring.auditor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anchoring.auditor.bundle_format import ENTRY_FORMATS, exact_fields, integer, typed
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody, is_utc_instant, origin_parts

# Every format of ENTRY_FORMATS has these fields; an entry without "format" is format 1 in
# its legacy form.
ENTRY_FIELDS = frozenset({"seq", "accepted_at", "instruction", "effects"})  # and "format"
MARKER_FIELDS = frozenset({"checkpoint", "seq"})
GENESIS_OP = "genesis"


def check_entry(document: Any) -> int:
    """The entry's seq, once its fields are those of a marker or of an operation's entry in
    a known format, each of its type: what the verifier reads of an entry, it checks."""
    typed(document, Mapping, "the entry")
    if "seq" not in document:
        raise VerificationFailed(VerifyFailure.malformed_bundle, "the entry has no seq")
    seq = integer(document["seq"], "the entry's seq")
    if seq < 0:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 f"the entry's seq {seq} is negative")
    if "checkpoint" in document:
        exact_fields(document, MARKER_FIELDS, f"marker entry {seq}")
        if integer(document["checkpoint"], f"marker entry {seq}'s checkpoint") < 1:
            raise VerificationFailed(VerifyFailure.malformed_bundle,
                                     f"marker entry {seq} names no checkpoint from 1")
        return seq
    version = document.get("format", 1)
    typed(version, int, f"journal entry {seq}'s format")
    if version not in ENTRY_FORMATS:
        # Its inclusion may hold, but what this verifier would say the entry does may not.
        raise VerificationFailed(VerifyFailure.unsupported,
                                 f"journal entry {seq} is in journal format {version!r:.40}, "
                                 "which this verifier does not know: upgrade carbonledger")
    exact_fields(document, ENTRY_FIELDS | ({"format"} if "format" in document else set()),
                 f"journal entry {seq}")
    typed(document["accepted_at"], str, f"journal entry {seq}'s accepted_at")
    if not is_utc_instant(document["accepted_at"]):
        raise VerificationFailed(VerifyFailure.bad_time,
                                 f"journal entry {seq} was accepted at "
                                 f"{document['accepted_at']!r:.40}, which is not a real "
                                 "instant written as YYYY-MM-DDTHH:MM:SS.sssZ")
    typed(document["effects"], Mapping, f"journal entry {seq}'s effects")
    instruction = document["instruction"]
    typed(instruction, Mapping, f"journal entry {seq}'s instruction")
    for name, kind in (("op", str), ("fields", Mapping)):
        if name not in instruction:
            raise VerificationFailed(VerifyFailure.malformed_bundle,
                                     f"journal entry {seq}'s instruction has no {name}")
        typed(instruction[name], kind, f"journal entry {seq}'s instruction {name}")
    return seq


def check_marker(document: Mapping[str, Any], seq: int, checkpoint: CheckpointBody) -> None:
    """A checkpoint's log ends with its own marker, and no earlier entry closes it or a later
    checkpoint (docs/proof-format.md): what the anchoring contract binds the size with."""
    last = seq == checkpoint.size - 1
    closes = document.get("checkpoint")
    if last and document != {"checkpoint": checkpoint.number, "seq": seq}:
        raise VerificationFailed(VerifyFailure.bad_marker,
                                 f"entry {seq} is the last of checkpoint {checkpoint.number}'s "
                                 f"log, but it is not that checkpoint's marker "
                                 f"{{\"checkpoint\":{checkpoint.number},\"seq\":{seq}}}")
    if not last and closes is not None and closes >= checkpoint.number:
        raise VerificationFailed(VerifyFailure.bad_marker,
                                 f"entry {seq} is the marker of checkpoint {closes}, inside "
                                 f"the log of checkpoint {checkpoint.number}: a checkpoint's "
                                 "log holds only the markers of earlier checkpoints")


def check_genesis(document: Mapping[str, Any], entry_hash: bytes,
                   checkpoint: CheckpointBody) -> None:
    """Entry 0 is the ledger's genesis, which the origin names: its registry and the start of
    its leaf hash (docs/proof-format.md, the checkpoint's first line)."""
    registry, genesis_hash = origin_parts(checkpoint.origin)
    instruction = document.get("instruction")
    op = named = None
    if isinstance(instruction, Mapping):  # a marker has none
        op = instruction["op"]
        named = instruction["fields"].get("registry") if op == GENESIS_OP else None
    if op != GENESIS_OP or entry_hash[:8].hex() != genesis_hash or named != registry:
        raise VerificationFailed(VerifyFailure.wrong_ledger,
                                 f"entry 0 is not the genesis the origin {checkpoint.origin} "
                                 f"names (registry {registry}, leaf hash {genesis_hash}…): it "
                                 f"is {op or 'not an operation'} of registry {named!r:.40} "
                                 f"with leaf hash {entry_hash[:8].hex()}…")
