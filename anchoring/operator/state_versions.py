"""Versions of the state commitment's leaves, kept in the table state_leaves.

A row (key, value, from_checkpoint, to_checkpoint) says that `key` held `value` at every
checkpoint k with from_checkpoint <= k < to_checkpoint (to_checkpoint NULL: still current).
Each cut closes the versions of the keys it changed and opens their new ones, so the leaf set
of any checkpoint can be read back — and its tree rebuilt, its proofs answered — by a process
that never held it in memory (the CLI). The table grows with the changes, not with the state
times the checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ledger.store.sql import Read, SqlTransaction

_AT = "from_checkpoint <= :n AND (to_checkpoint IS NULL OR to_checkpoint > :n)"


def record_versions(tx: SqlTransaction, number: int,
                    changes: Mapping[bytes, bytes | None]) -> None:
    """Checkpoint `number` changed these keys (value None: the key is gone)."""
    if not changes:
        return
    tx.executemany("UPDATE state_leaves SET to_checkpoint = :n "
                   "WHERE key = :key AND to_checkpoint IS NULL",
                   [{"n": number, "key": key} for key in changes])
    tx.executemany("INSERT INTO state_leaves (key, from_checkpoint, value) "
                   "VALUES (:key, :n, :value)",
                   [{"key": key, "n": number, "value": value}
                    for key, value in changes.items() if value is not None])


def current_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    """The leaf set of the latest checkpoint."""
    for key, value in tx.all("SELECT key, value FROM state_leaves WHERE to_checkpoint IS NULL"):
        yield bytes(key), bytes(value)


def leaves_at(tx: SqlTransaction, number: int) -> Iterator[tuple[bytes, bytes]]:
    """The leaf set of checkpoint `number`."""
    for key, value in tx.all(f"SELECT key, value FROM state_leaves WHERE {_AT}",
                             {"n": number}):
        yield bytes(key), bytes(value)


def leaf_at(tx: SqlTransaction, key: bytes, number: int) -> bytes | None:
    (value,) = tx.run([leaf_read(key, number)])
    return value


def leaf_read(key: bytes, number: int) -> Read:
    """`leaf_at` as a read, to send with others."""
    return Read(f"SELECT value FROM state_leaves WHERE key = :key AND {_AT}",
                {"key": key, "n": number}, lambda rows: bytes(rows[0][0]) if rows else None)


def opened_at(tx: SqlTransaction, number: int) -> dict[bytes, bytes]:
    """The versions checkpoint `number` opened: key -> value."""
    return {bytes(k): bytes(v) for k, v in tx.all(
        "SELECT key, value FROM state_leaves WHERE from_checkpoint = :n", {"n": number})}


def closed_at(tx: SqlTransaction, number: int) -> set[bytes]:
    """The keys whose version checkpoint `number` closed."""
    return {bytes(k) for (k,) in tx.all(
        "SELECT key FROM state_leaves WHERE to_checkpoint = :n", {"n": number})}


def version_count(tx: SqlTransaction) -> int:
    """How many leaf versions are stored, open and closed."""
    (count,) = tx.one("SELECT COUNT(*) FROM state_leaves")
    return int(count)
