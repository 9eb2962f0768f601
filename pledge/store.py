"""pledge's store layer: every SQL statement of the module, each a function of a transaction
that returns typed values. Its histories and checks (pledge.queries, pledge.invariants) are
logic over these. Operations never come here: handlers read through the working set and
write through `ledger.effects.Row`.

Some reads are of the core's tables (liens, lots): what pledge's checks ask of them, grouped
by lien, is pledge's question, so it is asked here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Table

from ledger.store.sql import SqlTransaction
from pledge import schema
from pledge.model import Pledge, Repo


class AgreementEvent(NamedTuple):
    """One line of an agreement's history: the journal entry `seq` acted on it."""

    agreement: str
    seq: int
    op: str
    quantity: int


class HeldUnderLien(NamedTuple):
    """Units the live lots of one account and batch hold under one lien."""

    lien: str
    account: str
    batch: str
    quantity: int


# Where an account takes part in an agreement, by table: the pledgor's, or either side's.
_ACCOUNT_COLUMNS = {"pledges": ("account",), "repos": ("seller_account", "buyer_account")}


def pledge(tx: SqlTransaction, pledge_id: str) -> Pledge | None:
    values = tx.row(schema.pledges, (pledge_id,))
    return None if values is None else Pledge.from_row(dict(values))


def repo(tx: SqlTransaction, repo_id: str) -> Repo | None:
    values = tx.row(schema.repos, (repo_id,))
    return None if values is None else Repo.from_row(dict(values))


def pledges(tx: SqlTransaction, *, account: str | None = None) -> list[Pledge]:
    """Every pledge (of one pledgor account), by id."""
    return [Pledge.from_row(values) for values in _agreements(tx, schema.pledges, account)]


def repos(tx: SqlTransaction, *, account: str | None = None) -> list[Repo]:
    """Every repo (where one account is the seller's or the buyer's), by id."""
    return [Repo.from_row(values) for values in _agreements(tx, schema.repos, account)]


def _agreements(tx: SqlTransaction, table: Table, account: str | None) -> list[dict[str, Any]]:
    columns = [column.name for column in table.columns]
    where, params = "", {}
    if account:
        where = "WHERE " + " OR ".join(f"{c} = :account" for c in _ACCOUNT_COLUMNS[table.name])
        params["account"] = account
    rows = tx.all(f"SELECT {', '.join(columns)} FROM {table.name} {where} ORDER BY id", params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def events_of(tx: SqlTransaction, agreement: str) -> list[AgreementEvent]:
    """One agreement's history, by seq."""
    return [AgreementEvent(agreement, seq, op, quantity) for seq, op, quantity in tx.all(
        "SELECT seq, op, quantity FROM agreement_events WHERE agreement = :a ORDER BY seq",
        {"a": agreement})]


def all_events(tx: SqlTransaction) -> list[AgreementEvent]:
    """Every agreement's history, by agreement then seq."""
    return [AgreementEvent(*row) for row in tx.all(
        "SELECT agreement, seq, op, quantity FROM agreement_events ORDER BY agreement, seq")]


def lien_holders(tx: SqlTransaction) -> dict[str, tuple[str, str]]:
    """Every lien the ledger records: id -> (holder, purpose)."""
    return {lien_id: (holder, purpose)
            for lien_id, holder, purpose in tx.all("SELECT id, holder, purpose FROM liens")}


def held_under_liens(tx: SqlTransaction) -> list[HeldUnderLien]:
    """What the live lots under each lien hold, by account and batch."""
    return [HeldUnderLien(lien, account, batch, int(quantity))
            for lien, account, batch, quantity in tx.all(
                "SELECT lien, account, batch, SUM(serial_last - serial_first + 1) FROM lots "
                "WHERE lien IS NOT NULL GROUP BY lien, account, batch")]


__all__ = ["AgreementEvent", "HeldUnderLien", "all_events", "events_of", "held_under_liens",
           "lien_holders", "pledge", "pledges", "repo", "repos"]
