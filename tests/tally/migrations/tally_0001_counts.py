"""The tally module's counts: the first revision of its branch.

Revision ID: tally_0001
Revises:
Depends on: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "tally_0001"
down_revision = None  # a branch of its own, with its own base...
branch_labels = ("tally",)
depends_on = "0004"  # ...applied after the core's revisions it builds on


def upgrade() -> None:
    op.create_table(
        "tally_counts",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_tally_counts_updated", "tally_counts", ["updated_seq"])


def downgrade() -> None:
    op.drop_table("tally_counts")
