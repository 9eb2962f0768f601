"""The database refuses an impossible quantity, and keeps module rows' earlier values.

CHECK constraints: no holding bucket below zero, every lot a non-empty range of serials from
1, every batch at least one unit. The ledger never writes such a row; these stop one written
behind its back (an insider with the database) at the statement that writes it. A store that
already holds such a row refuses the upgrade, naming the constraint: run `carbonledger audit`.

`row_undo`: each row of a module's table as it was before a transaction first changed it, so
that the checkpointer can re-execute the entries since the previous checkpoint against that
checkpoint's state (docs/adr/0008-transition-checked-checkpoints.md).

SQLite cannot add a constraint to a table: batch mode copies each table into a new one. The
partial lien index is dropped and made again around the copy, so that it keeps its WHERE.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BUCKETS = ("tradable", "pledged", "retired", "surrendered", "cancelled")
_UNDER_LIEN = sa.text("lien IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("holdings") as holdings:
        for bucket in _BUCKETS:
            holdings.create_check_constraint(f"ck_holdings_{bucket}", f"{bucket} >= 0")
    op.drop_index("ix_lots_lien", table_name="lots")
    with op.batch_alter_table("lots") as lots:
        lots.create_check_constraint("ck_lots_serial_first", "serial_first >= 1")
        lots.create_check_constraint("ck_lots_serial_last", "serial_last >= serial_first")
    op.create_index("ix_lots_lien", "lots", ["lien"], sqlite_where=_UNDER_LIEN,
                    postgresql_where=_UNDER_LIEN)
    with op.batch_alter_table("batches") as batches:
        batches.create_check_constraint("ck_batches_quantity", "quantity > 0")
    op.create_table(
        "row_undo",
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("row_key", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("before", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("row_undo")
    with op.batch_alter_table("batches") as batches:
        batches.drop_constraint("ck_batches_quantity", type_="check")
    op.drop_index("ix_lots_lien", table_name="lots")
    with op.batch_alter_table("lots") as lots:
        lots.drop_constraint("ck_lots_serial_last", type_="check")
        lots.drop_constraint("ck_lots_serial_first", type_="check")
    op.create_index("ix_lots_lien", "lots", ["lien"], sqlite_where=_UNDER_LIEN,
                    postgresql_where=_UNDER_LIEN)
    with op.batch_alter_table("holdings") as holdings:
        for bucket in _BUCKETS:
            holdings.drop_constraint(f"ck_holdings_{bucket}", type_="check")
