"""Retirement certificates: `carbonledger certificate RETIREMENT` writes one (a PDF with a QR
code and a verification code, projects/certificate.py) and its proof bundle; `carbonledger
verify-certificate CERT.pdf BUNDLE.json` checks a certificate against its bundle and the bundle
as `carbonledger verify` does.

    carbonledger certificate R-2025-001 --out r-2025-001.pdf          # and r-2025-001.json
    carbonledger verify-certificate r-2025-001.pdf r-2025-001.json --operator-key 0xAbC...

The bundle is fetched as `carbonledger proof` fetches one (the data directory's ledger, or
--server URL logged in with --as KEYSTORE) and written only once it verifies here against the
operator key the reader trusts: a server is not trusted.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import click

from api.exit_codes import ExitCode, refused
from api.roles_cli import SERVER, VIEWER, open_client

KIND = "retirement"
VERIFY_COMMAND = "verify"


@click.command("certificate")
@click.argument("retirement_id", metavar="RETIREMENT")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Write the certificate (PDF) here.")
@click.option("--bundle", "bundle_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write its proof bundle here (default: beside the PDF, "
                                 "named like it with .json).")
@click.option("--checkpoint", "number", type=click.IntRange(min=1), default=None,
              help="Prove against this checkpoint (default: the latest).")
@click.option("--server", default=None, metavar="URL",
              help="Fetch the bundle from this carbonledger server (default: carbonledger's "
                   "--server, or CARBONLEDGER_SERVER) instead of the data directory's ledger.")
@click.option("--operator-key", default=None, metavar="ADDRESS",
              help="The operator key you trust: the bundle must verify against it before "
                   "anything is written (default: the data directory's operator key).")
@click.option("--as", "reader", default=None, metavar="KEYSTORE",
              help="With a server: log in as this keystore's participant, for a retirement "
                   "only it may read.")
@click.pass_obj
def certificate(data_dir: Path, retirement_id: str, out: Path, bundle_path: Path | None,
                number: int | None, server: str | None, operator_key: str | None,
                reader: str | None) -> None:
    """Write the certificate of retirement RETIREMENT: a one-page PDF (beneficiary, quantity,
    serials, project, methodology, vintage, purpose, claim, time) with a QR code and a
    verification code, and the proof bundle it is checked with."""
    from anchoring.auditor.errors import VerificationFailed
    from projects.certificate import NotARetirement, certificate_pdf, retirement_facts

    meta = click.get_current_context().meta
    meta[SERVER] = server or meta.get(SERVER)
    if reader is not None:
        if not meta[SERVER]:
            raise click.UsageError("--as logs in to a server: give --server URL too")
        meta[VIEWER] = reader
    trusted = _trusted_operator(data_dir, operator_key)
    with open_client(data_dir) as client:
        bundle = dict(client.proof(KIND, retirement_id, checkpoint=number))
        try:
            statement = client.verify(bundle, trusted).statement
        except VerificationFailed as exc:
            raise refused(f"the retirement bundle does not verify against the operator key "
                          f"{trusted}: ({exc.code.name}) {exc.reason}. Nothing was written: "
                          "ask the operator, or check that you trust the right key") from exc
    try:
        facts = retirement_facts(bundle)
        pdf = certificate_pdf(bundle, statement)
    except NotARetirement as exc:
        raise refused(str(exc)) from exc
    bundle_path = bundle_path or out.with_suffix(".json")
    out.write_bytes(pdf)
    bundle_path.write_text(json.dumps(bundle, indent=2) + "\n")
    click.echo(f"certificate of retirement {retirement_id} written to {out} (verification "
               f"code {facts.code}), its proof bundle to {bundle_path}; checked against "
               f"operator key {trusted}: {statement}.")


def _trusted_operator(data_dir: Path, option: str | None) -> str:
    """The operator key named with --operator-key, else the data directory's."""
    from api.bootstrap import load_operator

    if option:
        return option
    operator = load_operator(data_dir)
    if operator is None:
        raise click.UsageError("no trusted operator key: pass --operator-key ADDRESS, the key "
                               "whose checkpoints you trust (or run inside the ledger's data "
                               "directory to use its configured key)")
    return operator.address


