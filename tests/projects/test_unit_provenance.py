"""A CCER unit's provenance in one bundle: the lot that holds the serial at a signed checkpoint,
whatever its state, and the entries of its batch's project cycle back to the methodology. The
bundle verifies offline with neither the ledger nor a database; a serial outside the batch, a
link of another record, or a lot of another batch or serial is refused by name."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from anchoring.auditor.errors import VerifyFailure
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.errors import NotCheckpointed
from anchoring.operator.project_evidence import prove_retirement
from anchoring.operator.provenance_evidence import UnitNotFound, prove_provenance
from api.cli import main
from api.http import DirectCommitter, create_app
from api.service import LedgerService, Parts
from ledger.clock import FixedClock
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.anchoring.test_bundle_schemas import schema_errors
from tests.api.http.conftest import problem_of
from tests.isolation import LEDGER_AND_DATABASES, VERIFY_BUNDLE, run_without
from tests.pledge.helpers import by as signed_by
from tests.projects.helpers import (
    OWNER,
    OWNER_ACCOUNT,
    START,
    issue,
    move_clock_to,
    project_data_dir,
    report_period,
    row,
    verify_period,
)
from tests.projects.signed import Bundle, Signed, as_read
from tests.world import World

Q1, Q2 = "CCER-GW-2024Q1", "CCER-GW-2024Q2"


def the_cycle(world: World) -> None:
    """GANSU-WIND's first two quarters of 2024 issued as Q1 (9,000 t, serials 1..9000) and Q2
    (7,000 t); the owner retires serials 101..200 of Q1, sells Li 150 t of it (serials
    1..100 and 201..250) and pledges 1,000 t (serials 251..1250) to ICBC; serials
    1251..9000 stay tradable in its account."""
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
    world.participant("icbc", "bank", "ICBC", "trading")
    signed_by(world, (OWNER, "icbc"), "pledge_register", pledge="P-GW", account=OWNER_ACCOUNT,
              pledgee="icbc", batch=Q1, quantity=1_000, loanReference="ICBC-GS-2024-7",
              principal=50_000_000_00, currency="CNY", startDate="2024-07-02",
              maturityDate="2025-07-01")


@pytest.fixture
def signed(market: World) -> Signed:
    the_cycle(market)
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    return Signed(market, checkpointer)




def _record(bundle: Bundle) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(bundle["lot"]["state"]["value"])
    return record


def _seqs(bundle: Bundle) -> dict[str, int]:
    return {link: json.loads(item["entry"])["seq"] for link, item in bundle["entries"].items()}


# --- the bundle as made -----------------------------------------------------------------------

def test_a_tradable_units_provenance_verifies_and_says_what_it_proves(signed: Signed) -> None:
    bundle = prove_provenance(signed.prover, Q1, 5_000)
    world = signed.world
    period = row(world, "monitoring_periods", "GANSU-WIND", "2024Q1")
    seqs = _seqs(bundle)
    assert (seqs["issuance"], seqs["verification"], seqs["report"]) == \
        (period["issued_seq"], period["verified_seq"], period["reported_seq"])
    assert seqs["submission"] == row(world, "projects", "GANSU-WIND")["submitted_seq"]
    assert seqs["methodology"] == row(world, "methodologies", "CM-001-V01")["published_seq"]
    record = _record(bundle)
    assert (record["first"], record["last"], record["state"], record["account"]) == \
        (1251, 9000, "tradable", OWNER_ACCOUNT)

    statement = signed.verify(bundle)
    assert statement.startswith(
        f"serial 5000 of batch {Q1}: at checkpoint 1 (2024-07-02T09:00:00.000Z) it is in lot "
        f"{bundle['lot']['lot']} (serials 1251..9000), tradable in account GW; the batch was "
        f"issued by entry {seqs['issuance']} (9000 t) for monitoring period 2024Q1 "
        "(2024-01-01..2024-03-31"), statement
    for said in ("of project GANSU-WIND", f"validated by cec in entry {seqs['validation']}",
                 "sgs verified at 9000 t", "under methodology CM-001-V01 V01"):
        assert said in statement, (said, statement)


def test_a_pledged_and_a_retired_unit_are_proven_in_their_state(signed: Signed) -> None:
    pledged = prove_provenance(signed.prover, Q1, 251)
    assert signed.verify(pledged).startswith(
        f"serial 251 of batch {Q1}: at checkpoint 1 (2024-07-02T09:00:00.000Z) it is in lot "
        f"{pledged['lot']['lot']} (serials 251..1250), pledged in account GW, under lien P-GW;")
    retired = prove_provenance(signed.prover, Q1, 150)
    assert signed.verify(retired).startswith(
        f"serial 150 of batch {Q1}: at checkpoint 1 (2024-07-02T09:00:00.000Z) it is in lot "
        f"{retired['lot']['lot']} (serials 101..200), retired in account GW;")
    # the retired lot is the one the retirement's own bundle proves
    assert retired["lot"] == prove_retirement(signed.prover, "RET-GW-1")["lots"][0]
    sold = prove_provenance(signed.prover, Q1, 220)
    assert "(serials 201..250), tradable in account LI;" in signed.verify(sold)


def test_the_provenance_is_found_on_both_databases(any_market: World) -> None:
    the_cycle(any_market)
    checkpointer = Checkpointer(any_market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    signed = Signed(any_market, checkpointer)
    statement = signed.verify(prove_provenance(signed.prover, Q2, 7_000))
    assert statement.startswith(f"serial 7000 of batch {Q2}: at checkpoint 1"), statement
    assert "(serials 1..7000), tradable in account GW;" in statement


def test_the_lot_is_the_one_live_at_the_checkpoint_asked_for(signed: Signed) -> None:
    """After checkpoint 1 the owner sells serials 1251..1300: the lot 1251..9000 is split. At
    checkpoint 1 the bundle still proves the whole lot, tradable with the owner; at
    checkpoint 2, Li's new lot."""
    world = signed.world
    world.by(OWNER, "transfer", fromAccount=OWNER_ACCOUNT, toAccount="LI", batch=Q1,
             quantity=50, serialFirst=1251, serialLast=1300)
    then = prove_provenance(signed.prover, Q1, 1_260, number=1)
    assert (_record(then)["first"], _record(then)["last"], _record(then)["account"]) == \
        (1251, 9000, OWNER_ACCOUNT)
    assert "(serials 1251..9000), tradable in account GW;" in signed.verify(then)
    signed.checkpointer.cut()
    now = prove_provenance(signed.prover, Q1, 1_260)
    assert "at checkpoint 2" in signed.verify(now)
    assert (_record(now)["first"], _record(now)["last"], _record(now)["account"]) == \
        (1251, 1300, "LI")


