"""A retirement's provenance in one bundle: the claim_retire entry, the entries behind its
units (issuance, verification and report of the period, the project's submission, validation
and registration, the methodology), and the state of every lot it retired, all against one
signed checkpoint. The bundle verifies offline with neither the ledger nor a database; every
link swapped for another record's, a lot left out or added, is refused by name."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from anchoring.auditor.errors import VerifyFailure
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.errors import NotCheckpointed
from anchoring.operator.project_evidence import RetirementNotFound, prove_retirement
from api.cli import main
from ledger.clock import FixedClock
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.isolation import LEDGER_AND_DATABASES, VERIFY_BUNDLE, run_without
from tests.projects.helpers import (
    OWNER,
    OWNER_ACCOUNT,
    START,
    issue,
    move_clock_to,
    project_data_dir,
    publish_methodology,
    report_period,
    row,
    verify_period,
)
from tests.projects.signed import Bundle, Signed
from tests.world import World

Q1, Q2 = "CCER-GW-2024Q1", "CCER-GW-2024Q2"
LI_RETIREMENT = "RET-LI-2024"


def the_cycle(world: World) -> None:
    """GANSU-WIND's first two quarters of 2024, verified by SGS and issued as Q1 (9,000 t of
    9,000 verified) and Q2 (7,000 t of 7,500); the owner sells Li 150 t of Q1, oldest first,
    after retiring serials 101..200 itself; Li retires the 150 t (serials 1..100 and
    201..250: two lots) for the household's emissions of 2024."""
    move_clock_to(world, date(2024, 7, 2))
    report_period(world, "2024Q1", "2024-01-01", "2024-03-31", 10_000)
    verify_period(world, "2024Q1", 9_000)
    issue(world, Q1, "2024Q1", 9_000)
    report_period(world, "2024Q2", "2024-04-01", "2024-06-30", 8_000)
    verify_period(world, "2024Q2", 7_500)
    issue(world, Q2, "2024Q2", 7_000)
    world.by(OWNER, "claim_retire", retirement="RET-GW-1", account=OWNER_ACCOUNT, batch=Q1,
             quantity=100, serialFirst=101, serialLast=200, beneficiary="Gansu Wind Power Co.",
             purpose="organisation", subject="Gansu Wind Power Co.",
             periodStart="2023-01-01", periodEnd="2023-12-31",
             claim="the company's own 2023 office emissions, offset")
    world.participant("li", "individual", "LI", "individual")
    world.by(OWNER, "transfer", fromAccount=OWNER_ACCOUNT, toAccount="LI", batch=Q1,
             quantity=150, serialFirst=0, serialLast=0)
    world.by("li", "claim_retire", retirement=LI_RETIREMENT, account="LI", batch=Q1,
             quantity=150, serialFirst=0, serialLast=0, beneficiary="Li Wei",
             purpose="period", subject="", periodStart="2024-01-01",
             periodEnd="2024-12-31", claim="my household's emissions in 2024, offset")


@pytest.fixture
def signed(market: World) -> Signed:
    the_cycle(market)
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    return Signed(market, checkpointer)




