"""The CCER project cycle's commands of `carbonledger` (projects/, docs/projects.md): each
signed with the signer's own keystore and sent through the Python client, like every role
command (api/roles_cli.py).

    carbonledger methodology publish CM-001-V01 --version 1.0 --sector energy \\
        --title "Grid-connected wind power" --applicability "..." --valid-from 2024-01-01 \\
        --as registry
    carbonledger project submit GANSU-WIND --owner windfarm --methodology CM-001-V01 \\
        --title "Gansu Guazhou 200 MW wind farm" --location "Guazhou, Gansu" \\
        --start 2023-06-01 --crediting 2024-01-01..2033-12-31 --expected 3200000 \\
        --pdd pdd.pdf --as windfarm
    carbonledger project comment GANSU-WIND --file comment.txt --summary "..." --as li
    carbonledger project validate GANSU-WIND --validator cec --report validation.pdf --as cec
    carbonledger project register GANSU-WIND --as registry
    carbonledger monitoring submit GANSU-WIND P2024 --period 2024-01-01..2024-12-31 \\
        --claimed 320000 --report monitoring.pdf --as windfarm
    carbonledger monitoring verify GANSU-WIND P2024 --verifier sgs --verified 318500 --as sgs
    carbonledger ccer issue GW2024 --project GANSU-WIND --period P2024 --quantity 318500 \\
        --account GW-T --as registry
    carbonledger retire-for-claim R-2026-001 --account BW-C --batch GW2024 --quantity 1000 \\
        --beneficiary "Shanghai Marathon" --purpose event --subject SHM-2026 \\
        --period 2026-04-19..2026-04-19 --claim "carbon neutral event" --as baowu

A document named by a command (a design document, a report, a comment) is hashed here: its
SHA-256 is what the journal commits to. The design document is public: it is also stored as
it is, beside the journal, before its hash is signed (`carbonledger document public SHA256`
fetches it).
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from typing import Any

import click

from api.exit_codes import refused
from api.keys_cli import keystore_path, unlock
from api.roles_cli import _choice, act, open_client, signing, units, units_options
from projects.fields import ClaimPurpose, ExistingProjects, MethodologyAction, ProjectAction

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


class DayRange(click.ParamType):
    name = "FIRST..LAST"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        first, dots, last = str(value).partition("..")
        if not dots or len(first) != 10 or len(last) != 10:
            self.fail(f"{value!r} is not a period such as 2024-01-01..2024-12-31", param, ctx)
        return first, last


def _file_hash(path: Path) -> str:
    return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()


# --- methodologies --------------------------------------------------------------------------


@click.group()
def methodology() -> None:
    """Methodologies projects are registered under (the registry publishes them)."""


@methodology.command("publish")
@click.argument("methodology_id", metavar="METHODOLOGY")
@click.option("--version", "version_", required=True)
@click.option("--sector", required=True, help="The sector its validators and verifiers are "
                                              "qualified in.")
@click.option("--title", required=True)
@click.option("--applicability", required=True, help="Where it applies, in words.")
@click.option("--valid-from", required=True, metavar="YYYY-MM-DD")
@click.option("--valid-until", default="", metavar="YYYY-MM-DD", help="Default: open-ended.")
@click.option("--buffer-bp", type=click.IntRange(0, 10_000), default=0,
              help="The share of each issuance set aside in the buffer, in ten-thousandths.")
@signing
@click.pass_obj
def methodology_publish(data_dir: Path, methodology_id: str, version_: str, sector: str,
                        title: str, applicability: str, valid_from: str, valid_until: str,
                        buffer_bp: int, **signing_: Any) -> None:
    """Publish a methodology."""
    act(data_dir, "methodology_publish", {
        "methodology": methodology_id, "version": version_, "sector": sector, "title": title,
        "applicability": applicability, "validFrom": valid_from, "validUntil": valid_until,
        "bufferBp": buffer_bp}, **signing_)


@methodology.command("retire")
@click.argument("methodology_id", metavar="METHODOLOGY")
@click.option("--action", required=True, type=_choice(MethodologyAction))
@click.option("--replaced-by", default="", help="With supersede: the methodology replacing it.")
@click.option("--existing-projects", required=True, type=_choice(ExistingProjects),
              help="keep: their crediting periods run on; end: they end now.")
@click.option("--reason", required=True)
@signing
@click.pass_obj
def methodology_retire(data_dir: Path, methodology_id: str, action: str, replaced_by: str,
                       existing_projects: str, reason: str, **signing_: Any) -> None:
    """Supersede or withdraw a methodology: new registrations under it are refused."""
    act(data_dir, "methodology_retire", {
        "methodology": methodology_id, "action": action, "replacedBy": replaced_by,
        "existingProjects": existing_projects, "reason": reason}, **signing_)


# --- projects --------------------------------------------------------------------------------


@click.group()
def project() -> None:
    """CCER projects: submission, public comment, validation, registration, status."""


@project.command("submit")
@click.argument("project_id", metavar="PROJECT")
@click.option("--owner", required=True, help="The project owner (the signer's participant).")
@click.option("--methodology", "methodology_id", required=True)
@click.option("--title", required=True)
@click.option("--location", required=True)
@click.option("--start", "start_date", required=True, metavar="YYYY-MM-DD",
              help="The project's start date.")
@click.option("--crediting", required=True, type=DayRange(), help="Its crediting period.")
@click.option("--expected", required=True, type=click.IntRange(min=0), metavar="TONNES",
              help="Expected reductions over the crediting period.")
@click.option("--pdd", type=_FILE, required=True, help="The project design document.")
@signing
@click.pass_obj
def project_submit(data_dir: Path, project_id: str, owner: str, methodology_id: str,
                   title: str, location: str, start_date: str, crediting: tuple[str, str],
                   expected: int, pdd: Path, **signing_: Any) -> None:
    """Submit a project design document: it is stored as it is (public), then the
    instruction that journals its SHA-256 is signed; its public comment period starts."""
    act(data_dir, "project_submit", {
        "project": project_id, "owner": owner, "methodology": methodology_id, "title": title,
        "location": location, "startDate": start_date, "creditingStart": crediting[0],
        "creditingEnd": crediting[1], "expectedReductions": expected,
        "pddHash": _stored_public(data_dir, signing_["signer"], pdd)}, **signing_)


def _stored_public(data_dir: Path, signer: str, path: Path) -> str:
    """Store the file as a public document, logged in as the signer: its SHA-256. Stored
    before the instruction is signed, so that a journaled hash always has its document."""
    from projects.public_documents import PublicDocumentError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}") from exc
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    wallet_key = unlock(keystore_path(data_dir, signer))
    with open_client(data_dir) as client:
        try:
            return client.upload_public_document(data, media_type, client.wallet(wallet_key))
        except PublicDocumentError as exc:
            raise refused(f"{path}: {exc}") from exc


@project.command("comment")
@click.argument("project_id", metavar="PROJECT")
@click.option("--file", "comment_file", type=_FILE, required=True, help="The comment itself.")
@click.option("--summary", required=True, help="What it says, in a line.")
@signing
@click.pass_obj
def project_comment(data_dir: Path, project_id: str, comment_file: Path, summary: str,
                    **signing_: Any) -> None:
    """Comment on a project during its public comment period (any participant)."""
    act(data_dir, "project_comment", {"project": project_id,
                                      "commentHash": _file_hash(comment_file),
                                      "summary": summary}, **signing_)


@project.command("validate")
@click.argument("project_id", metavar="PROJECT")
@click.option("--validator", required=True, help="The validation body (the signer's).")
@click.option("--report", type=_FILE, required=True, help="The validation report.")
@signing
@click.pass_obj
def project_validate(data_dir: Path, project_id: str, validator: str, report: Path,
                     **signing_: Any) -> None:
    """Validate a project once its comment period is over (a qualified validation body)."""
    act(data_dir, "project_validate", {"project": project_id, "validator": validator,
                                       "validationHash": _file_hash(report)}, **signing_)


@project.command("register")
@click.argument("project_id", metavar="PROJECT")
@signing
@click.pass_obj
def project_register(data_dir: Path, project_id: str, **signing_: Any) -> None:
    """Register a validated project (registry)."""
    act(data_dir, "project_register", {"project": project_id}, **signing_)


@project.command("status")
@click.argument("project_id", metavar="PROJECT")
@click.option("--action", required=True, type=_choice(ProjectAction))
@click.option("--reason", required=True)
@signing
@click.pass_obj
def project_status(data_dir: Path, project_id: str, action: str, reason: str,
                   **signing_: Any) -> None:
    """Suspend, reinstate or deregister a project (registry): issued units stay valid."""
    act(data_dir, "project_status", {"project": project_id, "action": action,
                                     "reason": reason}, **signing_)


# --- monitoring and issuance ------------------------------------------------------------------


@click.group()
def monitoring() -> None:
    """Monitoring periods: the owner's report and a verification body's verified figure."""


@monitoring.command("submit")
@click.argument("project_id", metavar="PROJECT")
@click.argument("period_id", metavar="PERIOD")
@click.option("--period", "days", required=True, type=DayRange())
@click.option("--claimed", required=True, type=click.IntRange(min=0), metavar="TONNES")
@click.option("--report", type=_FILE, required=True, help="The monitoring report.")
@signing
@click.pass_obj
def monitoring_submit(data_dir: Path, project_id: str, period_id: str, days: tuple[str, str],
                      claimed: int, report: Path, **signing_: Any) -> None:
    """Report a monitoring period of a registered project (its owner)."""
    act(data_dir, "monitoring_submit", {
        "project": project_id, "period": period_id, "startDate": days[0],
        "endDate": days[1], "reportHash": _file_hash(report),
        "claimedReductions": claimed}, **signing_)


@monitoring.command("verify")
@click.argument("project_id", metavar="PROJECT")
@click.argument("period_id", metavar="PERIOD")
@click.option("--verifier", required=True, help="The verification body (the signer's).")
@click.option("--verified", required=True, type=click.IntRange(min=0), metavar="TONNES")
@signing
@click.pass_obj
def monitoring_verify(data_dir: Path, project_id: str, period_id: str, verifier: str,
                      verified: int, **signing_: Any) -> None:
    """Sign a monitoring period's verified reductions (a qualified verification body)."""
    act(data_dir, "monitoring_verify", {"project": project_id, "period": period_id,
                                        "verifier": verifier,
                                        "verifiedReductions": verified}, **signing_)


