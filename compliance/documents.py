"""Confidential documents kept sealed beside the journal: who stores them, who may read them,
who may share them, and why a request is refused.

A document is readable by whoever its key is wrapped for (compliance/sealing.py): its owner
(the emitter that stored it), the registry's participants that published document keys, and
whoever the owner or the registry shares it with later (the emitter's verifier, chosen after
the monthly data). The service cannot open a document and never tries: it keeps ciphertext,
hands each reader its own wrapped keys, and checks only who may ask. Every key a document's
key is wrapped for must be a published one of its participant (`document_key_publish`), so a
reader is always a participant the ledger knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from compliance import document_store as stored
from compliance.document_store import PublishedKey, Reader, StoredDocument
from compliance.fields import SHA256_PATTERN
from compliance.sealing import (
    FORMAT,
    NONCE_BYTES,
    PUBLIC_KEY_BYTES,
    TAG_BYTES,
    WRAPPED_KEY_BYTES,
    Sealed,
    WrappedKey,
)
from ledger.clock import format_time
from ledger.model import Role
from ledger.request_errors import RequestFailure, RequestRefused
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction

MAX_DOCUMENT_BYTES = 1024 * 1024  # a month's figures or a report: kilobytes
MAX_READERS = 64  # keys one request may wrap a document's key for


class DocumentFailure(RequestFailure):
    """Why a document request is refused: (HTTP status, what is wrong and what to do)."""

    unknown_document = (404, "no document with this SHA-256 is stored: its owner uploads it "
                             "(`upload_document`)")
    not_a_reader = (403, "the participant is not a reader of this document: its owner or the "
                         "registry shares it (`share_document`)")
    may_not_share = (403, "only the document's owner and the registry may share it")
    key_not_published = (422, "a key the document is wrapped for is not a published document "
                              "key of that participant: publish it first "
                              "(`document_key_publish`)")
    owned_by_another = (409, "a document with this SHA-256 was stored by another participant: "
                             "ask the registry to share it with you")
    too_large = (413, f"a document is at most {MAX_DOCUMENT_BYTES} bytes")
    malformed = (422, "the sealed document is not carbonledger-sealed/1: a field is missing "
                      "or of the wrong size")


class DocumentError(RequestRefused):
    """A refused document request: `code` says why, the text the specifics."""

    code: DocumentFailure


def store_sealed(store: Store, owner: str, sealed: Sealed, media_type: str,
                 now: datetime) -> tuple[StoredDocument, bool]:
    """Keep `owner`'s sealed document and its wrapped keys: the stored document and whether it
    is new. Storing the same document again changes nothing (its key is the first sealing's:
    a later sealing's wrapped keys would not open it); another participant's is refused."""
    _check_sealed(sealed)
    with store.write() as tx:
        readers = _published_readers(tx, sealed.readers)
        document = StoredDocument(sealed.sha256, owner, media_type, format_time(now))
        if not stored.insert_document(tx, document, sealed.nonce, sealed.ciphertext):
            kept = stored.document(tx, sealed.sha256)
            assert kept is not None, "a document is never deleted"
            if kept.owner != owner:
                raise DocumentError(DocumentFailure.owned_by_another, sealed.sha256)
            return kept, False
        stored.insert_readers(tx, sealed.sha256, readers)
        return document, True


def sealed_for(store: Store, sha256: str, reader: str) -> tuple[StoredDocument, Sealed]:
    """The document with the keys wrapped for `reader` (a participant), refused unless it is
    one of its readers."""
    with store.read() as tx:
        document = _document(tx, sha256)
        sealed = stored.sealed(tx, sha256, reader)
    assert sealed is not None, "read with its document"
    if not sealed.readers:
        raise DocumentError(DocumentFailure.not_a_reader, f"{reader} of {sha256}")
    return document, sealed


def share(store: Store, sha256: str, by: str, reader: str, keys: Sequence[WrappedKey]) -> int:
    """`by` (the owner or a registry participant) adds `reader`'s wrapped keys: how many
    were new. Each key must be a published one of `reader`'s."""
    _check_keys(keys)
    with store.write() as tx:
        document = _document(tx, sha256)
        if by != document.owner and not _is_registry(tx, by):
            raise DocumentError(DocumentFailure.may_not_share, f"{by} of {sha256}")
        added = _published_readers(tx, keys)
        others = sorted({r.participant for r in added} - {reader})
        if others:
            raise DocumentError(DocumentFailure.key_not_published,
                                f"the keys are {', '.join(others)}'s, not {reader}'s")
        return stored.insert_readers(tx, sha256, added)


def readers(store: Store, sha256: str) -> list[str]:
    """The participants a document is readable by."""
    with store.read() as tx:
        return sorted({r.participant for r in stored.readers(tx, sha256)})


def document_keys(store: Store, participant: str | None = None) -> list[PublishedKey]:
    with store.read() as tx:
        return stored.published_keys(tx, participant)


def registry_keys(store: Store) -> list[PublishedKey]:
    """The document keys of every registry participant: a document is sealed for them."""
    with store.read() as tx:
        published = stored.published_keys(tx)
        found = tx.participants(sorted({k.participant for k in published}))
    return [k for k in published if found[k.participant].role == Role.registry]


def _document(tx: SqlTransaction, sha256: str) -> StoredDocument:
    document = stored.document(tx, sha256)
    if document is None:
        raise DocumentError(DocumentFailure.unknown_document, sha256)
    return document


def _published_readers(tx: SqlTransaction, keys: Sequence[WrappedKey]) -> list[Reader]:
    """Each wrapped key with the participant that published its key; refused if one was not
    published."""
    published = {k.address: k.participant
                 for k in stored.keys_at(tx, [key.address for key in keys])}
    unknown = sorted({k.address for k in keys if k.address not in published})
    if unknown:
        raise DocumentError(DocumentFailure.key_not_published, ", ".join(unknown))
    return [Reader(published[k.address], k) for k in keys]


def _is_registry(tx: SqlTransaction, participant: str) -> bool:
    found = tx.participants([participant]).get(participant)
    return found is not None and found.role == Role.registry


def _check_sealed(sealed: Sealed) -> None:
    if len(sealed.ciphertext) > MAX_DOCUMENT_BYTES + TAG_BYTES:
        raise DocumentError(DocumentFailure.too_large, f"{len(sealed.ciphertext)} bytes sealed")
    if sealed.format != FORMAT or len(sealed.nonce) != NONCE_BYTES \
            or not SHA256_PATTERN.fullmatch(sealed.sha256):
        raise DocumentError(DocumentFailure.malformed, f"format {sealed.format!r:.40}, its "
                            "hash or its nonce")
    _check_keys(sealed.readers)


def _check_keys(keys: Sequence[WrappedKey]) -> None:
    if not 0 < len(keys) <= MAX_READERS:
        raise DocumentError(DocumentFailure.malformed, f"1 to {MAX_READERS} wrapped keys")
    if any(len(k.wrapped) != WRAPPED_KEY_BYTES or len(k.ephemeral_public_key) != PUBLIC_KEY_BYTES
           for k in keys):
        raise DocumentError(DocumentFailure.malformed, f"a wrapped key is {WRAPPED_KEY_BYTES} "
                            f"bytes, an ephemeral public key {PUBLIC_KEY_BYTES}")
