"""The compliance cycle's commands of `carbonledger`: each signed with the signer's own
keystore and sent through the Python client, like every role command (api/roles_cli.py).

    carbonledger installation register HN-1 --emitter huaneng --scheme CN-ETS \\
        --sector power --name "Huaneng Yueyang unit 1" --as registry
    carbonledger instrument register HN-1-FLOW --installation HN-1 \\
        --parameter "coal feed (t)" --as huaneng
    carbonledger instrument calibrate HN-1-FLOW --by "Hunan Metrology Institute" \\
        --on 2026-01-02 --valid-until 2027-01-01 --certificate cert.pdf --as huaneng
    carbonledger document publish-key --as huaneng
    carbonledger emissions submit 2026-01.csv --installation HN-1 --month 2026-01 \\
        --submission HN-1-2026-01 --as huaneng
    carbonledger emissions report HN-2026 --emitter huaneng --year 2026 --scheme CN-ETS \\
        --document report.pdf --as huaneng
    carbonledger verifier qualify cec --sector power --action grant --reason "..." --as registry
    carbonledger verifier sign huaneng --year 2026 --report HN-2026 --emissions 1234567 --as cec
    carbonledger surrender --account HN-C --year 2026 --batch HN01 --quantity 1000 --as huaneng

A monthly document (JSON or CSV, docs/compliance.md) is read here: its figures, their exact
total and its SHA-256 go into the signed instruction, and the document itself is sealed here,
for its owner and the registry, before it is stored beside the journal.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import click

from api.exit_codes import refused
from api.keys_cli import keystore_path, unlock
from api.roles_cli import _choice, act, open_client, say_accepted, signing, units, units_options
from compliance.fields import ConflictRelation, DocumentFormat, QualificationAction
from compliance.monthly_document import read_monthly_document
from ledger.errors import Rejected

MEDIA_TYPES = {DocumentFormat.json: "application/json", DocumentFormat.csv: "text/csv"}


def _file_hash(path: Path) -> str:
    return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()


def _readable(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}") from exc


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


# --- installations and instruments -----------------------------------------------------------


@click.group()
def installation() -> None:
    """A key emitter's installations (the registry onboards them)."""


@installation.command("register")
@click.argument("installation_id", metavar="INSTALLATION")
@click.option("--emitter", required=True, help="The key emitter it belongs to.")
@click.option("--scheme", required=True, help="The compliance scheme covering it (CN-ETS).")
@click.option("--sector", required=True, help="Its sector (power, cement, ...): verifiers "
                                               "are qualified per sector.")
@click.option("--name", required=True, help="Its name, as people know it.")
@signing
@click.pass_obj
def installation_register(data_dir: Path, installation_id: str, emitter: str, scheme: str,
                          sector: str, name: str, **signing_: Any) -> None:
    """Register an installation of a key emitter (registry)."""
    act(data_dir, "installation_register", {
        "installation": installation_id, "emitter": emitter, "scheme": scheme,
        "sector": sector, "name": name}, **signing_)


@click.group()
def instrument() -> None:
    """Measuring instruments behind an installation's key parameters (the emitter signs)."""


@instrument.command("register")
@click.argument("instrument_id", metavar="INSTRUMENT")
@click.option("--installation", "installation_id", required=True)
@click.option("--parameter", required=True, help="What it measures, e.g. 'coal feed (t)'.")
@signing
@click.pass_obj
def instrument_register(data_dir: Path, instrument_id: str, installation_id: str,
                        parameter: str, **signing_: Any) -> None:
    """Register a measuring instrument of an installation."""
    act(data_dir, "instrument_register", {"instrument": instrument_id,
                                          "installation": installation_id,
                                          "parameter": parameter}, **signing_)


@instrument.command("calibrate")
@click.argument("instrument_id", metavar="INSTRUMENT")
@click.option("--by", "calibrated_by", required=True, help="The calibration laboratory.")
@click.option("--on", "calibrated_on", required=True, metavar="YYYY-MM-DD")
@click.option("--valid-until", required=True, metavar="YYYY-MM-DD")
@click.option("--certificate", type=_FILE, required=True,
              help="The calibration certificate: its SHA-256 is journaled.")
@signing
@click.pass_obj
def instrument_calibrate(data_dir: Path, instrument_id: str, calibrated_by: str,
                         calibrated_on: str, valid_until: str, certificate: Path,
                         **signing_: Any) -> None:
    """Record a calibration of an instrument: by whom, when, valid until."""
    act(data_dir, "instrument_calibrate", {
        "instrument": instrument_id, "calibratedBy": calibrated_by,
        "calibratedOn": calibrated_on, "validUntil": valid_until,
        "certificateHash": _file_hash(certificate)}, **signing_)


# --- monthly data and the annual report -------------------------------------------------------


@click.group()
def emissions() -> None:
    """Monthly key parameters and the annual report (the emitter signs)."""


@emissions.command("submit")
@click.argument("document", type=_FILE)
@click.option("--submission", required=True, help="An id for this submission.")
@click.option("--installation", "installation_id", default=None,
              help="The installation (a CSV document does not name it).")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="The month (a CSV document does not name it).")
