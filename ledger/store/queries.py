"""The ledger's read side: what participants, keys, accounts, holdings, lots, batches and the
journal hold, as typed values. Interfaces (the application service, and through it the CLI,
HTTP and the client) read here; only the store layer writes SQL.

Every function takes a read transaction (`Store.read()`), so that several reads that belong
together see one snapshot. Lists are ordered by their key, so a page can resume after the last
key it returned (`after`), and are bounded by `limit`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ledger.model import LOT_STATES, Account, Batch, Lot, Participant, SigningKey
from ledger.state import JournalRow
from ledger.store.sql import (
    LOT_COLUMNS,
    SqlTransaction,
    lot_from_row,
    parse_account_rows,
    parse_batch_rows,
)

MAX_PAGE = 10_000  # rows one call returns at most: a caller pages with `after`


@dataclass(frozen=True)
class Holding:
    """What one account holds of one batch, by state (whole tonnes)."""

    account: str
    batch: str
    tradable: int
    pledged: int  # under a lien: a pledge's or a repo's
    retired: int
    surrendered: int
    cancelled: int

    @property
    def total(self) -> int:
        return self.tradable + self.pledged + self.retired + self.surrendered + self.cancelled


@dataclass(frozen=True)
class JournalEntry:
    """One journal entry as stored: its position, operation, time, hash and document."""

    seq: int
    op: str
    accepted_at: str
    entry_hash: str
    document: dict[str, Any]

    @classmethod
    def of(cls, row: JournalRow) -> JournalEntry:
        return cls(row.seq, row.op, row.accepted_at, "0x" + row.leaf_hash.hex(),
                   json.loads(row.entry))


def _page(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}")
    return limit


def participants(tx: SqlTransaction, *, after: str = "",
                 limit: int = MAX_PAGE) -> list[Participant]:
    found = tx.all("SELECT id FROM participants WHERE id > :after ORDER BY id LIMIT :limit",
                   {"after": after, "limit": _page(limit)})
    by_id = tx.participants([r[0] for r in found]) if found else {}
    return [by_id[r[0]] for r in found]


def keys(tx: SqlTransaction, participant: str | None = None) -> list[SigningKey]:
    """Signing keys (of one participant, or all), each with its last used nonce: a wallet's
    next nonce is any number above it."""
    where, params = ("WHERE participant = :p", {"p": participant}) if participant else ("", {})
    found = tx.all(f"SELECT address FROM signing_keys {where} ORDER BY address", params)
    by_address = tx.keys([r[0] for r in found]) if found else {}
    return [by_address[r[0]] for r in found]


def key(tx: SqlTransaction, address: str) -> SigningKey | None:
    return tx.keys([address]).get(address)


def accounts(tx: SqlTransaction, participant: str | None = None, *, after: str = "",
             limit: int = MAX_PAGE) -> list[Account]:
    params: dict[str, Any] = {"after": after, "limit": _page(limit)}
    where = "id > :after"
    if participant:
        where += " AND participant = :p"
        params["p"] = participant
    return list(parse_account_rows(tx.all(
        "SELECT id, participant, type, frozen, freeze_reason, opened_seq FROM accounts "
        f"WHERE {where} ORDER BY id LIMIT :limit", params)).values())


def batches(tx: SqlTransaction, *, scheme: str | None = None, after: str = "",
            limit: int = MAX_PAGE) -> list[Batch]:
    params: dict[str, Any] = {"after": after, "limit": _page(limit)}
    where = "b.id > :after"
    if scheme:
        where += " AND b.scheme = :scheme"
        params["scheme"] = scheme
    rows = tx.all("SELECT b.id, b.scheme, b.kind, b.vintage, b.project, b.monitoring_start, "
                  "b.monitoring_end, b.issuance, b.quantity, b.serial_prefix, b.issued_seq, "
                  f"NULL FROM batches b WHERE {where} ORDER BY b.id LIMIT :limit", params)
    return [batch for batch, _ in parse_batch_rows(rows).values()]


def holdings(tx: SqlTransaction, *, account: str | None = None,
             batch: str | None = None) -> list[Holding]:
    """Non-empty holdings, by account then batch; of one account, one batch, or both."""
    states = [state.value for state in LOT_STATES]
    conditions, params = [], {}
    if account:
        conditions.append("account = :account")
        params["account"] = account
    if batch:
        conditions.append("batch = :batch")
        params["batch"] = batch
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = tx.all(f"SELECT account, batch, {', '.join(states)} FROM holdings {where} "
                  "ORDER BY account, batch", params)
    return [holding_from_row(r) for r in rows if any(r[2:])]


def holding_from_row(row: Any) -> Holding:
    """(account, batch, then one column per state in LOT_STATES' order)."""
    return Holding(row[0], row[1], *(int(v) for v in row[2:]))


def lots(tx: SqlTransaction, *, batch: str | None = None, account: str | None = None,
         after: tuple[str, int] = ("", 0), limit: int = MAX_PAGE) -> list[Lot]:
    """Live lots with their serial ranges, states and liens, by batch then first serial; of one
    batch, one account, or both. `after`: the (batch, first serial) the last page ended at."""
    params: dict[str, Any] = {"after_batch": after[0], "after_first": after[1],
                              "limit": _page(limit)}
    conditions = ["(batch > :after_batch OR (batch = :after_batch AND "
                  "serial_first > :after_first))"]
    if batch:
        conditions.append("batch = :batch")
        params["batch"] = batch
    if account:
        conditions.append("account = :account")
        params["account"] = account
    rows = tx.all(f"SELECT {LOT_COLUMNS} FROM lots WHERE {' AND '.join(conditions)} "
                  "ORDER BY batch, serial_first LIMIT :limit", params)
    return [lot_from_row(r) for r in rows]


def journal(tx: SqlTransaction, start: int, stop: int) -> list[JournalEntry]:
    """Entries start <= seq < stop (at most MAX_PAGE of them), in order."""
    if start < 0 or stop < start:
        raise ValueError("a journal range is 0 <= start <= stop")
    return [JournalEntry.of(row) for row in tx.journal_rows(start, min(stop,
                                                                        start + MAX_PAGE))]


def journal_entry(tx: SqlTransaction, seq: int) -> JournalEntry | None:
    row = tx.journal_row(seq)
    return JournalEntry.of(row) if row else None


__all__ = ["MAX_PAGE", "Holding", "JournalEntry", "accounts", "batches", "holdings",
           "journal", "journal_entry", "key", "keys", "lots", "participants"]
