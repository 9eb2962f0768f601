"""The served demo's quota allocation (examples/served_demo.py plays it after the compliance
cycle): the national scheme moves under its plan.

The registry puts CN-ETS under allocation control (a new version of its rules, with
`issue_operation = "allocation"`) and sets the year's plan: the cap, the reserve, the volume
to auction and each sector's free allocation and benchmark. CEC verifies the two
installations' output of the year before, and the registry pre-allocates 70% of what that
output earns. It publishes the month's market figures and, the price being above the
release trigger, releases part of the reserve to auction. An auction is announced; Huaneng,
ICBC and Baowu bid (Baowu is refused past the limit per bidder), and Huaneng, reading the
auction from the server, sees its own bid and no other. Once the window has closed (the demo
ledger's clock moved on) the registry clears it at one price; the operator anchors a
checkpoint, and Huaneng checks the clearing from the auction's proof bundle against the chain.
A year later the year's output is verified and the true-up settles each installation: more
for Huaneng, units taken back from Baowu.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from api.bootstrap import load_operator
from api.ledger_clock import ClockSetting, write_setting
from examples.processes import Cli, DemoError
from examples.telling import Story
from ledger.clock import utc_now
from ledger.schemes import load_rules_dir
from ledger.schemes.calendar import MarketCalendar

if TYPE_CHECKING:
    from examples.served_demo import _Desk

REGISTRY = "MEE"
VERIFIER = "cec"
SCHEME = "CN-ETS"
BEIJING = MarketCalendar(utc_offset_minutes=480)
CAP, RESERVE, TO_AUCTION = 2_000_000, 100_000, 300_000
SECTORS = (
    {"sector": "power", "free_cap": 1_000_000, "benchmark": "0.8218", "output_unit": "MWh",
     "factors": {"load": "1.012"}},
    {"sector": "steel", "free_cap": 500_000, "benchmark": "1.8", "output_unit": "t",
     "factors": {}},
)
PREALLOCATION_BP = 7_000  # CN-ETS's [allocation] preallocation_bp
# installation, emitter, its compliance account, sector, output of the year before, the year's
INSTALLATIONS = (
    ("HN-YY", "huaneng", "HN-C", "power", "1000000", "1080000"),
    ("BW-BS", "baowu", "BW-C", "steel", "250000", "160000"),
)
AUCTION_T = 100_000
RELEASED_T = 50_000
# bidder, bid, account, tonnes, yuan per tonne
BIDS = (("huaneng", "B-HN-1", "HN-C", 40_000, "85.00"),
        ("icbc", "B-IC-1", "ICBC-T", 30_000, "82.00"),
        ("baowu", "B-BW-2", "BW-C", 45_000, "80.00"))


def allocation_t(output: str, sector: dict[str, object], share_bp: int = 10_000) -> int:
    """What an output earns (docs/allocation.md), worked here as a reader would check it."""
    figure = Decimal(output) * Decimal(str(sector["benchmark"]))
    for factor in dict(sector["factors"]).values():  # type: ignore[call-overload]
        figure *= Decimal(factor)
    figure = figure * share_bp / 10_000
    return int(figure.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def play_allocation(story: Story, cli: Cli, desk: _Desk, data_dir: Path) -> None:
    """The plan of the demo ledger's current year, its free allocation, an auction and the
    next year's true-up."""
    year = BEIJING.market_day(desk.client.transport.now()).year
    desk.client.login(desk.wallets[REGISTRY])  # the registry reads every account
    story.heading(f"Quota allocation: from {year}, the national scheme under its plan")
    folder = data_dir / "allocation"
    folder.mkdir()
    _plan(story, cli, desk, folder, year)
    _free_allocation(story, cli, desk, year)
    _reserve(story, desk, year)
    _auction(story, cli, desk, data_dir, folder, year)
    _true_up(story, cli, desk, data_dir, year)


