"""The project's own formats against committed golden vectors (tests/vectors/formats/).

Every byte these vectors hold is already signed, logged or anchored somewhere: the EIP-712
digest and signature of each operation, its journal entry and leaf hash, a signed checkpoint,
a proof bundle of each kind, and a journal written partly in format 1's legacy form (no
"format" key) and partly with the key. A change that makes one of them fail breaks existing
ledgers or bundles already handed out: it needs a new format version and new vectors beside
these (docs/DESIGN.md, "Journal entries"), never regenerated ones.

Each vector is recomputed from the code; each mutation (`name@change.json`) must fail with
its `wantErr`: a rejection reason (`bad_signature`), an exception class (`NoteError`,
`VerificationFailed`, `UnknownEntryFormat`) or a mismatch named below (`leaf_hash_mismatch`),
and, where given, with `wantReason` in its message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anchoring.audit import audit
from anchoring.auditor.bundle_format import ENTRY_FORMATS
from anchoring.auditor.errors import VerificationFailed
from anchoring.auditor.note import CheckpointBody, NoteError, open_note, sign_note
from anchoring.auditor.verify import STANDARD_KINDS, verify_bundle
from custody.signatures import SignatureError, address_of, recover_address_bytes
from ledger.canonical import canonical_json, leaf_hash
from ledger.errors import Reason, Rejected
from ledger.instructions import make_domain, sign
from ledger.journal import (
    ENTRY_FORMAT,
    KNOWN_FORMATS,
    MARKER_OP,
    UnknownEntryFormat,
    make_entry,
    stored_form,
    writing_form,
)
from ledger.replay import replay_rows
from ledger.state import JournalRow
from ledger.store.database import Store
from pledge.queries import pledge_history
from tests.world import OPERATIONS, World

VECTORS = Path(__file__).resolve().parent / "vectors" / "formats"
JOURNAL = VECTORS / "journal.jsonl"

Vector = dict[str, Any]


class Mismatch(Exception):
    """A value a vector stores differs from what the code computes; `name` says which."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


# --- the checks (tests/vectors/formats/generate.py runs them too, before writing) -----------

def check_operation(vector: Vector) -> None:
    """An operation's instruction, digests, signatures, journal entry and leaf hash."""
    domain = make_domain(vector["domain"]["chainId"])
    if domain.as_dict() != vector["domain"]:
        raise Mismatch("domain_mismatch", f"{vector['domain']} is not the ledger's domain")
    document = json.loads(vector["entry"])
    form = stored_form(document)  # UnknownEntryFormat
    if form is None:  # each vector is in a format with the key
        raise Mismatch("entry_mismatch", "the entry is not in format 1 or later (no key)")
    with writing_form(form):  # admitted under the rules of the format it was written in
        signed = OPERATIONS.parse_signed(vector["instruction"])  # Rejected: its reason
    instruction = signed.instruction
    if instruction.op != vector["op"]:
        raise Mismatch("op_mismatch", f"the instruction is a {instruction.op}")
    if instruction.schema.struct.encode_type() != vector["eip712_type"]:
        raise Mismatch("type_mismatch", instruction.schema.struct.encode_type())
    if len(vector["signers"]) != len(signed.approvals):
        raise Mismatch("signers_mismatch", "one signer per approval")
    for approval, signer in zip(signed.approvals, vector["signers"], strict=True):
        key = _hex(signer["private_key"])
        if address_of(key) != approval.signer:
            raise Mismatch("key_mismatch", f"the key is {address_of(key)}'s")
        digest = instruction.digest(domain, approval.signer, approval.nonce)
        try:  # as the engine does: the signature must recover the signer (low s only)
            recovered = recover_address_bytes(digest, approval.signature)
        except SignatureError as exc:
            raise Rejected(Reason.bad_signature, str(exc)) from exc
        if recovered != _hex(approval.signer):
            raise Rejected(Reason.bad_signature, f"signature is not by {approval.signer}")
        if digest != _hex(signer["digest"]):
            raise Mismatch("digest_mismatch", f"the code gives 0x{digest.hex()}")
        # secp256k1 signing is deterministic (RFC 6979): the same key signs the same bytes
        if sign(instruction, key, approval.nonce, domain).signature != approval.signature:
            raise Mismatch("signature_mismatch", "signing again gives other bytes")
    check_entry_bytes(vector["entry"])
    if document.get("instruction") != vector["instruction"]:
        raise Mismatch("instruction_mismatch", "the entry holds another instruction")
    with writing_form(form):
        rebuilt = make_entry(document["seq"], signed, document["accepted_at"],
                             document["effects"])
    if rebuilt.entry != vector["entry"].encode("utf-8"):
        raise Mismatch("entry_mismatch", f"the code writes {rebuilt.entry.decode()}")
    if leaf_hash(rebuilt.entry) != _hex(vector["leaf_hash"]):
        raise Mismatch("leaf_hash_mismatch", f"the code gives {leaf_hash(rebuilt.entry).hex()}")


