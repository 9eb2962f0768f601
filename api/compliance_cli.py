"""The compliance queries of `carbonledger`, for people, read like `show` (api/roles_cli.py):
from the local data directory's ledger, or with `--server URL` from a carbonledger server,
reading as the participant whose keystore `--as` names.

    carbonledger compliance status 2025              # each emitter: obligation, surrendered, state
    carbonledger compliance risk 2025                # who may fall short, and what is pledged where
    carbonledger compliance credit-record huaneng    # late or missing data, flags, sanctions
    carbonledger disclose 2025 --format csv --out disclosure-2025.csv

`--json` prints `{"items": [...]}` (a credit record: the record itself).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from api.client import Client
from api.client.records import to_json
from api.exit_codes import refused
from api.roles_cli import VIEWER, open_client, show_records, table
from compliance.disclosure import FORMATS
from compliance.queries import Disclosure, Pledgee

YEAR = click.IntRange(1990, 2200)


def _reading(function: Callable[..., Any]) -> Callable[..., Any]:
    """--json, and --as to read a server as a participant (as `show` does)."""
    function = click.option(
        "--as", "viewer", metavar="KEYSTORE", default=None, expose_value=False,
        callback=lambda ctx, _param, value: ctx.meta.__setitem__(VIEWER, value),
        help="With --server: read as the participant whose key this keystore holds. An "
             "emitter reads its own; a bank the risk of emitters it holds pledges from; the "
             "registry and auditors read everything.")(function)
    return click.option("--json", "as_json", is_flag=True,
                        help='Print {"items": [...]} for machines.')(function)



@click.group()
def compliance() -> None:
    """Emitters' compliance: status, risk warning, credit records."""


@compliance.command("status")
@click.argument("year", type=YEAR)
@_reading
@click.pass_obj
def status(data_dir: Path, year: int, as_json: bool) -> None:
    """Each emitter's obligation for YEAR, what it surrendered and its state: due,
    compliant, overdue, or unverified (installations, no verified obligation yet)."""
    with open_client(data_dir) as client:
        found = client.compliance_status(year)
    show_records(found, [("emitter", lambda s: s.emitter), ("scheme", lambda s: s.scheme),
                   ("state", lambda s: s.state), ("obligation t", lambda s: s.obligation),
                   ("allowances t", lambda s: s.allowances), ("credits t", lambda s: s.credits),
                   ("shortfall t", lambda s: s.shortfall), ("deadline", lambda s: s.deadline),
                   ("days left", lambda s: s.days_to_deadline), ("met late", lambda s: s.late)],
           as_json)


@compliance.command("risk")
@click.argument("year", type=YEAR)
@_reading
@click.pass_obj
def risk(data_dir: Path, year: int, as_json: bool) -> None:
    """Emitters whose freely available units (tradable, eligible for YEAR, offsets within
    the cap) fall short of what they still owe, largest shortfall first, with the days to
    the deadline and what is pledged to which banks."""
    with open_client(data_dir) as client:
        found = client.compliance_risk(year)
    show_records(found, [("emitter", lambda w: w.emitter), ("owed t", lambda w: w.owed),
                   ("available t", lambda w: w.available),
                   ("at risk t", lambda w: w.shortfall_risk),
                   ("deadline", lambda w: w.deadline),
                   ("days left", lambda w: w.days_to_deadline),
                   ("pledged t", lambda w: w.pledged),
                   ("banks", lambda w: _banks(w.pledgees))], as_json)


def _banks(pledgees: Sequence[Pledgee]) -> str:
    return ", ".join(f"{p.bank} {p.quantity:,} t" for p in pledgees)


@compliance.command("credit-record")
@click.argument("entity", metavar="PARTICIPANT")
@_reading
@click.pass_obj
def credit_record(data_dir: Path, entity: str, as_json: bool) -> None:
    """What the journal holds against a participant: late, missing or lapsed-calibration
    monthly data, flagged verifications, overdue or late compliance, a verifier's
    suspensions and revocations, each with the journal entry it derives from."""
    with open_client(data_dir) as client:
        found = client.credit_record(entity)
    if as_json:
        click.echo(json.dumps(to_json(found), indent=2, ensure_ascii=False))
        return
    streamlined = ", eligible for streamlined verification" if found.streamlined else ""
    click.echo(f"credit record of {found.entity} at journal entry {found.head} "
               f"({found.as_of}): {len(found.items)} item(s); {found.clean_years} clean "
               f"verified year(s) in a row{streamlined}")
    click.echo(table([("event", lambda i: i.event), ("year", lambda i: i.year and str(i.year)),
                      ("subject", lambda i: i.subject), ("detail", lambda i: i.detail),
                      ("entry", lambda i: i.seq)], found.items))


def _proof_of(client: Client, found: Disclosure) -> dict[str, Any]:
    """The disclosure bundle of `found`'s year at its checkpoint, once it is sure to prove
    exactly `found`'s verified rows: the disclosure was read at that checkpoint's head."""
    if found.checkpoint is None or found.checkpoint_log_size != found.head + 1:
        raise refused(f"the disclosure was read at journal entry {found.head}, after the latest "
                      "signed checkpoint: cut one (`carbonledger checkpoint`) and disclose "
                      "again, so that its proof covers every figure")
    bundle: dict[str, Any] = client.proof("disclosure", found.year, checkpoint=found.checkpoint)
    proven = [(r["emitter"], r["verified_t"], r["allowances"], r["credits"])
              for r in bundle["disclosure"]]
    disclosed = [(e.emitter, e.verified_t, e.allowances, e.credits) for e in found.emitters
                 if e.verified_t is not None]
    if proven != disclosed:
        raise refused("the ledger moved on while the disclosure was read: disclose again")
    return bundle


@click.command("disclose")
@click.argument("year", type=YEAR)
@click.option("--format", "file_format", type=click.Choice(sorted(FORMATS)), default="json",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write it to FILE (default: print it).")
@click.option("--scheme", default=None,
              help="The compliance scheme (default: the ledger's only one).")
@click.option("--proof", "proof_out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="FILE",
              help="Also write the proof bundle that its verified figures are those of its "
                   "signed checkpoint (`carbonledger verify FILE` checks it on chain).")
@click.pass_obj
def disclose(data_dir: Path, year: int, file_format: str, out: Path | None,
             scheme: str | None, proof_out: Path | None) -> None:
    """The public disclosure of YEAR: per emitter its verified emissions, surrendered
    allowances and credits, compliance state and pledged quantity; the market's transfers,
    surrenders and retirements; the journal head and signed checkpoint it was computed at."""
    with open_client(data_dir) as client:
        try:
            found = client.disclosure(year, scheme)
        except ValueError as exc:  # in process: not a compliance scheme
            raise refused(str(exc)) from exc
        bundle = _proof_of(client, found) if proof_out is not None else None
    if proof_out is not None:
        proof_out.write_text(json.dumps(bundle, indent=2) + "\n", encoding="utf-8")
        click.echo(f"its proof, at checkpoint {found.checkpoint}, written to {proof_out}",
                   err=out is None)
    text = FORMATS[file_format](found)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    checkpoint = "no signed checkpoint yet" if found.checkpoint is None \
        else f"checkpoint {found.checkpoint}"
    click.echo(f"disclosure of {found.scheme} {year} written to {out}: {len(found.emitters)} "
               f"emitter(s), at journal entry {found.head}, {checkpoint}")
