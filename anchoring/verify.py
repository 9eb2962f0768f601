"""The offline verifier: checks a proof bundle with nothing but the bundle and a trusted key.

It imports only the pure parts of `anchoring` and `custody` — never the ledger, its store or a
database — so an auditor can run it anywhere (a test imports it with ledger.store blocked).

    verified = verify_bundle(json.load(open("bundle.json")), trusted_operator="0xAbC…")
    print(verified.statement)          # what was proven, in words
    # raises VerificationFailed(reason) when the bundle does not hold

For every bundle (docs/proof-format.md):

- the checkpoint is a signed note; its signature must verify against the key the auditor
  trusts, and the bundle must name that same key as its operator (a bundle never chooses the
  key it is checked against);
- the log size, log root and state root all come from that one signed note;
- the kind's own proof is checked against them (a registry of verifiers, one per kind);
- each `anchor` claim is checked for shape only. Whether the chain holds the checkpoint takes
  a node of that chain: `anchoring.verify_chain.verify_bundle_on_chain` asks it, with the
  checkpoint's fields from the verified note (`Verified.anchors` lists them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from anchoring import smt
from anchoring.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from anchoring.note import CheckpointBody, NoteError, open_note, parse_address
from anchoring.state_keys import account_key, holding_key, lot_key
from custody.signatures import to_checksum_address

BUNDLE_FORMAT = "carbonledger/proof-bundle"
BUNDLE_VERSION = 1
COMMON_FIELDS = frozenset({"format", "version", "kind", "operator", "checkpoint", "anchor"})
ANCHOR_FIELDS = frozenset({"chain_id", "contract", "checkpoint", "tx_hash", "block_number",
                           "block_time"})
MAX_PROOF_HASHES = 130  # longer than any RFC 9162 proof of a uint64-sized log
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_TX_HASH = re.compile(r"0x[0-9a-f]{64}")
MAX_UINT64 = 2**64 - 1
# The journal entry format versions this verifier can read: ledger.journal.KNOWN_FORMATS (this
# module imports nothing of the ledger; a test keeps the two equal). An entry without "format"
# is format 1 in its legacy form.
ENTRY_FORMATS = frozenset({1})


class VerificationFailed(Exception):
    """The bundle does not prove what it claims; `reason` says why, in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AnchorClaim:
    """A checkpoint the bundle relies on, as its verified note says, and where the bundle
    claims it is anchored (None: not anchored when the bundle was made)."""

    checkpoint: CheckpointBody
    anchor: Mapping[str, Any] | None


@dataclass(frozen=True)
class Verified:
    kind: str
    checkpoint: CheckpointBody
    operator: str  # the trusted key that signed the checkpoint, checksummed
    statement: str  # what the bundle proves, in words
    anchor: Mapping[str, Any] | None
    anchors: tuple[AnchorClaim, ...] = ()
    """Every checkpoint the proof rests on, the bundle's own first (a consistency bundle
    adds its earlier one): what a check on chain must find anchored."""


KindVerifier = Callable[[Mapping[str, Any], CheckpointBody, str], str]
"""(bundle, its verified checkpoint, the trusted operator key) -> what it proves, in words."""


@dataclass(frozen=True)
class _Registered:
    fields: frozenset[str]
    verify: KindVerifier


VERIFIERS: dict[str, _Registered] = {}


def register_verifier(kind: str, fields: set[str]) -> Callable[[KindVerifier], KindVerifier]:
    """Register the verifier of bundles of `kind`, whose own top-level fields are `fields`
    (on top of the common ones). Later proof kinds (pledges, documents) register here."""
    def register(function: KindVerifier) -> KindVerifier:
        if kind in VERIFIERS:
            raise ValueError(f"a verifier for kind {kind!r} is already registered")
        VERIFIERS[kind] = _Registered(COMMON_FIELDS | frozenset(fields), function)
        return function
    return register