def _plan(story: Story, cli: Cli, desk: _Desk, folder: Path, year: int) -> None:
    document = load_rules_dir()[SCHEME].as_json()  # the rules the demo ledger was made with
    document["issue_operation"] = "allocation"
    desk.submit((REGISTRY,), "set_scheme_rules", scheme=SCHEME, rules=json.dumps(document))
    story.step("The registry", f"records a new version of {SCHEME}'s rules, the same but for "
               "`issue_operation = \"allocation\"`: from now on its allowances come into being "
               "only under a year's plan.")
    refused = desk.refused((REGISTRY,), "issue_batch", batch=f"CEA-{year}-X", scheme=SCHEME,
                           kind="allowance", vintage=year, issuance="free_allocation",
                           quantity=1_000, account="HN-C")
    story.answer(f"issue_batch of {year} allowances: REFUSED, {refused.reason.name}")
    sectors = folder / f"sectors-{year}.json"
    sectors.write_text(json.dumps(list(SECTORS), indent=2) + "\n")
    story.step("The registry", f"sets the {year} plan: a cap of {CAP:,} t, {RESERVE:,} t in "
               f"the market-stability reserve, {TO_AUCTION:,} t to auction, and per sector its "
               f"free allocation and benchmark ({sectors.name}):")
    story.run(cli, "allocation", "plan", "set", SCHEME, str(year), "--cap", str(CAP),
              "--reserve", str(RESERVE), "--auction", str(TO_AUCTION), "--sectors",
              str(sectors), "--as", REGISTRY, remote=True)


def _free_allocation(story: Story, cli: Cli, desk: _Desk, year: int) -> None:
    for installation, _, _, sector, before, _ in INSTALLATIONS:
        unit = _sector(sector)["output_unit"]
        desk.submit((VERIFIER,), "output_verify", verifier=VERIFIER,
                    installation=installation, year=year - 1, output=before, unit=unit)
    story.step("CEC", f"verifies the {year - 1} output of Huaneng's Yueyang plant "
               f"({int(INSTALLATIONS[0][4]):,} MWh) and of Baowu's Baoshan works "
               f"({int(INSTALLATIONS[1][4]):,} t of steel).")
    story.step("The registry", f"pre-allocates {year}: {PREALLOCATION_BP // 100}% of what "
               f"the {year - 1} output earns at the {year} benchmarks, one lot each, in one "
               "batch:")
    story.run(cli, "allocation", "preallocate", SCHEME, str(year), "--batch",
              f"CEA-{year}-P", *(arg for i in INSTALLATIONS for arg in ("--target",
                                                                       f"{i[0]}={i[2]}")),
              "--as", REGISTRY, remote=True)
    for installation, emitter, account, sector, before, _ in INSTALLATIONS:
        expected = allocation_t(before, _sector(sector), PREALLOCATION_BP)
        found = _tradable(desk, account, f"CEA-{year}-P")
        if found != expected:
            raise DemoError(f"{installation} was pre-allocated {found} t, not the "
                            f"{expected} t its output earns")
        story.answer(f"{installation} ({emitter}): {before} × {_sector(sector)['benchmark']} "
                     f"{_factors(sector)}× 70% = {expected:,} t")


def _reserve(story: Story, desk: _Desk, year: int) -> None:
    period = f"{year}-01"
    desk.submit((REGISTRY,), "market_figures_publish", figures=f"MF-{period}", scheme=SCHEME,
                period=period, averagePrice=10_500, surplus=1_200_000,
                source="national carbon exchange, monthly report")
    story.step("The registry", f"publishes the market figures of {period}: an average price "
               "of CNY 105.00 a tonne, above the rules' release trigger of CNY 100.00.")
    desk.submit((REGISTRY,), "reserve_release", scheme=SCHEME, year=year,
                quantity=RELEASED_T, figures=f"MF-{period}",
                reason="prices above the release trigger")
    plan = desk.client.allocation_plan(SCHEME, year)
    if plan is None:
        raise DemoError(f"no {SCHEME} {year} plan")
    story.step("The registry", f"releases {RELEASED_T:,} t of the reserve to auction, citing "
               "those figures.")
    story.answer(f"the plan now: {plan.reserve:,} t in reserve, {plan.to_auction:,} t to "
                 f"auction, {plan.issued:,} t issued; {plan.outstanding:,} t of the "
                 f"{plan.cap:,} t cap committed")


