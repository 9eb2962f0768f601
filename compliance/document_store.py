"""Sealed confidential documents and their wrapped keys, kept beside the journal: every SQL
statement about them (and the reads of the published document keys they are sealed for).

These tables are not projections: no journal entry writes them and a replay neither rebuilds
nor compares them (`Module.side_tables`, like the core's login_challenges). The journal commits
to each document's SHA-256 only; the rows hold ciphertext and wrapped keys, never a plaintext.
A document is content addressed: stored again, it changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Column, Index, LargeBinary, MetaData, String, Table

from compliance.sealing import Sealed, WrappedKey
from ledger.store.sql import SqlTransaction

metadata = MetaData()

# One sealed document, by its plaintext's SHA-256 (0x-hex, as the journal names it).
documents = Table(
    "documents", metadata,
    Column("sha256", String(66), primary_key=True),
    Column("owner", String(64), nullable=False),  # the participant that stored it
    Column("media_type", String(100), nullable=False),
    Column("nonce", LargeBinary(12), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),  # AES-256-GCM, tag included
    Column("stored_at", String(24), nullable=False),  # the ledger's time, RFC 3339 UTC
    Index("ix_documents_owner", "owner"),
)

# The document's key wrapped for one reader's published key (compliance/sealing.py).
document_readers = Table(
    "document_readers", metadata,
    Column("sha256", String(66), primary_key=True),
    Column("address", String(42), primary_key=True),  # the reader key's address
    Column("reader", String(64), nullable=False),  # its participant
    Column("ephemeral_public_key", LargeBinary(33), nullable=False),
    Column("wrapped_key", LargeBinary(60), nullable=False),
    Index("ix_document_readers_reader", "reader"),
)

SIDE_TABLES = (documents, document_readers)


class StoredDocument(NamedTuple):
    sha256: str
    owner: str
    media_type: str
    stored_at: str


class Reader(NamedTuple):
    """A key a document's key is wrapped for, and the participant it belongs to."""

    participant: str
    key: WrappedKey


class PublishedKey(NamedTuple):
    participant: str
    address: str
    public_key: str  # 0x and 33 bytes of compressed secp256k1, hex
    published_seq: int


def document(tx: SqlTransaction, sha256: str) -> StoredDocument | None:
    found = tx.one("SELECT sha256, owner, media_type, stored_at FROM documents "
                   "WHERE sha256 = :sha256", {"sha256": sha256})
    return None if found is None else StoredDocument(*found)


def sealed(tx: SqlTransaction, sha256: str, reader: str) -> Sealed | None:
    """The document with the keys wrapped for `reader`'s keys (None: no such document)."""
    found = tx.one("SELECT nonce, ciphertext FROM documents WHERE sha256 = :sha256",
                   {"sha256": sha256})
    if found is None:
        return None
    keys = tuple(r.key for r in readers(tx, sha256) if r.participant == reader)
    return Sealed(sha256, bytes(found[0]), bytes(found[1]), keys)


def readers(tx: SqlTransaction, sha256: str) -> list[Reader]:
    """Every key the document's key is wrapped for, by participant and address."""
    return [Reader(row[0], WrappedKey(row[1], bytes(row[2]), bytes(row[3])))
            for row in tx.all("SELECT reader, address, ephemeral_public_key, wrapped_key "
                              "FROM document_readers WHERE sha256 = :sha256 "
                              "ORDER BY reader, address", {"sha256": sha256})]


def insert_document(tx: SqlTransaction, stored: StoredDocument, nonce: bytes,
                    ciphertext: bytes) -> bool:
    """Keep a sealed document; False (and nothing changes) if its hash is kept already."""
    cursor = tx.execute(
        "INSERT INTO documents (sha256, owner, media_type, nonce, ciphertext, stored_at) "
        "VALUES (:sha256, :owner, :media_type, :nonce, :ciphertext, :stored_at) "
        "ON CONFLICT (sha256) DO NOTHING",
        {**stored._asdict(), "nonce": nonce, "ciphertext": ciphertext})
    return bool(cursor.rowcount == 1)


def insert_readers(tx: SqlTransaction, sha256: str, added: list[Reader]) -> int:
    """Keep wrapped keys; a key already wrapped for an address is kept as it was. How many
    were new."""
    count = 0
    for reader in added:
        cursor = tx.execute(
            "INSERT INTO document_readers (sha256, address, reader, ephemeral_public_key, "
            "wrapped_key) VALUES (:sha256, :address, :reader, :ephemeral, :wrapped) "
            "ON CONFLICT (sha256, address) DO NOTHING",
            {"sha256": sha256, "address": reader.key.address, "reader": reader.participant,
             "ephemeral": reader.key.ephemeral_public_key, "wrapped": reader.key.wrapped})
        count += cursor.rowcount == 1
    return count


def keys_at(tx: SqlTransaction, addresses: Sequence[str]) -> list[PublishedKey]:
    """The published document keys of these addresses (a document's readers')."""
    wanted = sorted(set(addresses))
    params = {f"a{i}": address for i, address in enumerate(wanted)}
    if not params:
        return []
    return [PublishedKey(*row) for row in tx.all(
        "SELECT participant, address, public_key, published_seq FROM document_keys WHERE "
        f"address IN ({', '.join(':' + name for name in params)})", params)]


def published_keys(tx: SqlTransaction, participant: str | None = None) -> list[PublishedKey]:
    """The document keys participants published (of one participant), by participant and
    address (compliance/schema.py's document_keys, a projection of document_key_publish)."""
    where, params = ("WHERE participant = :participant", {"participant": participant}) \
        if participant is not None else ("", {})
    return [PublishedKey(*row) for row in tx.all(
        "SELECT participant, address, public_key, published_seq FROM document_keys "
        f"{where} ORDER BY participant, address", params)]
