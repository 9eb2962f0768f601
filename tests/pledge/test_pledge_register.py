"""pledge_register: scenarios and every reason it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.errors import Reason, ReasonCode
from pledge.reasons import PledgeReason
from tests.pledge.helpers import PLEDGE, PLEDGORS, agreement, lien_lots, refused, register
from tests.world import World


def test_a_quantity_pledges_the_oldest_serials_under_the_pledges_lien(market: World) -> None:
    receipt = register(market)
    assert market.lots("A1") == [(1, 400, "HN", "pledged"), (401, 1000, "HN", "tradable")]
    assert market.holding("HN", "A1") == {"tradable": 600, "pledged": 400, "retired": 0,
                                          "surrendered": 0, "cancelled": 0}
    assert [lot["lien"] for lot in receipt.effects["created"]] == ["P1", None]
    with market.store.read() as tx:
        lien = tx.liens(["P1"])["P1"]
    assert (lien.holder, lien.purpose, lien.created_seq) == ("icbc", "pledge", receipt.seq)
    assert agreement(market, "pledges", "P1") == {
        "id": "P1", "pledgor": "huaneng", "pledgee": "icbc", "account": "HN", "batch": "A1",
        "quantity": 400, "released": 0, "enforced": 0, "loan_reference": "ICBC-SZ-2026-0042",
        "principal": 12_000_000_00, "currency": "CNY", "start_date": "2026-06-01",
        "maturity_date": "2026-12-31", "status": "active", "registered_seq": receipt.seq,
        "updated_seq": receipt.seq}


def test_an_explicit_serial_range_is_pledged_exactly(market: World) -> None:
    register(market, quantity=100, serialFirst=101, serialLast=200)
    assert lien_lots(market, "P1") == [(101, 200, "HN", "pledged")]
    assert market.lots("A1")[0] == (1, 100, "HN", "tradable")


def test_the_signers_may_come_in_either_order(market: World) -> None:
    register(market, signers=("icbc", "huaneng"))
    assert market.holding("HN", "A1")["pledged"] == 400


def test_pledged_units_cannot_be_transferred_retired_cancelled_or_pledged_again(
        market: World) -> None:
    register(market, quantity=100, serialFirst=1, serialLast=100)
    in_range = dict(batch="A1", quantity=10, serialFirst=91, serialLast=100)
    market.refused(Reason.lot_under_lien, "huaneng", "transfer", fromAccount="HN",
                   toAccount="BW", **in_range)
    market.refused(Reason.lot_under_lien, "huaneng", "retire", account="HN",
                   beneficiary="Huaneng", reason="voluntary", claim="", **in_range)
    market.refused(Reason.lot_under_lien, "registry", "cancel", account="HN",
                   reason="court order", **in_range)
    refused(market, Reason.lot_under_lien, ("huaneng", "boc"), "pledge_register",
            **(PLEDGE | dict(pledge="P2", pledgee="boc") | in_range))
    # by quantity only the 900 t still tradable are there to take
    market.refused(Reason.insufficient_tradable, "huaneng", "transfer", fromAccount="HN",
                   toAccount="BW", batch="A1", quantity=901)
    refused(market, Reason.insufficient_tradable, ("huaneng", "boc"), "pledge_register",
            **(PLEDGE | dict(pledge="P2", pledgee="boc", quantity=901)))
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1",
              quantity=900)
    assert market.lots("A1") == [(1, 100, "HN", "pledged"), (101, 1000, "BW", "tradable")]


def test_a_second_pledge_takes_the_next_oldest_units(market: World) -> None:
    register(market, quantity=300)
    register(market, ("huaneng", "boc"), pledge="P2", pledgee="boc", quantity=200)
    assert lien_lots(market, "P2") == [(301, 500, "HN", "pledged")]


SIGNERS_REFUSED: list[tuple[tuple[str, ...], Reason]] = [
    (("huaneng",), Reason.missing_signature),  # the pledgee has not signed
    (("icbc",), Reason.not_account_holder),  # the pledgor has not signed
    (("baowu", "icbc"), Reason.not_account_holder),  # someone else signed for the pledgor
    (("huaneng", "boc"), Reason.missing_signature),  # another bank signed for the pledgee
]


@pytest.mark.parametrize(("signers", "reason"), SIGNERS_REFUSED,
                         ids=[r.name + "-" + "+".join(s) for s, r in SIGNERS_REFUSED])
def test_both_parties_must_sign(market: World, signers: tuple[str, ...],
                                reason: Reason) -> None:
    refused(market, reason, signers, "pledge_register", **PLEDGE)


FIELDS_REFUSED: list[tuple[dict[str, Any], ReasonCode]] = [
    (dict(account="NOPE"), Reason.unknown_account),
    (dict(pledgee="nobody"), Reason.unknown_participant),
    (dict(batch="NOPE"), Reason.unknown_batch),
    (dict(quantity=1001), Reason.insufficient_tradable),
    (dict(quantity=0), Reason.quantity_not_positive),
    (dict(quantity=5, serialFirst=999, serialLast=1003), Reason.serial_range_outside_batch),
    (dict(quantity=5, serialFirst=1, serialLast=4), Reason.serial_range_mismatch),
    (dict(startDate="2027-01-01"), PledgeReason.maturity_before_start),
    (dict(startDate="2026-01-01", maturityDate="2026-05-31"), PledgeReason.maturity_passed),
    (dict(currency="cny"), Reason.malformed_instruction),
    (dict(principal=0), Reason.malformed_instruction),
    (dict(principal=2**53), Reason.malformed_instruction),
    (dict(maturityDate="2026-02-30"), Reason.invalid_date),
    (dict(maturityDate=""), Reason.invalid_date),
    (dict(loanReference=" "), Reason.malformed_instruction),
]


@pytest.mark.parametrize(("fields", "reason"), FIELDS_REFUSED,
                         ids=[f"{r.name}-{sorted(f)[0]}" for f, r in FIELDS_REFUSED])
def test_refusals(market: World, fields: dict[str, Any], reason: ReasonCode) -> None:
    refused(market, reason, PLEDGORS, "pledge_register", **(PLEDGE | fields))
    assert market.lots("A1") == [(1, 1000, "HN", "tradable")]


def test_the_pledgee_must_be_a_bank(market: World) -> None:
    refused(market, PledgeReason.pledgee_not_bank, ("huaneng", "baowu"), "pledge_register",
            **(PLEDGE | dict(pledgee="baowu")))


def test_a_bank_cannot_pledge_to_itself(market: World) -> None:
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="ICBC", batch="A1",
              quantity=500)
    refused(market, PledgeReason.same_party, ("icbc",), "pledge_register",
            **(PLEDGE | dict(account="ICBC")))


def test_an_id_names_one_agreement(market: World) -> None:
    register(market, quantity=100)
    refused(market, PledgeReason.agreement_exists, PLEDGORS, "pledge_register", **PLEDGE)


def test_a_frozen_account_cannot_pledge(market: World) -> None:
    market.by("registry", "freeze_account", account="HN", reason="court order 2026-17")
    refused(market, Reason.account_frozen, PLEDGORS, "pledge_register", **PLEDGE)


def test_the_scheme_decides_which_account_types_may_pledge(market: World) -> None:
    market.issue_credits("C1", "HN", 100)
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="LI", batch="C1", quantity=50)
    refused(market, PledgeReason.account_type_cannot_pledge, ("li", "icbc"), "pledge_register",
            **(PLEDGE | dict(account="LI", batch="C1", quantity=50)))
    register(market, batch="C1", quantity=50)  # from HN, a compliance account


def test_maturity_today_is_accepted(market: World) -> None:
    register(market, startDate="2026-05-01", maturityDate="2026-06-01")
