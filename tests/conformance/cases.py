"""The conformance suite's cases: each a bundle file with one defect, and the code it must be
refused with (docs/proof-format.md, "Codes"); and valid bundles a verifier must accept.

A case is made from a golden bundle (tests/vectors/formats/) by one change. Where the change
would also break a proof, tests/conformance/forge.py rebuilds the proof and signs the
checkpoint again with the golden operator key, so that the named defect is the bundle's only
one and any verifier, whatever order it checks in, must name it.

tests/conformance/generate.py writes these as files; tests/anchoring/test_verifier_strict.py
checks each against our verifier directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anchoring.auditor.verify_compliance import DISCLOSED_FIGURES, emissions_key, obligation_key
from tests.conformance.forge import (
    Bundle,
    canonical,
    entry_change,
    golden,
    golden_log,
    record_change,
    resigned,
    state_items,
    with_log,
    with_state,
)

VERIFIED = "verified"
CHECKPOINT_SIZE = 40  # the golden bundles' checkpoint 5 holds entries 0..39
ENTRY_INDEX = 26  # the golden `entry` bundle's entry (a pledge_amend)
ANCHOR = {"chain_id": 31337, "contract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
          "checkpoint": 5, "tx_hash": "0x" + "ab" * 32, "block_number": 7,
          "block_time": 1798765230}


@dataclass(frozen=True)
class Case:
    name: str  # the file's name without .json: `<golden bundle>@<defect>`, or a valid one's
    description: str
    make: Callable[[], str]  # the bundle file's text
    expect: str  # a VerifyFailure code's name, or "verified"


def _text(bundle: Bundle) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def _edit(name: str, change: Callable[[Bundle], object]) -> Callable[[], str]:
    def make() -> str:
        bundle, _ = golden(name)
        change(bundle)
        return _text(bundle)
    return make


def _raw(name: str, change: Callable[[str], str]) -> Callable[[], str]:
    """A change of the file's text itself (what a parsed bundle cannot hold)."""
    def make() -> str:
        bundle, _ = golden(name)
        text = change(_text(bundle))
        assert text != _text(bundle)
        return text
    return make


def _state(name: str, change: Callable[[list[dict[str, Any]]], None]) -> Callable[[], str]:
    return lambda: _text(with_state(golden(name)[0], change))


def _record(name: str, change: Callable[[dict[str, Any]], object], at: int = 0
            ) -> Callable[[], str]:
    return _state(name, record_change(change, at))


def _value_text(text: str) -> Callable[[list[dict[str, Any]]], None]:
    def edit(items: list[dict[str, Any]]) -> None:
        items[0]["value"] = text
    return edit


def _log(change: Callable[[list[str]], list[str]], index: int = ENTRY_INDEX,
         **note_changes: Any) -> Callable[[], str]:
    def make() -> str:
        log = change(golden_log()[:CHECKPOINT_SIZE])
        return _text(with_log(golden("bundle-entry")[0], log, {"index": index},
                              **note_changes))
    return make


def _entry(change: Callable[[dict[str, Any]], object],
           write: Callable[[Any], str] = canonical) -> Callable[[], str]:
    return _log(lambda log: entry_change(log, ENTRY_INDEX, change, write))


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.__setitem__(key, value)


