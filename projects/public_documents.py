"""Public documents of the project cycle, kept as is beside the journal: a project design
document is stored before the instruction that journals its hash is signed, and anyone may
read it (during the comment period and after).

A document is content addressed: its key is the SHA-256 of its bytes, so storing the same
bytes again changes nothing (whoever stored them first stays recorded), and a reader checks
what it receives against the name it asked for (`checked`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import NamedTuple

from ledger.clock import format_time
from ledger.request_errors import RequestFailure, RequestRefused
from ledger.store.database import Store
from projects import public_document_store as stored
from projects.public_document_store import StoredPublicDocument

MAX_PUBLIC_DOCUMENT_BYTES = 20 * 1024 * 1024  # a design document with its annexes, as a PDF
MAX_MEDIA_TYPE_CHARS = 100
# type/subtype and optional parameters (RFC 9110 tokens, quoted values): no control
# character, so that it is served back in a header as it came
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_QUOTED = r'"[^"\\\x00-\x1f\x7f]*"'
MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*")


class PublicDocumentFailure(RequestFailure):
    """Why a public document request is refused: (HTTP status, what is wrong and what to do)."""

    unknown_public_document = (404, "no public document with this SHA-256 is stored: its "
                                    "owner stores it (`upload_public_document`)")
    public_document_too_large = (413, f"a public document is at most "
                                      f"{MAX_PUBLIC_DOCUMENT_BYTES} bytes")
    empty_public_document = (422, "a public document has at least one byte")
    bad_media_type = (422, f"the media type is type/subtype (parameters allowed), at most "
                           f"{MAX_MEDIA_TYPE_CHARS} characters, such as application/pdf")
    # the kept bytes (or those a server answered) are not the document named: the store was
    # altered, or the server is not to be trusted; a 500, as the service failed
    hash_mismatch = (500, "the bytes do not hash to the SHA-256 asked for: they are another "
                          "document; do not use them")


class PublicDocumentError(RequestRefused):
    """A refused public document request: `code` says why, the text the specifics."""

    code: PublicDocumentFailure


class PublicDocument(NamedTuple):
    """A public document: what is known of it, and its bytes."""

    described: StoredPublicDocument
    content: bytes


def sha256_of(data: bytes) -> str:
    """A document's name: the SHA-256 of its bytes, 0x and 64 lower-case hex digits."""
    return "0x" + hashlib.sha256(data).hexdigest()


def store(store: Store, owner: str, data: bytes, media_type: str, now: datetime) -> str:
    """Keep `data` as a public document stored by `owner` (a participant): its SHA-256.
    Storing the same bytes again changes nothing, whoever stores them."""
    return store_described(store, owner, data, media_type, now)[0].sha256


def store_described(store: Store, owner: str, data: bytes, media_type: str,
                    now: datetime) -> tuple[StoredPublicDocument, bool]:
    """As `store`: the document as kept, and whether it is new."""
    check_size(len(data))
    check_media_type(media_type)
    document = StoredPublicDocument(sha256_of(data), media_type, len(data), owner,
                                    format_time(now))
    with store.write() as tx:
        if stored.insert(tx, document, data):
            return document, True
        kept = stored.described(tx, document.sha256)
    assert kept is not None, "a public document is never deleted"
    return kept, False


def fetch(store: Store, sha256: str) -> PublicDocument:
    """The public document named `sha256`, its bytes checked against the name."""
    with store.read() as tx:
        found = stored.content(tx, sha256)
    if found is None:
        raise PublicDocumentError(PublicDocumentFailure.unknown_public_document, sha256)
    described, content = found
    return PublicDocument(described, checked(sha256, content))


def checked(sha256: str, data: bytes) -> bytes:
    """`data` if it is the document named `sha256`; refused otherwise."""
    if sha256_of(data) != sha256:
        raise PublicDocumentError(PublicDocumentFailure.hash_mismatch,
                                  f"asked for {sha256}, got {sha256_of(data)}")
    return data


def check_size(size: int) -> None:
    if size > MAX_PUBLIC_DOCUMENT_BYTES:
        raise PublicDocumentError(PublicDocumentFailure.public_document_too_large,
                                  f"{size} bytes")
    if size == 0:
        raise PublicDocumentError(PublicDocumentFailure.empty_public_document, "0 bytes")


def check_media_type(media_type: str) -> None:
    if len(media_type) > MAX_MEDIA_TYPE_CHARS or not MEDIA_TYPE.fullmatch(media_type):
        raise PublicDocumentError(PublicDocumentFailure.bad_media_type,
                                  f"{media_type[:MAX_MEDIA_TYPE_CHARS]!r}")