def verify_bundle(bundle: Any, trusted_operator: str) -> Verified:
    """Check `bundle` against the operator key the caller trusts (an address)."""
    if not isinstance(bundle, Mapping):
        raise VerificationFailed("a proof bundle is a JSON object")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise VerificationFailed(f"not a proof bundle: format is {bundle.get('format')!r}, "
                                 f"want {BUNDLE_FORMAT!r}")
    if bundle.get("version") != BUNDLE_VERSION:
        raise VerificationFailed(f"bundle version {bundle.get('version')!r} is not supported "
                                 f"(this verifier reads version {BUNDLE_VERSION})")
    kind = bundle.get("kind")
    registered = VERIFIERS.get(kind) if isinstance(kind, str) else None
    if registered is None or not isinstance(kind, str):
        raise VerificationFailed(f"unknown bundle kind {kind!r}: this verifier knows "
                                 f"{', '.join(sorted(VERIFIERS))}")
    _exact_fields(bundle, registered.fields, "the bundle")
    trusted = _address(trusted_operator, "the trusted operator key")
    named = _address(bundle["operator"], "the bundle's operator")
    if named != trusted:
        raise VerificationFailed(
            f"the bundle names operator {to_checksum_address(named)}, but the key you trust "
            f"is {to_checksum_address(trusted)}: it was not issued under that key")
    checkpoint = open_checkpoint(bundle["checkpoint"], trusted_operator)
    anchor = check_anchor(bundle["anchor"], checkpoint.number)
    statement = registered.verify(bundle, checkpoint, trusted_operator)
    claims = [AnchorClaim(checkpoint, anchor)]
    if "from_checkpoint" in registered.fields:
        # Verified by the kind's verifier above; opened again here only to list its anchor.
        older = open_checkpoint(bundle["from_checkpoint"], trusted_operator)
        claims.append(AnchorClaim(older, check_anchor(bundle["from_anchor"], older.number)))
    return Verified(kind, checkpoint, to_checksum_address(trusted), statement, anchor,
                    tuple(claims))


def open_checkpoint(note: Any, trusted_operator: str) -> CheckpointBody:
    """A signed checkpoint's fields, once its signature by the trusted key is verified."""
    try:
        return open_note(note, trusted_operator)
    except NoteError as exc:
        raise VerificationFailed(f"checkpoint rejected: {exc}") from exc


