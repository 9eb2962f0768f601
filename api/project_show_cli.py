"""The project cycle's tables of `carbonledger show` (api/roles_cli.py), read from the local
data directory's ledger or, with `--server URL`, from a carbonledger server. They are public:
no login is needed to read them.

    carbonledger show methodologies
    carbonledger show projects --owner windfarm          # or --methodology CM-001-V01
    carbonledger show project GANSU-WIND                 # its comments and monitoring periods
    carbonledger show retirements --account LI
    carbonledger show retirement RET-LI-2024

`--json` prints `{"items": [...]}` (one project or retirement: the record itself).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from api.client.records import to_json
from api.exit_codes import refused
from api.roles_cli import Column, open_client, show, show_records, table
from projects.queries import ProjectRecord, RetirementRecord


def _json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True,
                        help='Print {"items": [...]} for machines.')(function)



def _or_none(value: int | None) -> str:
    return "" if value is None else f"{value}"


@show.command("methodologies")
@_json_option
@click.pass_obj
def show_methodologies(data_dir: Path, as_json: bool) -> None:
    """Published methodologies, superseded and withdrawn ones too."""
    with open_client(data_dir) as client:
        found = client.methodologies()
    show_records(found, [("methodology", lambda m: m.id), ("version", lambda m: m.version),
                   ("sector", lambda m: m.sector), ("title", lambda m: m.title),
                   ("valid", lambda m: f"{m.valid_from}..{m.valid_until}" if m.valid_until
                    else f"from {m.valid_from}"),
                   ("buffer %", lambda m: f"{m.buffer_bp / 100:.2f}"),
                   ("status", lambda m: m.status),
                   ("replaced by", lambda m: m.replaced_by),
                   ("since entry", lambda m: m.published_seq)], as_json)


PROJECT_COLUMNS: tuple[Column, ...] = (
    ("project", lambda p: p.id), ("owner", lambda p: p.owner),
    ("methodology", lambda p: p.methodology), ("title", lambda p: p.title),
    ("crediting", lambda p: f"{p.crediting_start}..{p.crediting_end}"),
    ("expected t", lambda p: p.expected_t), ("status", lambda p: p.status),
    ("validator", lambda p: p.validator), ("submitted entry", lambda p: p.submitted_seq))


@show.command("projects")
@click.option("--owner", default=None, help="Only this project owner's.")
@click.option("--methodology", default=None, help="Only those under this methodology.")
@_json_option
@click.pass_obj
def show_projects(data_dir: Path, owner: str | None, methodology: str | None,
                  as_json: bool) -> None:
    """Projects in every status: submitted, validated, registered, suspended, ended."""
    with open_client(data_dir) as client:
        found = client.projects(owner, methodology)
    show_records(found, PROJECT_COLUMNS, as_json)


@show.command("project")
@click.argument("project_id", metavar="PROJECT")
@_json_option
@click.pass_obj
def show_project(data_dir: Path, project_id: str, as_json: bool) -> None:
    """One project: its design, the entries that submitted, validated and registered it,
    its public comments and its monitoring periods (claimed, verified, issued)."""
    with open_client(data_dir) as client:
        found = client.project(project_id)
    if found is None:
        raise refused(f"no project {project_id}: `carbonledger show projects` lists them")
    if as_json:
        click.echo(json.dumps(to_json(found), indent=2, ensure_ascii=False))
        return
    _print_project(found)


def _print_project(record: ProjectRecord) -> None:
    project = record.project
    for name, value in (
            ("project", project.id), ("title", project.title), ("owner", project.owner),
            ("methodology", project.methodology), ("location", project.location),
            ("start", project.start_date),
            ("crediting", f"{project.crediting_start}..{project.crediting_end}"),
            ("expected", f"{project.expected_t:,} t"), ("design document", project.pdd_hash),
            ("comments until", project.comments_until),
            ("status", project.status.value + (f": {project.reason}" if project.reason else "")),
            ("validator", project.validator), ("submitted entry", project.submitted_seq),
            ("validated entry", _or_none(record.validated_seq)),
            ("registered entry", _or_none(record.registered_seq)),
            ("verified", f"{record.verified_t:,} t"), ("issued", f"{record.issued_t:,} t")):
        click.echo(f"{name:<17} {value}".rstrip())
    click.echo("\npublic comments:")
    click.echo(table([("entry", lambda c: c.seq), ("author", lambda c: c.author),
                      ("summary", lambda c: c.summary)], record.comments))
    click.echo("\nmonitoring periods:")
    click.echo(table([("period", lambda p: p.period),
                      ("days", lambda p: f"{p.start_date}..{p.end_date}"),
                      ("status", lambda p: p.status), ("claimed t", lambda p: p.claimed_t),
                      ("verified t", lambda p: p.verified_t), ("verifier", lambda p: p.verifier),
                      ("issued t", lambda p: p.issued_t), ("batch", lambda p: p.batch),
                      ("reported entry", lambda p: p.reported_seq),
                      ("verified entry", lambda p: p.verified_seq),
                      ("issued entry", lambda p: p.issued_seq)], record.periods))


RETIREMENT_COLUMNS: tuple[Column, ...] = (
    ("retirement", lambda r: r.retirement.id), ("account", lambda r: r.retirement.account),
    ("batch", lambda r: r.retirement.batch), ("quantity t", lambda r: r.retirement.quantity),
    ("beneficiary", lambda r: r.retirement.beneficiary),
    ("purpose", lambda r: r.retirement.purpose), ("project", lambda r: r.project),
    ("period", lambda r: r.period), ("retired at", lambda r: r.retired_at),
    ("entry", lambda r: r.retirement.seq))


@show.command("retirements")
@click.option("--account", "account_id", default=None, help="Only those from this account.")
@_json_option
@click.pass_obj
def show_retirements(data_dir: Path, account_id: str | None, as_json: bool) -> None:
    """Retirements for offsetting claims, in the order they were made, with the project and
    monitoring period behind their units."""
    with open_client(data_dir) as client:
        found = client.claim_retirements(account_id)
    show_records(found, RETIREMENT_COLUMNS, as_json)


@show.command("retirement")
@click.argument("retirement_id", metavar="RETIREMENT")
@_json_option
@click.pass_obj
def show_retirement(data_dir: Path, retirement_id: str, as_json: bool) -> None:
    """One retirement for a claim: whose, for what, which serials, from which project."""
    with open_client(data_dir) as client:
        found = client.claim_retirement(retirement_id)
    if found is None:
        raise refused(f"no retirement {retirement_id}: `carbonledger show retirements` lists "
                      "them")
    if as_json:
        click.echo(json.dumps(to_json(found), indent=2, ensure_ascii=False))
        return
    _print_retirement(found)


def _print_retirement(record: RetirementRecord) -> None:
    retired = record.retirement
    serials = ", ".join(f"{first}..{last}" for first, last in retired.serials)
    for name, value in (
            ("retirement", retired.id), ("beneficiary", retired.beneficiary),
            ("quantity", f"{retired.quantity:,} t"), ("account", retired.account),
            ("batch", retired.batch), ("serials", serials),
            ("purpose", retired.purpose.value), ("subject", retired.subject),
            ("period covered", f"{retired.period_start}..{retired.period_end}"),
            ("claim", retired.claim), ("project", record.project),
            ("monitoring period", record.period), ("retired at", record.retired_at),
            ("entry", retired.seq)):
        click.echo(f"{name:<17} {value}".rstrip())
    click.echo(f"\nits provenance, proved: `carbonledger proof retirement {retired.id}`")
