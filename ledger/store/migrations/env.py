"""Alembic environment: run by `carbonledger db upgrade` (and by Store.upgrade)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from ledger.store.schema import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "the store URL is set by ledger.store.database.alembic_config"

engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
