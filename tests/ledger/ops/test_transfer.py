"""transfer: scenarios and every reason it refuses."""

from __future__ import annotations

import pytest

from ledger.errors import Reason
from tests.world import World


@pytest.fixture
def market(world: World) -> World:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("baowu", "emitter", "BW", "compliance")
    world.participant("li", "individual", "LI", "individual")
    world.allocate("A1", "HN", 1000)
    return world


def test_quantity_moves_the_oldest_serials_and_splits_one_lot(market: World) -> None:
    receipt = market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1",
                        quantity=300)
    assert market.lots("A1") == [(1, 300, "BW", "tradable"), (301, 1000, "HN", "tradable")]
    assert market.holding("HN", "A1")["tradable"] == 700
    assert market.holding("BW", "A1")["tradable"] == 300
    assert receipt.effects["closed"] and len(receipt.effects["created"]) == 2


def test_a_whole_lot_moves_and_keeps_its_id(market: World) -> None:
    receipt = market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1",
                        quantity=1000)
    assert receipt.effects == {"closed": [], "created": [], "updated": [
        {"id": receipt.effects["updated"][0]["id"], "batch": "A1", "first": 1, "last": 1000,
         "account": "BW", "state": "tradable", "lien": None}]}


def test_explicit_range_splits_into_three(market: World) -> None:
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1",
              quantity=10, serialFirst=501, serialLast=510)
    assert market.lots("A1") == [(1, 500, "HN", "tradable"), (501, 510, "BW", "tradable"),
                                 (511, 1000, "HN", "tradable")]


def test_quantity_spans_several_lots(market: World) -> None:
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1",
              quantity=10, serialFirst=1, serialLast=10)
    market.by("baowu", "transfer", fromAccount="BW", toAccount="HN", batch="A1", quantity=10)
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1", quantity=25)
    assert market.lots("A1")[:2] == [(1, 10, "BW", "tradable"), (11, 25, "BW", "tradable")]


def test_lots_ids_follow_the_journal_position(market: World) -> None:
    receipt = market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1",
                        quantity=1)
    assert [lot["id"] for lot in receipt.effects["created"]] == [f"{receipt.seq}.0",
                                                                  f"{receipt.seq}.1"]


@pytest.mark.parametrize(("fields", "reason"), [
    (dict(fromAccount="NOPE", toAccount="BW"), Reason.unknown_account),
    (dict(fromAccount="HN", toAccount="NOPE"), Reason.unknown_account),
    (dict(fromAccount="HN", toAccount="BW", batch="NOPE"), Reason.unknown_batch),
    (dict(fromAccount="HN", toAccount="BW", quantity=1001), Reason.insufficient_tradable),
    (dict(fromAccount="HN", toAccount="BW", quantity=0), Reason.quantity_not_positive),
    (dict(fromAccount="HN", toAccount="BW", quantity=2**53), Reason.quantity_out_of_range),
    (dict(fromAccount="HN", toAccount="HN"), Reason.same_account),
    (dict(fromAccount="HN", toAccount="LI"), Reason.individual_cannot_hold_allowances),
    (dict(fromAccount="HN", toAccount="BW", quantity=5, serialFirst=999, serialLast=1003),
     Reason.serial_range_outside_batch),
    (dict(fromAccount="HN", toAccount="BW", quantity=5, serialFirst=1, serialLast=4),
     Reason.serial_range_mismatch),
])
def test_refusals(market: World, fields: dict, reason: Reason) -> None:
    instruction = {"batch": "A1", "quantity": 10} | fields
    market.refused(reason, "huaneng", "transfer", **instruction)
    assert market.lots("A1") == [(1, 1000, "HN", "tradable")]


def test_only_the_holder_may_transfer(market: World) -> None:
    market.refused(Reason.not_account_holder, "baowu", "transfer", fromAccount="HN",
                   toAccount="BW", batch="A1", quantity=1)


def test_serials_held_by_another_account_are_refused(market: World) -> None:
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1", quantity=10)
    market.refused(Reason.serials_not_held, "huaneng", "transfer", fromAccount="HN",
                   toAccount="BW", batch="A1", quantity=20, serialFirst=1, serialLast=20)


def test_frozen_accounts_neither_send_nor_receive(market: World) -> None:
    market.by("registry", "freeze_account", account="BW", reason="court order 2026-17")
    refused = market.refused(Reason.account_frozen, "huaneng", "transfer", fromAccount="HN",
                             toAccount="BW", batch="A1", quantity=1)
    assert "court order 2026-17" in str(refused)
    market.refused(Reason.account_frozen, "baowu", "transfer", fromAccount="BW",
                   toAccount="HN", batch="A1", quantity=1)
    market.by("registry", "unfreeze_account", account="BW", reason="order lifted")
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1", quantity=1)


def test_scheme_rules_decide_which_accounts_hold_a_kind(market: World) -> None:
    market.issue_credits("C1", "HN", 100)
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="LI", batch="C1", quantity=5)
    assert market.holding("LI", "C1")["tradable"] == 5


def test_selection_by_quantity_reads_many_lots_page_by_page(market: World) -> None:
    # HN's units split into ~200 lots (more than one page of HELD_PAGE): every other serial
    # of 1..200 goes to BW
    huaneng = market.wallets["huaneng"]
    market.ledger.submit_many([
        huaneng.sign(market.instruction("transfer", fromAccount="HN", toAccount="BW",
                                        batch="A1", quantity=1, serialFirst=n, serialLast=n))
        for n in range(2, 201, 2)])
    assert len(market.lots("A1")) == 201
    # 150 t, oldest first: the 100 odd serials 1..199, then 201..250
    spend = market.instruction("transfer", fromAccount="HN", toAccount="BW", batch="A1",
                               quantity=150)
    back = market.instruction("transfer", fromAccount="BW", toAccount="HN", batch="A1",
                              quantity=1)
    results = market.ledger.submit_many([huaneng.sign(spend),
                                         market.wallets["baowu"].sign(back)])
    assert not any(isinstance(r, Exception) for r in results)
    held = [(first, last) for first, last, account, _ in market.lots("A1") if account == "HN"]
    # BW's oldest serial (1) came back to HN after HN's spend
    assert held == [(1, 1), (251, 1000)]
    assert market.holding("HN", "A1")["tradable"] == 751
