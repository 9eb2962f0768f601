"""Bundles whose only defect is the one under test: the rest is made to hold, by signing.

A changed record or entry breaks its proof, so a verifier would refuse it for that first. To
test what a verifier says about the record or entry itself, as a dishonest operator would sign
it, these helpers rebuild the proof around the changed value (a state tree or a log holding
it) and sign a checkpoint over the new roots with the golden operator key, which is a test
key that holds nothing. `note` signs any body, even one the ledger's signer refuses to sign
(an impossible time, a malformed origin).

Used by tests/conformance/generate.py and by the tests of tests/anchoring/.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from anchoring.auditor import merkle, smt
from anchoring.auditor.note import CheckpointBody, key_id, parse_text, signing_digest, split_note
from custody.signatures import address_of, unsafe_sign_digest

GOLDEN = Path(__file__).resolve().parent.parent / "vectors" / "formats"
Bundle = dict[str, Any]


def golden(name: str) -> tuple[Bundle, str]:
    """(a golden bundle, the operator it is trusted for), a fresh copy each time."""
    vector = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(vector["bundle"]), vector["trusted_operator"]


def operator_key() -> bytes:
    """The golden operator's private key (a test key)."""
    vector = json.loads((GOLDEN / "note.json").read_text(encoding="utf-8"))
    return bytes.fromhex(vector["operator_key"].removeprefix("0x"))


def body_of(note: str) -> CheckpointBody:
    """A note's body, read without the checks that a forged body may fail."""
    text, _ = split_note(note)
    lines = text.split("\n")
    try:
        return parse_text(text)
    except ValueError:
        return CheckpointBody(lines[0], int(lines[1]), base64.b64decode(lines[2]),
                              int(lines[3].split(" ")[1]),
                              base64.b64decode(lines[4].split(" ")[1]),
                              lines[5].split(" ", 1)[1])


def note(body: CheckpointBody, key: bytes | None = None) -> str:
    """`body` signed as the ledger signs it (anchoring.auditor.note.sign_note), without the
    ledger's own refusal to sign a malformed body."""
    key = key or operator_key()
    text = body.text()
    signature = unsafe_sign_digest(key, signing_digest(text))
    blob = key_id(body.origin, bytes.fromhex(address_of(key)[2:])) + signature
    return f"{text}\n\u2014 {body.origin} {base64.b64encode(blob).decode()}\n"


def resigned(note_text: str, **changes: Any) -> str:
    """The note with some body fields changed, signed again."""
    return note(replace(body_of(note_text), **changes))


def canonical(value: Any) -> str:
    """RFC 8785 text of a value with ASCII keys (the ledger's writer's subset)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- the state tree ----------------------------------------------------------------------------

def state_items(bundle: Bundle) -> list[dict[str, Any]]:
    """Every `state` object of a bundle (a record kind's, a pledge pack's, a disclosure's)."""
    if "state" in bundle:
        return [bundle["state"]]
    if bundle.get("kind") == "pledge":
        return [bundle["pledgor_account"]["state"], *(lot["state"] for lot in bundle["lots"])]
    if bundle.get("kind") == "disclosure":
        return [item["state"] for item in bundle["obligations"]]
    return []


def with_state(bundle: Bundle, change: Callable[[list[dict[str, Any]]], None],
               others: Iterable[tuple[bytes, str]] = ()) -> Bundle:
    """The bundle after `change` edits its state items (their values, text or null, or their
    keys), with a state tree holding exactly those values and the records `others` (key,
    text: what a non-membership proof is proven beside), fresh proofs and a checkpoint signed
    over its root."""
    bundle = copy.deepcopy(bundle)
    items = state_items(bundle)
    change(items)
    tree = smt.SparseMerkleTree.from_items(
        [*((bytes.fromhex(item["key"]), item["value"].encode("utf-8"))
           for item in items if item["value"] is not None),
         *((key, text.encode("utf-8")) for key, text in others)])
    for item in items:
        item["proof"] = tree.prove(bytes.fromhex(item["key"])).to_dict()
    bundle["checkpoint"] = resigned(bundle["checkpoint"], state_root=tree.root)
    return bundle


def record_change(change: Callable[[dict[str, Any]], object], at: int = 0
                  ) -> Callable[[list[dict[str, Any]]], None]:
    """Edit the `at`-th state item's record (parsed) and write it back canonically."""
    def edit(items: list[dict[str, Any]]) -> None:
        record = json.loads(items[at]["value"])
        change(record)
        items[at]["value"] = canonical(record)
    return edit


# --- the log ----------------------------------------------------------------------------------

def golden_log() -> list[str]:
    """The golden journal's entries, as text, in seq order."""
    lines = (GOLDEN / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["entry"] for line in lines]


def with_log(bundle: Bundle, entries: Iterable[str], proven: Mapping[str, int] | None = None,
             **note_changes: Any) -> Bundle:
    """An `entry` bundle (or a pledge pack, or an emissions bundle) over the log `entries`:
    each proven entry's text and inclusion proof from that log, the checkpoint signed over its
    size and root. `proven`: for an entry or emissions bundle, the index of the entry it
    proves (default: its own)."""
    bundle = copy.deepcopy(bundle)
    log = list(entries)
    hashes = [merkle.leaf_hash(text.encode("utf-8")) for text in log]
    kind = bundle.get("kind")
    targets = (bundle["entries"] if kind == "pledge"
               else [bundle["entry"]] if kind == "emissions" else [bundle])
    for target in targets:
        index = (proven or {}).get("index", target["inclusion"]["index"])
        target["entry"] = log[index]
        target["inclusion"] = {"index": index, "hashes": [
            h.hex() for h in merkle.inclusion_proof(hashes, index, len(log))]}
    bundle["checkpoint"] = resigned(bundle["checkpoint"], size=len(log),
                                    log_root=merkle.root_from_leaf_hashes(hashes),
                                    **note_changes)
    return bundle


def entry_change(log: list[str], index: int, change: Callable[[dict[str, Any]], object],
                 write: Callable[[Any], str] = canonical) -> list[str]:
    """The log with entry `index` changed (parsed, edited, written back by `write`)."""
    log = list(log)
    document = json.loads(log[index])
    change(document)
    log[index] = write(document)
    return log