def _fields(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["instruction"]["fields"].update(values)


def _non_bmp_fields(document: dict[str, Any]) -> None:
    # U+FF61 sorts before U+1F600 by code point, after it by UTF-16 code unit (0xD83D)
    document["instruction"]["fields"].update({"\uff61": 1, "\U0001f600": 2})


def _utf16_order(value: Any) -> str:
    """RFC 8785 key order (UTF-16 code units), for a document whose keys need it."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_utf16_order(v)}"
                              for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_utf16_order(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _older_of_same_size(bundle: Bundle) -> None:
    bundle["from_checkpoint"] = resigned(bundle["checkpoint"], number=4)
    bundle["consistency"] = []


def _pledgor_named_pledgee(items: list[dict[str, Any]]) -> None:
    record_change(_set("participant", "icbc"))(items)


OTHER_GENESIS = "carbonledger/registry/0011223344556677"

# --- the compliance module's kinds: golden bundles at checkpoint 6 -----------------------------

COMPLIANCE_SIZE = 71  # checkpoint 6 holds entries 0..70
SUBMISSION_INDEX = 58  # the golden emissions bundle's entry: HN-1-2026-07's monthly_submit
YEAR = 2026
# A second emitter's obligation for the year, beside the golden huaneng's (a forged record:
# every proof around it is rebuilt and signed with the golden operator key).
DATANG = {"emitter": "datang", "obligation": 12000, "verified_t": 12000,
          "monthly_kg": 11876543, "allowances": 11000, "credits": 1000, "verifier": "cec"}


def _submission(entry: Callable[[dict[str, Any]], object] | None = None,
                record: Callable[[dict[str, Any]], object] | None = None,
                index: int = SUBMISSION_INDEX) -> Callable[[], str]:
    """The golden emissions bundle with its monthly_submit entry (in the log) and its record
    (in the state tree) edited, alike or apart, proving the log's entry `index`."""
    def make() -> str:
        bundle = golden("bundle-emissions")[0]
        if record is not None:
            bundle = with_state(bundle, record_change(record))
        log = golden_log()[:COMPLIANCE_SIZE]
        if entry is not None:
            log = entry_change(log, SUBMISSION_INDEX, entry)
        return _text(with_log(bundle, log, {"index": index}))
    return make


def _golden_record(name: str) -> dict[str, Any]:
    """The record a golden bundle proves first."""
    return dict(json.loads(state_items(golden(name)[0])[0]["value"]))


def _other_submission() -> tuple[bytes, str]:
    """The leaf of HN-1-2026-06, the month before the golden submission's."""
    record = {**_golden_record("bundle-emissions"), "id": "HN-1-2026-06", "month": "2026-06"}
    return emissions_key("HN-1-2026-06"), canonical(record)


def _obligation_leaf(fields: dict[str, Any]) -> tuple[bytes, str]:
    record = {**_golden_record("bundle-obligation"), **fields}
    return obligation_key(record["emitter"], record["year"]), canonical(record)


def _absent(name: str, others: Callable[[], list[tuple[bytes, str]]],
            subject: Callable[[Bundle], object] = lambda bundle: None) -> Callable[[], str]:
    """Golden bundle `name` (after `subject` edits whose record it asks for) with a
    non-membership proof where it proved its first record, in a state tree of `others`."""
    def make() -> str:
        bundle = golden(name)[0]
        subject(bundle)

        def absent(items: list[dict[str, Any]]) -> None:
            if bundle["kind"] == "obligation":
                asked = bundle["obligation"]
                items[0]["key"] = obligation_key(asked["emitter"], asked["year"]).hex()
            items[0]["value"] = None
        return _text(with_state(bundle, absent, others()))
    return make


def _obligation_year(name: str, year: int, record_year: int, at: int = 0) -> Callable[[], str]:
    """Golden bundle `name` whose `at`-th obligation proof is of the golden emitter's leaf for
    `year` (its subject and key), holding the golden record with the year `record_year`."""
    def make() -> str:
        bundle = golden(name)[0]
        proofs = bundle["obligations"] if bundle["kind"] == "disclosure" else [bundle]
        proofs[at]["obligation"]["year"] = year

        def moved(items: list[dict[str, Any]]) -> None:
            items[at]["key"] = obligation_key(proofs[at]["obligation"]["emitter"], year).hex()
            record_change(_set("year", record_year), at)(items)
        return _text(with_state(bundle, moved))
    return make


def _two_rows(order: Callable[[list[Any]], list[Any]] = lambda rows: rows
              ) -> Callable[[], str]:
    """The golden disclosure with datang's row and obligation beside huaneng's, in code-point
    order of emitter, then both lists put in `order`."""
    def make() -> str:
        bundle = golden("bundle-disclosure")[0]
        key, text = _obligation_leaf(DATANG)
        bundle["disclosure"].insert(0, {"emitter": DATANG["emitter"],
                                        **{figure: DATANG[figure]
                                           for figure in DISCLOSED_FIGURES}})
        bundle["obligations"].insert(0, {"obligation": {"emitter": DATANG["emitter"],
                                                        "year": YEAR},
                                         "state": {"key": key.hex(), "value": text,
                                                   "proof": {}}})
        bundle = with_state(bundle, lambda items: None)
        bundle["disclosure"] = order(bundle["disclosure"])
        bundle["obligations"] = order(bundle["obligations"])
        return _text(bundle)
    return make


def _first_row(change: Callable[[dict[str, Any]], object]) -> Callable[[Bundle], object]:
    return lambda bundle: change(bundle["disclosure"][0])


def _doubled(bundle: Bundle) -> None:
    bundle["disclosure"] *= 2
    bundle["obligations"] *= 2


UPPERCASE_HASH = "0x" + "A9CBE457D48F0B073D2C07341F2F121E553E518EA0F52F42932B0DAE05C3A568"

CASES: list[Case] = [
    # --- valid bundles beyond the golden ones ------------------------------------------------
    Case("bundle-entry-non-bmp-keys", "an entry whose keys include one beyond U+FFFF, in RFC "
         "8785 order (UTF-16 code units): valid, though code-point order differs",
         _entry(_non_bmp_fields, _utf16_order), VERIFIED),
    Case("bundle-entry-marker", "the last entry of checkpoint 5's log: its marker",
         _log(lambda log: log, index=CHECKPOINT_SIZE - 1), VERIFIED),
    Case("bundle-entry-genesis", "entry 0, the genesis the origin names",
         _log(lambda log: log, index=0), VERIFIED),
    Case("bundle-obligation-none", "datang had no obligation for 2026: a non-membership "
         "proof, in a state tree holding huaneng's",
         _absent("bundle-obligation", lambda: [_obligation_leaf({})],
                 lambda b: b["obligation"].update(emitter="datang")), VERIFIED),
    Case("bundle-disclosure-two-rows", "a disclosure of two emitters' rows, datang's and "
         "huaneng's, each with its obligation's proof", _two_rows(), VERIFIED),
    # --- the bundle file as JSON --------------------------------------------------------------
    Case("bundle-lot@key-duplicated", "the file names \"lot\" twice, another lot first",
         _raw("bundle-lot", lambda t: t.replace('  "lot": ', '  "lot": "1.1",\n  "lot": ', 1)),
         "duplicate_key"),
    Case("bundle-lot@version-fraction", "version written 1.0",
         _raw("bundle-lot", lambda t: t.replace('"version": 1,', '"version": 1.0,', 1)),
         "bad_number"),
    Case("bundle-lot@version-exponent", "version written 1e0",
         _raw("bundle-lot", lambda t: t.replace('"version": 1,', '"version": 1e0,', 1)),
         "bad_number"),
    Case("bundle-lot@integer-beyond-2^53", "an anchor whose block number is 2^53+1",
         _edit("bundle-lot", _set("anchor", {**ANCHOR, "block_number": 2**53 + 1})),
         "bad_number"),
    # --- values of the wrong type ---------------------------------------------------------
    Case("bundle-lot@version-true", "version true (equal to 1 in some languages)",
         _edit("bundle-lot", _set("version", True)), "wrong_type"),
    Case("bundle-lot@version-string", "version \"1\"", _edit("bundle-lot", _set("version", "1")),
         "wrong_type"),
    Case("bundle-lot@kind-number", "kind 1", _edit("bundle-lot", _set("kind", 1)), "wrong_type"),
    Case("bundle-lot@lot-number", "the lot's id a number",
         _edit("bundle-lot", _set("lot", 36)), "wrong_type"),
    Case("bundle-lot@anchor-block-string", "an anchor whose block number is a string",
         _edit("bundle-lot", _set("anchor", {**ANCHOR, "block_number": "7"})), "wrong_type"),
    Case("bundle-entry@format-true", "an entry whose format is true",
         _entry(_set("format", True)), "wrong_type"),
    Case("bundle-entry@seq-string", "an entry whose seq is \"26\"",
         _entry(_set("seq", "26")), "wrong_type"),
    Case("bundle-entry@instruction-op-missing", "an entry's instruction without its op",
         _entry(lambda d: d["instruction"].pop("op")), "malformed_bundle"),
    # --- records of the state tree ---------------------------------------------------------------
    Case("bundle-lot@state-bogus", "a lot whose state is \"bogus\"",
         _record("bundle-lot", _set("state", "bogus")), "malformed_record"),
    Case("bundle-lot@lien-missing", "a lot without its lien field (not the same as null)",
         _record("bundle-lot", lambda r: r.pop("lien")), "malformed_record"),
    Case("bundle-lot@first-string", "a lot whose first serial is a string",
         _record("bundle-lot", _set("first", "12")), "malformed_record"),
    Case("bundle-lot@tradable-under-lien", "a tradable lot that names a lien",
         _record("bundle-lot", _set("state", "tradable")), "malformed_record"),
    Case("bundle-lot@serials-reversed", "a lot whose first serial is after its last",
         _record("bundle-lot", lambda r: r.update(first=r["last"] + 1)), "malformed_record"),
    Case("bundle-lot@record-field-added", "a lot record with a field lots do not have",
         _record("bundle-lot", _set("note", "x")), "malformed_record"),
    Case("bundle-account@frozen-no", "an account whose frozen flag is \"no\"",
         _record("bundle-account", _set("frozen", "no")), "malformed_record"),
    Case("bundle-account@type-bogus", "an account of a type the ledger does not have",
         _record("bundle-account", _set("type", "offshore")), "malformed_record"),
    Case("bundle-holding@bucket-negative", "a holding with -1 retired",
         _record("bundle-holding", _set("retired", -1)), "malformed_record"),
    Case("bundle-holding@all-buckets-zero", "a holding of zeros (an empty holding is absent)",
         _record("bundle-holding", lambda r: r.update(
             tradable=0, pledged=0, retired=0, surrendered=0, cancelled=0)), "malformed_record"),
    Case("bundle-lot@value-not-canonical", "the lot's record text with a space",
         _state("bundle-lot", lambda items: _value_text(
             items[0]["value"].replace(",", ", ", 1))(items)), "not_canonical"),
    Case("bundle-lot@value-key-duplicated", "the lot's record names \"state\" twice",
         _state("bundle-lot", lambda items: _value_text(
             items[0]["value"][:-1] + ',"state":"tradable"}')(items)), "duplicate_key"),
    Case("bundle-lot@value-fraction", "the lot's first serial written as a fraction",
         _state("bundle-lot", lambda items: _value_text(json.dumps(
             {**json.loads(items[0]["value"]), "first": 0.5}, sort_keys=True,
             separators=(",", ":")))(items)), "bad_number"),
    # --- journal entries -----------------------------------------------------------------------
    Case("bundle-entry@keys-in-code-point-order", "an entry with a key beyond U+FFFF, keys "
         "sorted by code point rather than by UTF-16 code unit", _entry(_non_bmp_fields),
         "not_canonical"),
    Case("bundle-entry@number-exponent", "an entry holding 1e-07",
         _entry(_fields(rate=1e-07), lambda d: json.dumps(d, sort_keys=True,
                                                          separators=(",", ":"))),
         "bad_number"),
    Case("bundle-entry@integer-beyond-2^53", "an entry holding 2^53",
         _entry(_fields(principal=2**53)), "bad_number"),
    Case("bundle-entry@key-duplicated", "an entry whose fields name \"pledge\" twice",
         _entry(lambda d: None, lambda d: canonical(d).replace(
             '"pledge":"P1"', '"pledge":"P0","pledge":"P1"', 1)), "duplicate_key"),
    Case("bundle-entry@accepted-at-impossible", "accepted on 2026-02-30",
         _entry(_set("accepted_at", "2026-02-30T02:00:00.000Z")), "bad_time"),
    Case("bundle-entry@accepted-at-without-milliseconds", "accepted_at without milliseconds",
         _entry(_set("accepted_at", "2026-07-01T02:00:00Z")), "bad_time"),
    Case("bundle-entry@last-not-marker", "a log whose last entry is an operation, not the "
         "checkpoint's marker", _log(lambda log: log[:-1], index=CHECKPOINT_SIZE - 2),
         "bad_marker"),
    Case("bundle-entry@marker-of-later-checkpoint", "a marker of checkpoint 6 inside "
         "checkpoint 5's log", _log(lambda log: [*log[:ENTRY_INDEX],
                                                 canonical({"checkpoint": 6,
                                                            "seq": ENTRY_INDEX}),
                                                 *log[ENTRY_INDEX + 1:]]), "bad_marker"),
    Case("bundle-entry@genesis-of-another-ledger", "entry 0 under an origin naming another "
         "genesis hash", _log(lambda log: log, index=0, origin=OTHER_GENESIS), "wrong_ledger"),
    Case("bundle-entry@genesis-of-another-registry", "entry 0 under an origin naming another "
         "registry", _log(lambda log: log, index=0,
                          origin="carbonledger/other/e89558e30db4d715"), "wrong_ledger"),
    # --- the signed checkpoint -----------------------------------------------------------------
    Case("bundle-lot@origin-malformed", "a checkpoint whose origin is \"registry\"",
         _edit("bundle-lot", lambda b: b.update(checkpoint=resigned(b["checkpoint"],
                                                                    origin="registry"))),
         "malformed_checkpoint"),
    Case("bundle-lot@origin-hash-uppercase", "the origin's genesis hash in uppercase hex",
         _edit("bundle-lot", lambda b: b.update(checkpoint=resigned(
             b["checkpoint"], origin="carbonledger/registry/E89558E30DB4D715"))),
         "malformed_checkpoint"),
    Case("bundle-lot@time-impossible", "a checkpoint signed at 2027-02-29 (not a leap year)",
         _edit("bundle-lot", lambda b: b.update(checkpoint=resigned(
             b["checkpoint"], time="2027-02-29T01:00:30.000Z"))), "bad_time"),
    Case("bundle-lot@time-hour-24", "a checkpoint signed at 24:00",
         _edit("bundle-lot", lambda b: b.update(checkpoint=resigned(
             b["checkpoint"], time="2027-01-01T24:00:00.000Z"))), "bad_time"),
    # --- consistency and pledge packs -----------------------------------------------------------
    Case("bundle-consistency@equal-sizes", "\"consistency\" between two checkpoints of one "
         "size, numbered 4 and 5", _edit("bundle-consistency", _older_of_same_size),
         "wrong_subject"),
    Case("bundle-consistency@origins-differ", "the earlier checkpoint of another ledger",
         _edit("bundle-consistency", lambda b: b.update(from_checkpoint=resigned(
             b["from_checkpoint"], origin=OTHER_GENESIS))), "wrong_ledger"),
    Case("bundle-pledge@pledgor-is-pledgee", "the pledgor's account record names the "
         "pledgee as its holder", _state("bundle-pledge", _pledgor_named_pledgee),
         "wrong_subject"),
    # --- monthly emissions ---------------------------------------------------------------------
    Case("bundle-emissions@submission-number", "the submission's id a number",
         _edit("bundle-emissions", _set("submission", 7)), "wrong_type"),
    Case("bundle-emissions@entry-inclusion-missing", "the entry without its inclusion proof",
         _edit("bundle-emissions", lambda b: b["entry"].pop("inclusion")), "malformed_bundle"),
    Case("bundle-emissions@late-no", "a submission whose late flag is \"no\"",
         _record("bundle-emissions", _set("late", "no")), "malformed_record"),
    Case("bundle-emissions@calibration-lapsed-missing", "a submission record without its "
         "calibration_lapsed flag", _record("bundle-emissions",
                                            lambda r: r.pop("calibration_lapsed")),
         "malformed_record"),
    Case("bundle-emissions@record-field-added", "a submission record with a field "
         "submissions do not have", _record("bundle-emissions", _set("status", "accepted")),
         "malformed_record"),
    Case("bundle-emissions@superseded-by-itself", "a submission superseded by itself",
         _record("bundle-emissions", lambda r: r.update(superseded_by=r["id"])),
         "malformed_record"),
    Case("bundle-emissions@month-13", "month 2026-13, in the record and in the entry alike",
         _submission(_fields(month="2026-13"), _set("month", "2026-13")), "malformed_record"),
    Case("bundle-emissions@document-hash-uppercase", "the document's hash in uppercase hex, "
         "in the record and in the entry alike",
         _submission(_fields(documentHash=UPPERCASE_HASH),
                     _set("document_hash", UPPERCASE_HASH)), "malformed_record"),
    Case("bundle-emissions@absent", "a non-membership proof of the submission: the bundle "
         "proves a journaled submission", _absent("bundle-emissions",
                                                  lambda: [_other_submission()]),
         "incomplete_evidence"),
    Case("bundle-emissions@entry-of-another-month", "the entry is the monthly_submit of "
         "HN-1-2026-06, not of the proven submission", _submission(index=SUBMISSION_INDEX - 1),
         "incomplete_evidence"),
    Case("bundle-emissions@entry-total-differs", "the journaled entry submitted one kilogram "
         "more than the record holds", _submission(lambda d: d["instruction"]["fields"].update(
             totalKg=d["instruction"]["fields"]["totalKg"] + 1)), "incomplete_evidence"),
    Case("bundle-emissions@entry-total-true", "the entry's totalKg is true and the record's "
         "total 1: equal in Python, different in the journal",
         _submission(_fields(totalKg=True), _set("total_kg", 1)), "incomplete_evidence"),
    # --- obligations ----------------------------------------------------------------------------
    Case("bundle-obligation@year-negative", "huaneng had no obligation for year -1: a "
         "non-membership proof for a year no record can have",
         _absent("bundle-obligation", lambda: [_obligation_leaf({})],
                 lambda b: b["obligation"].update(year=-1)), "wrong_type"),
    Case("bundle-obligation@year-string", "the year asked for is \"2026\"",
         _edit("bundle-obligation", lambda b: b["obligation"].update(year="2026")),
         "wrong_type"),
    Case("bundle-obligation@emitter-missing", "the obligation asked for names no emitter",
         _edit("bundle-obligation", lambda b: b["obligation"].pop("emitter")),
         "malformed_bundle"),
    Case("bundle-obligation@flagged-string", "an obligation whose flagged is \"false\"",
         _record("bundle-obligation", _set("flagged", "false")), "malformed_record"),
    Case("bundle-obligation@credits-negative", "an obligation with -1 t of credits",
         _record("bundle-obligation", _set("credits", -1)), "malformed_record"),
    Case("bundle-obligation@scheme-missing", "an obligation record without its scheme",
         _record("bundle-obligation", lambda r: r.pop("scheme")), "malformed_record"),
    Case("bundle-obligation@surrendered-beyond-obligation", "more allowances and credits "
         "surrendered than the obligation", _record("bundle-obligation", lambda r: r.update(
             credits=r["obligation"] - r["allowances"] + 1)), "malformed_record"),
    Case("bundle-obligation@year-before-1990", "an obligation for 1989, asked for and proven "
         "at 1989's key", _obligation_year("bundle-obligation", 1989, 1989),
         "malformed_record"),
    Case("bundle-obligation@record-of-another-year", "the record at the key of huaneng's "
         "2026 obligation says 2025", _obligation_year("bundle-obligation", YEAR, YEAR - 1),
         "wrong_subject"),
    # --- disclosures ----------------------------------------------------------------------------
    Case("bundle-disclosure@year-string", "the disclosure's year is \"2026\"",
         _edit("bundle-disclosure", _set("year", "2026")), "wrong_type"),
    Case("bundle-disclosure@credits-string", "a row whose credits are \"0\"",
         _edit("bundle-disclosure", _first_row(_set("credits", "0"))), "wrong_type"),
    Case("bundle-disclosure@row-field-added", "a row with a field rows do not have",
         _edit("bundle-disclosure", _first_row(_set("status", "met"))), "malformed_bundle"),
    Case("bundle-disclosure@proof-missing", "a row without its obligation's proof",
         _edit("bundle-disclosure", _set("obligations", [])), "incomplete_evidence"),
    Case("bundle-disclosure@row-repeated", "huaneng's row twice, each with its proof",
         _edit("bundle-disclosure", _doubled), "incomplete_evidence"),
    Case("bundle-disclosure-two-rows@rows-out-of-order", "huaneng's row before datang's, "
         "each with its proof", _two_rows(lambda rows: rows[::-1]), "incomplete_evidence"),
    Case("bundle-disclosure@row-without-obligation", "the row's proof is a non-membership "
         "proof of huaneng's 2026 obligation, in a state tree holding datang's",
         _absent("bundle-disclosure", lambda: [_obligation_leaf(DATANG)]),
         "incomplete_evidence"),
    Case("bundle-disclosure@proof-of-another-year", "the row's proof is of huaneng's 2025 "
         "obligation, not 2026's", _obligation_year("bundle-disclosure", YEAR - 1, YEAR - 1),
         "wrong_subject"),
]

# The golden mutations (tests/vectors/formats/*@*.json) whose code is stable, by file name.
GOLDEN_MUTATIONS: dict[str, str] = {
    "bundle-account@frozen-flipped": "state_proof_failed",
    "bundle-consistency@checkpoints-swapped": "wrong_subject",
    "bundle-consistency@proof-element-dropped": "log_proof_failed",
    "bundle-entry-legacy@format-added": "log_proof_failed",
    "bundle-entry@accepted-at-changed": "log_proof_failed",
    "bundle-entry@format-unknown": "unsupported",
    "bundle-entry@index-changed": "wrong_subject",
    "bundle-entry@not-canonical": "not_canonical",
    "bundle-entry@proof-element-dropped": "log_proof_failed",
    "bundle-entry@proof-element-swapped": "log_proof_failed",
    "bundle-holding@bucket-changed": "state_proof_failed",
    "bundle-lot-absent@value-claimed": "state_proof_failed",
    "bundle-lot@lot-renamed": "wrong_subject",
    "bundle-lot@operator-changed": "untrusted_operator",
    "bundle-lot@proof-element-swapped": "state_proof_failed",
    "bundle-lot@signed-by-another-key": "checkpoint_not_signed",
    "bundle-lot@state-changed": "state_proof_failed",
    "bundle-lot@unknown-field-added": "malformed_bundle",
    "bundle-lot@version-changed": "unsupported",
    "bundle-pledge@entries-reordered": "incomplete_evidence",
    "bundle-pledge@lot-dropped": "incomplete_evidence",
    "bundle-pledge@release-dropped": "incomplete_evidence",
    "bundle-emissions@total-changed": "state_proof_failed",
    "bundle-disclosure@row-changed": "incomplete_evidence",
}
GOLDEN_VALID = ["bundle-account", "bundle-consistency", "bundle-entry", "bundle-entry-legacy",
                "bundle-holding", "bundle-lot", "bundle-lot-absent", "bundle-pledge",
                "bundle-emissions", "bundle-obligation", "bundle-disclosure"]


