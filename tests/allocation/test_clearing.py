"""The uniform-price clearing (allocation.clearing) against worked examples and, under
Hypothesis, against a reference written the slow, obvious way: one tonne at a time."""

from __future__ import annotations

from hashlib import sha256

from hypothesis import given, settings
from hypothesis import strategies as st

from allocation.clearing import (
    EMPTY_BOOK,
    Bid,
    Clearing,
    bid_record,
    bids_digest,
    canonical,
    clear,
    results_digest,
)
from anchoring.auditor.jcs import canonical_text


def bid(name: str, quantity: int, price: int, seq: int, bidder: str = "") -> Bid:
    return Bid(name, bidder or f"p-{name}", f"A-{name}", quantity, price, seq)


def reference_clear(offer: int, reserve_price: int,
                    bids: list[Bid]) -> tuple[int, int, dict[str, int]]:
    """Hand out the offer one tonne at a time, each to the best bid that still wants one:
    the highest price, then the earliest entry. (price, sold, fills)."""
    wanted = {b.bid: b.quantity for b in bids if b.price >= reserve_price}
    fills = {b.bid: 0 for b in bids}
    for _ in range(offer):
        candidates = [b for b in bids if wanted.get(b.bid, 0) > 0]
        if not candidates:
            break
        best = max(candidates, key=lambda b: (b.price, -b.seq))
        wanted[best.bid] -= 1
        fills[best.bid] += 1
    winners = [b.price for b in bids if fills[b.bid] > 0]
    return (min(winners) if winners else 0), sum(fills.values()), fills


bids_strategy = st.lists(
    st.tuples(st.integers(1, 40), st.integers(1, 12)), max_size=25,
).map(lambda pairs: [bid(f"b{i}", q, p, 100 + 7 * i) for i, (q, p) in enumerate(pairs)])


@settings(max_examples=300, deadline=None)
@given(offer=st.integers(0, 200), reserve=st.integers(0, 12), bids=bids_strategy,
       order=st.randoms())
def test_clearing_matches_the_tonne_by_tonne_reference(offer: int, reserve: int,
                                                       bids: list[Bid], order: object) -> None:
    shuffled = list(bids)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    found = clear(offer, reserve, shuffled)
    price, sold, fills = reference_clear(offer, reserve, bids)
    assert (found.price, found.sold, found.filled()) == (price, sold, fills)
    assert len(found.fills) == len(bids)
    # acceptance order: price down, then seq up; only the last accepted bid may be partial
    accepted = found.accepted
    by_id = {b.bid: b for b in bids}
    keys = [(-by_id[b].price, by_id[b].seq) for b, _ in accepted]
    assert keys == sorted(keys)
    assert all(filled == by_id[b].quantity for b, filled in accepted[:-1])


def test_an_undersubscribed_auction_sells_every_bid_at_the_lowest_price() -> None:
    result = clear(1_000, 50, [bid("a", 300, 80, 1), bid("b", 200, 60, 2)])
    assert result == Clearing(price=60, sold=500, fills=(("a", 300), ("b", 200)))


def test_ties_at_the_margin_go_to_the_earlier_bid() -> None:
    bids = [bid("late", 100, 70, 9), bid("top", 100, 90, 5), bid("early", 100, 70, 3)]
    result = clear(150, 10, bids)
    assert result.fills == (("top", 100), ("early", 50), ("late", 0))
    assert (result.price, result.sold) == (70, 150)


def test_bids_below_the_reserve_price_are_never_accepted() -> None:
    result = clear(500, 100, [bid("a", 100, 99, 1), bid("b", 100, 50, 2)])
    assert result == Clearing(price=0, sold=0, fills=(("a", 0), ("b", 0)))
    assert result.accepted == ()


def test_an_exact_fill_takes_every_bid_in_whole() -> None:
    result = clear(300, 1, [bid("a", 100, 5, 1), bid("b", 200, 7, 2), bid("c", 50, 4, 3)])
    assert result.fills == (("b", 200), ("a", 100), ("c", 0))
    assert (result.price, result.sold) == (5, 300)


def test_no_bids_sell_nothing() -> None:
    assert clear(100, 1, []) == Clearing(price=0, sold=0, fills=())


def test_the_book_digest_chains_each_bid_on_the_one_before() -> None:
    a, b = bid("a", 10, 5, 1), bid("b", 20, 6, 2)
    assert bids_digest([]) == EMPTY_BOOK == bytes(32)
    first = sha256(EMPTY_BOOK + b'{"account":"A-a","bid":"a","bidder":"p-a","price":5,'
                   b'"quantity":10,"seq":1}').digest()
    assert bids_digest([a]) == first
    assert bids_digest([a, b]) != bids_digest([b, a])  # the order of arrival is committed
    assert bids_digest([a, b]) != bids_digest([a, bid("b", 20, 7, 2)])


def test_the_results_digest_is_of_the_canonical_results() -> None:
    result = clear(150, 10, [bid("x", 100, 90, 5), bid("y", 100, 70, 3)])
    expected = b'{"fills":[["x",100],["y",50]],"price":70,"sold":150}'
    assert results_digest(result) == sha256(expected).digest()


@settings(max_examples=200, deadline=None)
@given(bid_id=st.text(max_size=12), bidder=st.text(max_size=12),
       quantity=st.integers(1, 2**53 - 1), price=st.integers(1, 2**53 - 1),
       seq=st.integers(0, 2**53 - 1))
def test_the_committed_json_is_rfc_8785(bid_id: str, bidder: str, quantity: int, price: int,
                                        seq: int) -> None:
    """The digests' fast encoding is the auditor's RFC 8785 text, whatever the strings."""
    record = bid_record(Bid(bid_id, bidder, "A", quantity, price, seq))
    try:
        expected = canonical_text(record).encode()
    except UnicodeEncodeError:  # a lone surrogate: no JSON text at all
        return
    assert canonical(record) == expected
