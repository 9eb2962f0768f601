"""The projects module's tables: projections its handlers write through `ledger.effects.Row`,
on a MetaData of their own (declared by projects/module.py; migrations in
projects/migrations/). Reductions are whole tonnes CO2e; days are YYYY-MM-DD."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, MetaData, String, Table, Text

metadata = MetaData()

# A methodology the registry published: what projects are registered under.
methodologies = Table(
    "methodologies", metadata,
    Column("id", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("sector", String(64), nullable=False),  # the validators' and verifiers' sector
    Column("title", Text, nullable=False),
    Column("applicability", Text, nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_until", String(10), nullable=False),  # "" for open-ended
    Column("buffer_bp", BigInteger, nullable=False),  # share of each issuance set aside
    Column("status", String(12), nullable=False),  # active | superseded | withdrawn
    Column("replaced_by", String(64), nullable=False),  # "" unless superseded
    # what retiring it means for projects under it: "keep" their crediting periods, or "end"
    Column("existing_projects", String(8), nullable=False),
    Column("retired_on", String(10), nullable=False),  # its retirement's market day, or ""
    Column("reason", Text, nullable=False),
    Column("published_seq", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    CheckConstraint("buffer_bp >= 0 AND buffer_bp <= 10000", name="ck_methodologies_buffer"),
)

# A project, from its submission (the project design document's hash) to its registration,
# and any suspension or deregistration. `periods` keeps its monitoring periods' days (JSON
# list of [start, end], in order), so that a handler reading by key can refuse an overlap.
projects = Table(
    "projects", metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),  # participant id (project_owner)
    Column("methodology", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("crediting_start", String(10), nullable=False),
    Column("crediting_end", String(10), nullable=False),
    Column("expected_t", BigInteger, nullable=False),  # expected reductions over the period
    Column("pdd_hash", String(66), nullable=False),  # 0x + SHA-256 of the design document
    Column("comments_until", String(10), nullable=False),  # last day of the comment period
    # submitted | validated | registered | suspended | deregistered | ended
    Column("status", String(16), nullable=False),
    Column("validator", String(64), nullable=False),  # "" until validated
    Column("validation_hash", String(66), nullable=False),
    Column("periods", Text, nullable=False),
    Column("reason", Text, nullable=False),  # the latest suspension's or deregistration's
    Column("submitted_seq", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    Index("ix_projects_owner", "owner"),
    Index("ix_projects_methodology", "methodology"),
    CheckConstraint("expected_t >= 0", name="ck_projects_expected"),
)

# Public comments on a project during its comment period, in order.
project_comments = Table(
    "project_comments", metadata,
    Column("project", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("author", String(64), nullable=False),
    Column("comment_hash", String(66), nullable=False),
    Column("summary", Text, nullable=False),
)

# A monitoring period of a project: its report, its verification and its issuance.
monitoring_periods = Table(
    "monitoring_periods", metadata,
    Column("project", String(64), primary_key=True),
    Column("period", String(64), primary_key=True),
    Column("start_date", String(10), nullable=False),
    Column("end_date", String(10), nullable=False),
    Column("report_hash", String(66), nullable=False),
    Column("claimed_t", BigInteger, nullable=False),
    Column("verifier", String(64), nullable=False),  # "" until verified
    Column("verified_t", BigInteger, nullable=False),
    Column("issued_t", BigInteger, nullable=False),  # to holders and to the buffer together
    Column("batch", String(64), nullable=False),  # "" until issued
    Column("status", String(12), nullable=False),  # reported | verified | issued
    Column("reported_seq", BigInteger, nullable=False),
    Column("verified_seq", BigInteger, nullable=True),
    Column("issued_seq", BigInteger, nullable=True),
    CheckConstraint("claimed_t >= 0 AND verified_t >= 0", name="ck_periods_reductions"),
    CheckConstraint("issued_t >= 0 AND issued_t <= verified_t", name="ck_periods_issued"),
)

# A retirement for an offsetting claim: whose, for what, and which units.
claim_retirements = Table(
    "claim_retirements", metadata,
    Column("id", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("account", String(64), nullable=False),
    Column("batch", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("beneficiary", Text, nullable=False),
    Column("purpose", String(16), nullable=False),  # event | product | organisation | period
    Column("subject", Text, nullable=False),  # the event's or product's stable identifier, ...
    Column("period_start", String(10), nullable=False),
    Column("period_end", String(10), nullable=False),
    Column("claim", Text, nullable=False),
    Column("serials", Text, nullable=False),  # JSON list of [first, last], in order
    Index("ix_claim_retirements_account", "account"),
    CheckConstraint("quantity > 0", name="ck_claim_retirements_quantity"),
)

TABLES = (methodologies, projects, project_comments, monitoring_periods, claim_retirements)

MIGRATIONS = Path(__file__).parent / "migrations"