def _entry_fields(item: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(item["entry"])["instruction"]["fields"]
    return fields


# --- the bundle as made -----------------------------------------------------------------------

def test_the_provenance_of_a_retirement_verifies_and_says_what_it_proves(
        signed: Signed) -> None:
    bundle = prove_retirement(signed.prover, LI_RETIREMENT)
    world = signed.world
    period = row(world, "monitoring_periods", "GANSU-WIND", "2024Q1")
    methodology = row(world, "methodologies", "CM-001-V01")
    project = row(world, "projects", "GANSU-WIND")
    retirement = row(world, "claim_retirements", LI_RETIREMENT)
    seqs = {link: json.loads(item["entry"])["seq"] for link, item in bundle["entries"].items()}
    assert seqs["issuance"] == period["issued_seq"]
    assert seqs["verification"] == period["verified_seq"]
    assert seqs["report"] == period["reported_seq"]
    assert seqs["submission"] == project["submitted_seq"]
    assert seqs["methodology"] == methodology["published_seq"]
    assert seqs["retirement"] == retirement["seq"]
    assert seqs["methodology"] < seqs["submission"] < seqs["validation"] \
        < seqs["registration"] < seqs["report"] < seqs["verification"] < seqs["issuance"] \
        < seqs["retirement"]
    assert [json.loads(lot["state"]["value"])["first"] for lot in bundle["lots"]] == [1, 201]

    statement = signed.verify(bundle)
    assert statement.startswith(
        f"retirement {LI_RETIREMENT}: account LI retired 150 t of batch {Q1} (serials 1..100, "
        "201..250) for 'Li Wei', to offset the emissions of the period from 2024-01-01 to "
        "2024-12-31 (claim: \"my household's emissions in 2024, offset\")"), statement
    for said in (f"issued by entry {seqs['issuance']} (9000 t) for monitoring period 2024Q1 "
                 "(2024-01-01..2024-03-31", "of project GANSU-WIND",
                 f"validated by cec in entry {seqs['validation']}",
                 "sgs verified at 9000 t", "under methodology CM-001-V01 V01",
                 "at checkpoint 1", "the 2 lots it retired are still retired in account LI"):
        assert said in statement, (said, statement)


def test_the_provenance_is_found_on_both_databases(any_market: World) -> None:
    """The store's reads (projects/store.py) are SQL of SQLite and of PostgreSQL."""
    the_cycle(any_market)
    checkpointer = Checkpointer(any_market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    signed = Signed(any_market, checkpointer)
    assert signed.verify(prove_retirement(signed.prover, "RET-GW-1")).startswith(
        f"retirement RET-GW-1: account GW retired 100 t of batch {Q1} (serials 101..200) "
        "for 'Gansu Wind Power Co.', to offset the emissions of the organisation 'Gansu Wind "
        "Power Co.' from 2023-01-01 to 2023-12-31")


def test_the_bundle_verifies_without_the_ledger_or_a_database(signed: Signed,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "retirement.json"
    path.write_text(json.dumps(prove_retirement(signed.prover, LI_RETIREMENT)))
    result = run_without(LEDGER_AND_DATABASES | {"projects", "web3"}, VERIFY_BUNDLE,
                         str(path), signed.checkpointer.operator)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"retirement {LI_RETIREMENT}: account LI retired 150 t")


def test_a_retirement_after_the_checkpoint_or_unknown_is_refused(signed: Signed) -> None:
    world = signed.world
    world.by(OWNER, "claim_retire", retirement="RET-LATE", account=OWNER_ACCOUNT, batch=Q2,
             quantity=5, serialFirst=0, serialLast=0, beneficiary="Gansu Wind Power Co.",
             purpose="period", subject="", periodStart="2024-01-01", periodEnd="2024-12-31",
             claim="offset")
    with pytest.raises(NotCheckpointed, match="after checkpoint 1"):
        prove_retirement(signed.prover, "RET-LATE")
    with pytest.raises(RetirementNotFound, match="no retirement 'ret-late'"):
        prove_retirement(signed.prover, "ret-late")
    signed.checkpointer.cut()
    assert "batch CCER-GW-2024Q2" in signed.verify(prove_retirement(signed.prover,
                                                                    "RET-LATE"))


# --- a link swapped or left out ---------------------------------------------------------------

def _seq_of(bundle: Bundle, link: str) -> int:
    seq: int = json.loads(bundle["entries"][link]["entry"])["seq"]
    return seq


def test_another_batchs_issue_entry_is_refused(signed: Signed) -> None:
    bundle = prove_retirement(signed.prover, LI_RETIREMENT)
    q2 = row(signed.world, "monitoring_periods", "GANSU-WIND", "2024Q2")
    bundle["entries"]["issuance"] = signed.entry(q2["issued_seq"])
    signed.refused(bundle, VerifyFailure.wrong_subject,
                   f"is for batch '{Q2}', but the batch retirement {LI_RETIREMENT} retired "
                   f"is '{Q1}'")


def test_a_verification_of_another_period_is_refused(signed: Signed) -> None:
    bundle = prove_retirement(signed.prover, LI_RETIREMENT)
    q2 = row(signed.world, "monitoring_periods", "GANSU-WIND", "2024Q2")
    bundle["entries"]["verification"] = signed.entry(q2["verified_seq"])
    signed.refused(bundle, VerifyFailure.wrong_subject,
                   "is for period '2024Q2', but the monitoring period batch .* was issued "
                   "for is '2024Q1'")
    bundle["entries"]["verification"] = signed.entry(
        row(signed.world, "monitoring_periods", "GANSU-WIND", "2024Q1")["verified_seq"])
    bundle["entries"]["report"] = signed.entry(q2["reported_seq"])
    signed.refused(bundle, VerifyFailure.wrong_subject, "the report entry .* is for period "
                                                        "'2024Q2'")


def test_a_methodology_of_another_id_is_refused(signed: Signed) -> None:
    receipt = publish_methodology(signed.world, "CM-002-V01", title="Landfill gas")
    signed.checkpointer.cut()
    bundle = prove_retirement(signed.prover, LI_RETIREMENT)
    bundle["entries"]["methodology"] = signed.entry(receipt.seq)
    signed.refused(bundle, VerifyFailure.wrong_subject,
                   "is for methodology 'CM-002-V01', but the methodology project GANSU-WIND "
                   "was submitted under is 'CM-001-V01'")


def test_a_link_of_another_operation_or_left_out_is_refused(signed: Signed) -> None:
    bundle = prove_retirement(signed.prover, LI_RETIREMENT)
    swapped = copy.deepcopy(bundle)
    swapped["entries"]["validation"] = bundle["entries"]["registration"]
    signed.refused(swapped, VerifyFailure.incomplete_evidence,
                   "entries.validation is journal entry .* a project_register; the validation "
                   "of a retirement is a project_validate")
    dropped = copy.deepcopy(bundle)
    del dropped["entries"]["registration"]
    signed.refused(dropped, VerifyFailure.malformed_bundle, "missing registration")
    other = copy.deepcopy(bundle)
    other["retirement"] = "RET-GW-1"
    signed.refused(other, VerifyFailure.wrong_subject, "is for retirement 'RET-LI-2024', but "
                                                       "the bundle's retirement is 'RET-GW-1'")


# --- the lots ---------------------------------------------------------------------------------

def test_a_dropped_lot_is_refused(signed: Signed) -> None:
    bundle = prove_retirement(signed.prover, LI_RETIREMENT)
    assert len(bundle["lots"]) == 2
    dropped = bundle["lots"].pop()
    signed.refused(bundle, VerifyFailure.incomplete_evidence,
                   f"retired lot {dropped['lot']}, which the bundle does not prove")


def test_an_extra_serial_is_refused(signed: Signed) -> None:
    """Another retirement's retired lot, in the same batch: serials 101..200, which Li did
    not retire. And a lot's record stretched by one serial no longer matches its proof."""
    bundle = prove_retirement(signed.prover, LI_RETIREMENT)
    theirs = prove_retirement(signed.prover, "RET-GW-1")["lots"][0]
    extra = copy.deepcopy(bundle)
    extra["lots"].insert(1, theirs)
    signed.refused(extra, VerifyFailure.incomplete_evidence,
                   f"lot {theirs['lot']} is not one the retirement retired")
    stretched = copy.deepcopy(bundle)
    state = stretched["lots"][0]["state"]
    record = json.loads(state["value"])
    state["value"] = json.dumps({**record, "last": record["last"] + 1},
                                separators=(",", ":"), sort_keys=True)
    signed.refused(stretched, VerifyFailure.state_proof_failed, "does not hold")


def test_lots_out_of_order_or_twice_are_refused(signed: Signed) -> None:
    bundle = prove_retirement(signed.prover, LI_RETIREMENT)
    twice = copy.deepcopy(bundle)
    twice["lots"].append(twice["lots"][0])
    signed.refused(twice, VerifyFailure.incomplete_evidence, "in serial order, each once")


# --- the command ------------------------------------------------------------------------------

def test_proof_retirement_writes_the_bundle_and_says_what_it_proves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    clock = FixedClock(START)
    data = tmp_path / "ledger"
    world = project_data_dir(data, clock)
    the_cycle(world)
    world.store.dispose()
    runner, cli = CliRunner(), ["--data-dir", str(data)]
    assert runner.invoke(main, [*cli, "checkpoint"]).exit_code == 0

    path = tmp_path / "retirement.json"
    result = runner.invoke(main, [*cli, "proof", "retirement", LI_RETIREMENT, "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert f"retirement {LI_RETIREMENT}: account LI retired 150 t" in result.stderr
    assert json.loads(path.read_text())["kind"] == "retirement"
    result = runner.invoke(main, [*cli, "verify", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, [*cli, "proof", "retirement", "NOPE"])
    assert result.exit_code != 0 and "no retirement 'NOPE'" in result.output, result.output
