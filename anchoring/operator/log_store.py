"""The journal's Merkle log in SQL: a `NodeStore` for `anchoring.auditor.merkle_log.MerkleLog`.

Level 0 is the journal itself (its leaf_hash column, by seq): leaves are not stored twice.
Levels above live in the table log_nodes(level, idx, hash). The log covers the journal only up
to the latest checkpoint: the checkpointer extends it when it cuts one, inside the cut's
transaction, so appending an entry costs the hot path nothing and the log's size is always
the latest checkpoint's. Rows are inserted once and never updated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from anchoring.auditor.merkle import NodeKey
from anchoring.auditor.merkle_log import MerkleLog, NodeRow
from ledger.store.sql import SqlTransaction

_CHUNK = 400


class SqlLogNodes:
    """`NodeStore` over one transaction. `size` is the number of leaves the log holds (the
    latest checkpoint's log size): level 0 is the journal, which runs ahead of the log."""

    def __init__(self, tx: SqlTransaction, size: int) -> None:
        self._tx = tx
        self._size = size

    def leaf_count(self) -> int:
        return self._size

    def get_many(self, keys: Sequence[NodeKey]) -> list[bytes]:
        found: dict[NodeKey, bytes] = {}
        leaves = sorted({index for level, index in keys if level == 0})
        nodes = sorted({key for key in keys if key[0] > 0})
        for start in range(0, len(leaves), _CHUNK):
            seqs = {f"s{i}": seq for i, seq in enumerate(leaves[start:start + _CHUNK])}
            placeholders = ", ".join(f":{name}" for name in seqs)
            for seq, leaf in self._tx.all(
                    f"SELECT seq, leaf_hash FROM journal WHERE seq IN ({placeholders})", seqs):
                found[(0, int(seq))] = bytes(leaf)
        for start in range(0, len(nodes), _CHUNK):
            params: dict[str, Any] = {}
            values = []
            for i, (level, index) in enumerate(nodes[start:start + _CHUNK]):
                params[f"l{i}"], params[f"i{i}"] = level, index
                values.append(f"(:l{i}, :i{i})")
            for row in self._tx.all(
                    "SELECT level, idx, hash FROM log_nodes WHERE (level, idx) IN "
                    f"(VALUES {', '.join(values)})", params):
                found[(int(row[0]), int(row[1]))] = bytes(row[2])
        try:
            return [found[key] for key in keys]
        except KeyError:
            missing = [key for key in keys if key not in found][:5]
            raise KeyError(f"log nodes missing from the database: {missing} (level 0 is "
                           "the journal): it was changed outside the ledger; run "
                           "`carbonledger audit`") from None

    def put_many(self, rows: Iterable[NodeRow]) -> None:
        inserts = []
        size = self._size
        for level, index, node in rows:
            if level == 0:
                # The leaf is the journal's row already; the log only advances over it.
                assert index == size, "the log takes the journal's entries in order"
                size += 1
            else:
                inserts.append({"level": level, "idx": index, "hash": node})
        self._tx.executemany("INSERT INTO log_nodes (level, idx, hash) "
                             "VALUES (:level, :idx, :hash)", inserts)
        self._size = size


def open_log(tx: SqlTransaction, size: int) -> MerkleLog:
    """The log as of `size` leaves (the latest checkpoint's size), over `tx`."""
    return MerkleLog(SqlLogNodes(tx, size))


def stored_nodes(tx: SqlTransaction) -> list[tuple[int, int, bytes]]:
    """Every stored node above level 0: (level, index, hash), by level then index."""
    return [(int(level), int(index), bytes(node)) for level, index, node in tx.all(
        "SELECT level, idx, hash FROM log_nodes ORDER BY level, idx")]


def nodes_at(tx: SqlTransaction, level: int, first: int, stop: int) -> list[bytes]:
    """The stored hashes at height `level`, of indexes first..stop-1, in index order (fewer
    when some are missing: the caller says what that means)."""
    return [bytes(node) for _, node in tx.all(
        "SELECT idx, hash FROM log_nodes WHERE level = :level AND idx >= :first "
        "AND idx < :stop ORDER BY idx", {"level": level, "first": first, "stop": stop})]
