"""Auditing a document: is this file exactly the document a journal entry commits to, and is
that entry in a checkpoint the operator signed (and anchored)?

    checked = verify_document(bundle, open("2025-01.json", "rb").read(), trusted_operator)
    print(checked.statement)

The bundle is an `entry` bundle (`carbonledger proof entry SEQ`) of the instruction that
journaled the document (monthly_submit, annual_report_submit), whose fields carry its
`documentHash`: "0x" and the SHA-256 of the document's bytes. The bundle is verified as
`carbonledger verify` verifies it (anchoring.auditor.verify); then the file's SHA-256 must be
that hash. A file changed by one byte has another hash and fails. Pure, like the rest of
anchoring.auditor: nothing here reads the ledger or a store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from anchoring.auditor import jcs
from anchoring.auditor.bundle_format import BundleKind
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.verify import STANDARD_KINDS, Verified, verify_bundle

DOCUMENT_FIELD = "documentHash"  # the instruction field that names a journaled document


class NotTheDocument(VerificationFailed):
    """The bundle holds, but it does not prove this file: it is not an entry, the entry
    journals no document, or another one (code `wrong_subject`)."""

    def __reduce__(self) -> tuple[type[NotTheDocument], tuple[VerifyFailure, str]]:
        return (NotTheDocument, (self.code, self.reason))


@dataclass(frozen=True)
class VerifiedDocument:
    sha256: str  # 0x-hex, the file's and the entry's
    size_bytes: int
    seq: int  # the journal entry that commits to it
    op: str
    verified: Verified  # the entry bundle's verification

    @property
    def statement(self) -> str:
        return (f"the file ({self.size_bytes} bytes, SHA-256 {self.sha256}) is exactly the "
                f"document journal entry {self.seq} ({self.op}) commits to")


def document_sha256(document: bytes) -> str:
    return "0x" + hashlib.sha256(document).hexdigest()


def verify_document(bundle: Any, document: bytes, trusted_operator: str,
                    kinds: Sequence[BundleKind] = STANDARD_KINDS,
                    **witnessing: Any) -> VerifiedDocument:
    """Verify `bundle` (an entry bundle) against the operator key the caller trusts, then that
    `document` is the one its entry commits to. `VerificationFailed` if the bundle does not
    hold; `NotTheDocument` if it holds but does not prove this file. `witnessing`:
    verify_bundle's witnesses and witness_threshold."""
    verified = verify_bundle(bundle, trusted_operator, kinds, **witnessing)
    if verified.kind != "entry":
        raise NotTheDocument(VerifyFailure.wrong_subject,
                             f"the bundle proves a {verified.kind}, not a journal entry: a "
                             "document is checked against the entry bundle of the "
                             "instruction that journaled it (carbonledger proof entry SEQ)")
    entry = jcs.parse_canonical(bundle["entry"], "the entry")  # verified above
    instruction = entry.get("instruction") if isinstance(entry, dict) else None
    if not isinstance(instruction, dict):  # a checkpoint's marker entry
        raise NotTheDocument(VerifyFailure.wrong_subject,
                             f"journal entry {entry.get('seq')} is a checkpoint marker: it "
                             "journals no document")
    seq, op = entry["seq"], str(instruction["op"])
    committed = instruction["fields"].get(DOCUMENT_FIELD)
    if not isinstance(committed, str):
        raise NotTheDocument(VerifyFailure.wrong_subject,
                             f"journal entry {seq} ({op}) journals no document: ask for the "
                             "entry of the monthly_submit or annual_report_submit that did")
    actual = document_sha256(document)
    if actual != committed:
        raise NotTheDocument(VerifyFailure.wrong_subject,
                             f"the file is not the journaled document: its SHA-256 is "
                             f"{actual}, the entry commits to {committed}")
    return VerifiedDocument(actual, len(document), seq, op, verified)