@click.option("--format", "document_format", type=_choice(DocumentFormat), default=None,
              help="json or csv (default: from the file's extension).")
@click.option("--supersedes", default="", help="The submission this one corrects.")
@click.option("--as", "signer", required=True, metavar="KEYSTORE",
              help="Who signs: the installation's emitter's keystore.")
@click.pass_obj
def emissions_submit(data_dir: Path, document: Path, submission: str,
                     installation_id: str | None, month: str | None,
                     document_format: str | None, supersedes: str, signer: str) -> None:
    """Submit one month's key parameters of an installation: the document is sealed and
    stored, its figures, their total and its hash are signed and journaled."""
    named = document_format or document.suffix.lstrip(".").lower()
    if named not in {f.value for f in DocumentFormat}:
        raise click.BadParameter(f"{document.name}: say --format json or csv",
                                 param_hint="--format")
    fmt = DocumentFormat(named)
    data = _readable(document)
    try:
        monthly = read_monthly_document(data, fmt, installation=installation_id, month=month)
    except Rejected as refused_:
        raise click.BadParameter(f"{document}: {refused_}", param_hint="DOCUMENT") from refused_
    fields = {name: value for name, value in monthly.instruction_fields().items()
              if name != "documentHash"}  # the stored document's, checked the same
    _sign_with_document(data_dir, signer, data, MEDIA_TYPES[fmt], "monthly_submit", {
        "submission": submission, **fields, "supersedes": supersedes})


@emissions.command("report")
@click.argument("report_id", metavar="REPORT")
@click.option("--emitter", required=True, help="Whose report it is (the signer's).")
@click.option("--year", required=True, type=click.IntRange(1990, 2200))
@click.option("--scheme", required=True, help="The compliance scheme it reports under.")
@click.option("--document", type=_FILE, required=True,
              help="The report itself (any format): sealed, stored, its SHA-256 journaled.")
@click.option("--submissions", default=None, metavar="ID,ID,...",
              help="The monthly submissions it covers (default: every one in force for the "
                   "emitter's year).")
@click.option("--as", "signer", required=True, metavar="KEYSTORE")
@click.pass_obj
def emissions_report(data_dir: Path, report_id: str, emitter: str, year: int, scheme: str,
                     document: Path, submissions: str | None, signer: str) -> None:
    """Submit the annual emissions report of a year, referencing its monthly submissions."""
    if submissions is None:
        with open_client(data_dir) as client:
            client.login(client.wallet(unlock(keystore_path(data_dir, signer))))
            ids = [s.id for s in client.monthly_submissions(emitter, year)
                   if not s.superseded_by]
        if not ids:
            raise click.UsageError(f"{emitter} has no monthly submission in force for {year}")
    else:
        ids = [i.strip() for i in submissions.split(",") if i.strip()]
    data = _readable(document)
    _sign_with_document(data_dir, signer, data, "application/octet-stream",
                        "annual_report_submit", {
                            "report": report_id, "emitter": emitter, "year": year,
                            "scheme": scheme, "submissions": json.dumps(sorted(ids))})


def _sign_with_document(data_dir: Path, signer: str, data: bytes, media_type: str, op: str,
                        fields: dict[str, Any]) -> None:
    """Seal and store the document, then sign and submit the instruction that journals its
    hash: stored first, so that a journaled hash always has its document."""
    wallet_key = unlock(keystore_path(data_dir, signer))
    with open_client(data_dir) as client:
        wallet = client.wallet(wallet_key)
        document_hash = client.upload_document(data, media_type, wallet)
        signed = client.sign(client.instruction(op, documentHash=document_hash, **fields),
                             wallet)
        say_accepted(op, client.submit(signed))


# --- verifiers -----------------------------------------------------------------------------


@click.group()
def verifier() -> None:
    """Verification bodies: qualification (registry), conflicts, signed verifications."""


@verifier.command("qualify")
@click.argument("verifier_id", metavar="VERIFIER")
@click.option("--sector", required=True)
@click.option("--action", required=True, type=_choice(QualificationAction))
@click.option("--reason", required=True, help="Why, in words the verifier will read.")
@signing
@click.pass_obj
def verifier_qualify(data_dir: Path, verifier_id: str, sector: str, action: str, reason: str,
                     **signing_: Any) -> None:
    """Grant, suspend or revoke a verifier's qualification in a sector (registry)."""
    act(data_dir, "verifier_qualify", {"verifier": verifier_id, "sector": sector,
                                       "action": action, "reason": reason}, **signing_)


@verifier.command("declare-conflict")
@click.argument("verifier_id", metavar="VERIFIER")
@click.option("--entity", required=True, help="The participant it may not verify.")
@click.option("--relation", required=True, type=_choice(ConflictRelation))
@signing
@click.pass_obj
def verifier_declare_conflict(data_dir: Path, verifier_id: str, entity: str, relation: str,
                              **signing_: Any) -> None:
    """Declare that a verifier belongs to, or has consulted for, an entity (the verifier or
    the registry signs)."""
    act(data_dir, "verifier_declare_conflict", {"verifier": verifier_id, "entity": entity,
                                                "relation": relation}, **signing_)


