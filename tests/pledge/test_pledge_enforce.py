"""pledge_enforce: scenarios and every reason it refuses. The ledger's clock decides maturity:
tests move it explicitly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.errors import Reason
from pledge.reasons import PledgeReason
from tests.pledge.helpers import agreement, by, lien_lots, refused, register
from tests.world import World


@pytest.fixture
def pledged(market: World) -> World:
    """P1: 400 t of HN's A1 pledged to ICBC, maturing 2026-12-31 (clock: 2026-06-01)."""
    register(market)
    return market


def enforce(world: World, quantity: int, to: str = "ICBC",
            signers: tuple[str, ...] = ("icbc",)) -> None:
    by(world, signers, "pledge_enforce", pledge="P1", quantity=quantity, toAccount=to)


def mature(world: World) -> None:
    """The clock moves to the first day after maturity, Beijing time."""
    world.clock.moment = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)


def test_after_maturity_the_pledgee_takes_units_and_the_rest_stays_pledged(
        pledged: World) -> None:
    mature(pledged)
    enforce(pledged, 300)
    assert pledged.lots("A1") == [(1, 300, "ICBC", "tradable"), (301, 400, "HN", "pledged"),
                                  (401, 1000, "HN", "tradable")]
    pledge = agreement(pledged, "pledges", "P1")
    assert (pledge["enforced"], pledge["status"]) == (300, "active")
    by(pledged, ("icbc",), "pledge_release", pledge="P1", quantity=100)
    assert agreement(pledged, "pledges", "P1")["status"] == "resolved"
    pledged.by("icbc", "transfer", fromAccount="ICBC", toAccount="BOC", batch="A1",
               quantity=300)


def test_into_a_disposal_account_the_pledgee_names(pledged: World) -> None:
    mature(pledged)
    enforce(pledged, 400, to="BW")
    assert pledged.holding("BW", "A1")["tradable"] == 400
    assert agreement(pledged, "pledges", "P1")["status"] == "resolved"


def test_before_maturity_enforcement_is_refused(pledged: World) -> None:
    refused(pledged, PledgeReason.before_maturity, ("icbc",), "pledge_enforce", pledge="P1",
            quantity=1, toAccount="ICBC")
    # on the maturity date itself the loan is not yet in default
    pledged.clock.moment = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)  # 23:59 in Beijing
    refused(pledged, PledgeReason.before_maturity, ("icbc",), "pledge_enforce", pledge="P1",
            quantity=1, toAccount="ICBC")
    # the day ends at Beijing midnight (CN-ETS utc_offset_minutes = 480), not at UTC's
    pledged.clock.advance(minutes=1)
    enforce(pledged, 1)


def test_the_registry_may_allow_an_early_enforcement(pledged: World) -> None:
    enforce(pledged, 50, signers=("icbc", "registry"))
    assert pledged.holding("ICBC", "A1")["tradable"] == 50


def test_enforcing_more_than_is_pledged_is_refused(pledged: World) -> None:
    mature(pledged)
    enforce(pledged, 100)
    refused(pledged, PledgeReason.enforce_exceeds_pledged, ("icbc",), "pledge_enforce", pledge="P1",
            quantity=301, toAccount="ICBC")
    enforce(pledged, 300)
    refused(pledged, PledgeReason.pledge_resolved, ("icbc",), "pledge_enforce", pledge="P1",
            quantity=1, toAccount="ICBC")


def test_only_the_pledgee_enforces(pledged: World) -> None:
    mature(pledged)
    for signers in (("huaneng",), ("boc",), ("registry",), ("huaneng", "registry")):
        refused(pledged, PledgeReason.not_pledgee, signers, "pledge_enforce", pledge="P1",
                quantity=1, toAccount="ICBC")


@pytest.mark.parametrize(("to", "reason"), [
    ("NOPE", Reason.unknown_account),
    ("HN", Reason.same_account),
    ("LI", Reason.individual_cannot_hold_allowances),
])
def test_the_destination_must_be_able_to_receive(pledged: World, to: str,
                                                 reason: Reason) -> None:
    mature(pledged)
    refused(pledged, reason, ("icbc",), "pledge_enforce", pledge="P1", quantity=1,
            toAccount=to)


def test_frozen_accounts(pledged: World) -> None:
    mature(pledged)
    pledged.by("registry", "freeze_account", account="ICBC", reason="inquiry")
    refused(pledged, Reason.account_frozen, ("icbc",), "pledge_enforce", pledge="P1",
            quantity=1, toAccount="ICBC")
    pledged.by("registry", "freeze_account", account="HN", reason="court order 2026-17")
    refused(pledged, Reason.account_frozen, ("icbc",), "pledge_enforce", pledge="P1",
            quantity=1, toAccount="BOC")
    # the registry that froze the pledgor's account may let the pledgee take its collateral
    enforce(pledged, 10, to="BOC", signers=("icbc", "registry"))
    assert lien_lots(pledged, "P1") == [(11, 400, "HN", "pledged")]
