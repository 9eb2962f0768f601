"""The proof bundle's format (docs/proof-format.md) and the checks every bundle kind shares.

A bundle kind is a value, `BundleKind(name, fields, verify)`: its name, its own top-level
fields beside the common ones, and the function that checks the rest. Nothing registers
itself: the verifier is handed the kinds it knows (`anchoring.auditor.verify.STANDARD_KINDS`).
The prover (anchoring.operator.bundles) writes the format and version named here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from anchoring.auditor import jcs, smt
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody, NoteError, open_note, parse_address
from anchoring.auditor.records import check_record

BUNDLE_FORMAT = "carbonledger/proof-bundle"
BUNDLE_VERSION = 1
COMMON_FIELDS = frozenset({"format", "version", "kind", "operator", "checkpoint", "anchor"})
ANCHOR_FIELDS = frozenset({"chain_id", "contract", "checkpoint", "tx_hash", "block_number",
                           "block_time"})
MAX_PROOF_HASHES = 130  # longer than any RFC 9162 proof of a uint64-sized log
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_TX_HASH = re.compile(r"0x[0-9a-f]{64}")
MAX_SAFE_INTEGER = jcs.MAX_SAFE_INTEGER
# The journal entry format versions this verifier can read: ledger.journal.KNOWN_FORMATS (this
# module imports nothing of the ledger; a test keeps the two equal). An entry without "format"
# is format 1 in its legacy form. Every format listed here has format 1's fields
# (anchoring.auditor.entries.ENTRY_FIELDS): a format that changes only what the engine admits
# joins this set alone; one that changes the fields changes that module too.
ENTRY_FORMATS = frozenset({1, 2})

KindCheck = Callable[[Mapping[str, Any], CheckpointBody, str], str]
"""(bundle, its verified checkpoint, the trusted operator key) -> what it proves, in words;
raises VerificationFailed when it does not."""


@dataclass(frozen=True)
class BundleKind:
    """One kind of bundle: its `name` (the bundle's `kind`), its own top-level `fields` beside
    COMMON_FIELDS, and `verify`, which checks them against the verified checkpoint."""

    name: str
    fields: frozenset[str]
    verify: KindCheck

    @property
    def all_fields(self) -> frozenset[str]:
        """Every field a bundle of this kind has, no more and no fewer."""
        return COMMON_FIELDS | self.fields


def open_checkpoint(note: Any, trusted_operator: str) -> CheckpointBody:
    """A signed checkpoint's fields, once its signature by the trusted key is verified."""
    try:
        return open_note(note, trusted_operator)
    except NoteError as exc:
        raise VerificationFailed(exc.code, f"checkpoint rejected: {exc}") from exc


def check_anchor(anchor: Any, number: int) -> Mapping[str, Any] | None:
    """The anchor's shape. Whether the chain holds it needs the chain: not checked here."""
    if anchor is None:
        return None
    if not isinstance(anchor, Mapping) or set(anchor) != ANCHOR_FIELDS:
        raise VerificationFailed(VerifyFailure.bad_anchor,
                                 f"anchor must be null or an object with exactly "
                                 f"{', '.join(sorted(ANCHOR_FIELDS))}")
    for name in ("chain_id", "checkpoint", "block_number", "block_time"):
        value = integer(anchor[name], f"anchor {name}")
        if not 0 <= value <= MAX_SAFE_INTEGER:
            raise VerificationFailed(VerifyFailure.bad_anchor,
                                     f"anchor {name} must be an integer in 0..2^53-1, got "
                                     f"{value!r:.40}")
    typed(anchor["contract"], str, "the anchor's contract")
    typed(anchor["tx_hash"], str, "anchor tx_hash")
    address(anchor["contract"], "the anchor's contract")
    if not _TX_HASH.fullmatch(anchor["tx_hash"]):
        raise VerificationFailed(VerifyFailure.bad_anchor,
                                 "anchor tx_hash must be 0x and 64 lowercase hex digits")
    if anchor["checkpoint"] != number:
        raise VerificationFailed(VerifyFailure.bad_anchor,
                                 f"the anchor is for checkpoint {anchor['checkpoint']}, the "
                                 f"bundle's checkpoint is {number}")
    return anchor


def verify_state(state: Any, checkpoint: CheckpointBody, key: bytes, subject: str,
                 identity: Mapping[str, str], record_kind: str | None = None
                 ) -> dict[str, Any] | None:
    """Check a membership or non-membership proof of `key` against the checkpoint's state
    root; return the proven record (None: absent). The record must name the subject, and
    follow the rules of `record_kind` (anchoring.auditor.records) when one is named."""
    typed(state, Mapping, "state")
    exact_fields(state, frozenset({"key", "value", "proof"}), "state")
    typed(state["key"], str, "the state key")
    if state["key"] != key.hex():
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"the proof is for key {state['key']!r:.70}, but {subject} "
                                 f"has key {key.hex()}")
    value = state["value"]
    typed(state["proof"], Mapping, "the state proof")
    record = None
    if value is not None:
        typed(value, str, "the state value (the record's JSON text, or null)")
        record = jcs.parse_canonical(value, f"the state value of {subject}")
        if not isinstance(record, dict) or any(record.get(k) != v for k, v in identity.items()):
            raise VerificationFailed(VerifyFailure.wrong_subject,
                                     f"the proven record does not describe {subject}")
    try:
        proof = smt.Proof.from_dict(state["proof"])
        smt.verify(checkpoint.state_root, key, None if value is None else value.encode(),
                   proof)
    except (smt.ProofError, UnicodeEncodeError) as exc:
        raise VerificationFailed(VerifyFailure.state_proof_failed,
                                 f"the state proof of {subject} does not hold at checkpoint "
                                 f"{checkpoint.number}: {exc}") from exc
    if record is not None and record_kind is not None:
        # After the proof: a record that breaks its kind's rules yet is committed was
        # committed by a broken or dishonest signer, which is what this says.
        check_record(record_kind, record, subject)
    return record


