"""Why an allocation operation is refused: the allocation module's own named reasons (declared
in allocation/module.py). Refusals it shares with the core (a missing signature, an unknown
account, a frozen account) are the core's `ledger.errors.Reason`; those it shares with the
compliance module (an unknown installation, an unqualified verifier) are `ComplianceReason`."""

from __future__ import annotations

from ledger.errors import ReasonCode


class AllocationReason(ReasonCode):
    # schemes and plans
    not_an_allocation_scheme = ("the scheme's rules have no [allocation] section", False)
    plan_exists = ("the scheme already has a plan for this year: change it with "
                   "allocation_plan_amend", False)
    no_plan = ("the scheme has no allocation plan for this year", True)
    invalid_sectors = ("the sectors must be a JSON list of {sector, free_cap, benchmark, "
                       "output_unit, factors}, each sector once, decimals as strings", False)
    plan_over_cap = ("the sectors' free allocation, the reserve and the volume to auction "
                     "together exceed the cap", False)
    amendment_below_committed = ("an amendment cannot take the cap, or a sector's free "
                                 "allocation, below what is already issued or set aside", False)
    reason_required = ("an amendment, a reserve movement or a new-entrant allocation states "
                       "its reason", False)
    # verified output and free allocation
    output_already_verified = ("this installation's output for the year is already verified",
                               False)
    no_verified_output = ("the installation has no verified output for the year the figure "
                          "rests on", True)
    output_unit_mismatch = ("the output's unit is not the unit the plan's sector counts in",
                            False)
    sector_not_in_plan = ("the plan names no benchmark for the installation's sector", False)
    installation_not_in_scheme = ("the installation is covered by another scheme", False)
    already_preallocated = ("the installation has already received its allocation for the year",
                            False)
    already_trued_up = ("the installation's allocation for the year has already been trued up",
                        False)
    not_allocated = ("the installation has received no allocation for the year to true up",
                     True)
    sector_cap_exceeded = ("the allocation would take the sector past its free allocation in "
                           "the plan", False)
    cap_exceeded = ("the issuance would take the year's units past the cap", False)
    not_emitters_compliance_account = ("allocations go to a compliance account of the "
                                       "installation's emitter", False)
    installation_closed = ("the installation has closed: it receives no allocation for a year "
                           "after its last", False)
    already_closed = ("the installation has already closed", False)
    # reserve
    reserve_insufficient = ("the reserve holds fewer units than asked for", False)
    unknown_figures = ("no market figures have this id", False)
    figures_exist = ("market figures with this id already exist", False)
    figures_of_another_scheme = ("the market figures are of another scheme", False)
    trigger_not_met = ("the cited market figures do not meet a trigger of the scheme's "
                       "[allocation.reserve] rules for this movement", False)
    exceeds_auction_volume = ("the quantity exceeds the plan's volume still to auction and "
                              "not on offer", False)
    # auctions
    auction_exists = ("an auction with this id already exists", False)
    unknown_auction = ("no auction has this id", False)
    invalid_window = ("the bidding window must close after it opens, and in the future", False)
    invalid_bidder_limit = ("the limit per bidder is 1 to 10000 basis points of the offer",
                            False)
    auction_not_open = ("the auction is not open for bids: its window has not opened or has "
                        "closed", True)
    auction_still_open = ("the auction's bidding window has not closed yet", True)
    auction_cleared = ("the auction has been cleared", False)
    bid_exists = ("a bid with this id already exists in this auction", False)
    bidder_not_eligible = ("the bidder's role may not bid in this scheme's auctions "
                           "([allocation] bidder_roles)", False)
    account_not_bidders = ("an auction's units go to an account of the bidder", False)
    below_reserve_price = ("the bid's price is below the auction's reserve price", False)
    exceeds_bidder_limit = ("the bid takes the bidder's bids in this auction past its limit",
                            False)