def test_the_bundle_verifies_without_the_ledger_or_a_database(signed: Signed,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "provenance.json"
    path.write_text(json.dumps(prove_provenance(signed.prover, Q1, 251)))
    result = run_without(LEDGER_AND_DATABASES | {"projects", "web3"}, VERIFY_BUNDLE,
                         str(path), signed.checkpointer.operator)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"serial 251 of batch {Q1}: at checkpoint 1")


def test_the_bundle_follows_its_json_schema(signed: Signed) -> None:
    """docs/schemas/bundle-provenance.schema.json, with the entries and the lot record."""
    bundle = as_read(prove_provenance(signed.prover, Q1, 251))
    assert schema_errors(bundle) == []
    assert schema_errors({**bundle, "serial": 0})
    assert schema_errors({**bundle, "lot": {**bundle["lot"],
                                            "state": {**bundle["lot"]["state"],
                                                      "value": None}}})
    entries = dict(bundle["entries"])
    del entries["report"]
    assert schema_errors({**bundle, "entries": entries})


# --- what cannot be proven --------------------------------------------------------------------

def test_a_serial_outside_the_batch_or_an_unknown_batch_is_refused(signed: Signed) -> None:
    with pytest.raises(UnitNotFound, match=f"batch {Q1} has no serial 9001") as refused:
        prove_provenance(signed.prover, Q1, 9_001)
    assert refused.value.code.name == "unit_not_found"
    with pytest.raises(UnitNotFound, match="there is no batch 'ccer-gw-2024q1'"):
        prove_provenance(signed.prover, Q1.lower(), 1)


def test_a_batch_issued_after_the_checkpoint_is_refused(signed: Signed) -> None:
    world = signed.world
    move_clock_to(world, date(2024, 10, 8))
    report_period(world, "2024Q3", "2024-07-01", "2024-09-30", 6_000)
    verify_period(world, "2024Q3", 6_000)
    issue(world, "CCER-GW-2024Q3", "2024Q3", 6_000)
    with pytest.raises(NotCheckpointed, match="after checkpoint 1"):
        prove_provenance(signed.prover, "CCER-GW-2024Q3", 1)
    signed.checkpointer.cut()
    assert "at checkpoint 2" in signed.verify(prove_provenance(signed.prover,
                                                               "CCER-GW-2024Q3", 1))


# --- a link or the lot swapped ----------------------------------------------------------------

def test_another_batchs_issue_entry_is_refused(signed: Signed) -> None:
    bundle = prove_provenance(signed.prover, Q1, 5_000)
    q2 = row(signed.world, "monitoring_periods", "GANSU-WIND", "2024Q2")
    bundle["entries"]["issuance"] = signed.entry(q2["issued_seq"])
    signed.refused(bundle, VerifyFailure.wrong_subject,
                   f"the issuance entry .* is for batch '{Q2}', but the bundle's batch is "
                   f"'{Q1}': it is not a link of this unit's provenance")


