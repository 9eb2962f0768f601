"""The allocation module's tables (allocation/schema.py): plans and their sectors'
allocations and amendments, verified outputs, installations' allocations, debts and closures,
market figures and reserve movements, auctions, bids and bidders' totals, with the CHECK
constraints that keep the cap's invariant and refuse impossible quantities.

Revision ID: allocation_0001
Revises:
Depends on: compliance_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "allocation_0001"
down_revision = None  # the first of the branch "allocation"
branch_labels = ("allocation",)
depends_on = "compliance_0002"  # the compliance module's head: its installations are used


def upgrade() -> None:
    op.create_table(
        "allocation_debts",
        sa.Column("installation", sa.String(64), primary_key=True),
        sa.Column("debt", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("debt >= 0", name="ck_allocation_debts_debt"),
    )
    op.create_table(
        "allocation_plans",
        sa.Column("scheme", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("cap", sa.BigInteger, nullable=False),
        sa.Column("sectors", sa.Text, nullable=False),
        sa.Column("reserve", sa.BigInteger, nullable=False),
        sa.Column("to_auction", sa.BigInteger, nullable=False),
        sa.Column("on_offer", sa.BigInteger, nullable=False),
        sa.Column("issued", sa.BigInteger, nullable=False),
        sa.Column("taken_back", sa.BigInteger, nullable=False),
        sa.Column("amendments", sa.Integer, nullable=False),
        sa.Column("set_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("issued - taken_back + reserve + to_auction <= cap",
                           name="ck_allocation_plans_cap"),
        sa.CheckConstraint("0 <= on_offer AND on_offer <= to_auction AND 0 <= reserve "
                           "AND 0 <= taken_back AND taken_back <= issued",
                           name="ck_allocation_plans_counters"),
    )
    op.create_table(
        "auction_bidders",
        sa.Column("auction", sa.String(64), primary_key=True),
        sa.Column("bidder", sa.String(64), primary_key=True),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("bids", sa.Integer, nullable=False),
    )
    op.create_table(
        "auction_bids",
        sa.Column("auction", sa.String(64), primary_key=True),
        sa.Column("bid", sa.String(64), primary_key=True),
        sa.Column("bidder", sa.String(64), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("filled", sa.BigInteger),
        sa.CheckConstraint("quantity > 0 AND price > 0", name="ck_auction_bids_positive"),
    )
    op.create_table(
        "auctions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("reserve_price", sa.BigInteger, nullable=False),
        sa.Column("opens", sa.String(20), nullable=False),
        sa.Column("closes", sa.String(20), nullable=False),
        sa.Column("bidder_limit_bp", sa.Integer, nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bid_count", sa.Integer, nullable=False),
        sa.Column("bids_digest", sa.String(66), nullable=False),
        sa.Column("clearing_price", sa.BigInteger, nullable=False),
        sa.Column("sold", sa.BigInteger, nullable=False),
        sa.Column("results_digest", sa.String(66), nullable=False),
        sa.Column("announced_seq", sa.BigInteger, nullable=False),
        sa.Column("cleared_seq", sa.BigInteger),
        sa.CheckConstraint("sold <= quantity", name="ck_auctions_sold"),
    )
    op.create_table(
        "installation_allocations",
        sa.Column("installation", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("sector", sa.String(64), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("preallocated", sa.BigInteger, nullable=False),
        sa.Column("final", sa.BigInteger),
        sa.Column("issued", sa.BigInteger, nullable=False),
        sa.Column("taken_back", sa.BigInteger, nullable=False),
        sa.Column("debt_applied", sa.BigInteger, nullable=False),
        sa.Column("debt_created", sa.BigInteger, nullable=False),
        sa.Column("debt_after", sa.BigInteger, nullable=False),
        sa.Column("batches", sa.Text, nullable=False),
        sa.Column("allocated_seq", sa.BigInteger, nullable=False),
        sa.Column("trued_up_seq", sa.BigInteger),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("issued >= 0 AND taken_back >= 0 AND taken_back <= issued "
                           "AND debt_applied >= 0 AND debt_created >= 0 AND debt_after >= 0",
                           name="ck_installation_allocations_quantities"),
    )
    op.create_table(
        "installation_closures",
        sa.Column("installation", sa.String(64), primary_key=True),
        sa.Column("last_year", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("closed_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "market_figures",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("average_price", sa.BigInteger, nullable=False),
        sa.Column("surplus", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("published_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "plan_amendments",
        sa.Column("scheme", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("cap_before", sa.BigInteger, nullable=False),
        sa.Column("cap_after", sa.BigInteger, nullable=False),
        sa.Column("sectors_before", sa.Text, nullable=False),
        sa.Column("sectors_after", sa.Text, nullable=False),
    )
    op.create_table(
        "reserve_movements",
        sa.Column("scheme", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("figures", sa.String(64), nullable=False),
        sa.Column("installation", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_reserve_movements_quantity"),
    )
    op.create_table(
        "sector_allocations",
        sa.Column("scheme", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sector", sa.String(64), primary_key=True),
        sa.Column("allocated", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.CheckConstraint("allocated >= 0", name="ck_sector_allocations_allocated"),
    )
    op.create_table(
        "verified_outputs",
        sa.Column("installation", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("verifier", sa.String(64), nullable=False),
        sa.Column("output", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("signed_seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("verified_outputs")
    op.drop_table("sector_allocations")
    op.drop_table("reserve_movements")
    op.drop_table("plan_amendments")
    op.drop_table("market_figures")
    op.drop_table("installation_closures")
    op.drop_table("installation_allocations")
    op.drop_table("auctions")
    op.drop_table("auction_bids")
    op.drop_table("auction_bidders")
    op.drop_table("allocation_plans")
    op.drop_table("allocation_debts")

