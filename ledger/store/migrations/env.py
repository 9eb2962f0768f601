"""Alembic environment: run by `carbonledger db upgrade` (and by Store.upgrade).

`alembic_config` (ledger/store/database.py) names the version locations, the core's and each
given module's, and the schema they must build: the core's tables and those modules'
(`target_metadata`, ledger.store.schema.metadata_of), so a comparison sees exactly what was
handed in, never what happened to be imported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "the store URL is set by ledger.store.database.alembic_config"
target_metadata = config.attributes.get("target_metadata")
assert target_metadata is not None, "the schema is set by ledger.store.database.alembic_config"

engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
