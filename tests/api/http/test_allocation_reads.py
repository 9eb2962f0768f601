"""The allocation reads over HTTP (api/http/allocation_reads.py), and who may read what: plans,
amendments, the reserve's movements, market figures and auctions are public; an auction's
bids are sealed until it is cleared (the registry and auditors read them all, a bidder its
own, anyone else none) and public after; an installation's allocations are its emitter's,
the registry's and auditors'. Every refusal is an RFC 9457 problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import build, registry_wallet
from api.client import Client, HttpTransport
from api.config import load_config
from api.http import create_app
from api.ledger_clock import ClockSetting, write_setting
from custody.keystore import read_keystore
from ledger.client import Wallet
from ledger.clock import parse_rfc3339, utc_now
from tests.api.http.conftest import login_over, problem_of
from tests.api.test_allocation_cli import PASSWORD, SECTORS, START, YEAR, allocation_market


@dataclass
class Market:
    """The allocation market of tests/api/test_allocation_cli.py, served; the auction AU-1
    announced with a bid each by Huaneng, ICBC and Baowu, open."""

    http: TestClient
    wallets: dict[str, Wallet]
    data_dir: Path
    service: Any

    def by(self, who: str, op: str, /, **fields: Any) -> dict[str, Any]:
        client = Client(HttpTransport("http://test", http=self.http,
                                      operations=self.service.operations))
        signed = client.sign(client.instruction(op, **fields), self.wallets[who])
        answer = self.http.post("/v1/instructions", json=signed.as_json())
        assert answer.status_code == 200, answer.text
        receipt: dict[str, Any] = answer.json()["receipt"]
        return receipt

    def get(self, path: str, who: str | None = None) -> Any:
        headers = {} if who is None else {
            "Authorization": f"Bearer {login_over(self.http, self.wallets[who], who)}"}
        return self.http.get(path, headers=headers)

    def move_clock(self, to: str) -> None:
        """The ledger's clock reads `to` now (as `carbonledger clock set` sets it)."""
        offset_s = parse_rfc3339(to).timestamp() - utc_now().timestamp()
        write_setting(self.data_dir, ClockSetting(round(offset_s * 1000)))


@pytest.fixture
def market(tmp_path: Path) -> Iterator[Market]:
    data_dir = tmp_path / "ledger"
    allocation_market(data_dir)
    with build(load_config(data_dir), data_dir, password=lambda: PASSWORD) as app, \
            TestClient(create_app(app.service)) as http:
        wallets = {"registry": registry_wallet(app.config, data_dir, PASSWORD)}
        for name in ("huaneng", "baowu", "icbc", "cec"):
            wallets[name] = Wallet(read_keystore(data_dir / "keystores" / f"{name}.json",
                                                 PASSWORD), wallets["registry"].domain)
        market = Market(http, wallets, data_dir, app.service)
        market.by("registry", "allocation_plan_set", scheme="CN-ETS", year=YEAR,
                  cap=2_000_000, reserve=100_000, auction=300_000, sectors=json.dumps(SECTORS))
        market.by("registry", "auction_announce", auction="AU-1", scheme="CN-ETS", year=YEAR,
                  quantity=100_000, reservePrice=5_000, opens=START,
                  closes="2030-02-07T09:00:00Z", bidderLimitBp=5_000, batch="CEA-A1")
        for bidder, bid, account, quantity, price in (
                ("huaneng", "B-HN", "HN-C", 40_000, 8_500),
                ("icbc", "B-IC", "ICBC-T", 30_000, 8_200),
                ("baowu", "B-BW", "BW-C", 45_000, 8_000)):
            market.by(bidder, "auction_bid", auction="AU-1", bid=bid, bidder=bidder,
                      account=account, quantity=quantity, price=price)
        yield market
        assert app.service.check_invariants() == []


