"""repo_open: scenarios and every reason it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.errors import Reason, ReasonCode
from pledge.reasons import PledgeReason
from tests.pledge.helpers import REPO, REPO_PARTIES, agreement, lien_lots, open_repo, refused
from tests.world import World


def test_under_lien_the_units_sit_in_the_buyers_account_and_cannot_leave_it(
        market: World) -> None:
    receipt = open_repo(market)
    assert market.lots("A1") == [(1, 400, "ICBC", "pledged"), (401, 1000, "HN", "tradable")]
    assert lien_lots(market, "R1") == [(1, 400, "ICBC", "pledged")]
    with market.store.read() as tx:
        lien = tx.liens(["R1"])["R1"]
    assert (lien.holder, lien.purpose) == ("icbc", "repo")
    assert agreement(market, "repos", "R1") == {
        "id": "R1", "seller": "huaneng", "buyer": "icbc", "seller_account": "HN",
        "buyer_account": "ICBC", "batch": "A1", "quantity": 400, "returned": 0,
        "purchase_price": 3_200_000_00, "repurchase_price": 3_232_000_00, "currency": "CNY",
        "opened_on": "2026-06-01", "repurchase_date": "2026-09-30", "free_use": 0,
        "status": "open", "opened_seq": receipt.seq, "updated_seq": receipt.seq}
    market.refused(Reason.insufficient_tradable, "icbc", "transfer", fromAccount="ICBC",
                   toAccount="BOC", batch="A1", quantity=1)
    market.refused(Reason.lot_under_lien, "icbc", "transfer", fromAccount="ICBC",
                   toAccount="BOC", batch="A1", quantity=1, serialFirst=1, serialLast=1)


def test_free_use_hands_the_units_over_tradable(market: World) -> None:
    open_repo(market, freeUse=True)
    assert market.lots("A1") == [(1, 400, "ICBC", "tradable"), (401, 1000, "HN", "tradable")]
    assert lien_lots(market, "R1") == []
    market.by("icbc", "transfer", fromAccount="ICBC", toAccount="BOC", batch="A1", quantity=400)


@pytest.mark.parametrize("signers", [("huaneng",), ("icbc",), ("huaneng", "boc")])
def test_seller_and_buyer_both_sign(market: World, signers: tuple[str, ...]) -> None:
    reason = Reason.not_account_holder if "huaneng" not in signers else \
        Reason.missing_signature
    refused(market, reason, signers, "repo_open", **REPO)


FIELDS_REFUSED: list[tuple[dict[str, Any], ReasonCode]] = [
    (dict(sellerAccount="NOPE"), Reason.unknown_account),
    (dict(buyerAccount="NOPE"), Reason.unknown_account),
    (dict(batch="NOPE"), Reason.unknown_batch),
    (dict(quantity=1001), Reason.insufficient_tradable),
    (dict(repurchaseDate="2026-06-01"), PledgeReason.repurchase_date_not_future),
    (dict(purchasePrice=0), Reason.malformed_instruction),
    (dict(currency="CN"), Reason.malformed_instruction),
    (dict(freeUse=1), Reason.malformed_instruction),
    (dict(repurchaseDate="30/09/2026"), Reason.invalid_date),
]


@pytest.mark.parametrize(("fields", "reason"), FIELDS_REFUSED,
                         ids=[f"{r.name}-{sorted(f)[0]}" for f, r in FIELDS_REFUSED])
def test_refusals(market: World, fields: dict[str, Any], reason: ReasonCode) -> None:
    refused(market, reason, REPO_PARTIES, "repo_open", **(REPO | fields))
    assert market.lots("A1") == [(1, 1000, "HN", "tradable")]


def test_a_repo_between_two_accounts_of_one_participant_is_refused(market: World) -> None:
    refused(market, PledgeReason.same_party, ("huaneng",), "repo_open",
            **(REPO | dict(buyerAccount="HNT")))


def test_pledges_and_repos_share_one_id_space(market: World) -> None:
    from tests.pledge.helpers import register

    register(market, pledge="R1", quantity=10)
    refused(market, PledgeReason.agreement_exists, REPO_PARTIES, "repo_open", **REPO)


def test_units_under_a_pledge_cannot_be_sold_in_a_repo(market: World) -> None:
    from tests.pledge.helpers import register

    register(market, quantity=700)
    refused(market, Reason.insufficient_tradable, REPO_PARTIES, "repo_open", **REPO)


@pytest.mark.parametrize("frozen", ["HN", "ICBC"])
def test_frozen_accounts_take_no_part(market: World, frozen: str) -> None:
    market.by("registry", "freeze_account", account=frozen, reason="inquiry")
    refused(market, Reason.account_frozen, REPO_PARTIES, "repo_open", **REPO)


def test_the_scheme_decides_which_account_types_take_part(market: World) -> None:
    market.issue_credits("C1", "HN", 100)
    market.by("huaneng", "transfer", fromAccount="HN", toAccount="LI", batch="C1", quantity=50)
    refused(market, PledgeReason.account_type_cannot_repo, ("li", "icbc"), "repo_open",
            **(REPO | dict(sellerAccount="LI", batch="C1", quantity=50)))
    refused(market, PledgeReason.account_type_cannot_repo, ("huaneng", "li"), "repo_open",
            **(REPO | dict(buyerAccount="LI", batch="C1", quantity=50)))


# --- rules that differ by market ------------------------------------------------------------


def test_shanghai_repos_are_at_least_ten_thousand_tonnes(market: World) -> None:
    market.allocate("SH1", "HN", 20_000, scheme="CN-SH")
    refused(market, PledgeReason.repo_below_minimum, REPO_PARTIES, "repo_open",
            **(REPO | dict(batch="SH1", quantity=9_999)))
    open_repo(market, batch="SH1", quantity=10_000)


def test_guangdong_repos_with_a_compliance_account_end_within_the_compliance_year(
        market: World) -> None:
    market.allocate("GD1", "HN", 1000, scheme="CN-GD")
    market.allocate("GD2", "HNT", 1000, scheme="CN-GD")
    # CN-GD's compliance year ends on 06-20: opened 2026-06-01, a repo with HN ends by then
    refused(market, PledgeReason.beyond_compliance_year, REPO_PARTIES, "repo_open",
            **(REPO | dict(batch="GD1", repurchaseDate="2026-06-21")))
    open_repo(market, batch="GD1", repurchaseDate="2026-06-20")
    # between two trading accounts the rule does not apply
    open_repo(market, repo="R2", sellerAccount="HNT", batch="GD2", repurchaseDate="2027-03-31")
    # after the year's end a new compliance year begins
    market.clock.advance(days=30)
    open_repo(market, repo="R3", batch="GD1", quantity=100, repurchaseDate="2027-06-20")


def test_cn_ets_has_no_compliance_year_limit(market: World) -> None:
    open_repo(market, repurchaseDate="2028-06-30")
