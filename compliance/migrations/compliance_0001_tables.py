"""The compliance module's tables (compliance/schema.py): installations, instruments and their
calibrations, monthly submissions, annual reports, verifier qualifications, conflicts,
verifications, entity records, obligations, surrenders, offset project types and published
document keys, with the CHECK constraints that refuse impossible quantities.

Revision ID: compliance_0001
Revises:
Depends on: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "compliance_0001"
down_revision = None  # the first of the branch "compliance"
branch_labels = ("compliance",)
depends_on = "0007"  # the core's head when it was written


def upgrade() -> None:
    op.create_table(
        "installations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("emitter", sa.String(64), nullable=False),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("sector", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_installations_emitter", "installations", ["emitter"])
    op.create_table(
        "emitters",
        sa.Column("emitter", sa.String(64), primary_key=True),
        sa.Column("scheme", sa.String(64), primary_key=True),
        sa.Column("installations", sa.Text, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "instruments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("installation", sa.String(64), nullable=False),
        sa.Column("parameter", sa.Text, nullable=False),
        sa.Column("calibrated_by", sa.Text, nullable=False),
        sa.Column("calibrated_on", sa.String(10), nullable=False),
        sa.Column("valid_until", sa.String(10), nullable=False),
        sa.Column("covered_since", sa.String(10), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_instruments_installation", "instruments", ["installation"])
    op.create_table(
        "calibrations",
        sa.Column("instrument", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("calibrated_by", sa.Text, nullable=False),
        sa.Column("calibrated_on", sa.String(10), nullable=False),
        sa.Column("valid_until", sa.String(10), nullable=False),
        sa.Column("certificate_hash", sa.String(66), nullable=False),
    )
    op.create_table(
        "monthly_submissions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("emitter", sa.String(64), nullable=False),
        sa.Column("installation", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("document_hash", sa.String(66), nullable=False),
        sa.Column("document_format", sa.String(8), nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("total_kg", sa.BigInteger, nullable=False),
        sa.Column("calibration_lapsed", sa.Boolean, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("supersedes", sa.String(64), nullable=False),
        sa.Column("superseded_by", sa.String(64), nullable=False),
        sa.Column("submitted_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("total_kg >= 0", name="ck_monthly_submissions_total"),
    )
    op.create_index("ix_monthly_submissions_emitter_year", "monthly_submissions",
                    ["emitter", "year"])
    op.create_table(
        "current_months",
        sa.Column("installation", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("submission", sa.String(64), nullable=False),
        sa.Column("emitter", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("total_kg", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_current_months_emitter_year", "current_months", ["emitter", "year"])
    op.create_table(
        "annual_reports",
        sa.Column("emitter", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("document_hash", sa.String(66), nullable=False),
        sa.Column("submissions", sa.Text, nullable=False),
        sa.Column("monthly_kg", sa.BigInteger, nullable=False),
        sa.Column("submitted_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "qualifications",
        sa.Column("verifier", sa.String(64), primary_key=True),
        sa.Column("sector", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("granted_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "qualification_events",
        sa.Column("verifier", sa.String(64), primary_key=True),
        sa.Column("sector", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("action", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "conflicts",
        sa.Column("verifier", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("relation", sa.String(16), nullable=False),
        sa.Column("declared_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "verifications",
        sa.Column("emitter", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("verifier", sa.String(64), nullable=False),
        sa.Column("report", sa.String(64), nullable=False),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("verified_t", sa.BigInteger, nullable=False),
        sa.Column("monthly_kg", sa.BigInteger, nullable=False),
        sa.Column("variance_bp", sa.BigInteger, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("signed_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("verified_t >= 0", name="ck_verifications_verified"),
    )
    op.create_index("ix_verifications_verifier", "verifications", ["verifier"])
    op.create_table(
        "entity_records",
        sa.Column("emitter", sa.String(64), primary_key=True),
        sa.Column("clean_run", sa.Integer, nullable=False),
        sa.Column("streamlined", sa.Boolean, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "obligations",
        sa.Column("emitter", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("obligation", sa.BigInteger, nullable=False),
        sa.Column("allowances", sa.BigInteger, nullable=False),
        sa.Column("credits", sa.BigInteger, nullable=False),
        sa.Column("set_seq", sa.BigInteger, nullable=False),
        sa.Column("met_seq", sa.BigInteger, nullable=True),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("allowances + credits <= obligation", name="ck_obligations_not_over"),
        sa.CheckConstraint("allowances >= 0 AND credits >= 0", name="ck_obligations_surrendered"),
        sa.CheckConstraint("obligation >= 0", name="ck_obligations_obligation"),
    )
    op.create_table(
        "surrenders",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("emitter", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_surrenders_quantity"),
    )
    op.create_index("ix_surrenders_emitter_year", "surrenders", ["emitter", "year"])
    op.create_table(
        "offset_projects",
        sa.Column("project", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "document_keys",
        sa.Column("participant", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("public_key", sa.String(68), nullable=False),
        sa.Column("published_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_document_keys_address", "document_keys", ["address"])


def downgrade() -> None:
    for table in (
        "document_keys", "offset_projects", "surrenders", "obligations", "entity_records",
        "verifications", "conflicts", "qualification_events", "qualifications", "annual_reports",
        "current_months", "monthly_submissions", "calibrations", "instruments", "emitters",
        "installations",
    ):
        op.drop_table(table)
