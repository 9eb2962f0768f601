"""The auction leaf of the state commitment (docs/adr/0002, docs/allocation.md): one per
auction, by its id, committing to its terms, its status, its bid count and the running digest
of its bids, and once cleared its results. Its value and reads, and the book the `auction`
bundle's prover asks for, are allocation/auction_leaf_store.py's; which auctions the entries
since a checkpoint may have changed is said here, from the entries: auction_announce,
auction_bid and auction_clear each name the auction in their `auction` field.
"""

from __future__ import annotations

from allocation.auction_leaf_store import all_auction_leaves, auction_leaves
from anchoring.auditor.state_changes import EntriesSince
from anchoring.auditor.verify_allocation import AUCTION, auction_key
from ledger.modules import LeafKind

AUCTION_OPS = frozenset({"auction_announce", "auction_bid", "auction_clear"})


def auctions_touched(since: EntriesSince) -> set[str]:
    """Each auction an announcement, a bid or a clearing named."""
    return {entry["instruction"]["fields"]["auction"] for entry in since.entries
            if entry["instruction"]["op"] in AUCTION_OPS}


AUCTION_LEAVES = LeafKind(AUCTION, auction_key, auctions_touched, auction_leaves,
                          all_auction_leaves, {"auctions": ("id",)})