def test_a_tampered_link_is_refused(signed: Signed) -> None:
    bundle = prove_provenance(signed.prover, Q1, 5_000)
    q2 = row(signed.world, "monitoring_periods", "GANSU-WIND", "2024Q2")
    other = copy.deepcopy(bundle)
    other["entries"]["verification"] = signed.entry(q2["verified_seq"])
    signed.refused(other, VerifyFailure.wrong_subject,
                   "is for period '2024Q2', but the monitoring period batch .* was issued "
                   "for is '2024Q1'")
    swapped = copy.deepcopy(bundle)
    swapped["entries"]["validation"] = bundle["entries"]["registration"]
    signed.refused(swapped, VerifyFailure.incomplete_evidence,
                   "entries.validation is journal entry .* a project_register; the validation "
                   "of a unit's provenance is a project_validate")
    edited = copy.deepcopy(bundle)
    entry = json.loads(edited["entries"]["issuance"]["entry"])
    entry["instruction"]["fields"]["quantity"] = 9_500
    edited["entries"]["issuance"]["entry"] = json.dumps(entry, separators=(",", ":"),
                                                        sort_keys=True)
    signed.refused(edited, VerifyFailure.log_proof_failed, "is not in checkpoint 1's log")
    relabelled = copy.deepcopy(bundle)
    relabelled["batch"] = Q2
    signed.refused(relabelled, VerifyFailure.wrong_subject,
                   f"is for batch '{Q1}', but the bundle's batch is '{Q2}'")


def test_a_lot_of_another_batch_or_serial_is_refused(signed: Signed) -> None:
    bundle = prove_provenance(signed.prover, Q1, 5_000)
    q2_lot = prove_provenance(signed.prover, Q2, 1)["lot"]
    other_batch = copy.deepcopy(bundle)
    other_batch["lot"] = q2_lot
    signed.refused(other_batch, VerifyFailure.wrong_subject,
                   f"lot {q2_lot['lot']} is of batch '{Q2}', but the bundle's batch is '{Q1}'")
    pledged_lot = prove_provenance(signed.prover, Q1, 251)["lot"]
    other_serial = copy.deepcopy(bundle)
    other_serial["lot"] = pledged_lot
    signed.refused(other_serial, VerifyFailure.wrong_subject,
                   f"lot {pledged_lot['lot']} holds serials 251..1250 of batch {Q1}, not "
                   "serial 5000")
    moved = copy.deepcopy(bundle)
    moved["serial"] = 9_001
    signed.refused(moved, VerifyFailure.wrong_subject, "not serial 9001")
    absent = copy.deepcopy(bundle)
    absent["lot"] = {name: value for name, value in signed.prover.lot("0.0").items()
                     if name in ("lot", "state")}
    signed.refused(absent, VerifyFailure.incomplete_evidence,
                   "lot 0.0 was not live at checkpoint 1: it holds no serial there")


# --- the command ------------------------------------------------------------------------------

def test_proof_provenance_writes_the_bundle_and_says_what_it_proves(
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

    path = tmp_path / "provenance.json"
    result = runner.invoke(main, [*cli, "proof", "provenance", Q1, "251", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert f"serial 251 of batch {Q1}: at checkpoint 1" in result.stderr
    assert "pledged in account GW, under lien P-GW" in result.stderr
    assert json.loads(path.read_text())["kind"] == "provenance"
    result = runner.invoke(main, [*cli, "verify", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, [*cli, "proof", "provenance", Q1, "9001"])
    assert result.exit_code != 0 and f"batch {Q1} has no serial 9001" in result.output, \
        result.output
    result = runner.invoke(main, [*cli, "proof", "provenance", Q1, "0"])
    assert result.exit_code != 0, result.output


def test_a_retired_units_proof_is_public_over_http(signed: Signed) -> None:
    """Where a retired unit came from is public: no token is asked for, and the bundle handed
    out verifies against the operator's key. A unit still held shows its holder's account, so
    its proof is read as that account is (no token: 401). A serial beyond the batch is a 404
    that names it."""
    service = LedgerService(Parts(signed.world.ledger, operator=signed.checkpointer.operator))
    committer = DirectCommitter(service)
    try:
        with TestClient(create_app(service, committer=committer)) as http:
            answer = http.get("/v1/proofs/provenance", params={"subject": [Q1, "150"]})
            assert answer.status_code == 200, answer.text
            assert signed.verify(answer.json()).startswith(f"serial 150 of batch {Q1}: ")
            problem_of(http.get("/v1/proofs/provenance", params={"subject": [Q1, "251"]}),
                       401)  # pledged, in GW
            missing = problem_of(http.get("/v1/proofs/provenance",
                                          params={"subject": [Q1, "9001"]}), 404)
            assert missing["code"] == "unit_not_found"
            assert f"batch {Q1} has no serial 9001" in missing["detail"]
            problem_of(http.get("/v1/proofs/provenance", params={"subject": [Q1, "0"]}), 422)
            problem_of(http.get("/v1/proofs/provenance", params={"subject": [Q1]}), 422)
    finally:
        committer.close()
