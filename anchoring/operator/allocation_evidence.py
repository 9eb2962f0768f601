"""The allocation module's proof bundles, built from the store (docs/proof-format.md):

    prove_auction(Prover(store), "AU-2026-1")      # a cleared auction, its book and results

The auction's leaf comes from the Prover, so its proof is exactly the Prover's and the fields
every bundle carries (checkpoint, operator, anchor) are copied, not rebuilt here.
`anchoring.auditor.verify_allocation` checks it offline.
"""

from __future__ import annotations

import json

from allocation.auction_leaf_store import book_before, fills
from allocation.clearing import bid_record, ranked
from anchoring.auditor.note import parse_text, split_note
from anchoring.auditor.verify_allocation import AUCTION, CLEARED, auction_key
from anchoring.operator.bundles import Bundle, Prover
from anchoring.operator.errors import CheckpointError, OperatorFailure


class AuctionNotFound(CheckpointError, LookupError):
    """No auction has the id asked for, or it was not cleared at the checkpoint."""

    code = OperatorFailure.auction_not_found


def prove_auction(prover: Prover, auction: str, number: int | None = None) -> Bundle:
    """Auction `auction` at checkpoint `number` (default: the latest): its record's state
    proof, the book (every bid placed before the checkpoint, in the order placed) and the
    ledger's results (price, sold, and each bid's fill in rank order).

    Raises AuctionNotFound (no such auction, or not cleared at the checkpoint: bids are sealed
    until then), or NotCheckpointed."""
    leaf = prover.leaf(AUCTION, auction, auction_key(auction), number)
    checkpoint = parse_text(split_note(leaf["checkpoint"])[0])
    value = leaf["state"]["value"]
    record = None if value is None else json.loads(value)
    if record is None or record["status"] != CLEARED:
        state = "no auction" if record is None else "it was not cleared"
        raise AuctionNotFound(f"auction {auction!r} at checkpoint {checkpoint.number}: {state}"
                              " (its book is disclosed once it is cleared and checkpointed)")
    with prover.store.read() as tx:
        book = book_before(tx, auction, checkpoint.size)
        filled = fills(tx, auction)
    results = {"price": record["clearing_price"], "sold": record["sold"],
               "fills": [[bid.bid, filled[bid.bid]] for bid in ranked(book)]}
    return {**leaf, "book": [bid_record(bid) for bid in book], "results": results}
