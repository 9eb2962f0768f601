"""An auction is provable: its leaf commits to every bid as it arrives and, once cleared, to
its results; the `auction` bundle discloses the book with the leaf's proof, and anyone
recomputes the book's digest and the clearing from the bids alone. A book with a bid changed,
dropped or added, or results that are not the book's, are refused with their reason."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from anchoring.audit import audit
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.smt import SparseMerkleTree
from anchoring.auditor.verify import verify_bundle
from anchoring.auditor.verify_allocation import auction_key, describe_bid
from anchoring.operator.allocation_evidence import AuctionNotFound, prove_auction
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.state_versions import leaves_at
from ledger.replay import replay_check
from ledger.store.state_leaves import all_leaves
from tests.allocation.helpers import set_plan
from tests.allocation.test_auction import CLOSES, OPENS, announce, at, place
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.anchoring.test_bundle_schemas import validator
from tests.world import OPERATIONS, World

Bundle = dict[str, Any]
KINDS = tuple(OPERATIONS.bundle_kinds.values())


@dataclass
class Signed:
    world: World
    checkpointer: Checkpointer

    @property
    def prover(self) -> Prover:
        return Prover(self.world.store, self.checkpointer.state)

    def verify(self, bundle: Bundle) -> str:
        return verify_bundle(as_read(bundle), self.checkpointer.operator, KINDS).statement

    def refused(self, bundle: Bundle, code: VerifyFailure, match: str) -> None:
        with pytest.raises(VerificationFailed, match=match) as refused:
            verify_bundle(as_read(bundle), self.checkpointer.operator, KINDS)
        assert refused.value.code is code, refused.value


def as_read(bundle: Bundle) -> Bundle:
    result: Bundle = json.loads(json.dumps(bundle))  # as a reader receives it
    return result


def cleared_auction(world: World) -> Signed:
    """AU-1 (1,000 t, reserve 5,000) with four bids, a checkpoint cut while it is open and
    another once cleared: b2 500 @7,000, b1 400 @6,000 and 100 of b3's 300 @6,000 win at
    6,000; b4 loses."""
    set_plan(world)
    announce(world)
    at(world, OPENS)
    place(world, "b1", "huaneng", "HN-T", 400, 6_000)
    place(world, "b2", "baowu", "BW", 500, 7_000)
    place(world, "b3", "icbc", "IC-T", 300, 6_000)
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()  # the next cut re-executes the last bid and the clearing over this one
    place(world, "b4", "huaneng", "HN", 10, 5_000)
    at(world, CLOSES + timedelta(minutes=5))
    world.by("registry", "auction_clear", auction="AU-1")
    checkpointer.cut()
    return Signed(world, checkpointer)


@pytest.fixture
def signed(market: World) -> Signed:
    return cleared_auction(market)


def test_an_auction_bundle_verifies_and_the_audit_agrees(any_market: World) -> None:
    signed = cleared_auction(any_market)
    bundle = prove_auction(signed.prover, "AU-1")
    statement = signed.verify(bundle)
    assert "its 4 bids are those its record committed to" in statement
    assert "clear at 6000 per tonne: 1000 t sold to 3 bids" in statement
    assert bundle["results"] == {"price": 6_000, "sold": 1_000,
                                 "fills": [["b2", 500], ["b1", 400], ["b3", 100], ["b4", 0]]}
    assert validator("bundle-auction").is_valid(as_read(bundle))
    assert validator("record-auction").is_valid(json.loads(bundle["state"]["value"]))
    assert describe_bid(bundle, "b3").endswith("won 100 t at 6000 per tonne")
    assert describe_bid(bundle, "b4").endswith("won nothing")
    with pytest.raises(ValueError, match="no bid 'b9'"):
        describe_bid(bundle, "b9")
    world = signed.world
    with world.store.read() as tx:
        leaf = json.loads(dict(leaves_at(tx, 2))[auction_key("AU-1")])
        root = SparseMerkleTree.from_items(all_leaves(tx, OPERATIONS.leaf_kinds.values())).root
    assert (leaf["status"], leaf["bid_count"], leaf["sold"]) == ("cleared", 4, 1_000)
    assert root == signed.checkpointer.state.snapshot(2).root  # type: ignore[union-attr]
    report = audit(world.store, OPERATIONS, signed.checkpointer.operator)
    assert report.ok, report.first_discrepancy
    replayed = replay_check(world.store, OPERATIONS)
    assert replayed.ok, replayed.first_difference


def test_a_book_with_a_bid_changed_is_refused(signed: Signed) -> None:
    bundle = prove_auction(signed.prover, "AU-1")
    changed = copy.deepcopy(bundle)
    changed["book"][1]["price"] = 6_500
    signed.refused(changed, VerifyFailure.incomplete_evidence, "book digest differs")


def test_a_book_with_a_bid_dropped_or_added_is_refused(signed: Signed) -> None:
    bundle = prove_auction(signed.prover, "AU-1")
    dropped = copy.deepcopy(bundle)
    del dropped["book"][3]
    signed.refused(dropped, VerifyFailure.incomplete_evidence, "book count differs")
    added = copy.deepcopy(bundle)
    added["book"].append({"bid": "b5", "bidder": "baowu", "account": "BW", "quantity": 1,
                          "price": 9_000, "seq": added["book"][-1]["seq"] + 1})
    signed.refused(added, VerifyFailure.incomplete_evidence, "book count differs")
    swapped = copy.deepcopy(bundle)
    swapped["book"][3] = {**swapped["book"][3], "bid": "b9"}
    signed.refused(swapped, VerifyFailure.incomplete_evidence, "book digest differs")


def test_results_that_are_not_the_books_are_refused(signed: Signed) -> None:
    bundle = prove_auction(signed.prover, "AU-1")
    stated = copy.deepcopy(bundle)
    stated["results"]["fills"] = [["b2", 500], ["b3", 300], ["b1", 200], ["b4", 0]]
    signed.refused(stated, VerifyFailure.incomplete_evidence, "results differ")


def test_a_bundle_for_another_auction_is_refused(signed: Signed) -> None:
    bundle = prove_auction(signed.prover, "AU-1")
    signed.refused({**bundle, "auction": "AU-2"}, VerifyFailure.wrong_subject, "AU-2")


def test_an_uncleared_or_unknown_auction_has_no_bundle(market: World) -> None:
    set_plan(market)
    announce(market)
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    prover = Prover(market.store, checkpointer.state)
    with pytest.raises(AuctionNotFound, match="it was not cleared"):
        prove_auction(prover, "AU-1")
    with pytest.raises(AuctionNotFound, match="no auction"):
        prove_auction(prover, "AU-9")