class _TrustingAsVerify(click.Command):
    """A command whose trust options (--operator-key, --rpc, --anchor-registry, --witness,
    --witness-threshold) are `carbonledger verify`'s own, borrowed when it runs: it trusts
    exactly what `verify` would, and the two never drift apart."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        verify = _verify_command(ctx)
        names = {p.name for p in self.params}
        borrowed = [p for p in (verify.params if verify else ())
                    if isinstance(p, click.Option) and p.name not in names]
        help_option = self.get_help_option(ctx)
        return [*self.params, *borrowed, *([help_option] if help_option else [])]


def _verify_command(ctx: click.Context) -> click.Command | None:
    root = ctx.find_root().command
    return root.commands.get(VERIFY_COMMAND) if isinstance(root, click.Group) else None


@click.command("verify-certificate", cls=_TrustingAsVerify)
@click.argument("certificate_file", metavar="CERT.pdf", type=click.File("rb"))
@click.argument("bundle_file", metavar="BUNDLE.json", type=click.File("r"))
@click.pass_context
def verify_certificate(ctx: click.Context, certificate_file: BinaryIO, bundle_file: TextIO,
                       **trust: Any) -> None:
    """Check a retirement certificate: its bundle as `carbonledger verify` checks it (on chain
    with --rpc); its QR code (read from the page as it looks) names that bundle's retirement
    entry, leaf hash, checkpoint, operator and verification code; and its text states the
    bundle's beneficiary, quantity and serials. Exit 1 saying what differs, 2 when a file
    cannot be read, 3 when the node given with --rpc cannot be reached."""
    from anchoring.auditor.errors import VerificationFailed
    from anchoring.auditor.verify import read_bundle
    from projects.certificate import NotARetirement, retirement_facts
    from projects.certificate_reading import (
        UnreadableCertificate,
        differences,
        read_certificate,
    )

    verify = _verify_command(ctx)
    if verify is None:
        raise click.UsageError("verify-certificate runs as a carbonledger command")
    try:
        pdf = certificate_file.read()
        text = bundle_file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise _not_verified(f"a file cannot be read: {exc}", ExitCode.USAGE) from exc
    # The bundle first, exactly as `verify` checks it: it exits non-zero when it does not hold.
    ctx.invoke(verify, bundle=io.StringIO(text), **trust)
    try:
        facts = retirement_facts(read_bundle(text))  # verified just now
    except (NotARetirement, VerificationFailed) as exc:
        raise _not_verified(f"the bundle proves no retirement a certificate is made of: "
                            f"{exc}") from exc
    try:
        read = read_certificate(pdf)
    except UnreadableCertificate as exc:
        raise _not_verified(str(exc)) from exc
    problems = differences(read, facts)
    if problems:
        for problem in problems:
            click.echo(f"CERTIFICATE NOT VERIFIED: {problem}", err=True)
        raise SystemExit(ExitCode.REFUSED)
    click.echo(f"CERTIFICATE VERIFIED: its QR code names journal entry {facts.seq} (leaf hash "
               f"{facts.leaf.hex()}) in checkpoint {facts.checkpoint} of operator "
               f"{facts.operator}, verification code {facts.code}: the bundle's retirement "
               f"{facts.retirement}; its text states the bundle's beneficiary "
               f"({facts.beneficiary}), quantity ({facts.quantity_t} t) and serials.")


def _not_verified(reason: str, code: ExitCode = ExitCode.REFUSED) -> SystemExit:
    click.echo(f"CERTIFICATE NOT VERIFIED: {reason}", err=True)
    return SystemExit(code)


CERTIFICATE_COMMANDS: tuple[click.Command, ...] = (certificate, verify_certificate)
"""The commands api/cli.py adds to `carbonledger`."""
