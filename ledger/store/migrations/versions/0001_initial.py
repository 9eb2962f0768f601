"""The journal and its projections.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("instruction_id", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("body_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("op", sa.String(40), nullable=False),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("accepted_at", sa.String(30), nullable=False),
    )
    op.create_table(
        "journal_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("checkpoint", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO journal_head (id, seq, checkpoint) VALUES (1, -1, 0)")
    op.create_table(
        "participants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "signing_keys",
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("participant", sa.String(64), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
        sa.Column("revoked_seq", sa.BigInteger, nullable=True),
        sa.Column("last_nonce", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_signing_keys_participant", "signing_keys", ["participant"])
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("participant", sa.String(64), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("frozen", sa.Boolean, nullable=False),
        sa.Column("freeze_reason", sa.Text, nullable=False),
        sa.Column("opened_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_accounts_participant", "accounts", ["participant"])
    op.create_table(
        "batches",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("vintage", sa.Integer, nullable=False),
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("monitoring_start", sa.String(10), nullable=False),
        sa.Column("monitoring_end", sa.String(10), nullable=False),
        sa.Column("issuance", sa.String(20), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("serial_prefix", sa.Text, nullable=False),
        sa.Column("issued_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "lots",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("serial_first", sa.BigInteger, nullable=False),
        sa.Column("serial_last", sa.BigInteger, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("lien", sa.String(64), nullable=True),
        sa.Column("created_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_lots_holder", "lots", ["account", "batch", "state", "serial_first"])
    op.create_index("ix_lots_batch_last", "lots", ["batch", "serial_last"])
    op.create_index("ix_lots_lien", "lots", ["lien"])
    op.create_table(
        "holdings",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("batch", sa.String(64), primary_key=True),
        sa.Column("tradable", sa.BigInteger, nullable=False),
        sa.Column("pledged", sa.BigInteger, nullable=False),
        sa.Column("retired", sa.BigInteger, nullable=False),
        sa.Column("surrendered", sa.BigInteger, nullable=False),
        sa.Column("cancelled", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "liens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("created_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "scheme_rules",
        sa.Column("scheme", sa.String(64), primary_key=True),
        sa.Column("rules", sa.Text, nullable=False),
        sa.Column("recorded_seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("scheme_rules", "liens", "holdings", "lots", "batches", "accounts",
                  "signing_keys", "participants", "journal_head", "journal"):
        op.drop_table(table)
