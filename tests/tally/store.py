"""The tally module's store layer: its leaves' values, read from tally_counts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from anchoring.auditor.state_keys import typed_key
from ledger.canonical import canonical_json
from ledger.store.sql import SqlTransaction

TALLY_LEAF = "tally"  # the leaf kind's name: its keys' type prefix
_SQL = "SELECT name, count FROM tally_counts"


def tally_key(name: str) -> bytes:
    return typed_key(TALLY_LEAF, name)


def tally_value(name: str, count: int) -> bytes:
    return canonical_json({"name": name, "count": int(count)})


def tally_leaves(tx: SqlTransaction, names: Iterable[str]) -> dict[bytes, bytes | None]:
    wanted = sorted(set(names))
    leaves: dict[bytes, bytes | None] = {tally_key(name): None for name in wanted}
    params = {f"n{i}": name for i, name in enumerate(wanted)}
    if params:
        for name, count in tx.all(f"{_SQL} WHERE name IN "
                                  f"({', '.join(':' + p for p in params)})", params):
            leaves[tally_key(name)] = tally_value(name, count)
    return leaves


def all_tally_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    for name, count in tx.all(_SQL):
        yield tally_key(name), tally_value(name, count)
