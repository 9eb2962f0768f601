"""A uniform-price auction's clearing, and the digests that commit to its book and results
(docs/allocation.md, "Auctions"). Pure functions over plain values, in the auditor's part
(the standard library only) so that the `auction` bundle's verifier can run them: the ledger's
auction_clear (through allocation.clearing), the verifier and the tests all call these, and
what the ledger did and what anyone recomputes from the disclosed book are one computation.

- Bids rank by price, highest first; ties by submission order (the earlier journal entry,
  lower `seq`, first).
- They are accepted in that order until the offer is exhausted, the last accepted bid perhaps
  in part; a bid below the reserve price is never accepted.
- The clearing price is the lowest accepted price; with no accepted bid it is 0 and nothing
  is sold.

The book's digest is a running one, so that the auction's leaf commits to every bid as it
arrives: d0 = 32 zero bytes, d_i = SHA-256(d_{i-1} || canonical JSON of bid i) (`bid_record`).
The results' digest is SHA-256 of the canonical JSON of `results_record`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from operator import attrgetter
from typing import Any

EMPTY_BOOK = b"\x00" * 32  # d0: the digest of an auction without bids


@dataclass(frozen=True, slots=True)
class Bid:
    bid: str  # its id, unique in the auction
    bidder: str
    account: str
    quantity: int  # tonnes
    price: int  # minor units per tonne
    seq: int  # the journal entry that placed it: breaks ties, earlier first


@dataclass(frozen=True, slots=True)
class Clearing:
    price: int  # the clearing price every winner pays; 0 when nothing sold
    sold: int  # tonnes
    fills: tuple[tuple[str, int], ...]  # (bid id, tonnes filled) of EVERY bid, in rank order

    @property
    def accepted(self) -> tuple[tuple[str, int], ...]:
        """The accepted bids with their fills, in acceptance order (the lots' order)."""
        return tuple(fill for fill in self.fills if fill[1] > 0)

    def filled(self) -> dict[str, int]:
        return dict(self.fills)


def ranked(bids: Iterable[Bid]) -> list[Bid]:
    """The bids in acceptance order: price highest first, then earliest first. Two stable
    sorts on plain attributes (a reversed sort keeps equal items in order): no key tuples,
    whose allocation would set off the collector over a large heap."""
    return sorted(sorted(bids, key=attrgetter("seq")), key=attrgetter("price"), reverse=True)


def clear(offer: int, reserve_price: int, bids: Sequence[Bid]) -> Clearing:
    """Clear an auction of `offer` tonnes at or above `reserve_price` over `bids`."""
    assert offer >= 0 and reserve_price >= 0, "an offer and a reserve price are not negative"
    left = offer
    price = 0
    fills = []
    for bid in ranked(bids):
        take = min(bid.quantity, left) if bid.price >= reserve_price else 0
        if take:
            left -= take
            price = bid.price  # ranked: each accepted price is at most the one before
        fills.append((bid.bid, take))
    return Clearing(price=price, sold=offer - left, fills=tuple(fills))


# --- commitments ----------------------------------------------------------------------------

def canonical(value: Any) -> bytes:
    """RFC 8785 JSON of a bid or of results: objects with fixed ASCII keys (sorted alike by
    code point and by UTF-16 code unit), integers of the journal's safe range and strings,
    on which the standard library's sorted, compact, non-ASCII-escaping output is JCS (the
    same minimal escapes, lower-case \\u00xx). Its C encoder keeps 10,000 bids fast."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def bid_record(bid: Bid) -> dict[str, Any]:
    """The bid as the book's digest and the disclosed book hold it."""
    return {"bid": bid.bid, "bidder": bid.bidder, "account": bid.account,
            "quantity": bid.quantity, "price": bid.price, "seq": bid.seq}


def next_bids_digest(previous: bytes, bid: Bid) -> bytes:
    """d_i from d_{i-1} and bid i."""
    return sha256(previous + canonical(bid_record(bid))).digest()


def bids_digest(bids: Iterable[Bid]) -> bytes:
    """The running digest over bids in the order they arrived (by `seq`, as given)."""
    digest = EMPTY_BOOK
    for bid in bids:
        digest = next_bids_digest(digest, bid)
    return digest


def results_record(clearing: Clearing) -> dict[str, Any]:
    """The results as committed: price, sold and every bid's fill in rank order."""
    return {"price": clearing.price, "sold": clearing.sold,
            "fills": [[bid, filled] for bid, filled in clearing.fills]}


def results_digest(clearing: Clearing) -> bytes:
    return sha256(canonical(results_record(clearing))).digest()


def hex_digest(digest: bytes) -> str:
    """A digest as the auctions table and the leaf hold it: 0x and 64 hex digits."""
    return "0x" + digest.hex()