@verifier.command("sign")
@click.argument("emitter")
@click.option("--verifier", "verifier_id", required=True, help="The verifier (the signer's).")
@click.option("--year", required=True, type=click.IntRange(1990, 2200))
@click.option("--report", required=True, help="The annual report verified.")
@click.option("--emissions", "verified", required=True, type=click.IntRange(min=0),
              metavar="TONNES", help="The verified emissions, whole tonnes CO2.")
@signing
@click.pass_obj
def verifier_sign(data_dir: Path, emitter: str, verifier_id: str, year: int, report: str,
                  verified: int, **signing_: Any) -> None:
    """Sign an emitter's verified emissions for a year: its obligation."""
    act(data_dir, "verification_sign", {"verifier": verifier_id, "emitter": emitter,
                                        "year": year, "report": report,
                                        "verifiedEmissions": verified}, **signing_)


# --- compliance ---------------------------------------------------------------------------


@click.command("surrender")
@click.option("--account", "account_id", required=True, help="The compliance account.")
@click.option("--year", required=True, type=click.IntRange(1990, 2200),
              help="The compliance year whose obligation the units meet.")
@units_options
@signing
@click.pass_obj
def surrender(data_dir: Path, account_id: str, year: int, batch: str, quantity: int | None,
              serials: tuple[int, int] | None, **signing_: Any) -> None:
    """Surrender allowances, or offset credits within the scheme's cap, against a year's
    obligation (the account's holder signs)."""
    act(data_dir, "surrender", {"account": account_id, "year": year,
                                **units(batch, quantity, serials)}, **signing_)


@click.group("offset-project")
def offset_project() -> None:
    """Offset projects' types, which a scheme's offset rules name (registry)."""


@offset_project.command("register")
@click.argument("project")
@click.option("--type", "project_type", required=True)
@signing
@click.pass_obj
def offset_project_register(data_dir: Path, project: str, project_type: str,
                            **signing_: Any) -> None:
    """Declare an offset project's type."""
    act(data_dir, "offset_project_register", {"project": project,
                                              "projectType": project_type}, **signing_)


# --- confidential documents ---------------------------------------------------------------


@click.group()
def document() -> None:
    """Documents stored beside the journal: confidential ones sealed for their readers, and
    public ones (project design documents) as they are."""


@document.command("publish-key")
@click.option("--as", "signer", required=True, metavar="KEYSTORE")
@click.pass_obj
def document_publish_key(data_dir: Path, signer: str) -> None:
    """Publish the public key of your signing key, so documents can be sealed for you."""
    key = unlock(keystore_path(data_dir, signer))
    with open_client(data_dir) as client:
        say_accepted("document_key_publish", client.publish_document_key(client.wallet(key)))


@document.command("get")
@click.argument("sha256")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as", "signer", required=True, metavar="KEYSTORE")
@click.pass_obj
def document_get(data_dir: Path, sha256: str, out: Path, signer: str) -> None:
    """Fetch a document you may read, open it with your key, check it against its hash and
    write it to --out."""
    if out.exists():
        raise click.BadParameter(f"{out} exists already", param_hint="--out")
    key = unlock(keystore_path(data_dir, signer))
    with open_client(data_dir) as client:
        data = client.read_document(sha256, client.wallet(key))
    out.write_bytes(data)
    click.echo(f"{out}: {len(data)} bytes, SHA-256 {sha256} as journaled")


@document.command("share")
@click.argument("sha256")
@click.option("--with", "reader", required=True, help="The participant to share it with.")
@click.option("--as", "signer", required=True, metavar="KEYSTORE")
@click.pass_obj
def document_share(data_dir: Path, sha256: str, reader: str, signer: str) -> None:
    """Let another participant (your verifier) read a document: its key is wrapped here for
    the reader's published keys."""
    key = unlock(keystore_path(data_dir, signer))
    with open_client(data_dir) as client:
        added = client.share_document(sha256, client.wallet(key), reader)
    click.echo(f"{sha256} shared with {reader}: {added} key(s) added")


@document.command("public")
@click.argument("sha256")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def document_public(data_dir: Path, sha256: str, out: Path) -> None:
    """Fetch a public document (a project design document; no login), check it against its
    hash and write it to --out."""
    from projects.public_documents import PublicDocumentError

    if out.exists():
        raise click.BadParameter(f"{out} exists already", param_hint="--out")
    with open_client(data_dir) as client:
        try:
            data = client.public_document(sha256)
        except PublicDocumentError as exc:
            raise refused(str(exc)) from exc
    out.write_bytes(data)
    click.echo(f"{out}: {len(data)} bytes, SHA-256 {sha256} as journaled")


EMISSIONS_COMMANDS: tuple[click.Command, ...] = (
    installation, instrument, emissions, verifier, surrender, offset_project, document)
