"""Witnesses' cosignatures of checkpoints, and their attestations for the registry on chain.

A witness replays the journal itself and cosigns each checkpoint it agrees with
(anchoring.auditor.cosignature); the operator keeps what it was handed, verified, so that
proof bundles carry the cosignatures and the anchoring worker can hand the registry the
attestations it requires (docs/DESIGN.md, "Witnesses").

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cosignatures",
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("witness", sa.Text, primary_key=True),
        sa.Column("key_id", sa.LargeBinary(4), primary_key=True),
        sa.Column("cosigned_at", sa.BigInteger, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
    )
    op.create_table(
        "witness_attestations",
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("attester", sa.String(42), primary_key=True),
        sa.Column("chain_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("registry", sa.String(42), primary_key=True),
        sa.Column("signature", sa.LargeBinary(65), nullable=False),
    )


def downgrade() -> None:
    for table in ("witness_attestations", "cosignatures"):
        op.drop_table(table)