def _auction(story: Story, cli: Cli, desk: _Desk, data_dir: Path, folder: Path,
             year: int) -> None:
    auction = f"AU-{year}-1"
    now = desk.client.transport.now().replace(microsecond=0)
    closes = now + timedelta(days=3)
    desk.submit((REGISTRY,), "auction_announce", auction=auction, scheme=SCHEME, year=year,
                quantity=AUCTION_T, reservePrice=5_000, opens=_instant(now),
                closes=_instant(closes), bidderLimitBp=5_000, batch=f"CEA-{year}-A1")
    story.step("The registry", f"announces auction {auction}: {AUCTION_T:,} t, a reserve "
               f"price of CNY 50.00, bids until {_instant(closes)}, at most 50% of the offer "
               "to one bidder.")
    for who, (bidder, bid, account, tonnes, price) in (("Huaneng", BIDS[0]),
                                                       ("ICBC", BIDS[1])):
        desk.submit((bidder,), "auction_bid", auction=auction, bid=bid, bidder=bidder,
                    account=account, quantity=tonnes, price=_fen(price))
        story.step(who, f"bids for {tonnes:,} t at CNY {price} ({bid}, into {account}).")
    refused = desk.refused(("baowu",), "auction_bid", auction=auction, bid="B-BW-1",
                           bidder="baowu", account="BW-C", quantity=60_000, price=8_000)
    story.step("Baowu", "bids for 60,000 t at CNY 80.00.")
    story.answer(f"REFUSED, {refused.reason.name}: {refused.detail}")
    bidder, bid, account, tonnes, price = BIDS[2]
    desk.submit((bidder,), "auction_bid", auction=auction, bid=bid, bidder=bidder,
                account=account, quantity=tonnes, price=_fen(price))
    story.step("Baowu", f"bids for {tonnes:,} t at CNY {price} instead.")
    story.step("Huaneng", "reads the auction from the server while it is open: the bids are "
               "sealed, it sees its own and no other:")
    story.run(cli, "show", "auction", auction, "--as", "huaneng", remote=True, lines=None)
    _move_clock(data_dir, desk, closes + timedelta(hours=1))
    story.note(f"(The operator has moved the demo ledger's clock past the bidding window, to "
               f"{_instant(closes + timedelta(hours=1))}, as `carbonledger clock set` does.)")
    desk.submit((REGISTRY,), "auction_clear", auction=auction)
    story.step("The registry", "clears the auction: bids by price, highest first (ties by "
               "the order placed), until the offer is sold; every winner pays the lowest "
               "accepted price.")
    found = desk.client.auction(auction)
    if found is None or not found.cleared:
        raise DemoError(f"auction {auction} is not cleared")
    fills = {b.bid: b.filled for b in desk.client.auction_bids(auction)}
    story.answer(f"cleared at CNY {found.clearing_price / 100:.2f}, {found.sold:,} t sold: "
                 + ", ".join(f"{bid} {fills[bid]:,} t" for _, bid, *_ in BIDS))
    _prove_clearing(story, cli, desk, data_dir, folder, auction)


def _prove_clearing(story: Story, cli: Cli, desk: _Desk, data_dir: Path, folder: Path,
                    auction: str) -> None:
    story.step("The operator", "cuts a checkpoint and anchors it:")
    story.run(cli, "checkpoint", lines=0)
    story.run(cli, "chain", "anchor", lines=0)
    operator = load_operator(data_dir)
    if operator is None:
        raise DemoError(f"{data_dir} has no operator key")
    chain = json.loads((data_dir / "chain.json").read_text())
    trusted = ["--operator-key", operator.address, "--anchor-registry", chain["registry"],
               "--rpc", chain["rpc_url"]]
    bundle = folder / f"{auction}.json"
    bundle.write_text(json.dumps(desk.client.proof("auction", auction), indent=2) + "\n")
    story.step("Huaneng", f"fetches the auction's proof bundle from the server ({bundle.name}: "
               "the auction's record at the checkpoint, its book, every bid now disclosed, and "
               "its results) and checks it on its own desk against the chain: the book "
               "against the digest the record committed to as bids arrived, its own bid in "
               "it, and the clearing recomputed from the bids alone:")
    bidder_desk = Cli(folder / "huaneng-desk", cli.password)
    output = story.run(bidder_desk, "verify", str(bundle), "--bid", BIDS[0][1], *trusted,
                       lines=0)
    verdicts = [line for line in output.stdout.splitlines()
                if line.startswith(("VERIFIED", "ANCHORED", "YOUR BID"))]
    if not verdicts:
        raise DemoError(f"no verdict in: {output.text[-800:]}")
    for line in verdicts:
        story.answer(line if len(line) <= 160 or line.startswith(("VERIFIED", "YOUR BID"))
                     else line[:157] + "...")
    story.verify(f"auction {auction}'s clearing follows from its committed bids, Huaneng's "
                 "own among them — recomputed from the proof bundle, anchored on chain")