def check_entry_bytes(text: str) -> None:
    """Stored entry text: RFC 8785 canonical JSON of a known format."""
    document = json.loads(text)
    if canonical_json(document) != text.encode("utf-8"):
        raise Mismatch("not_canonical", "the entry is not RFC 8785 canonical JSON")
    stored_form(document)  # UnknownEntryFormat


def check_note(vector: Vector) -> None:
    """A signed checkpoint: it opens with the operator's key, says what the vector says, and
    signing its body again gives the same note."""
    body = open_note(vector["note"], vector["operator"])  # NoteError
    expected = vector["body"]
    wanted = CheckpointBody(expected["origin"], expected["size"], _hex(expected["log_root"]),
                            expected["number"], _hex(expected["state_root"]),
                            expected["time"])
    if body != wanted:
        raise Mismatch("body_mismatch", f"the note says {body}")
    if address_of(_hex(vector["operator_key"])) != vector["operator"]:
        raise Mismatch("key_mismatch", "operator_key is not the operator's")
    if sign_note(body, _hex(vector["operator_key"])) != vector["note"]:
        raise Mismatch("note_mismatch", "signing the body again gives another note")


def check_bundle(vector: Vector) -> None:
    """A proof bundle verifies offline against the operator key it was made for."""
    verified = verify_bundle(vector["bundle"], vector["trusted_operator"])  # VerificationFailed
    if verified.kind != vector["bundle"]["kind"]:
        raise Mismatch("kind_mismatch", verified.kind)


CHECKS: dict[str, Callable[[Vector], None]] = {
    "entry": check_operation, "note": check_note, "bundle": check_bundle}


def check(name: str, vector: Vector) -> None:
    """Check the vector stored as `name` (its prefix says what it is)."""
    CHECKS[name.split("-", 1)[0].split("@", 1)[0]](vector)


def error_name(exc: Exception) -> str:
    if isinstance(exc, Rejected):
        return exc.reason.name
    if isinstance(exc, Mismatch):
        return exc.name
    return type(exc).__name__


def failure_of(name: str, vector: Vector) -> Exception | None:
    try:
        check(name, vector)
    except (Rejected, Mismatch, NoteError, VerificationFailed,
            UnknownEntryFormat) as exc:
        return exc
    return None


def fails_as_wanted(name: str, vector: Vector) -> str | None:
    """None if the mutation fails as its wantErr (and wantReason) say; else what happened."""
    failure = failure_of(name, vector)
    if failure is None:
        return f"{name} passed, expected {vector['wantErr']}"
    if error_name(failure) != vector["wantErr"]:
        return f"{name} failed with {error_name(failure)} ({failure}), expected {vector['wantErr']}"
    if vector.get("wantReason", "") not in str(failure):
        return f"{name} failed for another reason: {failure!r}; expected {vector['wantReason']!r}"
    return None


# --- the tests --------------------------------------------------------------------------------

def _load(path: Path) -> Vector:
    vector: Vector = json.loads(path.read_text(encoding="utf-8"))
    return vector


VECTOR_FILES = sorted(p for p in VECTORS.glob("*.json") if "@" not in p.name)
MUTATION_FILES = sorted(VECTORS.glob("*@*.json"))


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_each_vector_is_what_the_code_computes(path: Path) -> None:
    check(path.stem, _load(path))


@pytest.mark.parametrize("path", MUTATION_FILES, ids=lambda p: p.stem)
def test_each_mutation_fails_with_its_wanted_error(path: Path) -> None:
    vector = _load(path)
    assert (VECTORS / f"{path.stem.split('@')[0]}.json").exists(), "a mutation of what?"
    problem = fails_as_wanted(path.stem, vector)
    assert problem is None, problem


def test_every_operation_and_every_bundle_kind_has_a_vector() -> None:
    names = {path.stem for path in VECTOR_FILES}
    missing = [op for op in OPERATIONS.names if f"entry-{op}" not in names]
    assert not missing, f"operations without a golden vector: {missing}"
    kinds = [kind.name for kind in STANDARD_KINDS if f"bundle-{kind.name}" not in names]
    assert not kinds, f"bundle kinds without a golden vector: {kinds}"
    assert "note" in names
    assert len(MUTATION_FILES) >= 20


def test_the_verifier_knows_the_formats_the_ledger_writes() -> None:
    # anchoring.auditor may not import the ledger, so it keeps its own copy of the set
    assert ENTRY_FORMATS == KNOWN_FORMATS
    assert ENTRY_FORMAT in KNOWN_FORMATS


def golden_rows() -> list[JournalRow]:
    rows = []
    for line in JOURNAL.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        rows.append(JournalRow(item["seq"], _hex(item["instruction_id"]),
                               _hex(item["body_hash"]), item["op"],
                               item["entry"].encode("utf-8"), _hex(item["leaf_hash"]),
                               item["accepted_at"]))
    return rows


