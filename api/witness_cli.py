"""`carbonledger witness ...`: run a witness; `carbonledger cosignature add`: the operator keeps
what witnesses hand back. Adapters of anchoring/witness/ and of the application service, wired
by the composition root (api/bootstrap.py); docs/DESIGN.md, "Witnesses".

    carbonledger witness init --name witness.example/w1 --operator-key 0x7ba7...
    carbonledger witness key                      # its vkey and its attester address
    carbonledger witness run --source ../operator-copy     # or a store URL
    carbonledger cosignature add w1/cosigned/3.note --witness witness.example/w1+...
    carbonledger cosignature add w1/cosigned/3.attestation.json

A witness lives in its own directory (--witness-dir, default ./.carbonledger-witness or
CARBONLEDGER_WITNESS_DIR), never in a ledger's: it holds its keys, its replica of the
operator's journal and its progress. `witness run` exits 0 when it cosigned everything new (or
found nothing new), 1 with one line naming the checkpoint or entry when it refuses, and it
then refuses every later run the same way until a person looks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

import click

from anchoring.auditor.errors import VerifyError
from api.bootstrap import build, build_witness, password_from_env, witness_source
from api.config import load_config
from api.exit_codes import environment, refused
from api.inputs import MAX_DOCUMENT_CHARS, DocumentError, parse_document

DEFAULT_WITNESS_DIR = ".carbonledger-witness"


def _password(confirm: bool = False) -> str:
    return password_from_env() or click.prompt("Keystore password", hide_input=True,
                                                confirmation_prompt=confirm)


@click.group()
@click.option("--witness-dir", default=None, type=click.Path(path_type=Path),
              help=f"The witness's directory (default ./{DEFAULT_WITNESS_DIR}, or "
                   "CARBONLEDGER_WITNESS_DIR).")
@click.pass_context
def witness(ctx: click.Context, witness_dir: Path | None) -> None:
    """Witness an operator's ledger: replay its journal independently and cosign the
    checkpoints that follow from it."""
    ctx.obj = witness_dir or Path(os.environ.get("CARBONLEDGER_WITNESS_DIR",
                                                 DEFAULT_WITNESS_DIR))


@witness.command("init")
@click.option("--name", required=True,
              help="The witness's key name, a schema-less URL such as witness.example/w1 (no "
                   "spaces or '+').")
@click.option("--operator-key", required=True, metavar="ADDRESS",
              help="The operator key whose checkpoints this witness follows.")
@click.pass_obj
def witness_init(directory: Path, name: str, operator_key: str) -> None:
    """Make a witness: its Ed25519 cosigning key and its secp256k1 attesting key."""
    from anchoring.witness.errors import WitnessNotReady
    from anchoring.witness.identity import create_witness

    try:
        config = create_witness(directory, name, operator_key, _password(confirm=True))
    except WitnessNotReady as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"witness created in {directory}, following operator {config.operator}")
    click.echo(f"vkey {config.vkey}")
    click.echo(f"attester {config.attester}")


@witness.command("key")
@click.pass_obj
def witness_key(directory: Path) -> None:
    """Print the witness's vkey (for `verify --witness`) and its attester address (for an
    AnchorRegistry's witness set): together, its identity."""
    from anchoring.witness.errors import WitnessNotReady
    from anchoring.witness.identity import load_witness

    try:
        config = load_witness(directory)
    except WitnessNotReady as exc:
        raise environment(str(exc)) from exc
    click.echo(f"vkey {config.vkey}")
    click.echo(f"attester {config.attester}")


@witness.command("run")
@click.option("--source", required=True, metavar="DIR|URL",
              help="The operator's journal: a copy of its data directory, or a store URL "
                   "(read only).")
@click.option("--attest-chain-id", type=click.IntRange(1, 2**64 - 1), default=None,
              help="With --attest-registry: also attest each cosigned checkpoint for that "
                   "AnchorRegistry on this chain.")
