"""One module per operation: its payload type, its schema (the EIP-712 struct) and its
handler. Each file adds its (schema, handler, roles, footprint) here."""

from __future__ import annotations

from allocation.ops import (
    allocation_plan_amend,
    allocation_plan_set,
    allocation_preallocate,
    allocation_true_up,
    auction_announce,
    auction_bid,
    auction_clear,
    installation_close,
    market_figures_publish,
    new_entrant_allocate,
    output_verify,
    reserve_absorb,
    reserve_release,
)
from ledger.model import Role
from ledger.modules import Footprint, Operation

REGISTRY = frozenset({"registry"})

OPERATIONS: tuple[Operation, ...] = (
    # the plan: the registry sets and amends a scheme's cap for a year
    Operation(allocation_plan_set.SCHEMA, allocation_plan_set.allocation_plan_set, REGISTRY),
    Operation(allocation_plan_amend.SCHEMA, allocation_plan_amend.allocation_plan_amend,
              REGISTRY),
    # free allocation: verified output, then pre-allocation, true-up, new entrants, closures
    Operation(output_verify.SCHEMA, output_verify.output_verify, frozenset({"verifier"})),
    Operation(allocation_preallocate.SCHEMA, allocation_preallocate.allocation_preallocate,
              REGISTRY),
    Operation(allocation_true_up.SCHEMA, allocation_true_up.allocation_true_up, REGISTRY),
    Operation(new_entrant_allocate.SCHEMA, new_entrant_allocate.new_entrant_allocate, REGISTRY,
              Footprint(accounts=("account",))),
    Operation(installation_close.SCHEMA, installation_close.installation_close, REGISTRY),
    # the market-stability reserve
    Operation(market_figures_publish.SCHEMA, market_figures_publish.market_figures_publish,
              REGISTRY),
    Operation(reserve_release.SCHEMA, reserve_release.reserve_release, REGISTRY),
    Operation(reserve_absorb.SCHEMA, reserve_absorb.reserve_absorb, REGISTRY),
    # auctions: the registry announces and clears; eligible participants bid (the scheme's
    # rules say which roles: the handler checks them)
    Operation(auction_announce.SCHEMA, auction_announce.auction_announce, REGISTRY),
    Operation(auction_bid.SCHEMA, auction_bid.auction_bid,
              frozenset(role.value for role in Role)),
    Operation(auction_clear.SCHEMA, auction_clear.auction_clear, REGISTRY),
)
