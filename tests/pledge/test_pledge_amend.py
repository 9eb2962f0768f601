"""pledge_amend: scenarios and every reason it refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.errors import Reason
from pledge.reasons import PledgeReason
from tests.pledge.helpers import PLEDGORS, agreement, by, refused, register
from tests.world import World

TERMS: dict[str, Any] = dict(pledge="P1", loanReference="ICBC-SZ-2026-0042",
                             principal=12_000_000_00, currency="CNY", maturityDate="2026-12-31")


def test_both_parties_extend_the_maturity_and_restate_the_claim(market: World) -> None:
    register(market)
    receipt = by(market, PLEDGORS, "pledge_amend",
                 **(TERMS | dict(principal=9_000_000_00, maturityDate="2027-06-30")))
    pledge = agreement(market, "pledges", "P1")
    assert (pledge["principal"], pledge["maturity_date"], pledge["updated_seq"]) == (
        9_000_000_00, "2027-06-30", receipt.seq)
    assert receipt.effects == {"closed": [], "created": [], "updated": []}
    # enforcement now waits for the new maturity
    market.clock.moment = datetime(2027, 1, 5, tzinfo=UTC)
    refused(market, PledgeReason.before_maturity, ("icbc",), "pledge_enforce", pledge="P1",
            quantity=1, toAccount="ICBC")


@pytest.mark.parametrize("signers", [("huaneng",), ("icbc",), ("huaneng", "boc"),
                                     ("icbc", "registry")])
def test_an_amendment_needs_both_parties(market: World, signers: tuple[str, ...]) -> None:
    register(market)
    refused(market, Reason.missing_signature, signers, "pledge_amend",
            **(TERMS | dict(maturityDate="2027-06-30")))


@pytest.mark.parametrize(("fields", "reason"), [
    ({}, PledgeReason.nothing_to_amend),
    (dict(maturityDate="2026-05-01"), PledgeReason.maturity_before_start),
    (dict(maturityDate="2026-06-01"), None),  # today: accepted
    (dict(pledge="P9"), PledgeReason.pledge_not_found),
    (dict(currency="RMB yuan"), Reason.malformed_instruction),
])
def test_refusals(market: World, fields: dict[str, Any], reason: Reason | None) -> None:
    register(market, startDate="2026-05-15")
    if reason is None:
        by(market, PLEDGORS, "pledge_amend", **(TERMS | fields))
    else:
        refused(market, reason, PLEDGORS, "pledge_amend", **(TERMS | fields))


def test_a_maturity_already_past_is_refused(market: World) -> None:
    register(market, maturityDate="2026-06-02")
    market.clock.advance(days=2)
    refused(market, PledgeReason.maturity_passed, PLEDGORS, "pledge_amend",
            **(TERMS | dict(maturityDate="2026-06-02", principal=1)))


def test_a_resolved_pledge_cannot_be_amended(market: World) -> None:
    register(market)
    by(market, ("icbc",), "pledge_release", pledge="P1", quantity=400)
    refused(market, PledgeReason.pledge_resolved, PLEDGORS, "pledge_amend",
            **(TERMS | dict(maturityDate="2027-06-30")))
