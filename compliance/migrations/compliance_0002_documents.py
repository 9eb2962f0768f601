"""Sealed confidential documents beside the journal (compliance/document_store.py): the
documents' ciphertext by their plaintext's SHA-256, and their keys wrapped for each reader.
Not projections: no entry writes them, and replay neither rebuilds nor compares them.

Revision ID: compliance_0002
Revises: compliance_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "compliance_0002"
down_revision = "compliance_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(66), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("nonce", sa.LargeBinary(12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", sa.String(24), nullable=False),
    )
    op.create_index("ix_documents_owner", "documents", ["owner"])
    op.create_table(
        "document_readers",
        sa.Column("sha256", sa.String(66), primary_key=True),
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("reader", sa.String(64), nullable=False),
        sa.Column("ephemeral_public_key", sa.LargeBinary(33), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(60), nullable=False),
    )
    op.create_index("ix_document_readers_reader", "document_readers", ["reader"])


def downgrade() -> None:
    op.drop_index("ix_document_readers_reader", table_name="document_readers")
    op.drop_table("document_readers")
    op.drop_index("ix_documents_owner", table_name="documents")
    op.drop_table("documents")
