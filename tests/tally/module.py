"""TALLY: one table, one migration (tests/tally/migrations/), no operations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table

from ledger.modules import Module

metadata = MetaData()

tally_counts = Table(
    "tally_counts", metadata,
    Column("name", String(64), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    Index("ix_tally_counts_updated", "updated_seq"),
)

TALLY = Module("tally", tables=(tally_counts,), migrations=Path(__file__).parent / "migrations")