def check_anchor(anchor: Any, number: int) -> Mapping[str, Any] | None:
    """The anchor's shape. Whether the chain holds it needs the chain: not checked here."""
    if anchor is None:
        return None
    if not isinstance(anchor, Mapping) or set(anchor) != ANCHOR_FIELDS:
        raise VerificationFailed(f"anchor must be null or an object with exactly "
                                 f"{', '.join(sorted(ANCHOR_FIELDS))}")
    for name in ("chain_id", "checkpoint", "block_number", "block_time"):
        value = anchor[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UINT64:
            raise VerificationFailed(f"anchor {name} must be an integer in 0..2^64-1, got "
                                     f"{value!r:.40}")
    _address(anchor["contract"], "the anchor's contract")
    if not isinstance(anchor["tx_hash"], str) or not _TX_HASH.fullmatch(anchor["tx_hash"]):
        raise VerificationFailed("anchor tx_hash must be 0x and 64 lowercase hex digits")
    if anchor["checkpoint"] != number:
        raise VerificationFailed(f"the anchor is for checkpoint {anchor['checkpoint']}, the "
                                 f"bundle's checkpoint is {number}")
    return anchor


# --- the kinds -------------------------------------------------------------------------------

@register_verifier("entry", {"entry", "inclusion"})
def verify_entry(bundle: Mapping[str, Any], checkpoint: CheckpointBody, _trusted: str) -> str:
    text = bundle["entry"]
    if not isinstance(text, str):
        raise VerificationFailed("entry must be the entry's JSON text")
    try:
        data = text.encode("utf-8")
        document = json.loads(text)
    except (UnicodeEncodeError, ValueError) as exc:
        raise VerificationFailed(f"the entry is not valid UTF-8 JSON: {exc}") from exc
    if _canonical(document) != text:
        raise VerificationFailed("the entry is not in its canonical form (RFC 8785), which "
                                 "is the form the log commits to")
    seq = document.get("seq") if isinstance(document, dict) else None
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise VerificationFailed("the entry has no integer seq")
    version = document.get("format", 1)
    if isinstance(version, bool) or not isinstance(version, int) or \
            version not in ENTRY_FORMATS:
        # Its inclusion may hold, but what this verifier would say the entry does may not.
        raise VerificationFailed(f"journal entry {seq} is in journal format {version!r:.40}, "
                                 "which this verifier does not know: upgrade carbonledger")
    inclusion = bundle["inclusion"]
    if not isinstance(inclusion, Mapping) or set(inclusion) != {"index", "hashes"}:
        raise VerificationFailed("inclusion must be an object with exactly index, hashes")
    index = inclusion["index"]
    if index != seq or isinstance(index, bool):
        raise VerificationFailed(f"the entry says seq {seq}, but the proof is for log index "
                                 f"{index}: an entry's position in the log is its seq")
    try:
        verify_inclusion(leaf_hash(data), index, checkpoint.size,
                         _hashes(inclusion["hashes"], "inclusion"), checkpoint.log_root)
    except ProofError as exc:
        raise VerificationFailed(f"entry {seq} is not in checkpoint {checkpoint.number}'s "
                                 f"log: {exc.reason}") from exc
    if "checkpoint" in document:
        what = f"the marker that closes checkpoint {document['checkpoint']}"
    else:
        op = document.get("instruction", {}).get("op", "?")
        what = f"{op}, accepted {document.get('accepted_at', '?')}"
    return (f"journal entry {seq} ({what}) is entry {seq} of the log of {checkpoint.size} "
            f"entries signed in checkpoint {checkpoint.number} at {checkpoint.time}")


@register_verifier("lot", {"lot", "state"})
def verify_lot(bundle: Mapping[str, Any], checkpoint: CheckpointBody, _trusted: str) -> str:
    lot_id = _text(bundle["lot"], "lot")
    record = _verify_state(bundle["state"], checkpoint, lot_key(lot_id), f"lot {lot_id}",
                           {"id": lot_id})
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        return f"lot {lot_id} was not a live lot {at}: no such lot, or it had been split"
    lien = f"under lien {record.get('lien')}" if record.get("lien") else "no lien"
    return (f"lot {lot_id} {at}: serials {record.get('first')}..{record.get('last')} of "
            f"batch {record.get('batch')}, held by account {record.get('account')}, "
            f"{record.get('state')}, {lien}")


@register_verifier("holding", {"holding", "state"})
def verify_holding(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                   _trusted: str) -> str:
    holding = bundle["holding"]
    if not isinstance(holding, Mapping) or set(holding) != {"account", "batch"}:
        raise VerificationFailed("holding must be an object with exactly account, batch")
    account = _text(holding["account"], "holding account")
    batch = _text(holding["batch"], "holding batch")
    record = _verify_state(bundle["state"], checkpoint, holding_key(account, batch),
                           f"the holding of account {account} in batch {batch}",
                           {"account": account, "batch": batch})
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        return f"account {account} held no units of batch {batch} {at}"
    buckets = ", ".join(f"{name} {record.get(name)}" for name in
                        ("tradable", "pledged", "retired", "surrendered", "cancelled"))
    return f"account {account} held of batch {batch} {at}: {buckets}"


@register_verifier("account", {"account", "state"})
def verify_account(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                   _trusted: str) -> str:
    account = _text(bundle["account"], "account")
    record = _verify_state(bundle["state"], checkpoint, account_key(account),
                           f"account {account}", {"id": account})
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        return f"account {account} did not exist {at}"
    frozen = "frozen" if record.get("frozen") else "not frozen"
    return (f"account {account} {at}: a {record.get('type')} account of participant "
            f"{record.get('participant')}, {frozen}")


@register_verifier("consistency", {"from_checkpoint", "from_anchor", "consistency"})
def verify_consistency_bundle(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                              trusted: str) -> str:
    older = open_checkpoint(bundle["from_checkpoint"], trusted)
    check_anchor(bundle["from_anchor"], older.number)
    if older.origin != checkpoint.origin:
        raise VerificationFailed(f"the checkpoints are of different logs: {older.origin} and "
                                 f"{checkpoint.origin}")
    if older.number >= checkpoint.number:
        raise VerificationFailed(f"from_checkpoint ({older.number}) must come before the "
                                 f"checkpoint ({checkpoint.number})")
    try:
        verify_consistency(older.size, checkpoint.size,
                           _hashes(bundle["consistency"], "consistency"),
                           older.log_root, checkpoint.log_root)
    except ProofError as exc:
        raise VerificationFailed(f"checkpoint {checkpoint.number} does not extend checkpoint "
                                 f"{older.number}: {exc.reason}") from exc
    return (f"checkpoint {checkpoint.number} (log of {checkpoint.size} entries, "
            f"{checkpoint.time}) extends checkpoint {older.number} ({older.size} entries, "
            f"{older.time}): its first {older.size} entries are unchanged")


# --- shared checks ----------------------------------------------------------------------------

def _verify_state(state: Any, checkpoint: CheckpointBody, key: bytes, subject: str,
                  identity: Mapping[str, str]) -> dict[str, Any] | None:
    """Check a membership or non-membership proof of `key` against the checkpoint's state
    root; return the proven record (None: absent). The record must name the subject."""
    if not isinstance(state, Mapping) or set(state) != {"key", "value", "proof"}:
        raise VerificationFailed("state must be an object with exactly key, value, proof")
    if state["key"] != key.hex():
        raise VerificationFailed(f"the proof is for key {state['key']!r:.70}, but {subject} "
                                 f"has key {key.hex()}")
    value = state["value"]
    record = None
    if value is not None:
        if not isinstance(value, str):
            raise VerificationFailed("state value must be the record's JSON text, or null")
        try:
            record = json.loads(value)
        except ValueError as exc:
            raise VerificationFailed(f"the state value is not JSON: {exc}") from exc
        if _canonical(record) != value:
            raise VerificationFailed("the state value is not in its canonical form (RFC 8785)")
        if not isinstance(record, dict) or any(record.get(k) != v for k, v in identity.items()):
            raise VerificationFailed(f"the proven record does not describe {subject}")
    try:
        proof = smt.Proof.from_dict(state["proof"])
        smt.verify(checkpoint.state_root, key, None if value is None else value.encode(),
                   proof)
    except (smt.ProofError, UnicodeEncodeError) as exc:
        raise VerificationFailed(f"the state proof of {subject} does not hold at checkpoint "
                                 f"{checkpoint.number}: {exc}") from exc
    return record


def _address(value: Any, what: str) -> bytes:
    try:
        return parse_address(value, what)
    except NoteError as exc:
        raise VerificationFailed(str(exc)) from exc


def _hashes(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list) or len(value) > MAX_PROOF_HASHES:
        raise VerificationFailed(f"{what} must be a list of at most {MAX_PROOF_HASHES} hashes")
    if not all(isinstance(item, str) and _HEX_HASH.fullmatch(item) for item in value):
        raise VerificationFailed(f"every {what} hash must be 64 lowercase hex digits")
    return [bytes.fromhex(item) for item in value]


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or "\x00" in value:
        raise VerificationFailed(f"{what} must be a non-empty string without NUL")
    return value


def _canonical(value: Any) -> str:
    """RFC 8785 text of a parsed journal document: on the JSON subset the ledger writes (no
    floats, ASCII keys) it is exactly Python's sorted, compact encoding (ledger.canonical)."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          allow_nan=False)
    except ValueError:
        return ""


def _exact_fields(document: Mapping[str, Any], fields: frozenset[str], what: str) -> None:
    missing, extra = fields - set(document), set(document) - fields
    if missing or extra:
        raise VerificationFailed(
            f"{what} must have exactly the fields {', '.join(sorted(fields))}"
            + (f"; missing {', '.join(sorted(missing))}" if missing else "")
            + (f"; unknown {', '.join(sorted(map(str, extra)))}" if extra else ""))


# Kinds kept in modules of their own register themselves when imported (they build on the
# functions above); importing them here lets everyone who imports this verifier check them.
from anchoring import verify_pledge  # noqa: E402, F401
