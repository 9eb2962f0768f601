"""The store: SQLite (WAL) by default, PostgreSQL by URL, schema managed by Alembic."""

from ledger.store.database import Store

__all__ = ["Store"]
