"""The log published as C2SP tlog-tiles: `carbonledger tiles write` (the operator's), and the
auditor's check of proofs built from tiles alone (`carbonledger verify --tiles`).

Writing is anchoring/operator/tiles.py's, called through the service; reading and proving is
anchoring/auditor/tiles.py's, which needs no ledger: a directory or an http(s) URL prefix (a
mirror, a CDN, `carbonledger serve`'s /tiles/) and the operator key the auditor trusts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from api.bootstrap import build
from api.config import ConfigError, load_config
from api.exit_codes import ExitCode, environment

if TYPE_CHECKING:
    from anchoring.auditor.tiles import TileSource

TOKEN_VARIABLE = "CARBONLEDGER_TOKEN"  # a bearer token for entry bundles a service guards


@click.group()
def tiles() -> None:
    """The log as C2SP tlog-tiles: static files from which anyone builds proofs."""


@tiles.command("write")
@click.option("--dir", "directory", default=None, metavar="DIR",
              help="Where to write the tiles (default: DATA_DIR/tiles, which `carbonledger "
                   "serve` publishes).")
@click.option("--all", "from_scratch", is_flag=True, default=False,
              help="Write every file again, not only what is new since DIR's checkpoint.")
@click.pass_obj
def write(data_dir: Path, directory: str | None, from_scratch: bool) -> None:
    """Write the latest checkpoint's log as tiles: what is new since the checkpoint already
    in DIR, or everything if DIR holds none of this ledger's (or with --all)."""
    from anchoring.operator.tiles import DEFAULT_TILES_DIR

    target = Path(directory) if directory else data_dir / DEFAULT_TILES_DIR
    try:
        config = load_config(data_dir)
    except ConfigError as exc:
        raise environment(str(exc)) from exc
    with build(config, data_dir) as app:
        written = app.service.publish_tiles(target, from_scratch=from_scratch)
    since = f"since size {written.since_size}" if written.since_size else "from scratch"
    click.echo(f"checkpoint {written.checkpoint} (log size {written.size}) published as tiles "
               f"in {target}: {written.files} files written {since}, {written.removed} "
               "superseded partial tiles removed")


def tile_source(location: str) -> TileSource:
    """A tiles base: an http(s) URL prefix, or a local directory."""
    from anchoring.auditor.tiles import DirectoryTiles, HttpTiles

    if location.startswith(("http://", "https://")):
        token = os.environ.get(TOKEN_VARIABLE)
        return HttpTiles(location, {"authorization": f"Bearer {token}"} if token else None)
    if not Path(location).is_dir():
        raise click.BadParameter(f"{location} is neither an http(s) URL nor a directory",
                                 param_hint="--tiles")
    return DirectoryTiles(location)


def verify_from_tiles(location: str, trusted: str, entries: tuple[int, ...],
                      since: TextIO | None) -> None:
    """`verify --tiles`: the published checkpoint, and for each `--entry` its inclusion and
    with `--since` the consistency from an earlier checkpoint, all from tiles alone."""
    from anchoring.auditor.errors import VerifyError
    from anchoring.auditor.tiles import (
        TileError,
        published_checkpoint,
        verify_consistency_from_tiles,
        verify_entry_from_tiles,
    )

    source = tile_source(location)
    try:
        _, checkpoint = published_checkpoint(source, trusted)
        click.echo(f"checkpoint {checkpoint.number} (log size {checkpoint.size}) read from "
                   f"{location}, signed by {trusted}, the key trusted above")
        for index in entries:
            included = verify_entry_from_tiles(source, trusted, index)
            click.echo(f"VERIFIED: entry {index} is in the log of checkpoint "
                       f"{included.checkpoint.number} (inclusion proof of "
                       f"{len(included.proof)} hashes built from {included.fetches} tile "
                       "fetches).")
        if since is not None:
            earlier = since.read()
            consistent = verify_consistency_from_tiles(source, trusted, earlier)
            click.echo(f"VERIFIED: the log of checkpoint {consistent.checkpoint.number} extends "
                       f"that of checkpoint {consistent.earlier.number} (consistency proof of "
                       f"{len(consistent.proof)} hashes built from {consistent.fetches} tile "
                       "fetches).")
    except TileError as exc:
        click.echo(f"NOT VERIFIED: ({exc.failure.name}) {exc.reason}", err=True)
        raise SystemExit(ExitCode.REFUSED if exc.failure.final else ExitCode.ENVIRONMENT) \
            from exc
    except VerifyError as exc:
        click.echo(f"NOT VERIFIED: ({exc.code.name}) {exc}", err=True)
        raise SystemExit(ExitCode.REFUSED) from exc
    if not entries and since is None:
        click.echo("checked the checkpoint only: add --entry SEQ or --since CHECKPOINT_FILE "
                   "to build proofs from the tiles")


__all__ = ["TOKEN_VARIABLE", "tiles", "verify_from_tiles"]
