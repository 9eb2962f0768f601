"""The core's leaves of the state commitment: every live lot, every non-empty holding, every
account. ledger/core.py declares them as the core's leaf kinds (ledger.modules.LeafKind), and
the checkpointer and the audit (anchoring/) read them through those declarations; a module
declares its own kinds the same way, with their reads in its own store layer.

A leaf is (key, value): the key is SHA-256 of a typed id (anchoring.auditor.state_keys), the
value the RFC 8785 canonical JSON of the record, so anyone can read a proven value and re-encode it.

    lot      {"account","batch","first","id","last","lien","state"}   as in journal effects
    holding  {"account","batch","cancelled","pledged","retired","surrendered","tradable"}
    account  {"frozen","id","participant","type"}

A holding whose buckets are all zero is absent (a row of zeros may linger in the table after
an account empties; the commitment must not depend on that).

The readers below take values from the ledger's tables inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from anchoring.auditor.state_keys import account_key, holding_key, lot_key
from ledger.canonical import canonical_json
from ledger.store.sql import SqlTransaction
from ledger.store.touched import take_touched

if TYPE_CHECKING:
    from ledger.modules import LeafKind

HOLDING_BUCKETS = ("tradable", "pledged", "retired", "surrendered", "cancelled")
_CHUNK = 500  # ids per statement: well under every database's parameter limit

Leaves = dict[bytes, bytes | None]
"""Leaf values by key; None: the key is absent."""


# Values skip canonical_json's subset walk (checked=False), as journal entries do: every id was
# checked against the id pattern and every quantity against MAX_QUANTITY before the ledger
# stored it, and the keys here are fixed ASCII. The walk would be a third of a cut's encoding.

def lot_value(lot_id: str, batch: str, first: int, last: int, account: str, state: str,
              lien: str | None) -> bytes:
    return canonical_json({"id": lot_id, "batch": batch, "first": first, "last": last,
                           "account": account, "state": state, "lien": lien}, checked=False)


def holding_value(account: str, batch: str, buckets: Sequence[int]) -> bytes | None:
    """None for an empty holding: it is not in the commitment."""
    if not any(buckets):
        return None
    document: dict[str, Any] = {"account": account, "batch": batch}
    document.update(zip(HOLDING_BUCKETS, (int(b) for b in buckets), strict=True))
    return canonical_json(document, checked=False)


def account_value(account_id: str, participant: str, account_type: str, frozen: bool) -> bytes:
    return canonical_json({"id": account_id, "participant": participant,
                           "type": account_type, "frozen": bool(frozen)}, checked=False)


# --- reading the current values from the ledger's tables -------------------------------------

_LOT_SQL = "SELECT id, batch, serial_first, serial_last, account, state, lien FROM lots"
_HOLDING_SQL = f"SELECT account, batch, {', '.join(HOLDING_BUCKETS)} FROM holdings"
_ACCOUNT_SQL = "SELECT id, participant, type, frozen FROM accounts"


def lot_leaves(tx: SqlTransaction, lot_ids: Iterable[str]) -> Leaves:
    wanted = sorted(set(lot_ids))
    leaves: Leaves = {lot_key(i): None for i in wanted}
    for chunk in _chunks(wanted):
        placeholders, params = _in_list(chunk)
        for row in tx.all(f"{_LOT_SQL} WHERE id IN ({placeholders})", params):
            leaves[lot_key(row[0])] = _lot_row_value(row)
    return leaves


def holding_leaves(tx: SqlTransaction, pairs: Iterable[tuple[str, str]]) -> Leaves:
    wanted = sorted(set(pairs))
    leaves: Leaves = {holding_key(a, b): None for a, b in wanted}
    for chunk in _chunks(wanted):
        params: dict[str, Any] = {}
        rows = []
        for i, (account, batch) in enumerate(chunk):
            params[f"a{i}"], params[f"b{i}"] = account, batch
            rows.append(f"(:a{i}, :b{i})")
        for row in tx.all(f"{_HOLDING_SQL} WHERE (account, batch) IN "
                          f"(VALUES {', '.join(rows)})", params):
            leaves[holding_key(row[0], row[1])] = holding_value(row[0], row[1], row[2:])
    return leaves


def account_leaves(tx: SqlTransaction, account_ids: Iterable[str]) -> Leaves:
    wanted = sorted(set(account_ids))
    leaves: Leaves = {account_key(i): None for i in wanted}
    for chunk in _chunks(wanted):
        placeholders, params = _in_list(chunk)
        for row in tx.all(f"{_ACCOUNT_SQL} WHERE id IN ({placeholders})", params):
            leaves[account_key(row[0])] = account_value(*row)
    return leaves


def all_lot_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    for row in tx.all(_LOT_SQL):
        yield lot_key(row[0]), _lot_row_value(row)


def all_holding_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    for row in tx.all(_HOLDING_SQL):
        value = holding_value(row[0], row[1], row[2:])
        if value is not None:
            yield holding_key(row[0], row[1]), value


def all_account_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    for row in tx.all(_ACCOUNT_SQL):
        yield account_key(row[0]), account_value(*row)


def all_leaves(tx: SqlTransaction, kinds: Iterable[LeafKind]) -> Iterator[tuple[bytes, bytes]]:
    """Every present leaf of `kinds`, from a full read of their tables: the slow, obvious
    reference."""
    for kind in kinds:
        yield from kind.read_all(tx)


def touched_leaves(tx: SqlTransaction, kinds: Iterable[LeafKind]) -> Leaves:
    """The current values of the leaves of `kinds` whose rows the database's triggers saw
    change since the last call (ledger.store.touched), and forget them: how a replay that is
    tracked that way (the audit, a witness) learns what a checkpoint's entries changed."""
    kinds = list(kinds)
    ids: dict[str, list[Any]] = {kind.name: [] for kind in kinds}
    pairs = {kind.name for kind in kinds if kind.id_columns == 2}
    for label, a, b in take_touched(tx):
        ids[label].append((a, b) if label in pairs else a)
    fresh: Leaves = {}
    for kind in kinds:
        fresh.update(kind.read(tx, ids[kind.name]))
    return fresh


def _lot_row_value(row: Sequence[Any]) -> bytes:
    return lot_value(row[0], row[1], int(row[2]), int(row[3]), row[4], row[5], row[6])


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _in_list(values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    names = [f"i{n}" for n in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))