def address(value: Any, what: str) -> bytes:
    """An address field of the bundle, as 20 bytes."""
    try:
        return parse_address(value, what)
    except NoteError as exc:
        raise VerificationFailed(exc.code, str(exc)) from exc


def hash_list(value: Any, what: str) -> list[bytes]:
    """A proof's list of hashes, each 64 lowercase hex digits."""
    typed(value, list, what)
    if len(value) > MAX_PROOF_HASHES:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 f"{what} must be a list of at most {MAX_PROOF_HASHES} hashes")
    for item in value:
        typed(item, str, f"every {what} hash")
    if not all(_HEX_HASH.fullmatch(item) for item in value):
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 f"every {what} hash must be 64 lowercase hex digits")
    return [bytes.fromhex(item) for item in value]


def text_field(value: Any, what: str) -> str:
    """An id field: a non-empty string without NUL (NUL separates the parts of state keys)."""
    typed(value, str, what)
    if not value or "\x00" in value:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 f"{what} must be a non-empty string without NUL")
    return str(value)


_JSON_TYPES = {str: "a string", int: "an integer", list: "an array", Mapping: "an object",
               bool: "true or false"}


def typed(value: Any, kind: type, what: str) -> None:
    """Refuse a value of another JSON type than `kind` (a bool is no integer here)."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise VerificationFailed(VerifyFailure.wrong_type,
                                 f"{what} must be {_JSON_TYPES.get(kind, kind.__name__)}, got "
                                 f"{_json_type(value)}")


def integer(value: Any, what: str) -> int:
    typed(value, int, what)
    return int(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    for kind, name in _JSON_TYPES.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


def exact_fields(document: Mapping[str, Any], fields: frozenset[str], what: str) -> None:
    """Refuse a missing or an unknown field: nothing in a bundle is ignored."""
    missing, extra = fields - set(document), set(document) - fields
    if missing or extra:
        raise VerificationFailed(
            VerifyFailure.malformed_bundle,
            f"{what} must have exactly the fields {', '.join(sorted(fields))}"
            + (f"; missing {', '.join(sorted(missing))}" if missing else "")
            + (f"; unknown {', '.join(sorted(map(str, extra)))}" if extra else ""))