@click.group()
def ccer() -> None:
    """CCER issuance (the registry), for a registered project's verified period."""


@ccer.command("issue")
@click.argument("batch")
@click.option("--project", "project_id", required=True)
@click.option("--period", "period_id", required=True)
@click.option("--quantity", required=True, type=click.IntRange(min=1), metavar="TONNES")
@click.option("--account", "account_id", required=True, help="The project owner's account.")
@signing
@click.pass_obj
def ccer_issue(data_dir: Path, batch: str, project_id: str, period_id: str, quantity: int,
               account_id: str, **signing_: Any) -> None:
    """Issue a batch of CCER for a verified monitoring period, at most its verified
    reductions (the methodology's buffer share goes to the buffer account)."""
    act(data_dir, "ccer_issue", {"batch": batch, "project": project_id, "period": period_id,
                                 "quantity": quantity, "account": account_id}, **signing_)


@click.command("retire-for-claim")
@click.argument("retirement")
@click.option("--account", "account_id", required=True)
@units_options
@click.option("--beneficiary", required=True)
@click.option("--purpose", required=True, type=_choice(ClaimPurpose))
@click.option("--subject", default="", help="The event's or product's stable identifier, "
                                            "the organisation's name.")
@click.option("--period", "days", required=True, type=DayRange(),
              help="The period the claim covers.")
@click.option("--claim", required=True, help="The claim the retirement backs, in words.")
@signing
@click.pass_obj
def retire_for_claim(data_dir: Path, retirement: str, account_id: str, batch: str,
                     quantity: int | None, serials: tuple[int, int] | None, beneficiary: str,
                     purpose: str, subject: str, days: tuple[str, str], claim: str,
                     **signing_: Any) -> None:
    """Retire CCER for an offsetting claim: for a beneficiary, a purpose and a period (the
    holder signs); `carbonledger certificate RETIREMENT` then makes its certificate."""
    act(data_dir, "claim_retire", {
        "retirement": retirement, "account": account_id, **units(batch, quantity, serials),
        "beneficiary": beneficiary, "purpose": purpose, "subject": subject,
        "periodStart": days[0], "periodEnd": days[1], "claim": claim}, **signing_)


PROJECT_COMMANDS: tuple[click.Command, ...] = (
    methodology, project, monitoring, ccer, retire_for_claim)
