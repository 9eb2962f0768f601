"""The lots' lien index holds only lots under a lien.

Most lots carry no lien; indexing their NULLs cost every lot insert and delete one more index
write for nothing (the index is only searched for a given lien).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_UNDER_LIEN = sa.text("lien IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_lots_lien", table_name="lots")
    op.create_index("ix_lots_lien", "lots", ["lien"], sqlite_where=_UNDER_LIEN,
                    postgresql_where=_UNDER_LIEN)


def downgrade() -> None:
    op.drop_index("ix_lots_lien", table_name="lots")
    op.create_index("ix_lots_lien", "lots", ["lien"])
