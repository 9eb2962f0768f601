"""The allocation commands of `carbonledger` (allocation/, docs/allocation.md): each signed with
the signer's own keystore and sent through the Python client, like every role command
(api/roles_cli.py), to the local data directory's ledger or, with `--server URL`, a server.

    carbonledger allocation plan set CN-ETS 2026 --cap 2000000 --reserve 100000 \\
        --auction 300000 --sectors sectors.json --as registry
    carbonledger allocation plan amend CN-ETS 2026 --cap 2100000 --sectors sectors.json \\
        --reason "two new power plants" --as registry
    carbonledger allocation output verify HN-1 --year 2025 --output 1000000 --unit MWh \\
        --verifier cec --as cec
    carbonledger allocation preallocate CN-ETS 2026 --batch CEA-2026-P \\
        --target HN-1=HN-C --target BW-1=BW-C --as registry     # or --targets targets.json
    carbonledger allocation true-up CN-ETS 2026 --batch CEA-2026-T --targets t.json --as registry
    carbonledger allocation new-entrant HN-3 --scheme CN-ETS --year 2026 --account HN-C \\
        --batch CEA-2026-N1 --quantity 20000 --reason "commissioned in May" --as registry
    carbonledger allocation close HN-2 --last-year 2026 --reason "decommissioned" --as registry
    carbonledger allocation figures publish MF-2026-03 --scheme CN-ETS --period 2026-03 \\
        --average-price 105.00 --surplus 1200000 --source "exchange monthly report" --as registry
    carbonledger allocation reserve release CN-ETS 2026 --quantity 50000 --figures MF-2026-03 \\
        --reason "prices above the release trigger" --as registry      # or reserve absorb
    carbonledger auction announce AU-2026-1 --scheme CN-ETS --year 2026 --quantity 100000 \\
        --reserve-price 50.00 --opens 2026-03-02T01:00:00Z --closes 2026-03-05T09:00:00Z \\
        --bidder-limit 50% --batch CEA-2026-A1 --as registry
    carbonledger auction bid AU-2026-1 B-HN-1 --bidder huaneng --account HN-C \\
        --quantity 40000 --price 85.00 --as huaneng
    carbonledger auction clear AU-2026-1 --as registry

Prices are written in yuan (85.00) and signed as exact integers of the fen (8500); quantities
are whole tonnes. A plan's sectors are a JSON file (or the JSON text itself) as
docs/allocation.md shows; an allocation's targets are `--target INSTALLATION=ACCOUNT`,
repeated, or `--targets FILE`, a JSON list of [installation, account] pairs. Both are checked
here before anything is signed. The reads are `carbonledger show plan|allocations|
market-figures|reserve|auctions|auction` (api/allocation_show_cli.py).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from allocation.fields import parse_targets
from allocation.rules import BASIS_POINTS
from allocation.sectors import parse_sectors
from api.roles_cli import act, signing
from ledger.errors import Rejected

YEAR = click.IntRange(1990, 2200)
TONNES = click.IntRange(min=0)
POSITIVE_TONNES = click.IntRange(min=1)
FEN_PER_YUAN = 100  # the scheme's prices are CNY, signed in fen per tonne


# --- what the options read -------------------------------------------------------------------


def price_in_fen(amount: str, option: str, *, zero: bool = False) -> int:
    """A price per tonne written in yuan (85.00, 85) as exact fen (8500); never a float."""
    try:
        value = Decimal(amount.replace(",", "").replace("_", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or (value == 0 and not zero) \
            or -value.as_tuple().exponent > 2:  # type: ignore[operator]
        least = "zero or more" if zero else "more than zero"
        raise click.BadParameter(f"{amount!r} is not a price in CNY per tonne ({least}, at "
                                 "most 2 decimals)", param_hint=option)
    return int(value * FEN_PER_YUAN)


def basis_points(text: str, option: str) -> int:
    """A share written as a percentage (50%, 12.5%) or as basis points (5000)."""
    try:
        points = Decimal(text[:-1]) * 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        points = Decimal("NaN")
    if not points.is_finite() or points != points.to_integral_value() \
            or not 1 <= points <= BASIS_POINTS:
        raise click.BadParameter(f"{text!r} is not a share of 0.01% to 100% (or 1 to "
                                 f"{BASIS_POINTS} basis points)", param_hint=option)
    return int(points)


def _json_text(value: str, option: str) -> str:
    """The JSON an option names: a file's text, or the option's own text if it is JSON."""
    text = value.strip()
    if not text.startswith(("[", "{")):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {value}: {exc.strerror}",
                                     param_hint=option) from exc
    return text


def sectors_field(value: str) -> str:
    """A plan's sectors, checked here (the ledger checks them again): canonical JSON."""
    text = _json_text(value, "--sectors")
    try:
        sectors = parse_sectors(text)
    except Rejected as bad:
        raise click.BadParameter(f"{bad.detail} (docs/allocation.md shows the form)",
                                 param_hint="--sectors") from bad
    return json.dumps([s.as_json() for s in sectors], separators=(",", ":"))