def test_the_golden_journal_is_varied_and_holds_both_forms() -> None:
    rows = golden_rows()
    forms = [None if row.op == MARKER_OP else stored_form(json.loads(row.entry))
             for row in rows]
    assert forms.count(None) - sum(row.op == MARKER_OP for row in rows) >= 10  # legacy
    assert forms.count(1) >= 10
    assert forms.count(2) >= 4
    assert {"pledge_register", "pledge_enforce", "repo_open", "repo_default",
            MARKER_OP} <= {row.op for row in rows}
    for row in rows:
        assert leaf_hash(row.entry) == row.leaf_hash, f"entry {row.seq}"
        check_entry_bytes(row.entry.decode("utf-8"))


@pytest.mark.parametrize("group_size", [500, 3])
def test_the_golden_journal_replays_byte_for_byte(sqlite_store: Store,
                                                  group_size: int) -> None:
    """Existing ledgers must replay: each entry is rebuilt, from its signed instruction, to
    exactly the stored bytes and journal columns, in the form it was stored in."""
    rows = golden_rows()
    replayed, difference = replay_rows(rows, sqlite_store, OPERATIONS, group_size)
    assert difference is None, difference
    assert replayed == len(rows)
    with sqlite_store.read() as tx:
        rebuilt = tx.journal_rows(0, len(rows) + 1)
    for golden, mine in zip(rows, rebuilt, strict=True):
        assert mine.entry == golden.entry, f"entry {golden.seq}"
        assert mine == golden, f"entry {golden.seq}: journal columns"


def _with_entry(rows: list[JournalRow], seq: int, document: dict[str, Any]) -> list[JournalRow]:
    entry = canonical_json(document)
    changed = JournalRow(seq, rows[seq].instruction_id, rows[seq].body_hash, rows[seq].op,
                         entry, leaf_hash(entry), rows[seq].accepted_at)
    return [*rows[:seq], changed, *rows[seq + 1:]]


def _first_entry(rows: list[JournalRow], form: int | None) -> int:
    return next(row.seq for row in rows if row.op not in (MARKER_OP, "genesis")
                and stored_form(json.loads(row.entry)) == form)


@pytest.mark.parametrize("form", [None, *sorted(KNOWN_FORMATS)])
def test_an_entry_of_a_newer_format_is_a_named_difference(sqlite_store: Store,
                                                          form: int | None) -> None:
    rows = golden_rows()
    seq = _first_entry(rows, form)
    document = json.loads(rows[seq].entry) | {"format": ENTRY_FORMAT + 1}
    replayed, difference = replay_rows(_with_entry(rows, seq, document), sqlite_store,
                                       OPERATIONS)
    assert (replayed, difference) == (
        seq, f"entry {seq}: journal format {ENTRY_FORMAT + 1} is newer than this code knows: "
             "upgrade carbonledger")


def test_replay_rebuilds_each_entry_in_the_form_it_was_stored_in(sqlite_store: Store) -> None:
    rows = golden_rows()
    seq = _first_entry(rows, ENTRY_FORMAT)
    legacy = {k: v for k, v in json.loads(rows[seq].entry).items() if k != "format"}
    rows = _with_entry(rows, seq, legacy)[:seq + 1]
    assert replay_rows(rows, sqlite_store, OPERATIONS) == (seq + 1, None)
    with sqlite_store.read() as tx:
        assert tx.journal_row(seq) == rows[seq]


def test_the_engine_writes_entries_in_the_current_format(world: World) -> None:
    with world.store.read() as tx:
        genesis = tx.journal_row(0)
    assert genesis is not None
    assert json.loads(genesis.entry)["format"] == ENTRY_FORMAT


def test_a_ledger_upgraded_from_the_legacy_form_passes_the_audit(sqlite_store: Store) -> None:
    """The golden history, built again (legacy form up to checkpoint 4, format 1 to checkpoint
    5, format 2 after): the
    full audit (replay, every checkpoint's roots recomputed from the journal, the state
    commitment's changes taken from entries of both forms, invariants) finds nothing, and
    the pledge's history reads entries of both forms."""
    from tests.vectors.formats.generate import build

    history = build(sqlite_store)
    with sqlite_store.read() as tx:
        forms = {stored_form(json.loads(row.entry))
                 for row in tx.journal_rows(0, tx.head + 1) if row.op != MARKER_OP}
    assert forms == {None, 1, 2}
    report = audit(sqlite_store, OPERATIONS, history.operator)
    assert report.ok, report.first_discrepancy
    assert report.checkpoints == 5
    pledge = pledge_history(sqlite_store, "P1")
    assert pledge is not None
    assert [entry.op for entry in pledge.entries] == [
        "pledge_register", "pledge_release", "pledge_amend", "pledge_enforce"]
