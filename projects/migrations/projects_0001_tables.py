"""The projects module's tables (projects/schema.py): methodologies, projects, their public
comments, monitoring periods and retirements for offsetting claims, with the CHECK
constraints that refuse impossible quantities.

Revision ID: projects_0001
Revises:
Depends on: compliance_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "projects_0001"
down_revision = None  # the first of the branch "projects"
branch_labels = ("projects",)
depends_on = "compliance_0002"  # the compliance module's head: its qualifications are used


def upgrade() -> None:
    op.create_table(
        "methodologies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("sector", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("applicability", sa.Text, nullable=False),
        sa.Column("valid_from", sa.String(10), nullable=False),
        sa.Column("valid_until", sa.String(10), nullable=False),
        sa.Column("buffer_bp", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("replaced_by", sa.String(64), nullable=False),
        sa.Column("existing_projects", sa.String(8), nullable=False),
        sa.Column("retired_on", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("published_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("buffer_bp >= 0 AND buffer_bp <= 10000", name="ck_methodologies_buffer"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("methodology", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("start_date", sa.String(10), nullable=False),
        sa.Column("crediting_start", sa.String(10), nullable=False),
        sa.Column("crediting_end", sa.String(10), nullable=False),
        sa.Column("expected_t", sa.BigInteger, nullable=False),
        sa.Column("pdd_hash", sa.String(66), nullable=False),
        sa.Column("comments_until", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("validator", sa.String(64), nullable=False),
        sa.Column("validation_hash", sa.String(66), nullable=False),
        sa.Column("periods", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("submitted_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("expected_t >= 0", name="ck_projects_expected"),
    )
    op.create_index("ix_projects_owner", "projects", ["owner"])
    op.create_index("ix_projects_methodology", "projects", ["methodology"])
    op.create_table(
        "project_comments",
        sa.Column("project", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("comment_hash", sa.String(66), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_table(
        "monitoring_periods",
        sa.Column("project", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(64), primary_key=True),
        sa.Column("start_date", sa.String(10), nullable=False),
        sa.Column("end_date", sa.String(10), nullable=False),
        sa.Column("report_hash", sa.String(66), nullable=False),
        sa.Column("claimed_t", sa.BigInteger, nullable=False),
        sa.Column("verifier", sa.String(64), nullable=False),
        sa.Column("verified_t", sa.BigInteger, nullable=False),
        sa.Column("issued_t", sa.BigInteger, nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reported_seq", sa.BigInteger, nullable=False),
        sa.Column("verified_seq", sa.BigInteger, nullable=True),
        sa.Column("issued_seq", sa.BigInteger, nullable=True),
        sa.CheckConstraint("claimed_t >= 0 AND verified_t >= 0", name="ck_periods_reductions"),
        sa.CheckConstraint("issued_t >= 0 AND issued_t <= verified_t", name="ck_periods_issued"),
    )
    op.create_table(
        "claim_retirements",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("beneficiary", sa.Text, nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("period_start", sa.String(10), nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column("claim", sa.Text, nullable=False),
        sa.Column("serials", sa.Text, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_claim_retirements_quantity"),
    )
    op.create_index("ix_claim_retirements_account", "claim_retirements", ["account"])


def downgrade() -> None:
    for table in (
        "claim_retirements", "monitoring_periods", "project_comments", "projects",
        "methodologies",
    ):
        op.drop_table(table)