def targets_field(pairs: tuple[str, ...], targets_file: str | None) -> str:
    """The [installation, account] list of --target INSTALLATION=ACCOUNT or --targets FILE."""
    if bool(pairs) == bool(targets_file):
        raise click.UsageError("name the installations with --target INSTALLATION=ACCOUNT "
                               "(repeated), or with --targets FILE, one of the two")
    if targets_file is not None:
        text = _json_text(targets_file, "--targets")
    else:
        split = [pair.partition("=") for pair in pairs]
        if any(not sep or not installation or not account
               for installation, sep, account in split):
            raise click.BadParameter("each target is INSTALLATION=ACCOUNT, e.g. HN-1=HN-C",
                                     param_hint="--target")
        text = json.dumps([[installation, account] for installation, _, account in split])
    try:
        parse_targets("targets", text)
    except Rejected as bad:
        raise click.BadParameter(bad.detail, param_hint="--targets") from bad
    return json.dumps(json.loads(text), separators=(",", ":"))


def _targets_options(function: Any) -> Any:
    for option in reversed((
        click.option("--batch", required=True, help="The new batch its units are issued in."),
        click.option("--target", "pairs", multiple=True, metavar="INSTALLATION=ACCOUNT",
                     help="An installation and its emitter's compliance account (repeat)."),
        click.option("--targets", "targets_file", default=None, metavar="FILE|JSON",
                     help="A JSON list of [installation, account] pairs, at most 1,000."),
    )):
        function = option(function)
    return function


# --- the plan --------------------------------------------------------------------------------


@click.group()
def allocation() -> None:
    """Quota allocation: the year's plan, verified output, free allocation, the reserve."""


@allocation.group("plan")
def plan() -> None:
    """A scheme's allocation plan for a year (the registry signs)."""


@plan.command("set")
@click.argument("scheme")
@click.argument("year", type=YEAR)
@click.option("--cap", required=True, type=TONNES, metavar="TONNES")
@click.option("--reserve", required=True, type=TONNES, metavar="TONNES",
              help="Units set aside in the market-stability reserve.")
@click.option("--auction", "to_auction", required=True, type=TONNES, metavar="TONNES",
              help="Units to be sold at auction over the year.")
@click.option("--sectors", required=True, metavar="FILE|JSON",
              help="Each sector's free_cap, benchmark, output_unit and factors.")
@signing
@click.pass_obj
def plan_set(data_dir: Path, scheme: str, year: int, cap: int, reserve: int, to_auction: int,
             sectors: str, **signing_: Any) -> None:
    """Set SCHEME's plan for YEAR: refused unless the sectors' free allocation, the reserve
    and the volume to auction fit under the cap."""
    act(data_dir, "allocation_plan_set", {
        "scheme": scheme, "year": year, "cap": cap, "reserve": reserve,
        "auction": to_auction, "sectors": sectors_field(sectors)}, **signing_)


@plan.command("amend")
@click.argument("scheme")
@click.argument("year", type=YEAR)
@click.option("--cap", required=True, type=TONNES, metavar="TONNES")
@click.option("--sectors", required=True, metavar="FILE|JSON")
@click.option("--reason", required=True, help="Why the plan changes, as it will be published.")
@signing
@click.pass_obj
def plan_amend(data_dir: Path, scheme: str, year: int, cap: int, sectors: str, reason: str,
               **signing_: Any) -> None:
    """Change a plan's cap and sectors: never below what is already issued or set aside."""
    act(data_dir, "allocation_plan_amend", {
        "scheme": scheme, "year": year, "cap": cap, "sectors": sectors_field(sectors),
        "reason": reason}, **signing_)


# --- verified output and free allocation -----------------------------------------------------


@allocation.group("output")
def output() -> None:
    """Installations' verified activity output (a qualified verifier signs)."""


@output.command("verify")
@click.argument("installation_id", metavar="INSTALLATION")
@click.option("--year", required=True, type=YEAR)
@click.option("--output", "figure", required=True, metavar="DECIMAL",
              help="The output, an exact decimal (1000000, 1234.5).")