@click.option("--attest-registry", default=None, metavar="ADDRESS",
              help="The AnchorRegistry that counts this witness's attestations.")
@click.pass_obj
def witness_run(directory: Path, source: str, attest_chain_id: int | None,
                attest_registry: str | None) -> None:
    """Replay every new entry and cosign each new checkpoint that follows from them; refuse,
    naming it, a checkpoint that does not."""
    from anchoring.auditor.note import NoteError, parse_address
    from anchoring.witness.errors import WitnessNotReady, WitnessRefused
    from anchoring.witness.witness import AttestFor

    attest_for = None
    if (attest_chain_id is None) != (attest_registry is None):
        raise click.UsageError("--attest-chain-id and --attest-registry go together")
    if attest_chain_id is not None and attest_registry is not None:
        try:
            parse_address(attest_registry, "--attest-registry")
        except NoteError as exc:
            raise click.BadParameter(str(exc), param_hint="--attest-registry") from exc
        attest_for = AttestFor(attest_chain_id, attest_registry)
    journal = witness_source(source)
    try:
        runner = build_witness(directory, _password, attest_for=attest_for)
        report = runner.run(journal)
    except WitnessRefused as refusal:
        raise refused(f"REFUSED: {refusal}") from refusal
    except WitnessNotReady as exc:
        raise environment(str(exc)) from exc
    finally:
        journal.store.dispose()
    for cosigned in report.cosigned:
        extra = f" and {cosigned.attestation_file}" if cosigned.attestation_file else ""
        click.echo(f"cosigned checkpoint {cosigned.number}: {cosigned.note_file}{extra}")
    click.echo(f"replayed {report.entries} entries; cosigned up to checkpoint "
               f"{report.up_to_date_at} of {journal.description}")


@click.group()
def cosignature() -> None:
    """The witnesses' cosignatures and attestations of this ledger's checkpoints."""


@cosignature.command("add")
@click.argument("files", nargs=-1, required=True, type=click.File("r"))
@click.option("--witness", "vkeys", multiple=True, metavar="VKEY",
              help="A witness whose cosignatures to keep (repeatable): needed for notes, not "
                   "for attestations.")
@click.pass_obj
def cosignature_add(data_dir: Path, files: tuple[TextIO, ...], vkeys: tuple[str, ...]) -> None:
    """Keep cosigned notes (<K>.note) and attestations (<K>.attestation.json) that witnesses
    handed back, each verified first: against this ledger's stored checkpoint and the
    operator key, and against the witness's key. Nothing is kept from a file that fails."""
    from anchoring.auditor.cosignature import parse_vkey

    try:
        witnesses = [parse_vkey(vkey) for vkey in vkeys]
    except VerifyError as exc:
        raise click.BadParameter(str(exc), param_hint="--witness") from exc
    with build(load_config(data_dir), data_dir) as app:
        for handle in files:
            text = handle.read(MAX_DOCUMENT_CHARS + 1)
            name = getattr(handle, "name", "-")
            try:
                if text.lstrip().startswith("{"):
                    document = parse_document(text)
                    number, attester, new = app.service.add_attestation(document)
                    click.echo(f"{name}: attestation of checkpoint {number} by {attester} "
                               + ("kept" if new else "already kept"))
                    continue
                if not witnesses:
                    raise click.UsageError("name the witness whose cosignatures to keep "
                                           "with --witness VKEY")
                added = app.service.add_cosignatures(text, witnesses)
            except DocumentError as exc:
                raise click.BadParameter(f"{name}: {exc}", param_hint="FILES") from exc
            except VerifyError as exc:
                raise refused(f"{name}: refused: {exc}") from exc
            for row in added:
                click.echo(f"{name}: cosignature of checkpoint {row.number} by {row.witness} "
                           "kept")
            if not added:
                click.echo(f"{name}: already kept")


__all__ = ["cosignature", "witness"]
