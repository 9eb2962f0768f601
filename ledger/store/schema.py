"""The tables. The journal is the source of truth; every other table is a projection that a
replay of the journal rebuilds exactly. The Alembic migrations create these; a test checks that
the migrated schema and this metadata agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

journal = Table(
    "journal", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("instruction_id", LargeBinary(32), nullable=False, unique=True),
    Column("body_hash", LargeBinary(32), nullable=False),
    Column("op", String(40), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("accepted_at", String(30), nullable=False),
)

# One row; every writer locks it first, which serialises appends and keeps seq gapless.
journal_head = Table(
    "journal_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    # number of the last checkpoint marker appended (0: none yet)
    Column("checkpoint", BigInteger, nullable=False),
)

participants = Table(
    "participants", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
)

signing_keys = Table(
    "signing_keys", metadata,
    Column("address", String(42), primary_key=True),
    Column("participant", String(64), nullable=False, index=True),
    Column("registered_seq", BigInteger, nullable=False),
    Column("revoked_seq", BigInteger, nullable=True),
    Column("last_nonce", BigInteger, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("id", String(64), primary_key=True),
    Column("participant", String(64), nullable=False, index=True),
    Column("type", String(20), nullable=False),
    Column("frozen", Boolean, nullable=False),
    Column("freeze_reason", Text, nullable=False),
    Column("opened_seq", BigInteger, nullable=False),
)

batches = Table(
    "batches", metadata,
    Column("id", String(64), primary_key=True),
    Column("scheme", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("project", Text, nullable=False),
    Column("monitoring_start", String(10), nullable=False),
    Column("monitoring_end", String(10), nullable=False),
    Column("issuance", String(20), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("serial_prefix", Text, nullable=False),
    Column("issued_seq", BigInteger, nullable=False),
)

lots = Table(
    "lots", metadata,
    Column("id", String(40), primary_key=True),
    Column("batch", String(64), nullable=False),
    Column("serial_first", BigInteger, nullable=False),
    Column("serial_last", BigInteger, nullable=False),
    Column("account", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("lien", String(64), nullable=True),
    Column("created_seq", BigInteger, nullable=False),
    # oldest-serials-first selection: the tradable lots of one account and batch, in order
    Index("ix_lots_holder", "account", "batch", "state", "serial_first"),
    # range selection: lots of a batch by their last serial
    Index("ix_lots_batch_last", "batch", "serial_last"),
    Index("ix_lots_lien", "lien"),
)

holdings = Table(
    "holdings", metadata,
    Column("account", String(64), primary_key=True),
    Column("batch", String(64), primary_key=True),
    Column("tradable", BigInteger, nullable=False),
    Column("pledged", BigInteger, nullable=False),
    Column("retired", BigInteger, nullable=False),
    Column("surrendered", BigInteger, nullable=False),
    Column("cancelled", BigInteger, nullable=False),
)

liens = Table(
    "liens", metadata,
    Column("id", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("created_seq", BigInteger, nullable=False),
)

scheme_rules = Table(
    "scheme_rules", metadata,
    Column("scheme", String(64), primary_key=True),
    Column("rules", Text, nullable=False),
    Column("recorded_seq", BigInteger, nullable=False),
)

PROJECTIONS = (participants, signing_keys, accounts, batches, lots, holdings, liens,
               scheme_rules)
