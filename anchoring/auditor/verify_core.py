"""The core's bundle kinds: a journal entry in the log (`entry`), a lot's, a holding's or an
account's state at a checkpoint (`lot`, `holding`, `account`), and one checkpoint's log
extending another's (`consistency`). docs/proof-format.md describes each.

Each kind is a `BundleKind` value; `CORE_KINDS` lists them. Other kinds build on the checks
here (anchoring.auditor.verify_pledge checks each entry and lot of a pack with them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anchoring.auditor import jcs
from anchoring.auditor.bundle_format import (
    BundleKind,
    check_anchor,
    exact_fields,
    hash_list,
    integer,
    open_checkpoint,
    text_field,
    typed,
    verify_state,
)
from anchoring.auditor.entries import check_entry, check_genesis, check_marker
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.state_keys import account_key, holding_key, lot_key


def verify_entry(bundle: Mapping[str, Any], checkpoint: CheckpointBody, _trusted: str) -> str:
    text = bundle["entry"]
    typed(text, str, "entry (the entry's JSON text)")
    document = jcs.parse_canonical(text, "the entry")
    seq = check_entry(document)
    inclusion = bundle["inclusion"]
    typed(inclusion, Mapping, "inclusion")
    exact_fields(inclusion, frozenset({"index", "hashes"}), "inclusion")
    index = integer(inclusion["index"], "the inclusion index")
    if index != seq:
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"the entry says seq {seq}, but the proof is for log index "
                                 f"{index}: an entry's position in the log is its seq")
    entry_hash = leaf_hash(text.encode("utf-8"))
    try:
        verify_inclusion(entry_hash, index, checkpoint.size,
                         hash_list(inclusion["hashes"], "inclusion"), checkpoint.log_root)
    except ProofError as exc:
        raise VerificationFailed(VerifyFailure.log_proof_failed,
                                 f"entry {seq} is not in checkpoint {checkpoint.number}'s "
                                 f"log: {exc.reason}") from exc
    check_marker(document, seq, checkpoint)
    if seq == 0:
        check_genesis(document, entry_hash, checkpoint)
    if "checkpoint" in document:
        what = f"the marker that closes checkpoint {document['checkpoint']}"
    else:
        what = f"{document['instruction']['op']}, accepted {document['accepted_at']}"
    return (f"journal entry {seq} ({what}) is entry {seq} of the log of {checkpoint.size} "
            f"entries signed in checkpoint {checkpoint.number} at {checkpoint.time}")


def verify_lot(bundle: Mapping[str, Any], checkpoint: CheckpointBody, _trusted: str) -> str:
    lot_id = text_field(bundle["lot"], "lot")
    record = verify_state(bundle["state"], checkpoint, lot_key(lot_id), f"lot {lot_id}",
                          {"id": lot_id}, "lot")
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
    typed(holding, Mapping, "holding")
    exact_fields(holding, frozenset({"account", "batch"}), "holding")
    account = text_field(holding["account"], "holding account")
    batch = text_field(holding["batch"], "holding batch")
    record = verify_state(bundle["state"], checkpoint, holding_key(account, batch),
                          f"the holding of account {account} in batch {batch}",
                          {"account": account, "batch": batch}, "holding")
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
                          f"account {account}", {"id": account}, "account")
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        return f"account {account} did not exist {at}"
    frozen = "frozen" if record.get("frozen") else "not frozen"
    return (f"account {account} {at}: a {record.get('type')} account of participant "
            f"{record.get('participant')}, {frozen}")


def verify_consistency_bundle(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                              trusted: str) -> str:
    typed(bundle["from_checkpoint"], str, "from_checkpoint (the signed note's text)")
    older = open_checkpoint(bundle["from_checkpoint"], trusted)
    check_anchor(bundle["from_anchor"], older.number)
    if older.origin != checkpoint.origin:
        raise VerificationFailed(VerifyFailure.wrong_ledger,
                                 f"the checkpoints are of different logs: {older.origin} and "
                                 f"{checkpoint.origin}")
    if older.number >= checkpoint.number:
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"from_checkpoint ({older.number}) must come before the "
                                 f"checkpoint ({checkpoint.number})")
    if older.size >= checkpoint.size:
        # Each checkpoint adds at least its marker: an equal size is no extension to prove.
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"from_checkpoint's log ({older.size} entries) must be "
                                 f"shorter than the checkpoint's ({checkpoint.size})")
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