@click.option("--unit", required=True, help="Its unit: the one its sector counts in (MWh, t).")
@click.option("--verifier", required=True, help="The verification body (the signer's).")
@signing
@click.pass_obj
def output_verify(data_dir: Path, installation_id: str, year: int, figure: str, unit: str,
                  verifier: str, **signing_: Any) -> None:
    """Sign an installation's verified output for YEAR: what its allocation is figured on."""
    act(data_dir, "output_verify", {"verifier": verifier, "installation": installation_id,
                                    "year": year, "output": figure, "unit": unit}, **signing_)


@allocation.command("preallocate")
@click.argument("scheme")
@click.argument("year", type=YEAR)
@_targets_options
@signing
@click.pass_obj
def preallocate(data_dir: Path, scheme: str, year: int, batch: str, pairs: tuple[str, ...],
                targets_file: str | None, **signing_: Any) -> None:
    """Issue YEAR's pre-allocation to the installations named: the plan's share of what the
    previous year's verified output earns, less any debt, one lot each, in one batch."""
    act(data_dir, "allocation_preallocate", {
        "scheme": scheme, "year": year, "batch": batch,
        "targets": targets_field(pairs, targets_file)}, **signing_)


@allocation.command("true-up")
@click.argument("scheme")
@click.argument("year", type=YEAR)
@_targets_options
@signing
@click.pass_obj
def true_up(data_dir: Path, scheme: str, year: int, batch: str, pairs: tuple[str, ...],
            targets_file: str | None, **signing_: Any) -> None:
    """Settle YEAR's allocation on its verified output: issue what is still due, take back
    what was issued too much (what cannot be taken back becomes a debt)."""
    act(data_dir, "allocation_true_up", {
        "scheme": scheme, "year": year, "batch": batch,
        "targets": targets_field(pairs, targets_file)}, **signing_)


@allocation.command("new-entrant")
@click.argument("installation_id", metavar="INSTALLATION")
@click.option("--scheme", required=True)
@click.option("--year", required=True, type=YEAR)
@click.option("--account", "account_id", required=True,
              help="A compliance account of the installation's emitter.")
@click.option("--batch", required=True)
@click.option("--quantity", required=True, type=POSITIVE_TONNES, metavar="TONNES")
@click.option("--reason", required=True)
@signing
@click.pass_obj
def new_entrant(data_dir: Path, installation_id: str, scheme: str, year: int, account_id: str,
                batch: str, quantity: int, reason: str, **signing_: Any) -> None:
    """Allocate a new installation a stated quantity from the reserve."""
    act(data_dir, "new_entrant_allocate", {
        "scheme": scheme, "year": year, "installation": installation_id,
        "account": account_id, "batch": batch, "quantity": quantity, "reason": reason},
        **signing_)


@allocation.command("close")
@click.argument("installation_id", metavar="INSTALLATION")
@click.option("--last-year", required=True, type=YEAR,
              help="The last year it is allocated for.")
@click.option("--reason", required=True)
@signing
@click.pass_obj
def close(data_dir: Path, installation_id: str, last_year: int, reason: str,
          **signing_: Any) -> None:
    """Record an installation's closure: a later year's allocation is refused, and one
    already issued is taken back."""
    act(data_dir, "installation_close", {"installation": installation_id,
                                         "lastYear": last_year, "reason": reason}, **signing_)


# --- the market-stability reserve -------------------------------------------------------------


@allocation.group("figures")
def figures() -> None:
    """Signed market figures a reserve movement cites."""


@figures.command("publish")
@click.argument("figures_id", metavar="FIGURES")
@click.option("--scheme", required=True)
@click.option("--period", required=True, metavar="YYYY-MM")
@click.option("--average-price", required=True, metavar="CNY",
              help="The period's average price per tonne, in yuan (105.00).")
@click.option("--surplus", required=True, type=TONNES, metavar="TONNES",
              help="Units in circulation.")
@click.option("--source", required=True, help="Where the figures come from.")
@signing
@click.pass_obj
def figures_publish(data_dir: Path, figures_id: str, scheme: str, period: str,
                    average_price: str, surplus: int, source: str, **signing_: Any) -> None:
    """Publish a period's market figures (the registry)."""
    act(data_dir, "market_figures_publish", {
        "figures": figures_id, "scheme": scheme, "period": period,
        "averagePrice": price_in_fen(average_price, "--average-price", zero=True),
        "surplus": surplus, "source": source}, **signing_)


@allocation.group("reserve")
def reserve() -> None:
    """Movements of the market-stability reserve, each citing market figures."""


