"""The pledge module's first revision of its own: the database refuses an impossible quantity
in its tables, as the core's revision 0006 does in the core's (docs/adr/0008).

A pledge holds at least one unit, and what was released and enforced of it is never below
zero nor more than it holds; a repo likewise with what was returned; an agreement's event
moves no negative quantity (an amendment moves none). A store that already holds such a row
refuses the upgrade by the constraint's name: run `carbonledger audit`.

Revision ID: pledge_0001
Revises:
Depends on: 0006
"""

from alembic import op

revision = "pledge_0001"
down_revision = None  # the first of the branch "pledge"
branch_labels = ("pledge",)
depends_on = "0006"  # the core's head when it was written

CHECKS = {
    "pledges": (("ck_pledges_quantity", "quantity > 0"),
                ("ck_pledges_released", "released >= 0"),
                ("ck_pledges_enforced", "enforced >= 0"),
                ("ck_pledges_resolved", "released + enforced <= quantity")),
    "repos": (("ck_repos_quantity", "quantity > 0"),
              ("ck_repos_returned", "returned >= 0 AND returned <= quantity")),
    "agreement_events": (("ck_agreement_events_quantity", "quantity >= 0"),),
}


def upgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, condition in checks:
                batch.create_check_constraint(name, condition)


def downgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, _ in checks:
                batch.drop_constraint(name, type_="check")
