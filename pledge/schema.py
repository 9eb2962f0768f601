"""The pledge module's tables: projections its handlers write through `ledger.effects.Row`,
declared by pledge/module.py (`tables=`) and compared by replay like the core's.

They sit on a MetaData of their own: defining them on the core's would make the schema depend
on whether this file was imported. What a store holds is the core's tables and those of the
modules it is upgraded with (ledger.store.schema.metadata_of).

Their migrations are in pledge/migrations/ (this module's version location); the revision that
created them, 0003, stays in the core's chain as history (see its docstring).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# A pledge's or repo's id is also the id of its lien, so the two share one namespace.

pledges = Table(
    "pledges", metadata,
    Column("id", String(64), primary_key=True),
    Column("pledgor", String(64), nullable=False),
    Column("pledgee", String(64), nullable=False),
    Column("account", String(64), nullable=False),
    Column("batch", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),  # pledged at registration
    Column("released", BigInteger, nullable=False),
    Column("enforced", BigInteger, nullable=False),
    Column("loan_reference", Text, nullable=False),
    Column("principal", BigInteger, nullable=False),  # minor units of `currency`
    Column("currency", String(3), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("maturity_date", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    Index("ix_pledges_pledgee", "pledgee"),
    Index("ix_pledges_account", "account"),
    # impossible quantities are refused by the database (migration pledge_0001)
    CheckConstraint("quantity > 0", name="ck_pledges_quantity"),
    CheckConstraint("released >= 0", name="ck_pledges_released"),
    CheckConstraint("enforced >= 0", name="ck_pledges_enforced"),
    CheckConstraint("released + enforced <= quantity", name="ck_pledges_resolved"),
)

repos = Table(
    "repos", metadata,
    Column("id", String(64), primary_key=True),
    Column("seller", String(64), nullable=False),
    Column("buyer", String(64), nullable=False),
    Column("seller_account", String(64), nullable=False),
    Column("buyer_account", String(64), nullable=False),
    Column("batch", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),  # sold at opening
    Column("returned", BigInteger, nullable=False),  # delivered back to the seller so far
    Column("purchase_price", BigInteger, nullable=False),  # minor units of `currency`
    Column("repurchase_price", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("opened_on", String(10), nullable=False),
    Column("repurchase_date", String(10), nullable=False),
    Column("free_use", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_seq", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    Index("ix_repos_buyer", "buyer"),
    Index("ix_repos_seller", "seller"),
    CheckConstraint("quantity > 0", name="ck_repos_quantity"),
    CheckConstraint("returned >= 0 AND returned <= quantity", name="ck_repos_returned"),
)

# Every journal entry that acted on a pledge or repo: its history, in order.
agreement_events = Table(
    "agreement_events", metadata,
    Column("agreement", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("op", String(40), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    CheckConstraint("quantity >= 0", name="ck_agreement_events_quantity"),
)

TABLES = (pledges, repos, agreement_events)

# This module's version location: its revisions form the branch labelled "pledge"
# (docs/DESIGN.md, "Modules": the rule for a module's migrations).
MIGRATIONS = Path(__file__).parent / "migrations"