def _reserve_options(function: Any) -> Any:
    for option in reversed((
        click.argument("scheme"),
        click.argument("year", type=YEAR),
        click.option("--quantity", required=True, type=POSITIVE_TONNES, metavar="TONNES"),
        click.option("--figures", "figures_id", required=True, metavar="FIGURES",
                     help="The published market figures that meet the trigger."),
        click.option("--reason", required=True),
    )):
        function = option(function)
    return function


@reserve.command("release")
@_reserve_options
@signing
@click.pass_obj
def reserve_release(data_dir: Path, scheme: str, year: int, quantity: int, figures_id: str,
                    reason: str, **signing_: Any) -> None:
    """Move units from the reserve to the volume to auction."""
    act(data_dir, "reserve_release", {"scheme": scheme, "year": year, "quantity": quantity,
                                      "figures": figures_id, "reason": reason}, **signing_)


@reserve.command("absorb")
@_reserve_options
@signing
@click.pass_obj
def reserve_absorb(data_dir: Path, scheme: str, year: int, quantity: int, figures_id: str,
                   reason: str, **signing_: Any) -> None:
    """Move units from the volume to auction (not on offer) into the reserve."""
    act(data_dir, "reserve_absorb", {"scheme": scheme, "year": year, "quantity": quantity,
                                     "figures": figures_id, "reason": reason}, **signing_)


# --- auctions ----------------------------------------------------------------------------------


@click.group()
def auction() -> None:
    """Auctions of a plan's volume: announced and cleared by the registry, sealed bids."""


@auction.command("announce")
@click.argument("auction_id", metavar="AUCTION")
@click.option("--scheme", required=True)
@click.option("--year", required=True, type=YEAR)
@click.option("--quantity", required=True, type=POSITIVE_TONNES, metavar="TONNES")
@click.option("--reserve-price", required=True, metavar="CNY",
              help="The lowest price per tonne accepted, in yuan.")
@click.option("--opens", required=True, metavar="YYYY-MM-DDTHH:MM:SSZ")
@click.option("--closes", required=True, metavar="YYYY-MM-DDTHH:MM:SSZ")
@click.option("--bidder-limit", required=True, metavar="SHARE",
              help="The most one bidder may bid for: a share of the offer (25%, or 2500 "
                   "basis points).")
@click.option("--batch", required=True, help="The batch its results are issued in.")
@signing
@click.pass_obj
def auction_announce(data_dir: Path, auction_id: str, scheme: str, year: int, quantity: int,
                     reserve_price: str, opens: str, closes: str, bidder_limit: str,
                     batch: str, **signing_: Any) -> None:
    """Offer part of a plan's volume to auction, with its bidding window."""
    act(data_dir, "auction_announce", {
        "auction": auction_id, "scheme": scheme, "year": year, "quantity": quantity,
        "reservePrice": price_in_fen(reserve_price, "--reserve-price", zero=True),
        "opens": opens, "closes": closes,
        "bidderLimitBp": basis_points(bidder_limit, "--bidder-limit"), "batch": batch},
        **signing_)


@auction.command("bid")
@click.argument("auction_id", metavar="AUCTION")
@click.argument("bid_id", metavar="BID")
@click.option("--bidder", required=True, help="Who bids (the signer's participant).")
@click.option("--account", "account_id", required=True, help="The bidder's account the "
                                                             "units go to if it wins.")
@click.option("--quantity", required=True, type=POSITIVE_TONNES, metavar="TONNES")
@click.option("--price", required=True, metavar="CNY", help="Per tonne, in yuan.")
@signing
@click.pass_obj
def auction_bid(data_dir: Path, auction_id: str, bid_id: str, bidder: str, account_id: str,
                quantity: int, price: str, **signing_: Any) -> None:
    """Bid in an open auction: sealed from the other bidders until it is cleared."""
    act(data_dir, "auction_bid", {
        "auction": auction_id, "bid": bid_id, "bidder": bidder, "account": account_id,
        "quantity": quantity, "price": price_in_fen(price, "--price")}, **signing_)


@auction.command("clear")
@click.argument("auction_id", metavar="AUCTION")
@signing
@click.pass_obj
def auction_clear(data_dir: Path, auction_id: str, **signing_: Any) -> None:
    """Clear an auction after its window: one uniform price, winners' units issued."""
    act(data_dir, "auction_clear", {"auction": auction_id}, **signing_)


ALLOCATION_COMMANDS: tuple[click.Command, ...] = (allocation, auction)
"""The commands api/cli.py adds to `carbonledger`."""
