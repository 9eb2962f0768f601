"""The auction's clearing and its commitments, for the ledger: `clear`, `bids_digest` and
`results_digest` (docs/allocation.md, "Auctions"). They are pure and live in the auditor's
part (anchoring/auditor/auction_clearing.py), which may import nothing of the ledger, so that
the `auction` bundle's verifier runs the very functions auction_clear does."""

from __future__ import annotations

from anchoring.auditor.auction_clearing import (
    EMPTY_BOOK,
    Bid,
    Clearing,
    bid_record,
    bids_digest,
    canonical,
    clear,
    hex_digest,
    next_bids_digest,
    ranked,
    results_digest,
    results_record,
)

__all__ = ["EMPTY_BOOK", "Bid", "Clearing", "bid_record", "bids_digest", "canonical", "clear",
           "hex_digest", "next_bids_digest", "ranked", "results_digest", "results_record"]
