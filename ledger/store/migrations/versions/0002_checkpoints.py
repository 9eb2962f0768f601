"""Signed checkpoints, the journal's Merkle log nodes and the state commitment's leaf versions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("log_size", sa.BigInteger, nullable=False),
        sa.Column("log_root", sa.LargeBinary(32), nullable=False),
        sa.Column("state_root", sa.LargeBinary(32), nullable=False),
        sa.Column("cut_at", sa.String(30), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("anchor_chain_id", sa.BigInteger, nullable=True),
        sa.Column("anchor_contract", sa.String(42), nullable=True),
        sa.Column("anchor_tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("anchor_block_number", sa.BigInteger, nullable=True),
        sa.Column("anchor_block_time", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "state_leaves",
        sa.Column("key", sa.LargeBinary(32), primary_key=True),
        sa.Column("from_checkpoint", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("to_checkpoint", sa.BigInteger, nullable=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_state_leaves_from", "state_leaves", ["from_checkpoint"])
    op.create_index("ix_state_leaves_to", "state_leaves", ["to_checkpoint"])


def downgrade() -> None:
    for table in ("state_leaves", "log_nodes", "checkpoints"):
        op.drop_table(table)