def _bids(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [b["bid"] for b in answer.json()["items"]]


def test_plans_figures_and_auctions_are_public(market: Market) -> None:
    plan = market.get(f"/v1/allocation/plans/CN-ETS/{YEAR}")
    assert plan.status_code == 200, plan.text
    found = plan.json()
    assert (found["cap"], found["to_auction"], found["on_offer"], found["outstanding"]) == \
        (2_000_000, 300_000, 100_000, 400_000)
    assert [(s["sector"], s["free_cap"], s["allocated"]) for s in found["sectors"]] == \
        [("power", 1_000_000, 0), ("steel", 500_000, 0)]
    assert [p["year"] for p in market.get("/v1/allocation/plans?scheme=CN-ETS")
            .json()["items"]] == [YEAR]
    assert market.get(f"/v1/allocation/plans/CN-ETS/{YEAR}/amendments").json() == \
        {"items": []}
    market.by("registry", "market_figures_publish", figures="MF-1", scheme="CN-ETS",
              period="2030-01", averagePrice=10_500, surplus=1_200_000, source="exchange")
    market.by("registry", "reserve_release", scheme="CN-ETS", year=YEAR, quantity=50_000,
              figures="MF-1", reason="prices above the trigger")
    (moved,) = market.get(f"/v1/allocation/plans/CN-ETS/{YEAR}/reserve").json()["items"]
    assert (moved["kind"], moved["quantity"], moved["figures"]) == ("release", 50_000, "MF-1")
    (figures,) = market.get("/v1/allocation/market-figures?scheme=CN-ETS").json()["items"]
    assert (figures["id"], figures["average_price"]) == ("MF-1", 10_500)
    (auction,) = market.get("/v1/auctions?scheme=CN-ETS&year=2030").json()["items"]
    assert (auction["id"], auction["phase"], auction["bid_count"], auction["sold"]) == \
        ("AU-1", "open", 3, 0)
    assert market.get("/v1/auctions?year=2031").json() == {"items": []}
    assert market.get("/v1/auctions/AU-1").json()["bidder_limit_bp"] == 5_000


def test_what_names_nothing_is_a_404_problem(market: Market) -> None:
    problem = problem_of(market.get(f"/v1/allocation/plans/CN-ETS/{YEAR + 1}"), 404)
    assert problem["code"] == "plan_not_found"
    assert problem_of(market.get("/v1/auctions/AU-9"), 404)["code"] == "auction_not_found"
    assert problem_of(market.get("/v1/auctions/AU-9/bids", "registry"), 404)["code"] == \
        "auction_not_found"
    problem_of(market.get("/v1/allocation/plans/CN-ETS/1800"), 422)
    problem_of(market.get("/v1/auctions?bidder=huaneng"), 400)


def test_bids_are_sealed_until_the_auction_is_cleared(market: Market) -> None:
    assert problem_of(market.get("/v1/auctions/AU-1/bids"), 401)["code"] == "token_required"
    assert _bids(market.get("/v1/auctions/AU-1/bids", "huaneng")) == ["B-HN"]
    assert _bids(market.get("/v1/auctions/AU-1/bids", "icbc")) == ["B-IC"]
    assert _bids(market.get("/v1/auctions/AU-1/bids", "cec")) == []  # it did not bid
    registry = market.get("/v1/auctions/AU-1/bids", "registry").json()["items"]
    assert [(b["bid"], b["filled"]) for b in registry] == \
        [("B-HN", None), ("B-IC", None), ("B-BW", None)]
    market.move_clock("2030-02-08T02:00:00Z")
    assert market.get("/v1/auctions/AU-1").json()["phase"] == "closed"
    assert _bids(market.get("/v1/auctions/AU-1/bids", "huaneng")) == ["B-HN"]  # still sealed
    market.by("registry", "auction_clear", auction="AU-1")
    book = market.get("/v1/auctions/AU-1/bids").json()["items"]  # public, no token
    assert [(b["bid"], b["filled"]) for b in book] == \
        [("B-HN", 40_000), ("B-IC", 30_000), ("B-BW", 30_000)]
    cleared = market.get("/v1/auctions/AU-1").json()
    assert (cleared["phase"], cleared["clearing_price"], cleared["sold"]) == \
        ("cleared", 8_000, 100_000)


def test_an_installations_allocations_are_its_emitters(market: Market) -> None:
    for installation, output, unit in (("HN-1", "1000000", "MWh"), ("BW-1", "250000", "t")):
        market.by("cec", "output_verify", verifier="cec", installation=installation,
                  year=YEAR - 1, output=output, unit=unit)
    market.by("registry", "allocation_preallocate", scheme="CN-ETS", year=YEAR, batch="P",
              targets=json.dumps([["HN-1", "HN-C"], ["BW-1", "BW-C"]]))
    answer = market.get("/v1/allocation/installations/HN-1", "huaneng")
    assert answer.status_code == 200, answer.text
    (own,) = answer.json()["items"]
    assert (own["installation"], own["year"], own["issued"], own["received"]) == \
        ("HN-1", YEAR, 582_163, 582_163)
    inputs = own["preallocation"]  # what anyone reading it recomputes the figure from
    assert (inputs["output"], inputs["benchmark"], inputs["factors"], inputs["share_bp"],
            inputs["exact"], inputs["tonnes"], inputs["matches"]) == \
        ("1000000", "0.8218", {"load": "1.012"}, 7_000, "582163.12", 582_163, True)
    assert len(market.get("/v1/allocation/installations/BW-1", "registry")
               .json()["items"]) == 1
    problem_of(market.get("/v1/allocation/installations/HN-1"), 401)
    for who, installation in (("huaneng", "BW-1"), ("icbc", "HN-1"), ("huaneng", "HN-9")):
        problem = problem_of(market.get(f"/v1/allocation/installations/{installation}", who),
                             403)
        assert problem["code"] == "record_forbidden"
    path = f"/v1/allocation/plans/CN-ETS/{YEAR}/allocations"
    assert [a["installation"] for a in market.get(path, "registry").json()["items"]] == \
        ["BW-1", "HN-1"]
    assert [a["installation"] for a in market.get(path, "baowu").json()["items"]] == ["BW-1"]
    assert market.get(path, "icbc").json() == {"items": []}
    problem_of(market.get(path), 401)
    client = Client(HttpTransport("http://test", http=market.http,
                                  operations=market.service.operations))
    client.login(market.wallets["huaneng"])
    (found,) = client.installation_allocations("HN-1")
    assert found.preallocation is not None and found.preallocation.tonnes == 582_163


def test_an_auctions_proof_is_public_once_it_is_cleared(market: Market) -> None:
    market.service.cut_checkpoint()
    path = "/v1/proofs/auction?subject=AU-1"
    problem_of(market.get(path), 401)
    assert problem_of(market.get(path, "huaneng"), 403)["code"] == "registry_or_auditor_only"
    assert problem_of(market.get(path, "registry"), 404)["code"] == "auction_not_found"
    market.move_clock("2030-02-08T02:00:00Z")
    market.by("registry", "auction_clear", auction="AU-1")
    market.service.cut_checkpoint()
    answer = market.get(path)  # no token: its book is published
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    assert bundle["kind"] == "auction" and len(bundle["book"]) == 3
    operator = market.service.operator
    assert "clear at 8000 per tonne" in market.service.verify(bundle, operator).statement


def test_the_client_reads_what_its_login_may(market: Market) -> None:
    client = Client(HttpTransport("http://test", http=market.http,
                                  operations=market.service.operations))
    plan = client.allocation_plan("CN-ETS", YEAR)
    assert plan is not None and plan.on_offer == 100_000 and plan.sectors[0].sector == "power"
    assert client.allocation_plan("CN-ETS", YEAR + 1) is None
    auction = client.auction("AU-1")
    assert auction is not None and auction.bidder_limit == 50_000 and not auction.cleared
    client.login(market.wallets["baowu"])
    assert [b.bid for b in client.auction_bids("AU-1")] == ["B-BW"]
