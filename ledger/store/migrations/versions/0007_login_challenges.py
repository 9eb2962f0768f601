"""Login challenges redeemed and not yet expired (api/access.py).

A participant logs in to the HTTP service by signing a challenge the service issued; the
challenge carries its own expiry under the service's MAC, so issuing one writes nothing. It is
recorded here when it is redeemed, so that every worker process serving the ledger refuses it
the second time; rows past their expiry are deleted as new ones arrive. Not a projection: a
replay neither rebuilds nor compares it.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_challenges",
        sa.Column("challenge", sa.LargeBinary(32), primary_key=True),
        sa.Column("expires", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_login_challenges_expires", "login_challenges", ["expires"])


def downgrade() -> None:
    op.drop_index("ix_login_challenges_expires", table_name="login_challenges")
    op.drop_table("login_challenges")
