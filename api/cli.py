"""The `carbonledger` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import click

from api.bootstrap import DEFAULT_CHAIN_ID, init_ledger, open_ledger, password_from_env
from api.config import ConfigError, LedgerConfig, load_config, resolve_data_dir
from ledger.errors import Rejected
from ledger.instructions import parse_signed
from ledger.invariants import check_invariants
from ledger.replay import replay_check
from ledger.store.database import Store


@click.group()
@click.option("--data-dir", default=None, help="Ledger data directory (default ./.carbonledger; "
              "or CARBONLEDGER_DATA_DIR).")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None) -> None:
    """carbonledger: a permissioned carbon allowance and credit registry."""
    ctx.obj = resolve_data_dir(data_dir)


def _password(confirm: bool = False) -> str:
    return password_from_env() or click.prompt("Keystore password", hide_input=True,
                                                confirmation_prompt=confirm)


def _config(data_dir: Path) -> LedgerConfig:
    try:
        return load_config(data_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--registry", default="registry", show_default=True, help="Registry participant id.")
@click.option("--registry-name", default="Carbon registry", show_default=True)
@click.option("--chain-id", default=DEFAULT_CHAIN_ID, show_default=True, type=int,
              help="EIP-712 chain id the ledger's signatures are bound to.")
@click.option("--rules-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Directory of scheme rule files (*.toml).")
@click.pass_obj
def init(data_dir: Path, registry: str, registry_name: str, chain_id: int,
         rules_dir: Path | None) -> None:
    """Create a ledger: data directory, registry key (encrypted keystore), schema, genesis."""
    if (data_dir / "config.json").exists():
        raise click.ClickException(f"{data_dir} already holds a ledger")
    try:
        config, receipt = init_ledger(data_dir, registry=registry, registry_name=registry_name,
                                      password=_password(confirm=True), chain_id=chain_id,
                                      rules_dir=rules_dir)
    except Rejected as refused:
        raise click.ClickException(str(refused)) from refused
    click.echo(f"ledger created in {data_dir}: genesis entry {receipt.seq} "
               f"{receipt.entry_hash}; store {config.store_url}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.pass_obj
def upgrade(data_dir: Path) -> None:
    """Apply the schema migrations not yet applied."""
    store = Store(_config(data_dir).store_url)
    store.upgrade()
    click.echo("schema is up to date")


@main.command()
@click.argument("instruction", type=click.File("r"))
@click.pass_obj
def submit(data_dir: Path, instruction: TextIO) -> None:
    """Submit a signed instruction (JSON file, or - for standard input); print the receipt."""
    ledger = open_ledger(_config(data_dir))
    try:
        receipt = ledger.submit(parse_signed(json.load(instruction)))
    except Rejected as refused:
        click.echo(json.dumps(refused.as_dict(), indent=2), err=True)
        sys.exit(1)
    except ValueError as exc:
        raise click.ClickException(f"not JSON: {exc}") from exc
    click.echo(json.dumps(receipt.as_dict(), indent=2))


@main.command()
@click.option("--check", is_flag=True, required=True,
              help="Rebuild from the journal in a scratch database and compare.")
@click.pass_obj
def replay(data_dir: Path, check: bool) -> None:
    """Rebuild every projection from the journal, re-verify every signature, compare."""
    store = Store(_config(data_dir).store_url)
    with click.progressbar(length=1, label="replaying") as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = replay_check(store, progress=progress)
    problems = check_invariants(store) if report.ok else []
    if report.ok and not problems:
        click.echo(f"replay --check passed: {report.entries} entries, "
                   f"{report.elapsed_s:.2f} s")
        return
    click.echo(f"replay --check FAILED: {report.first_difference or problems[0]}", err=True)
    sys.exit(1)


@main.command()
@click.pass_obj
def demo(data_dir: Path) -> None:
    """Run the demo story on a fresh ledger (in DATA_DIR/demo)."""
    from api.demo import run_demo

    run_demo(data_dir / "demo")
