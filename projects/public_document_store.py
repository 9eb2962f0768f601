"""Public documents of the project cycle, kept beside the journal: every SQL statement about
them.

A project design document is public (anyone may read it during the comment period), so it
is kept as is, not sealed. The table is not a projection: no journal entry writes it and a
replay neither rebuilds nor compares it (`Module.side_tables`, like compliance's sealed
documents). The journal commits to each document's SHA-256; the row holds its bytes. A
document is content addressed: stored again, it changes nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import BigInteger, Column, Index, LargeBinary, MetaData, String, Table

from ledger.store.sql import SqlTransaction

metadata = MetaData()

# One public document, by the SHA-256 of its bytes (0x-hex, as the journal names it).
public_documents = Table(
    "public_documents", metadata,
    Column("sha256", String(66), primary_key=True),
    Column("media_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),  # bytes
    Column("content", LargeBinary, nullable=False),
    Column("stored_by", String(64), nullable=False),  # the participant that stored it first
    Column("stored_at", String(24), nullable=False),  # the ledger's time, RFC 3339 UTC
    Index("ix_public_documents_stored_by", "stored_by"),
)

SIDE_TABLES = (public_documents,)


class StoredPublicDocument(NamedTuple):
    """What is known of a public document besides its bytes."""

    sha256: str
    media_type: str
    size: int
    stored_by: str
    stored_at: str


def described(tx: SqlTransaction, sha256: str) -> StoredPublicDocument | None:
    found = tx.one("SELECT sha256, media_type, size, stored_by, stored_at "
                   "FROM public_documents WHERE sha256 = :sha256", {"sha256": sha256})
    return None if found is None else StoredPublicDocument(*found)


def content(tx: SqlTransaction, sha256: str) -> tuple[StoredPublicDocument, bytes] | None:
    """The document and its bytes (None: no such document)."""
    found = tx.one("SELECT sha256, media_type, size, stored_by, stored_at, content "
                   "FROM public_documents WHERE sha256 = :sha256", {"sha256": sha256})
    return None if found is None else (StoredPublicDocument(*found[:5]), bytes(found[5]))


def insert(tx: SqlTransaction, document: StoredPublicDocument, data: bytes) -> bool:
    """Keep a public document; False (and nothing changes) if its hash is kept already."""
    cursor = tx.execute(
        "INSERT INTO public_documents (sha256, media_type, size, content, stored_by, "
        "stored_at) VALUES (:sha256, :media_type, :size, :content, :stored_by, :stored_at) "
        "ON CONFLICT (sha256) DO NOTHING",
        {**document._asdict(), "content": data})
    return bool(cursor.rowcount == 1)
