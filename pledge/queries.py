"""Reading pledges and repos back: their current terms, the lots they hold, and their whole
history — every journal entry that acted on them, with its signers and effects, in order.

Each history entry names its journal sequence number, so each can be proved against an
anchored checkpoint like any other entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ledger.model import Lot
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction
from pledge import store as pledge_store
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
        pledge = pledge_store.pledge(tx, pledge_id)
        if pledge is None:
            return None
        return PledgeHistory(pledge, _lots(tx, pledge_id), _entries(tx, pledge_id))


def repo_history(store: Store, repo_id: str) -> RepoHistory | None:
    with store.read() as tx:
        repo = pledge_store.repo(tx, repo_id)
        if repo is None:
            return None
        return RepoHistory(repo, _lots(tx, repo_id), _entries(tx, repo_id))


def pledges(store: Store, *, account: str | None = None) -> list[Pledge]:
    """Every pledge (of one pledgor account), by id."""
    with store.read() as tx:
        return pledge_store.pledges(tx, account=account)


def repos(store: Store, *, account: str | None = None) -> list[Repo]:
    """Every repo (where one account is the seller's or the buyer's), by id."""
    with store.read() as tx:
        return pledge_store.repos(tx, account=account)


def _lots(tx: SqlTransaction, agreement: str) -> tuple[Lot, ...]:
    return tuple(sorted(tx.lots_under_lien(agreement), key=lambda lot: lot.first))


def _entries(tx: SqlTransaction, agreement: str) -> tuple[HistoryEntry, ...]:
    entries = []
    for _, seq, op, quantity in pledge_store.events_of(tx, agreement):
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
