"""Pledges, repos and their events (the pledge package's projections).

History: written before each module owned its migrations. The pledge module's tables are
defined in pledge/schema.py and its later migrations go in its own version location
(pledge/migrations/), but this revision stays here, in the core's chain, with its id and
parent: existing ledgers record 0004, whose parent it is, and the core's chain must stay whole
without any module's location. So every ledger has these three tables, empty unless it runs
the pledge module.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pledges",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("pledgor", sa.String(64), nullable=False),
        sa.Column("pledgee", sa.String(64), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("released", sa.BigInteger, nullable=False),
        sa.Column("enforced", sa.BigInteger, nullable=False),
        sa.Column("loan_reference", sa.Text, nullable=False),
        sa.Column("principal", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("start_date", sa.String(10), nullable=False),
        sa.Column("maturity_date", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_pledges_pledgee", "pledges", ["pledgee"])
    op.create_index("ix_pledges_account", "pledges", ["account"])
    op.create_table(
        "repos",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("seller", sa.String(64), nullable=False),
        sa.Column("buyer", sa.String(64), nullable=False),
        sa.Column("seller_account", sa.String(64), nullable=False),
        sa.Column("buyer_account", sa.String(64), nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("returned", sa.BigInteger, nullable=False),
        sa.Column("purchase_price", sa.BigInteger, nullable=False),
        sa.Column("repurchase_price", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("opened_on", sa.String(10), nullable=False),
        sa.Column("repurchase_date", sa.String(10), nullable=False),
        sa.Column("free_use", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_repos_buyer", "repos", ["buyer"])
    op.create_index("ix_repos_seller", "repos", ["seller"])
    op.create_table(
        "agreement_events",
        sa.Column("agreement", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("op", sa.String(40), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("agreement_events", "repos", "pledges"):
        op.drop_table(table)
