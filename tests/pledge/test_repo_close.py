"""repo_close: scenarios and every reason it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.errors import Reason
from pledge.reasons import PledgeReason
from tests.pledge.helpers import REPO_PARTIES, agreement, by, lien_lots, open_repo, refused
from tests.world import World


def close(world: World, quantity: int = 400, repo: str = "R1") -> None:
    by(world, REPO_PARTIES, "repo_close", repo=repo, quantity=quantity)


def test_on_the_repurchase_date_the_very_units_return_to_the_seller(market: World) -> None:
    open_repo(market)
    market.clock.moment = datetime(2026, 9, 30, 15, 59, tzinfo=UTC)  # 23:59 in Beijing
    close(market)
    assert market.lots("A1") == [(1, 400, "HN", "tradable"), (401, 1000, "HN", "tradable")]
    assert lien_lots(market, "R1") == []
    repo = agreement(market, "repos", "R1")
    assert (repo["returned"], repo["status"]) == (400, "closed")


def test_a_splittable_repo_closes_in_parts(market: World) -> None:
    open_repo(market)
    close(market, 150)
    assert lien_lots(market, "R1") == [(151, 400, "ICBC", "pledged")]
    assert agreement(market, "repos", "R1")["status"] == "open"
    close(market, 250)
    assert agreement(market, "repos", "R1")["status"] == "closed"


def test_a_shanghai_repo_closes_whole(market: World) -> None:
    market.allocate("SH1", "HN", 20_000, scheme="CN-SH")
    open_repo(market, batch="SH1", quantity=12_000)
    refused(market, PledgeReason.repo_not_splittable, REPO_PARTIES, "repo_close", repo="R1",
            quantity=10_000)
    close(market, 12_000)
    assert market.holding("HN", "SH1")["tradable"] == 20_000


def test_a_free_use_buyer_returns_equivalent_units(market: World) -> None:
    open_repo(market, freeUse=True)
    market.by("icbc", "transfer", fromAccount="ICBC", toAccount="BOC", batch="A1", quantity=100)
    refused(market, Reason.insufficient_tradable, REPO_PARTIES, "repo_close", repo="R1",
            quantity=400)
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1",
              quantity=100, serialFirst=901, serialLast=1000)
    market.by("baowu", "transfer", fromAccount="BW", toAccount="ICBC", batch="A1",
              quantity=100)
    close(market)
    assert market.holding("HN", "A1")["tradable"] == 900
    assert market.holding("ICBC", "A1")["tradable"] == 0
    assert market.lots("A1")[-1] == (901, 1000, "HN", "tradable")  # the same batch, not serials


def test_after_the_repurchase_date_only_a_default_remains(market: World) -> None:
    open_repo(market)
    market.clock.moment = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 10-01 00:00 in Beijing
    refused(market, PledgeReason.after_repurchase_date, REPO_PARTIES, "repo_close", repo="R1",
            quantity=400)


@pytest.mark.parametrize("signers", [("huaneng",), ("icbc",), ("huaneng", "boc")])
def test_both_parties_sign(market: World, signers: tuple[str, ...]) -> None:
    open_repo(market)
    refused(market, Reason.missing_signature, signers, "repo_close", repo="R1", quantity=400)


def test_over_close_closed_and_unknown_repos(market: World) -> None:
    open_repo(market)
    refused(market, PledgeReason.close_exceeds_repo, REPO_PARTIES, "repo_close", repo="R1",
            quantity=401)
    close(market)
    refused(market, PledgeReason.repo_resolved, REPO_PARTIES, "repo_close", repo="R1", quantity=1)
    refused(market, PledgeReason.repo_not_found, REPO_PARTIES, "repo_close", repo="R9", quantity=1)


def test_a_frozen_account_stops_the_return(market: World) -> None:
    open_repo(market)
    market.by("registry", "freeze_account", account="HN", reason="inquiry")
    refused(market, Reason.account_frozen, REPO_PARTIES, "repo_close", repo="R1", quantity=400)
