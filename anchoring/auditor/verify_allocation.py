"""The offline checks of the allocation module's evidence (docs/proof-format.md), and the keys
of its leaf kinds.

    auction   SHA-256("auction" 0x00 auction id)

- `auction`: an auction's record at a checkpoint (its terms, status, bid count, the running
  digest of its bids and its results), the disclosed book (every bid, in the order placed)
  and its results. The book must hash to the record's digest and have as many bids; the
  clearing recomputed from the book alone (anchoring.auditor.auction_clearing, the functions
  the ledger's auction_clear runs) must be the stated results, whose digest is the record's.
  A bidder finds its own bid in a verified bundle with `describe_bid`.

Pure like anchoring.auditor.verify: no ledger, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anchoring.auditor.auction_clearing import (
    Bid,
    bids_digest,
    clear,
    hex_digest,
    results_digest,
    results_record,
)
from anchoring.auditor.bundle_format import (
    BundleKind,
    exact_fields,
    integer,
    text_field,
    typed,
    verify_state,
)
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.state_keys import typed_key
from anchoring.auditor.verify_plan import ALLOCATION_BUNDLE

AUCTION = "auction"  # the leaf kind and the bundle kind of an auction
CLEARED = "cleared"

AUCTION_RECORD_FIELDS = {
    "id": str, "scheme": str, "year": int, "quantity": int, "reserve_price": int,
    "opens": str, "closes": str, "bidder_limit_bp": int, "batch": str, "status": str,
    "bid_count": int, "bids_digest": str, "clearing_price": int, "sold": int,
    "results_digest": str,
}
BID_FIELDS = frozenset({"bid", "bidder", "account", "quantity", "price", "seq"})


def auction_key(auction: str) -> bytes:
    return typed_key(AUCTION, auction)


def _broken(reason: str) -> VerificationFailed:
    return VerificationFailed(VerifyFailure.incomplete_evidence, reason)


def _auction_record(record: Any, subject: str) -> Mapping[str, Any]:
    if not isinstance(record, Mapping) or set(record) != set(AUCTION_RECORD_FIELDS):
        raise VerificationFailed(VerifyFailure.malformed_record,
                                 f"the record of {subject} must have exactly the fields "
                                 f"{', '.join(sorted(AUCTION_RECORD_FIELDS))}")
    for name, kind in AUCTION_RECORD_FIELDS.items():
        value = record[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise VerificationFailed(VerifyFailure.malformed_record,
                                     f"the record of {subject} has {name} {value!r:.60}")
    return record


def _book(value: Any) -> list[Bid]:
    """The disclosed book: every bid, in the order placed (increasing entry seq)."""
    typed(value, list, "book (the auction's bids)")
    bids: list[Bid] = []
    for position, item in enumerate(value):
        what = f"book[{position}]"
        typed(item, Mapping, what)
        exact_fields(item, BID_FIELDS, what)
        bid = Bid(bid=text_field(item["bid"], f"{what} bid"),
                  bidder=text_field(item["bidder"], f"{what} bidder"),
                  account=text_field(item["account"], f"{what} account"),
                  quantity=integer(item["quantity"], f"{what} quantity"),
                  price=integer(item["price"], f"{what} price"),
                  seq=integer(item["seq"], f"{what} seq"))
        if bids and bid.seq <= bids[-1].seq:
            raise _broken(f"book out of order: {what} (entry {bid.seq}) follows entry "
                          f"{bids[-1].seq}: the book lists bids in the order placed")
        bids.append(bid)
    if len({bid.bid for bid in bids}) != len(bids):
        raise _broken("book names a bid twice")
    return bids


def verify_auction(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                   _trusted: str) -> str:
    auction = text_field(bundle["auction"], "auction")
    subject = f"auction {auction}"
    record = verify_state(bundle["state"], checkpoint, auction_key(auction), subject,
                          {"id": auction})
    at = f"checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        raise _broken(f"there was no {subject} at {at}: its book proves nothing")
    record = dict(_auction_record(record, subject))
    if record["status"] != CLEARED:
        raise _broken(f"{subject} was not cleared at {at}: it has no results to check")
    book = _book(bundle["book"])
    if len(book) != record["bid_count"]:
        raise _broken(f"book count differs: the disclosed book has {len(book)} bids, but "
                      f"{subject}'s record at {at} commits to {record['bid_count']}")
    if hex_digest(bids_digest(book)) != record["bids_digest"]:
        raise _broken(f"book digest differs: the disclosed book does not hash to the bids "
                      f"digest {subject}'s record commits to: a bid was changed, dropped, "
                      "added or reordered")
    clearing = clear(record["quantity"], record["reserve_price"], book)
    if bundle["results"] != results_record(clearing):
        raise _broken(f"results differ: the stated results of {subject} are not those its "
                      "book clears to")
    if (hex_digest(results_digest(clearing)), clearing.price, clearing.sold) != (
            record["results_digest"], record["clearing_price"], record["sold"]):
        raise _broken(f"results differ: {subject}'s book clears at {clearing.price} for "
                      f"{clearing.sold} t, but its record at {at} says "
                      f"{record['clearing_price']} for {record['sold']} t")
    winners = len(clearing.accepted)
    return (f"{subject} ({record['scheme']} {record['year']}) at {at}: {record['quantity']} t "
            f"offered at a reserve price of {record['reserve_price']}; its {len(book)} bids "
            f"are those its record committed to, and clear at {clearing.price} per tonne: "
            f"{clearing.sold} t sold to {winners} bid{'s' if winners != 1 else ''}, issued in "
            f"batch {record['batch']}")


def describe_bid(bundle: Mapping[str, Any], bid_id: str) -> str:
    """A bid of a verified auction bundle and what it won, in words; ValueError if the book
    has no bid `bid_id` (call after `verify_auction` holds)."""
    book = _book(bundle["book"])
    found = [bid for bid in book if bid.bid == bid_id]
    if not found:
        raise ValueError(f"the book of auction {bundle['auction']} has no bid {bid_id!r}")
    bid = found[0]
    fills = dict((str(b), int(f)) for b, f in bundle["results"]["fills"])
    price = bundle["results"]["price"]
    won = fills.get(bid.bid, 0)
    outcome = (f"won {won} t at {price} per tonne" if won else "won nothing")
    return (f"bid {bid.bid} by {bid.bidder} (entry {bid.seq}): {bid.quantity} t at "
            f"{bid.price} per tonne into {bid.account}; {outcome}")


AUCTION_BUNDLE = BundleKind(AUCTION, frozenset({"auction", "state", "book", "results"}),
                            verify_auction)
ALLOCATION_KINDS = (AUCTION_BUNDLE, ALLOCATION_BUNDLE)  # allocation: anchoring.auditor.verify_plan
