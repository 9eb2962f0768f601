"""repo_default: scenarios and every reason it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.errors import Reason
from pledge.reasons import PledgeReason
from tests.pledge.helpers import REPO_PARTIES, agreement, by, lien_lots, open_repo, refused
from tests.world import World

AFTER = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 2026-10-01 00:00 in Beijing


def test_when_the_seller_does_not_repurchase_the_buyer_keeps_the_units(market: World) -> None:
    open_repo(market)
    by(market, REPO_PARTIES, "repo_close", repo="R1", quantity=100)
    market.clock.moment = AFTER
    by(market, ("icbc",), "repo_default", repo="R1", defaulter="seller")
    assert lien_lots(market, "R1") == []
    assert market.lots("A1") == [(1, 100, "HN", "tradable"), (101, 400, "ICBC", "tradable"),
                                 (401, 1000, "HN", "tradable")]
    assert agreement(market, "repos", "R1")["status"] == "seller_defaulted"
    market.by("icbc", "transfer", fromAccount="ICBC", toAccount="BOC", batch="A1", quantity=300)


def test_a_free_use_buyers_failure_to_deliver_is_recorded(market: World) -> None:
    open_repo(market, freeUse=True)
    market.by("icbc", "transfer", fromAccount="ICBC", toAccount="BOC", batch="A1", quantity=400)
    market.clock.moment = AFTER
    lots = market.lots("A1")
    by(market, ("huaneng",), "repo_default", repo="R1", defaulter="buyer")
    assert market.lots("A1") == lots
    assert agreement(market, "repos", "R1")["status"] == "buyer_defaulted"


def test_a_free_use_seller_default_leaves_the_units_with_the_buyer(market: World) -> None:
    open_repo(market, freeUse=True)
    market.clock.moment = AFTER
    by(market, ("icbc",), "repo_default", repo="R1", defaulter="seller")
    assert market.holding("ICBC", "A1")["tradable"] == 400


def test_not_before_the_repurchase_date_has_passed(market: World) -> None:
    open_repo(market)
    market.clock.moment = datetime(2026, 9, 30, 15, 59, tzinfo=UTC)
    refused(market, PledgeReason.before_repurchase_date, ("icbc",), "repo_default", repo="R1",
            defaulter="seller")


def test_a_buyer_under_lien_cannot_fail_to_deliver(market: World) -> None:
    open_repo(market)
    market.clock.moment = AFTER
    refused(market, PledgeReason.repo_not_free_use, ("huaneng",), "repo_default", repo="R1",
            defaulter="buyer")


@pytest.mark.parametrize(("signers", "defaulter"), [
    (("huaneng",), "seller"), (("boc",), "seller"), (("icbc",), "buyer"),
])
def test_the_party_that_performed_records_the_default(market: World, signers: tuple[str, ...],
                                                      defaulter: str) -> None:
    open_repo(market, freeUse=True)
    market.clock.moment = AFTER
    refused(market, Reason.missing_signature, signers, "repo_default", repo="R1",
            defaulter=defaulter)


def test_an_ended_repo_cannot_default(market: World) -> None:
    open_repo(market)
    by(market, REPO_PARTIES, "repo_close", repo="R1", quantity=400)
    market.clock.moment = AFTER
    refused(market, PledgeReason.repo_resolved, ("icbc",), "repo_default", repo="R1",
            defaulter="seller")
    refused(market, Reason.malformed_instruction, ("icbc",), "repo_default", repo="R1",
            defaulter="both")
