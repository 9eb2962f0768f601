"""pledge_release: scenarios and every reason it refuses."""

from __future__ import annotations

from ledger.errors import Reason
from pledge.reasons import PledgeReason
from tests.pledge.helpers import agreement, by, lien_lots, refused, register
from tests.world import World


def release(world: World, quantity: int, signers: tuple[str, ...] = ("icbc",),
            pledge: str = "P1") -> None:
    by(world, signers, "pledge_release", pledge=pledge, quantity=quantity)


def test_a_partial_release_frees_the_lowest_serials(market: World) -> None:
    register(market)
    release(market, 150)
    assert market.lots("A1") == [(1, 150, "HN", "tradable"), (151, 400, "HN", "pledged"),
                                 (401, 1000, "HN", "tradable")]
    pledge = agreement(market, "pledges", "P1")
    assert (pledge["released"], pledge["enforced"], pledge["status"]) == (150, 0, "active")


def test_a_full_release_resolves_the_pledge_and_frees_every_unit(market: World) -> None:
    register(market)
    release(market, 150)
    release(market, 250)
    assert lien_lots(market, "P1") == []
    assert market.holding("HN", "A1")["tradable"] == 1000
    assert agreement(market, "pledges", "P1")["status"] == "resolved"
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1",
              quantity=1000)


def test_releasing_more_than_is_pledged_is_refused(market: World) -> None:
    register(market)
    release(market, 300)
    refused(market, PledgeReason.release_exceeds_pledged, ("icbc",), "pledge_release", pledge="P1",
            quantity=101)
    assert lien_lots(market, "P1") == [(301, 400, "HN", "pledged")]


def test_a_resolved_pledge_cannot_be_released_again(market: World) -> None:
    register(market)
    release(market, 400)
    refused(market, PledgeReason.pledge_resolved, ("icbc",), "pledge_release", pledge="P1",
            quantity=1)


def test_only_the_pledgee_releases(market: World) -> None:
    register(market)
    for signers in (("huaneng",), ("boc",), ("registry",)):
        refused(market, PledgeReason.not_pledgee, signers, "pledge_release", pledge="P1",
                quantity=1)


def test_an_unknown_pledge_is_named(market: World) -> None:
    refused(market, PledgeReason.pledge_not_found, ("icbc",), "pledge_release", pledge="P9",
            quantity=1)


def test_a_release_only_touches_its_own_pledge(market: World) -> None:
    register(market, quantity=100)
    register(market, ("huaneng", "boc"), pledge="P2", pledgee="boc", quantity=100)
    release(market, 100)
    assert lien_lots(market, "P2") == [(101, 200, "HN", "pledged")]
    refused(market, PledgeReason.not_pledgee, ("icbc",), "pledge_release", pledge="P2", quantity=1)


def test_units_released_in_a_frozen_account_stay_frozen(market: World) -> None:
    register(market)
    market.by("registry", "freeze_account", account="HN", reason="court order 2026-17")
    release(market, 400)  # lifting an encumbrance moves nothing out of the account
    market.refused(Reason.account_frozen, "huaneng", "transfer", fromAccount="HN",
                   toAccount="BW", batch="A1", quantity=1)
