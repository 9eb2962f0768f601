"""The allocation tables of `carbonledger show` (api/roles_cli.py), read from the local data
directory's ledger or, with `--server URL`, from a carbonledger server (docs/allocation.md,
"Interfaces": who may read what).

    carbonledger show plan CN-ETS 2026            # cap, counters, sectors, amendments, reserve
    carbonledger show market-figures --scheme CN-ETS
    carbonledger show allocations --installation HN-1 --as huaneng   # each figure's inputs
    carbonledger show allocations --year 2026 --as registry          # every installation's
    carbonledger show auctions --scheme CN-ETS
    carbonledger show auction AU-2026-1 --as huaneng    # sealed: a bidder sees its own bids

`--json` prints `{"items": [...]}` (a plan or an auction: the record itself, with its
amendments and reserve movements, or its bids).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from api.client.records import to_json
from api.exit_codes import refused
from api.roles_cli import VIEWER, Column, open_client, show, show_records, table

YEAR = click.IntRange(1990, 2200)


def _reading(function: Callable[..., Any]) -> Callable[..., Any]:
    """--json, and --as to read a server as a participant (as `show` does)."""
    function = click.option(
        "--as", "viewer", metavar="KEYSTORE", default=None, expose_value=False,
        callback=lambda ctx, _param, value: ctx.meta.__setitem__(VIEWER, value),
        help="With --server: read as the participant whose key this keystore holds. Plans, "
             "figures and auctions are public; an emitter reads its own installations' "
             "allocations, a bidder its own sealed bids; the registry and auditors read "
             "everything.")(function)
    return click.option("--json", "as_json", is_flag=True,
                        help='Print {"items": [...]} for machines.')(function)


def yuan(fen: int) -> str:
    """A price in fen per tonne as CNY."""
    return f"CNY {fen // 100:,}.{fen % 100:02d}"


# --- plans, the reserve, market figures ------------------------------------------------------


@show.command("plan")
@click.argument("scheme")
@click.argument("year", type=YEAR)
@_reading
@click.pass_obj
def show_plan(data_dir: Path, scheme: str, year: int, as_json: bool) -> None:
    """SCHEME's allocation plan for YEAR: the cap and what is committed under it, each
    sector's free allocation, benchmark and what it received, its amendments and the
    reserve's movements."""
    with open_client(data_dir) as client:
        found = client.allocation_plan(scheme, year)
        if found is None:
            raise refused(f"no {scheme} plan for {year}: `carbonledger show plans` lists them")
        amendments = client.plan_amendments(scheme, year)
        movements = client.reserve_movements(scheme, year)
    if as_json:
        click.echo(json.dumps({**to_json(found), "amendment_list": to_json(amendments),
                               "reserve_movements": to_json(movements)}, indent=2,
                              ensure_ascii=False))
        return
    click.echo(f"{scheme} {year}: cap {found.cap:,} t; issued {found.issued:,} t, taken back "
               f"{found.taken_back:,} t, reserve {found.reserve:,} t, to auction "
               f"{found.to_auction:,} t ({found.on_offer:,} t on offer)")
    click.echo(f"committed {found.outstanding:,} t of the cap (issued - taken back + reserve "
               f"+ to auction), headroom {found.headroom:,} t; set at entry {found.set_seq}, "
               f"{found.amendments} amendment(s)")
    click.echo("\nsectors:")
    click.echo(table(SECTOR_COLUMNS, found.sectors))
    if amendments:
        click.echo("\namendments:")
        click.echo(table([("entry", lambda a: a.seq), ("cap before t", lambda a: a.cap_before),
                          ("cap after t", lambda a: a.cap_after),
                          ("reason", lambda a: a.reason)], amendments))
    click.echo("\nreserve movements:")
    click.echo(table(MOVEMENT_COLUMNS, movements))


SECTOR_COLUMNS: tuple[Column, ...] = (
    ("sector", lambda s: s.sector), ("free cap t", lambda s: s.free_cap),
    ("allocated t", lambda s: s.allocated), ("remaining t", lambda s: s.remaining),
    ("benchmark", lambda s: f"{s.benchmark} tCO2/{s.output_unit}"),
    ("factors", lambda s: ", ".join(f"{k} {v}" for k, v in sorted(s.factors.items()))))

MOVEMENT_COLUMNS: tuple[Column, ...] = (
    ("entry", lambda m: m.seq), ("kind", lambda m: m.kind), ("quantity t", lambda m: m.quantity),
    ("figures", lambda m: m.figures), ("installation", lambda m: m.installation),
    ("reason", lambda m: m.reason))


@show.command("plans")
@click.option("--scheme", default=None)
@_reading
@click.pass_obj
def show_plans(data_dir: Path, scheme: str | None, as_json: bool) -> None:
    """Every allocation plan, by scheme and year, with its cap and counters."""
    with open_client(data_dir) as client:
        found = client.allocation_plans(scheme)
    show_records(found, [("scheme", lambda p: p.scheme), ("year", lambda p: str(p.year)),
                         ("cap t", lambda p: p.cap), ("issued t", lambda p: p.issued),
                         ("taken back t", lambda p: p.taken_back),
                         ("reserve t", lambda p: p.reserve),
                         ("to auction t", lambda p: p.to_auction),
                         ("headroom t", lambda p: p.headroom)], as_json)


