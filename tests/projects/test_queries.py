"""Reading the project cycle back in process: methodologies (retired ones too), projects by
owner and methodology, one project with its comments and monitoring periods naming the
entries behind them, and retirements for claims with the project behind their units; on
both databases; and `carbonledger show` printing them as tables and as JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from api.client import Client, LocalTransport
from api.service import LedgerService, Parts
from ledger.clock import FixedClock
from ledger.journal import Receipt
from projects import queries
from projects.fields import ClaimPurpose, ExistingProjects
from projects.model import MethodologyStatus, ProjectStatus
from projects.period_model import PeriodStatus
from tests.projects.helpers import (
    METHODOLOGY,
    OWNER,
    PROJECT,
    START,
    comment,
    project_data_dir,
    publish_methodology,
    retire_methodology,
    row,
    submit_project,
)
from tests.projects.test_provenance import LI_RETIREMENT, Q1, Q2, the_cycle
from tests.world import World

SOLAR, OLD = "HEBEI-SOLAR", "CM-000-V01"


def _solar(world: World) -> tuple[Receipt, Receipt]:
    """A second owner's project under GANSU-WIND's methodology, still in its comment period,
    commented on twice; and a methodology published and withdrawn."""
    world.participant("sunpower", "project_owner", "SP", "trading")
    submit_project(world, SOLAR, owner="sunpower", signer="sunpower",
                   title="Hebei Zhangbei solar park", expectedReductions=400_000)
    first = comment(world, SOLAR, author="sgs")
    second = comment(world, SOLAR, author="cec", summary="the park's output is overstated")
    publish_methodology(world, OLD, title="Small hydro")
    retire_methodology(world, OLD, existing_projects="end")
    return first, second


def test_methodologies_are_published_with_their_status(market: World) -> None:
    _solar(market)
    found = queries.methodologies(market.store)
    assert [(m.id, m.status) for m in found] == [(OLD, MethodologyStatus.withdrawn),
                                                (METHODOLOGY, MethodologyStatus.active)]
    old = queries.methodology(market.store, OLD)
    assert old is not None and old.existing_projects is ExistingProjects.end
    assert old.reason == "baseline no longer conservative" and old.retired_on != ""
    assert queries.methodology(market.store, "CM-404") is None


def test_projects_of_an_owner_and_of_a_methodology(market: World) -> None:
    _solar(market)
    every = queries.projects(market.store)
    assert [(p.id, p.owner, p.status) for p in every] == [
        (PROJECT, OWNER, ProjectStatus.registered), (SOLAR, "sunpower", ProjectStatus.submitted)]
    assert [p.id for p in queries.projects(market.store, owner="sunpower")] == [SOLAR]
    assert [p.id for p in queries.projects(market.store, methodology=METHODOLOGY)] == \
        [PROJECT, SOLAR]
    assert queries.projects(market.store, methodology=OLD) == []
    assert queries.projects(market.store, owner=OWNER, methodology=OLD) == []


def test_a_project_with_its_comments_names_its_entries(market: World) -> None:
    first, second = _solar(market)
    solar = queries.project_record(market.store, SOLAR)
    assert solar is not None
    assert (solar.validated_seq, solar.registered_seq, solar.periods) == (None, None, ())
    assert [(c.seq, c.author, c.summary) for c in solar.comments] == [
        (first.seq, "sgs", "the grid emission factor is out of date"),
        (second.seq, "cec", "the park's output is overstated")]
    assert queries.project_record(market.store, "NOPE") is None


def test_a_project_with_its_monitoring_periods_names_its_entries(market: World) -> None:
    submitted = row(market, "projects", PROJECT)["submitted_seq"]
    the_cycle(market)
    record = queries.project_record(market.store, PROJECT)
    assert record is not None
    entries = {e.seq: e.op for e in LedgerService(Parts(market.ledger)).journal(0, 1000)}
    assert entries[submitted] == "project_submit"
    assert record.validated_seq is not None and record.registered_seq is not None
    assert entries[record.validated_seq] == "project_validate"
    assert entries[record.registered_seq] == "project_register"
    assert submitted < record.validated_seq < record.registered_seq
    assert [(p.period, p.status, p.claimed_t, p.verified_t, p.issued_t, p.batch, p.verifier)
            for p in record.periods] == [
        ("2024Q1", PeriodStatus.issued, 10_000, 9_000, 9_000, Q1, "sgs"),
        ("2024Q2", PeriodStatus.issued, 8_000, 7_500, 7_000, Q2, "sgs")]
    for period in record.periods:
        assert period.verified_seq is not None and period.issued_seq is not None
        assert [entries[period.reported_seq], entries[period.verified_seq],
                entries[period.issued_seq]] == ["monitoring_submit", "monitoring_verify",
                                                "ccer_issue"]
    assert (record.verified_t, record.issued_t) == (16_500, 16_000)


def test_retirements_for_claims_with_the_project_behind_them(market: World) -> None:
    the_cycle(market)
    every = queries.retirements(market.store)
    assert [(r.retirement.id, r.retirement.account, r.project, r.period) for r in every] == [
        ("RET-GW-1", "GW", PROJECT, "2024Q1"), (LI_RETIREMENT, "LI", PROJECT, "2024Q1")]
    assert every[0].retirement.seq < every[1].retirement.seq
    (li,) = queries.retirements(market.store, account="LI")
    assert li == queries.retirement(market.store, LI_RETIREMENT)
    assert (li.retirement.quantity, li.retirement.serials, li.retirement.purpose,
            li.retirement.beneficiary) == (150, ((1, 100), (201, 250)), ClaimPurpose.period,
                                           "Li Wei")
    assert li.retired_at.startswith(f"{date(2024, 7, 2).isoformat()}T")
    assert queries.retirements(market.store, account="SP") == []
    assert queries.retirement(market.store, "RET-404") is None


def test_the_reads_run_on_both_databases_through_the_client(any_market: World) -> None:
    the_cycle(any_market)
    _solar(any_market)
    client = Client(LocalTransport(LedgerService(Parts(any_market.ledger))))
    assert [m.id for m in client.methodologies()] == [OLD, METHODOLOGY]
    assert [p.id for p in client.projects(owner="sunpower")] == [SOLAR]
    record = client.project(PROJECT)
    assert record is not None and [p.period for p in record.periods] == ["2024Q1", "2024Q2"]
    solar = client.project(SOLAR)
    assert solar is not None and [c.author for c in solar.comments] == ["sgs", "cec"]
    assert [r.retirement.id for r in client.claim_retirements("LI")] == [LI_RETIREMENT]
    found = client.claim_retirement("RET-GW-1")
    assert found is not None and found.retirement.serials == ((101, 200),)


# --- `carbonledger show` ----------------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory whose ledger ran GANSU-WIND's cycle (tests/projects/test_provenance.py)
    and holds HEBEI-SOLAR in its comment period."""
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.delenv("CARBONLEDGER_SERVER", raising=False)
    clock = FixedClock(START)
    data = tmp_path / "ledger"
    world = project_data_dir(data, clock)
    the_cycle(world)
    _solar(world)
    world.store.dispose()
    return data


