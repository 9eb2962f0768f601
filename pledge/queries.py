"""Reading pledges and repos back: their current terms, the lots they hold, and their whole
history — every journal entry that acted on them, with its signers and effects, in order.

Each history entry names its journal sequence number, so each can be proved against an
anchored checkpoint like any other entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from ledger.model import Lot
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction
from pledge import schema
from pledge.model import Pledge, Repo


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    op: str
    quantity: int  # units the entry pledged, released, enforced, sold, returned or defaulted
    accepted_at: str
    signers: tuple[str, ...]
    fields: dict[str, Any]
    effects: dict[str, Any]
    entry_hash: str


@dataclass(frozen=True)
class PledgeHistory:
    pledge: Pledge
    lots: tuple[Lot, ...]  # still under the pledge's lien
    entries: tuple[HistoryEntry, ...]


@dataclass(frozen=True)
class RepoHistory:
    repo: Repo
    lots: tuple[Lot, ...]  # still under the repo's lien (none for a free-use repo)
    entries: tuple[HistoryEntry, ...]


def pledge_history(store: Store, pledge_id: str) -> PledgeHistory | None:
    with store.read() as tx:
        values = tx.row(schema.pledges, (pledge_id,))
        if values is None:
            return None
        return PledgeHistory(Pledge.from_row(dict(values)), _lots(tx, pledge_id),
                             _entries(tx, pledge_id))


def repo_history(store: Store, repo_id: str) -> RepoHistory | None:
    with store.read() as tx:
        values = tx.row(schema.repos, (repo_id,))
        if values is None:
            return None
        return RepoHistory(Repo.from_row(dict(values)), _lots(tx, repo_id),
                           _entries(tx, repo_id))


def pledges(store: Store, *, account: str | None = None) -> list[Pledge]:
    """Every pledge (of one pledgor account), by id."""
    return [Pledge.from_row(values) for values in _agreements(store, schema.pledges, account)]


def repos(store: Store, *, account: str | None = None) -> list[Repo]:
    """Every repo (where one account is the seller's or the buyer's), by id."""
    return [Repo.from_row(values) for values in _agreements(store, schema.repos, account)]


def _agreements(store: Store, table: Table, account: str | None) -> list[dict[str, Any]]:
    columns = [column.name for column in table.columns]
    accounts = {"pledges": ("account",), "repos": ("seller_account", "buyer_account")}
    where, params = "", {}
    if account:
        where = "WHERE " + " OR ".join(f"{c} = :account" for c in accounts[table.name])
        params["account"] = account
    with store.read() as tx:
        rows = tx.all(f"SELECT {', '.join(columns)} FROM {table.name} {where} ORDER BY id",
                      params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _lots(tx: SqlTransaction, agreement: str) -> tuple[Lot, ...]:
    return tuple(sorted(tx.lots_under_lien(agreement), key=lambda lot: lot.first))


def _entries(tx: SqlTransaction, agreement: str) -> tuple[HistoryEntry, ...]:
    entries = []
    for seq, op, quantity in tx.all("SELECT seq, op, quantity FROM agreement_events "
                                    "WHERE agreement = :a ORDER BY seq", {"a": agreement}):
        row = tx.journal_row(seq)
        assert row is not None, f"agreement {agreement}: entry {seq} is not in the journal"
        document = json.loads(row.entry)
        instruction = document["instruction"]
        entries.append(HistoryEntry(
            seq=seq, op=op, quantity=quantity, accepted_at=row.accepted_at,
            signers=tuple(a["signer"] for a in instruction["approvals"]),
            fields=instruction["fields"], effects=document["effects"],
            entry_hash="0x" + row.leaf_hash.hex()))
    return tuple(entries)
