"""Public documents of the project cycle beside the journal (projects/public_document_store.py):
design documents kept as is, by the SHA-256 of their bytes. Not a projection: no entry
writes it, and replay neither rebuilds nor compares it.

Revision ID: projects_0002
Revises: projects_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "projects_0002"
down_revision = "projects_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_documents",
        sa.Column("sha256", sa.String(66), primary_key=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("stored_by", sa.String(64), nullable=False),
        sa.Column("stored_at", sa.String(24), nullable=False),
    )
    op.create_index("ix_public_documents_stored_by", "public_documents", ["stored_by"])


def downgrade() -> None:
    op.drop_index("ix_public_documents_stored_by", table_name="public_documents")
    op.drop_table("public_documents")