def _show(data: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--data-dir", str(data), "show", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_show_prints_the_project_cycle_as_tables(data_dir: Path) -> None:
    methodologies = _show(data_dir, "methodologies").splitlines()
    assert methodologies[0].split()[:3] == ["methodology", "version", "sector"]
    assert [line.split()[0] for line in methodologies[2:]] == [OLD, METHODOLOGY]
    assert "withdrawn" in methodologies[2] and "active" in methodologies[3]
    projects = _show(data_dir, "projects", "--owner", "sunpower").splitlines()
    assert len(projects) == 3 and projects[2].split()[:3] == [SOLAR, "sunpower", METHODOLOGY]
    assert _show(data_dir, "projects", "--methodology", OLD) == "(none)\n"

    project = _show(data_dir, "project", PROJECT)
    assert "status            registered" in project
    assert "verified          16,500 t" in project and "issued            16,000 t" in project
    periods = project.split("monitoring periods:\n")[1].splitlines()
    assert periods[2].split()[:8] == ["2024Q1", "2024-01-01..2024-03-31", "issued", "10,000",
                                      "9,000", "sgs", "9,000", Q1]
    assert "the park's output is overstated" in _show(data_dir, "project", SOLAR)

    retirements = _show(data_dir, "retirements", "--account", "LI").splitlines()
    assert len(retirements) == 3
    assert retirements[2].split()[:4] == [LI_RETIREMENT, "LI", Q1, "150"]
    retirement = _show(data_dir, "retirement", LI_RETIREMENT)
    assert "serials           1..100, 201..250" in retirement
    assert "beneficiary       Li Wei" in retirement and f"project           {PROJECT}" in \
        retirement


def test_show_json_and_unknown_ids(data_dir: Path) -> None:
    items = json.loads(_show(data_dir, "retirements", "--json"))["items"]
    assert [i["retirement"]["id"] for i in items] == ["RET-GW-1", LI_RETIREMENT]
    assert items[1]["retirement"]["serials"] == [[1, 100], [201, 250]]
    record = json.loads(_show(data_dir, "project", PROJECT, "--json"))
    assert [p["issued_t"] for p in record["periods"]] == [9_000, 7_000]
    assert record["project"]["status"] == "registered"
    for what, name in (("project", "NOPE"), ("retirement", "RET-404")):
        result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "show", what, name])
        assert result.exit_code == 1 and f"no {what} {name}" in result.output, result.output
