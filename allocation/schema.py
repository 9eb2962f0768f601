"""The allocation module's tables: projections its handlers write through `ledger.effects.Row`
(declared by allocation/module.py, `tables=`, and compared by replay like the core's), on a
MetaData of their own. Quantities are whole tonnes, prices exact integers of the minor unit per
tonne, decimal figures (output, benchmarks, factors) their exact decimal strings.
Its migrations are in allocation/migrations/ (this module's version location).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# --- the plan -------------------------------------------------------------------------------

# A scheme's plan for one year, and its counters (docs/allocation.md): the invariant
# issued - taken_back + reserve + to_auction <= cap always holds; on_offer <= to_auction.
allocation_plans = Table(
    "allocation_plans", metadata,
    Column("scheme", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("cap", BigInteger, nullable=False),
    Column("sectors", Text, nullable=False),  # canonical JSON (allocation.sectors.sectors_json)
    Column("reserve", BigInteger, nullable=False),  # units in the market-stability reserve
    Column("to_auction", BigInteger, nullable=False),  # units still to auction
    Column("on_offer", BigInteger, nullable=False),  # of those, in announced uncleared auctions
    Column("issued", BigInteger, nullable=False),  # units issued for the year, every way
    Column("taken_back", BigInteger, nullable=False),  # units taken back and cancelled
    Column("amendments", Integer, nullable=False),
    Column("set_seq", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    CheckConstraint("issued - taken_back + reserve + to_auction <= cap",
                    name="ck_allocation_plans_cap"),
    CheckConstraint("0 <= on_offer AND on_offer <= to_auction AND 0 <= reserve "
                    "AND 0 <= taken_back AND taken_back <= issued",
                    name="ck_allocation_plans_counters"),
)

# Free allocation issued so far in each of a plan's sectors (net of units taken back).
sector_allocations = Table(
    "sector_allocations", metadata,
    Column("scheme", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("sector", String(64), primary_key=True),
    Column("allocated", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    CheckConstraint("allocated >= 0", name="ck_sector_allocations_allocated"),
)

# Every amendment of a plan, with its reason and what it changed.
plan_amendments = Table(
    "plan_amendments", metadata,
    Column("scheme", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("reason", Text, nullable=False),
    Column("cap_before", BigInteger, nullable=False),
    Column("cap_after", BigInteger, nullable=False),
    Column("sectors_before", Text, nullable=False),
    Column("sectors_after", Text, nullable=False),
)

# --- free allocation ------------------------------------------------------------------------

# An installation's activity output for a year, signed by a qualified verifier.
verified_outputs = Table(
    "verified_outputs", metadata,
    Column("installation", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("verifier", String(64), nullable=False),
    Column("output", String(40), nullable=False),  # exact decimal string
    Column("unit", String(16), nullable=False),
    Column("signed_seq", BigInteger, nullable=False),
)

# What an installation received for a year, and how: `preallocated` by pre-allocation or as a
# new entrant (`source`), `final` the true-up's figure (null until trued up), `issued` and
# `taken_back` every unit put into and taken out of its account for the year, `debt_applied`
# the debt deducted from its allocations, `debt_created` the shortfall a take-back left,
# `debt_after` what the installation owed once this row last changed (its leaf shows it).
installation_allocations = Table(
    "installation_allocations", metadata,
    Column("installation", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("scheme", String(64), nullable=False),
    Column("sector", String(64), nullable=False),
    Column("account", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # preallocation | new_entrant
    Column("preallocated", BigInteger, nullable=False),  # the figure before debts
    Column("final", BigInteger),  # null until trued up
    Column("issued", BigInteger, nullable=False),
    Column("taken_back", BigInteger, nullable=False),
    Column("debt_applied", BigInteger, nullable=False),
    Column("debt_created", BigInteger, nullable=False),
    Column("debt_after", BigInteger, nullable=False),  # the installation's debt after this row
    Column("batches", Text, nullable=False),  # JSON list of the batch ids it was issued in
    Column("allocated_seq", BigInteger, nullable=False),
    Column("trued_up_seq", BigInteger),
    Column("updated_seq", BigInteger, nullable=False),
    CheckConstraint("issued >= 0 AND taken_back >= 0 AND taken_back <= issued "
                    "AND debt_applied >= 0 AND debt_created >= 0 AND debt_after >= 0",
                    name="ck_installation_allocations_quantities"),
)

# An installation's debt still to be deducted from its next allocations.
allocation_debts = Table(
    "allocation_debts", metadata,
    Column("installation", String(64), primary_key=True),
    Column("debt", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    CheckConstraint("debt >= 0", name="ck_allocation_debts_debt"),
)

# An installation that has closed: no allocation for a year after `last_year`.
installation_closures = Table(
    "installation_closures", metadata,
    Column("installation", String(64), primary_key=True),
    Column("last_year", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("closed_seq", BigInteger, nullable=False),
)

# --- the reserve ----------------------------------------------------------------------------

# Signed market figures a reserve movement cites as its trigger.
market_figures = Table(
    "market_figures", metadata,
    Column("id", String(64), primary_key=True),
    Column("scheme", String(64), nullable=False),
    Column("period", String(7), nullable=False),  # YYYY-MM
    Column("average_price", BigInteger, nullable=False),  # minor units per tonne
    Column("surplus", BigInteger, nullable=False),  # tonnes in circulation
    Column("source", Text, nullable=False),
    Column("published_seq", BigInteger, nullable=False),
)

# Every movement of the reserve: a release to auction, an absorption from the volume to
# auction, or a new entrant's allocation from it.
reserve_movements = Table(
    "reserve_movements", metadata,
    Column("scheme", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # release | absorb | new_entrant
    Column("quantity", BigInteger, nullable=False),
    Column("figures", String(64), nullable=False),  # "" for a new entrant
    Column("installation", String(64), nullable=False),  # "" but for a new entrant
    Column("reason", Text, nullable=False),
    CheckConstraint("quantity > 0", name="ck_reserve_movements_quantity"),
)

# --- auctions -------------------------------------------------------------------------------

# An auction and, once cleared, its result. `bids_digest` commits to every bid in the order
# they arrived (docs/allocation.md); `status` is announced or cleared.
auctions = Table(
    "auctions", metadata,
    Column("id", String(64), primary_key=True),
    Column("scheme", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("reserve_price", BigInteger, nullable=False),
    Column("opens", String(20), nullable=False),  # YYYY-MM-DDTHH:MM:SSZ
    Column("closes", String(20), nullable=False),
    Column("bidder_limit_bp", Integer, nullable=False),
    Column("batch", String(64), nullable=False),  # the results' batch
    Column("status", String(16), nullable=False),
    Column("bid_count", Integer, nullable=False),
    Column("bids_digest", String(66), nullable=False),  # 0x + SHA-256
    Column("clearing_price", BigInteger, nullable=False),  # 0 until cleared, or none sold
    Column("sold", BigInteger, nullable=False),
    Column("results_digest", String(66), nullable=False),  # "" until cleared
    Column("announced_seq", BigInteger, nullable=False),
    Column("cleared_seq", BigInteger),
    CheckConstraint("sold <= quantity", name="ck_auctions_sold"),
)

# Each bid; `filled` is null until the auction is cleared.
auction_bids = Table(
    "auction_bids", metadata,
    Column("auction", String(64), primary_key=True),
    Column("bid", String(64), primary_key=True),
    Column("bidder", String(64), nullable=False),
    Column("account", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("filled", BigInteger),
    CheckConstraint("quantity > 0 AND price > 0", name="ck_auction_bids_positive"),
)

# What each bidder has bid in an auction, so that its limit is checked by key.
auction_bidders = Table(
    "auction_bidders", metadata,
    Column("auction", String(64), primary_key=True),
    Column("bidder", String(64), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("bids", Integer, nullable=False),
)

TABLES: tuple[Table, ...] = tuple(metadata.sorted_tables)
MIGRATIONS = Path(__file__).parent / "migrations"