@show.command("market-figures")
@click.option("--scheme", default=None)
@_reading
@click.pass_obj
def show_market_figures(data_dir: Path, scheme: str | None, as_json: bool) -> None:
    """Published market figures, which reserve movements cite."""
    with open_client(data_dir) as client:
        found = client.market_figures(scheme)
    show_records(found, [("figures", lambda f: f.id), ("scheme", lambda f: f.scheme),
                         ("period", lambda f: f.period),
                         ("average price", lambda f: yuan(f.average_price)),
                         ("surplus t", lambda f: f.surplus), ("source", lambda f: f.source),
                         ("entry", lambda f: f.published_seq)], as_json)


# --- installations' allocations ----------------------------------------------------------------


@show.command("allocations")
@click.option("--installation", "installation_id", default=None,
              help="One installation's allocations, year by year.")
@click.option("--scheme", default="CN-ETS", show_default=True)
@click.option("--year", type=YEAR, default=None, help="Every installation's of this year.")
@_reading
@click.pass_obj
def show_allocations(data_dir: Path, installation_id: str | None, scheme: str,
                     year: int | None, as_json: bool) -> None:
    """What installations received (--installation, or --year), each figure with what it
    is computed from: the verified output, the benchmark and factors, the share."""
    if (installation_id is None) == (year is None):
        raise click.UsageError("name --installation INSTALLATION, or --year YEAR (with "
                               "--scheme), one of the two")
    with open_client(data_dir) as client:
        found = client.installation_allocations(installation_id) if installation_id \
            else client.year_allocations(scheme, year)  # type: ignore[arg-type]
    show_records(found, ALLOCATION_COLUMNS, as_json)


def _figure(inputs: Any) -> str:
    """A figure as its inputs give it: 1000000 MWh x 0.8218 x 1.012 x 70% = 582,163 t."""
    if inputs is None:
        return ""
    if inputs.output is None or inputs.tonnes is None:
        return f"no verified {inputs.output_year} output"
    factors = "".join(f" x {value}" for _, value in sorted(inputs.factors.items()))
    share = f" x {inputs.share_bp / 100:g}%" if inputs.share_bp != 10_000 else ""
    return (f"{inputs.output} {inputs.unit} x {inputs.benchmark}{factors}{share} = "
            f"{inputs.tonnes:,} t" + ("" if inputs.matches else " (recorded otherwise)"))


ALLOCATION_COLUMNS: tuple[Column, ...] = (
    ("installation", lambda a: a.installation), ("year", lambda a: str(a.year)),
    ("account", lambda a: a.account), ("source", lambda a: a.source),
    ("pre-allocation", lambda a: _figure(a.preallocation)),
    ("true-up", lambda a: _figure(a.true_up)), ("issued t", lambda a: a.issued),
    ("taken back t", lambda a: a.taken_back), ("debt t", lambda a: a.debt_after),
    ("entry", lambda a: a.allocated_seq))


# --- auctions ----------------------------------------------------------------------------------


@show.command("auctions")
@click.option("--scheme", default=None)
@click.option("--year", type=YEAR, default=None)
@_reading
@click.pass_obj
def show_auctions(data_dir: Path, scheme: str | None, year: int | None, as_json: bool) -> None:
    """Auctions: terms, where each stands, results once cleared."""
    with open_client(data_dir) as client:
        found = client.auctions(scheme, year)
    show_records(found, AUCTION_COLUMNS, as_json)


AUCTION_COLUMNS: tuple[Column, ...] = (
    ("auction", lambda a: a.id), ("scheme", lambda a: a.scheme), ("year", lambda a: str(a.year)),
    ("offer t", lambda a: a.quantity), ("reserve price", lambda a: yuan(a.reserve_price)),
    ("window", lambda a: f"{a.opens}..{a.closes}"), ("phase", lambda a: a.phase),
    ("bids", lambda a: a.bid_count),
    ("clearing price", lambda a: yuan(a.clearing_price) if a.cleared else ""),
    ("sold t", lambda a: a.sold if a.cleared else None))


@show.command("auction")
@click.argument("auction_id", metavar="AUCTION")
@_reading
@click.pass_obj
def show_auction(data_dir: Path, auction_id: str, as_json: bool) -> None:
    """One auction and its bids: every bid with its fill once cleared; before, sealed (over
    a server a bidder sees its own bids, the registry and auditors all)."""
    with open_client(data_dir) as client:
        found = client.auction(auction_id)
        if found is None:
            raise refused(f"no auction {auction_id}: `carbonledger show auctions` lists them")
        bids = client.auction_bids(auction_id)
    if as_json:
        click.echo(json.dumps({**to_json(found), "bids": to_json(bids)}, indent=2,
                              ensure_ascii=False))
        return
    click.echo(f"auction {found.id}: {found.quantity:,} t of {found.scheme} {found.year}, "
               f"reserve price {yuan(found.reserve_price)}, at most {found.bidder_limit:,} t "
               f"per bidder; bids {found.opens}..{found.closes}; {found.phase}")
    if found.cleared:
        click.echo(f"cleared at entry {found.cleared_seq}: {found.sold:,} t sold at "
                   f"{yuan(found.clearing_price)}, issued in batch {found.batch}")
        click.echo(f"\nthe book ({found.bid_count} bids, committed as {found.bids_digest}):")
    else:
        shown = "all of them" if len(bids) == found.bid_count else \
            f"{len(bids)} of them that this reader may see"
        click.echo(f"\n{found.bid_count} sealed bid(s), {shown}:")
    click.echo(table([("bid", lambda b: b.bid), ("bidder", lambda b: b.bidder),
                      ("account", lambda b: b.account), ("quantity t", lambda b: b.quantity),
                      ("price", lambda b: yuan(b.price)), ("filled t", lambda b: b.filled),
                      ("entry", lambda b: b.seq)], bids))
