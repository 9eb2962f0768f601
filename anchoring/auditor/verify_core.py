"""The core's bundle kinds: a journal entry in the log (`entry`), a lot's, a holding's or an
account's state at a checkpoint (`lot`, `holding`, `account`), and one checkpoint's log
extending another's (`consistency`). docs/proof-format.md describes each.

Each kind is a `BundleKind` value; `CORE_KINDS` lists them. Other kinds build on the checks
here (anchoring.auditor.verify_pledge checks each entry and lot of a pack with them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anchoring.auditor.bundle_format import (
    ENTRY_FORMATS,
    BundleKind,
    canonical_text,
    check_anchor,
    hash_list,
    open_checkpoint,
    text_field,
    verify_state,
)
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.state_keys import account_key, holding_key, lot_key


def verify_entry(bundle: Mapping[str, Any], checkpoint: CheckpointBody, _trusted: str) -> str:
    text = bundle["entry"]
    if not isinstance(text, str):
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 "entry must be the entry's JSON text")
    try:
        data = text.encode("utf-8")
        document = json.loads(text)
    except (UnicodeEncodeError, ValueError) as exc:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 f"the entry is not valid UTF-8 JSON: {exc}") from exc
    if canonical_text(document) != text:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 "the entry is not in its canonical form (RFC 8785), which "
                                 "is the form the log commits to")
    seq = document.get("seq") if isinstance(document, dict) else None
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 "the entry has no integer seq")
    version = document.get("format", 1)
    if isinstance(version, bool) or not isinstance(version, int) or \
            version not in ENTRY_FORMATS:
        # Its inclusion may hold, but what this verifier would say the entry does may not.
        raise VerificationFailed(VerifyFailure.unsupported,
                                 f"journal entry {seq} is in journal format {version!r:.40}, "
                                 "which this verifier does not know: upgrade carbonledger")
    inclusion = bundle["inclusion"]
    if not isinstance(inclusion, Mapping) or set(inclusion) != {"index", "hashes"}:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 "inclusion must be an object with exactly index, hashes")
    index = inclusion["index"]
    if index != seq or isinstance(index, bool):
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"the entry says seq {seq}, but the proof is for log index "
                                 f"{index}: an entry's position in the log is its seq")
    try:
        verify_inclusion(leaf_hash(data), index, checkpoint.size,
                         hash_list(inclusion["hashes"], "inclusion"), checkpoint.log_root)
    except ProofError as exc:
        raise VerificationFailed(VerifyFailure.log_proof_failed,
                                 f"entry {seq} is not in checkpoint {checkpoint.number}'s "
                                 f"log: {exc.reason}") from exc
    if "checkpoint" in document:
        what = f"the marker that closes checkpoint {document['checkpoint']}"
    else:
        op = document.get("instruction", {}).get("op", "?")
        what = f"{op}, accepted {document.get('accepted_at', '?')}"
    return (f"journal entry {seq} ({what}) is entry {seq} of the log of {checkpoint.size} "
            f"entries signed in checkpoint {checkpoint.number} at {checkpoint.time}")


def verify_lot(bundle: Mapping[str, Any], checkpoint: CheckpointBody, _trusted: str) -> str:
    lot_id = text_field(bundle["lot"], "lot")
    record = verify_state(bundle["state"], checkpoint, lot_key(lot_id), f"lot {lot_id}",
                          {"id": lot_id})
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        return f"lot {lot_id} was not a live lot {at}: no such lot, or it had been split"
    lien = f"under lien {record.get('lien')}" if record.get("lien") else "no lien"
    return (f"lot {lot_id} {at}: serials {record.get('first')}..{record.get('last')} of "
            f"batch {record.get('batch')}, held by account {record.get('account')}, "
            f"{record.get('state')}, {lien}")


def verify_holding(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                   _trusted: str) -> str:
    holding = bundle["holding"]
    if not isinstance(holding, Mapping) or set(holding) != {"account", "batch"}:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 "holding must be an object with exactly account, batch")
    account = text_field(holding["account"], "holding account")
    batch = text_field(holding["batch"], "holding batch")
    record = verify_state(bundle["state"], checkpoint, holding_key(account, batch),
                          f"the holding of account {account} in batch {batch}",
                          {"account": account, "batch": batch})
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        return f"account {account} held no units of batch {batch} {at}"
    buckets = ", ".join(f"{name} {record.get(name)}" for name in
                        ("tradable", "pledged", "retired", "surrendered", "cancelled"))
    return f"account {account} held of batch {batch} {at}: {buckets}"


def verify_account(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                   _trusted: str) -> str:
    account = text_field(bundle["account"], "account")
    record = verify_state(bundle["state"], checkpoint, account_key(account),
                          f"account {account}", {"id": account})
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        return f"account {account} did not exist {at}"
    frozen = "frozen" if record.get("frozen") else "not frozen"
    return (f"account {account} {at}: a {record.get('type')} account of participant "
            f"{record.get('participant')}, {frozen}")


def verify_consistency_bundle(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                              trusted: str) -> str:
    older = open_checkpoint(bundle["from_checkpoint"], trusted)
    check_anchor(bundle["from_anchor"], older.number)
    if older.origin != checkpoint.origin:
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"the checkpoints are of different logs: {older.origin} and "
                                 f"{checkpoint.origin}")
    if older.number >= checkpoint.number:
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"from_checkpoint ({older.number}) must come before the "
                                 f"checkpoint ({checkpoint.number})")
    try:
        verify_consistency(older.size, checkpoint.size,
                           hash_list(bundle["consistency"], "consistency"),
                           older.log_root, checkpoint.log_root)
    except ProofError as exc:
        raise VerificationFailed(VerifyFailure.log_proof_failed,
                                 f"checkpoint {checkpoint.number} does not extend checkpoint "
                                 f"{older.number}: {exc.reason}") from exc
    return (f"checkpoint {checkpoint.number} (log of {checkpoint.size} entries, "
            f"{checkpoint.time}) extends checkpoint {older.number} ({older.size} entries, "
            f"{older.time}): its first {older.size} entries are unchanged")


ENTRY = BundleKind("entry", frozenset({"entry", "inclusion"}), verify_entry)
LOT = BundleKind("lot", frozenset({"lot", "state"}), verify_lot)
HOLDING = BundleKind("holding", frozenset({"holding", "state"}), verify_holding)
ACCOUNT = BundleKind("account", frozenset({"account", "state"}), verify_account)
CONSISTENCY = BundleKind("consistency", frozenset({"from_checkpoint", "from_anchor",
                                                   "consistency"}), verify_consistency_bundle)
CORE_KINDS = (ENTRY, LOT, HOLDING, ACCOUNT, CONSISTENCY)
