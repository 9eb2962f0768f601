"""The state commitment's tree, persisted (anchoring/operator/state_tree/store.py).

Each checkpoint writes the nodes of its tree that changed, keyed by (version, nibble path),
as Jellyfish Merkle trees store theirs, and records the nodes they replace as stale since that
checkpoint, for pruning. A ledger cut before this revision builds its latest checkpoint's tree
from the leaf versions on its next cut; earlier checkpoints keep none (their proofs rebuild).
Not a projection: a replay neither rebuilds nor compares it.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_tree_nodes",
        sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("path", sa.LargeBinary(64), primary_key=True),
        sa.Column("node", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "state_tree_stale",
        sa.Column("stale_since", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("path", sa.LargeBinary(64), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("state_tree_stale")
    op.drop_table("state_tree_nodes")