def _true_up(story: Story, cli: Cli, desk: _Desk, data_dir: Path, year: int) -> None:
    moment = datetime(year + 1, 1, 5, 2, 0, tzinfo=UTC)
    _move_clock(data_dir, desk, moment)
    story.note(f"(The operator has moved the demo ledger's clock to {moment:%Y-%m-%d}: {year} "
               "is over.)")
    for installation, _, _, sector, _, output in INSTALLATIONS:
        desk.submit((VERIFIER,), "output_verify", verifier=VERIFIER,
                    installation=installation, year=year, output=output,
                    unit=_sector(sector)["output_unit"])
    story.step("CEC", f"verifies the {year} output: {int(INSTALLATIONS[0][5]):,} MWh at "
               f"Yueyang, {int(INSTALLATIONS[1][5]):,} t of steel at Baoshan.")
    desk.submit((REGISTRY,), "allocation_true_up", scheme=SCHEME, year=year,
                batch=f"CEA-{year}-T",
                targets=json.dumps([[i[0], i[2]] for i in INSTALLATIONS]))
    story.step("The registry", f"trues up {year}: what the year's own output earns, less "
               "what each installation already received; then reads each figure with the "
               "inputs it is computed from:")
    story.run(cli, "show", "allocations", "--year", str(year), "--as", REGISTRY,
              remote=True, lines=None)
    for installation, emitter, account, sector, before, output in INSTALLATIONS:
        final = allocation_t(output, _sector(sector))
        received = allocation_t(before, _sector(sector), PREALLOCATION_BP)
        if final > received:
            found = _tradable(desk, account, f"CEA-{year}-T")
            moved = f"{found:,} t more issued in CEA-{year}-T"
        else:
            found = -sum(h.cancelled for h in desk.client.holdings(account, f"CEA-{year}-P"))
            moved = f"{-found:,} t of its CEA-{year}-P taken back and cancelled"
        if found != final - received:
            raise DemoError(f"{installation}'s {year} true-up moved {found} t, not "
                            f"{final - received} t")
        story.answer(f"{installation} ({emitter}): {final:,} t for {year}; {moved}")
    story.verify(f"{year}'s free allocation: each installation's figure recomputed from its "
                 "verified output, benchmark and factors; the true-up issued Huaneng's "
                 "difference and took Baowu's back")


def _tradable(desk: _Desk, account: str, batch: str) -> int:
    return sum(h.tradable for h in desk.client.holdings(account, batch))


def _sector(name: str) -> dict[str, object]:
    return next(s for s in SECTORS if s["sector"] == name)


def _factors(sector: str) -> str:
    factors = dict(_sector(sector)["factors"])  # type: ignore[call-overload]
    return "".join(f"× {value} ({name}) " for name, value in factors.items())


def _move_clock(data_dir: Path, desk: _Desk, moment: datetime) -> None:
    """The operator moves the demo ledger's clock to `moment`, as `carbonledger clock set`
    does (the running server follows its data directory's setting)."""
    offset_s = moment.timestamp() - utc_now().timestamp()
    write_setting(data_dir, ClockSetting(round(offset_s * 1000)))
    desk.client.refresh_clock()


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fen(price: str) -> int:
    return int(Decimal(price) * 100)
