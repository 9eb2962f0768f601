"""A year's plan is provable: the `allocation` bundle carries the `allocation_plan` leaf's proof
at a checkpoint, and anyone checks from it alone that the plan keeps its cap — issued − taken
back + reserve + to auction within the cap, the volume on offer within the volume to auction,
each sector's free allocation within its free cap and what is still to come within the cap.
With an installation, it carries that installation's allocation leaf and the journal entries its
figures rest on (the scheme's rules, the verified outputs, a closure), and the verifier
recomputes the pre-allocation and the final figure with the auditor's own copy of the rule,
which must equal allocation/benchmark.py's.

The year is tests/allocation/test_year.py's, to its true-ups. A plan that breaks a rule can only
be signed by a dishonest operator: those cases re-sign the checkpoint over the changed leaf
with the test operator key of tests/conformance/forge.py, so that the rule, not the proof, is
what refuses them."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from allocation import benchmark
from allocation.installation_leaf_store import installation_allocation_key as ledger_key
from allocation.plan_leaf_store import plan_key as ledger_plan_key
from allocation.sectors import SectorPlan
from anchoring.auditor import allocation_rule, smt
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.verify import verify_bundle
from anchoring.auditor.verify_installation_allocation import installation_allocation_key
from anchoring.auditor.verify_plan import plan_key
from anchoring.operator.allocation_evidence import (
    InstallationAllocationNotFound,
    PlanNotFound,
    prove_allocation,
)
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.errors import OperatorFailure
from api.bootstrap import build, registry_wallet
from api.cli import main
from api.client import Client, HttpTransport
from api.config import load_config
from api.http import create_app
from custody.keystore import read_keystore
from custody.signatures import address_of
from ledger.client import Wallet
from tests.allocation.helpers import power_sector, row, set_plan, steel_sector, verify_output
from tests.allocation.test_year import TARGETS_2026, announce, at, bid
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.anchoring.test_bundle_schemas import schema_errors, validator
from tests.api.http.conftest import login_over, problem_of
from tests.api.test_allocation_cli import PASSWORD, SECTORS, YEAR, allocation_market
from tests.conformance.forge import canonical, operator_key, record_change, resigned, with_state
from tests.world import OPERATIONS, World

Bundle = dict[str, Any]
KINDS = tuple(OPERATIONS.bundle_kinds.values())


def as_read(bundle: Bundle) -> Bundle:
    result: Bundle = json.loads(json.dumps(bundle))  # as a reader receives it
    return result


def allocation_year(world: World) -> Checkpointer:
    """test_year.py's 2026, to its true-ups, and a checkpoint cut after: 1,693,610 t issued,
    175,270 t taken back, 200,000 t in reserve and 150,000 t still to auction under a cap of
    3,000,000 t."""
    verify_output(world, "HN-1", 2025, "1000000")
    verify_output(world, "HN-2", 2025, "500000")
    verify_output(world, "BW-1", 2025, "200000", unit="t")
    set_plan(world, 2026, cap=3_000_000, reserve=300_000, auction=400_000,
             sectors=[power_sector(1_800_000, "0.8218"), steel_sector(400_000, "1.8")])
    world.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2026, batch="PRE-26",
             targets=json.dumps(TARGETS_2026))
    announce(world, "AUC-1", 200_000, "2026-03-10T01:30:00Z", "2026-03-10T03:30:00Z")
    at(world, "2026-03-10T02:00:00Z")
    bid(world, "huaneng", "AUC-1", "h1", "HN-T", 100_000, 6_000)
    bid(world, "icbc", "AUC-1", "i1", "IC-T", 100_000, 5_500)
    at(world, "2026-03-10T04:00:00Z")
    world.by("registry", "auction_clear", auction="AUC-1")
    world.by("registry", "market_figures_publish", figures="MF-2026-04", scheme="CN-ETS",
             period="2026-04", averagePrice=11_000, surplus=900_000,
             source="Shanghai Environment and Energy Exchange")
    world.by("registry", "reserve_release", scheme="CN-ETS", year=2026, quantity=100_000,
             figures="MF-2026-04", reason="average price above 100 CNY/t in April")
    at(world, "2026-05-11T00:00:00Z")
    announce(world, "AUC-2", 150_000, "2026-05-12T01:30:00Z", "2026-05-12T03:30:00Z")
    at(world, "2026-05-12T02:00:00Z")
    bid(world, "huaneng", "AUC-2", "h1", "HN-T", 50_000, 4_500)
    at(world, "2026-05-12T04:00:00Z")
    world.by("registry", "auction_clear", auction="AUC-2")  # undersubscribed: 50,000 t sold
    world.by("baowu", "transfer", fromAccount="BW", toAccount="IC-T", batch="PRE-26",
             quantity=200_000, serialFirst=0, serialLast=0)
    at(world, "2027-02-01T02:00:00Z")
    verify_output(world, "HN-1", 2026, "1100000")
    verify_output(world, "HN-2", 2026, "200000")
    verify_output(world, "BW-1", 2026, "50000", unit="t")
    world.by("registry", "allocation_true_up", scheme="CN-ETS", year=2026, batch="TU-26",
             targets=json.dumps(TARGETS_2026))
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    return checkpointer


@pytest.fixture
def proven(market: World) -> tuple[Checkpointer, Bundle]:
    checkpointer = allocation_year(market)
    return checkpointer, prove_allocation(Prover(market.store, checkpointer.state), "CN-ETS",
                                          2026)


def statement(bundle: Bundle, operator: str) -> str:
    return verify_bundle(as_read(bundle), operator, KINDS).statement


def refused(bundle: Bundle, operator: str, code: VerifyFailure, match: str) -> None:
    with pytest.raises(VerificationFailed, match=match) as failed:
        verify_bundle(as_read(bundle), operator, KINDS)
    assert failed.value.code is code, failed.value


def signed_dishonestly(bundle: Bundle, change: Callable[[dict[str, Any]], object]
                       ) -> tuple[Bundle, str]:
    """The bundle with its plan changed by `change` and a checkpoint signed over it by the
    test operator key: (the bundle, the operator to trust)."""
    forged = with_state(bundle, record_change(change))
    operator = address_of(operator_key())
    forged["operator"] = operator
    return forged, operator


def test_the_plan_of_a_year_verifies_with_its_figures(
        any_market: World) -> None:
    checkpointer = allocation_year(any_market)
    bundle = prove_allocation(Prover(any_market.store, checkpointer.state), "CN-ETS", 2026)
    said = statement(bundle, checkpointer.operator)
    assert "the 2026 plan holds: 1,868,340 t of 3,000,000 t committed" in said
    assert ("1,693,610 t issued − 175,270 t taken back + 200,000 t in reserve + 150,000 t to "
            "auction, of which 0 t on offer") in said
    # HN-1 903,980 + HN-2 164,360 in power; in steel, what BW-1 kept of its 252,000 t: its
    # true-up could take back only 52,000 t, and the rest is its debt
    assert "power 1,068,340 t of 1,800,000 t; steel 200,000 t of 400,000 t" in said
    assert "931,660 t still to come within the cap" in said
    plan = json.loads(bundle["state"]["value"])
    stored = row(any_market, "allocation_plans", "CN-ETS", 2026)
    assert {name: plan[name] for name in ("cap", "issued", "taken_back", "reserve",
                                          "to_auction", "on_offer")} == \
        {name: stored[name] for name in ("cap", "issued", "taken_back", "reserve",
                                         "to_auction", "on_offer")}
    assert plan_key("CN-ETS", 2026) == ledger_plan_key(("CN-ETS", "2026"))


def test_the_bundle_and_its_record_follow_their_schemas(
        proven: tuple[Checkpointer, Bundle]) -> None:
    _checkpointer, bundle = proven
    assert schema_errors(as_read(bundle)) == []
    assert validator("record-allocation-plan").is_valid(json.loads(bundle["state"]["value"]))
    plan = json.loads(bundle["state"]["value"])
    assert not validator("record-allocation-plan").is_valid({**plan, "issued": -1})
    assert not validator("record-allocation-plan").is_valid({**plan, "extra": 1})
    assert schema_errors({**as_read(bundle), "year": "2026"})
    assert schema_errors({**as_read(bundle), "installation": "HN-1"})


def test_a_changed_leaf_value_breaks_the_state_proof(
        proven: tuple[Checkpointer, Bundle]) -> None:
    checkpointer, bundle = proven
    changed = copy.deepcopy(bundle)
    plan = json.loads(changed["state"]["value"])
    plan["issued"] -= 1
    changed["state"]["value"] = json.dumps(plan, sort_keys=True, separators=(",", ":"),
                                           ensure_ascii=False)
    refused(changed, checkpointer.operator, VerifyFailure.state_proof_failed,
            "does not hold at checkpoint 1")


def test_another_plan_or_year_is_another_subject(proven: tuple[Checkpointer, Bundle]) -> None:
    checkpointer, bundle = proven
    refused({**bundle, "year": 2027}, checkpointer.operator, VerifyFailure.wrong_subject,
            "has key")
    refused({**bundle, "scheme": "GD-ETS"}, checkpointer.operator, VerifyFailure.wrong_subject,
            "has key")
    refused({**bundle, "year": True}, checkpointer.operator, VerifyFailure.wrong_type,
            "year must be an integer")


@pytest.mark.parametrize(("change", "verdict"), [
    (lambda plan: plan.update(to_auction=plan["to_auction"] + 1_131_661), "cap exceeded"),
    (lambda plan: plan.update(on_offer=plan["to_auction"] + 1),
     "offer exceeds volume to auction"),
    (lambda plan: plan["sectors"][1].update(allocated=400_001), "sector over its free cap"),
    (lambda plan: plan.update(taken_back=plan["issued"] + 1), "more taken back than issued"),
    (lambda plan: plan["sectors"][0].update(allocated=1_318_341),
     "free allocation exceeds units issued"),
    (lambda plan: plan["sectors"][0].update(free_cap=1_800_000 + 200_001),
     "free caps exceed the cap"),
], ids=["counter", "on_offer", "free_cap", "taken_back", "allocated", "free_caps"])
def test_a_plan_that_breaks_a_rule_is_refused_by_name(
        proven: tuple[Checkpointer, Bundle], change: Callable[[dict[str, Any]], object],
        verdict: str) -> None:
    _checkpointer, bundle = proven
    forged, operator = signed_dishonestly(bundle, change)
    refused(forged, operator, VerifyFailure.incomplete_evidence, verdict)


def test_the_edges_of_the_rules_still_hold(proven: tuple[Checkpointer, Bundle]) -> None:
    """Each figure may reach its bound: the rules are ≤, not <."""
    _checkpointer, bundle = proven
    # 1,868,340 t outstanding + 931,660 t still free: 200,000 t of the cap are left to use
    forged, operator = signed_dishonestly(bundle, lambda plan: plan.update(
        reserve=plan["reserve"] + 200_000, on_offer=plan["to_auction"]))
    assert "the 2026 plan holds: 2,068,340 t of 3,000,000 t" in statement(forged, operator)


def test_a_malformed_plan_record_is_refused(proven: tuple[Checkpointer, Bundle]) -> None:
    _checkpointer, bundle = proven
    for change, match in [
        (lambda plan: plan.pop("amendments"), "exactly the fields"),
        (lambda plan: plan.update(cap="3000000"), "has cap"),
        (lambda plan: plan.update(reserve=-1), "negative reserve"),
        (lambda plan: plan["sectors"].append(plan["sectors"][0]), "names a sector twice"),
    ]:
        forged, operator = signed_dishonestly(bundle, change)
        refused(forged, operator, VerifyFailure.malformed_record, match)


def test_a_plan_not_set_at_the_checkpoint_has_no_bundle(market: World) -> None:
    set_plan(market, 2026)
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    prover = Prover(market.store, checkpointer.state)
    with pytest.raises(PlanNotFound, match="no CN-ETS plan for 2027 at checkpoint 1") as found:
        prove_allocation(prover, "CN-ETS", 2027)
    assert found.value.code is OperatorFailure.plan_not_found
    absent = prove_allocation(prover, "CN-ETS", 2026)
    absent = {**absent, "year": 2027,
              "state": {**absent["state"], "key": plan_key("CN-ETS", 2027).hex(),
                        "value": None,
                        "proof": checkpointer.state.snapshot(1).prove(  # type: ignore[union-attr]
                            plan_key("CN-ETS", 2027)).to_dict()}}
    refused(absent, checkpointer.operator, VerifyFailure.incomplete_evidence,
            "the CN-ETS plan for 2027 did not exist at checkpoint 1")


# --- an installation's allocation -------------------------------------------------------------

def prove_installation(world: World, checkpointer: Checkpointer, installation: str,
                       year: int = 2026) -> Bundle:
    return prove_allocation(Prover(world.store, checkpointer.state), "CN-ETS", year,
                            installation=installation)


def signed_with(bundle: Bundle, plan: Callable[[dict[str, Any]], object] = lambda _: None,
                allocation: Callable[[dict[str, Any]], object] = lambda _: None
                ) -> tuple[Bundle, str]:
    """The bundle with its plan and its installation's record changed, and a checkpoint
    signed over both by the test operator key (its log, and so every entry's proof, kept)."""
    forged = copy.deepcopy(bundle)
    states = [forged["state"], forged["installation"]["state"]]
    for state, change in zip(states, (plan, allocation), strict=True):
        record = json.loads(state["value"])
        change(record)
        state["value"] = canonical(record)
    tree = smt.SparseMerkleTree.from_items(
        [(bytes.fromhex(state["key"]), state["value"].encode()) for state in states])
    for state in states:
        state["proof"] = tree.prove(bytes.fromhex(state["key"])).to_dict()
    forged["checkpoint"] = resigned(forged["checkpoint"], state_root=tree.root)
    forged["operator"] = address_of(operator_key())
    return forged, forged["operator"]


def test_an_installations_allocation_verifies_from_its_entries(any_market: World) -> None:
    checkpointer = allocation_year(any_market)
    bundle = prove_installation(any_market, checkpointer, "HN-1")
    said = statement(bundle, checkpointer.operator)
    assert "the 2026 plan holds: 1,868,340 t of 3,000,000 t" in said
    # 1,000,000 MWh x 0.8218 x 1 x 70% = 575,260 t; 1,100,000 MWh x 0.8218 x 1 = 903,980 t
    assert ("pre-allocated 575,260 t = 1000000 MWh (2025, entry " in said
            and "× 0.8218 × 1 × 7000 bp (rules entry 0)" in said)
    assert "trued up to 903,980 t = 1100000 MWh (2026, entry " in said
    assert "received 903,980 t (issued 903,980 t, taken back 0 t" in said
    links = {link: None if item is None else json.loads(item["entry"])["instruction"]["op"]
             for link, item in bundle["installation"]["entries"].items()}
    assert links == {"rules": "genesis", "output_before": "output_verify",
                     "output": "output_verify", "closure": None}
    assert installation_allocation_key("HN-1", 2026) == ledger_key(("HN-1", "2026"))
    assert schema_errors(as_read(bundle)) == []
    assert validator("record-installation-allocation").is_valid(
        json.loads(bundle["installation"]["state"]["value"]))
    for item in bundle["installation"]["entries"].values():
        if item is not None:
            assert validator("journal-entry").is_valid(json.loads(item["entry"]))


def test_a_shortfall_owed_as_debt_is_counted_as_given_back(
        proven: tuple[Checkpointer, Bundle], market: World) -> None:
    checkpointer, _plan = proven
    bundle = prove_installation(market, checkpointer, "BW-1")
    said = statement(bundle, checkpointer.operator)
    # 200,000 t x 1.8 x 70% = 252,000 t; 50,000 t x 1.8 = 90,000 t: 52,000 t taken back and
    # 110,000 t (sold before the true-up) owed
    assert "pre-allocated 252,000 t = 200000 t (2025, entry " in said
    assert "trued up to 90,000 t = 50000 t (2026, entry " in said
    assert ("received 90,000 t (issued 252,000 t, taken back 52,000 t, debt applied 0 t, "
            "debt created 110,000 t; debt after 110,000 t)") in said


def test_a_debt_applied_counts_as_received_before_the_true_up(
        proven: tuple[Checkpointer, Bundle], market: World) -> None:
    checkpointer, _plan = proven
    set_plan(market, 2027, cap=3_000_000, reserve=300_000, auction=400_000,
             sectors=[power_sector(1_800_000, "0.8218"), steel_sector(400_000, "1.8")])
    market.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2027,
              batch="PRE-27", targets=json.dumps([["BW-1", "BW"]]))
    checkpointer.cut()
    bundle = prove_installation(market, checkpointer, "BW-1", 2027)
    said = statement(bundle, checkpointer.operator)
    # 50,000 t x 1.8 x 70% = 63,000 t, all of it paid against the debt
    assert "pre-allocated 63,000 t = 50000 t (2026, entry " in said
    assert "not trued up yet; received 63,000 t (issued 0 t" in said
    assert bundle["installation"]["entries"]["output"] is None
    forged, operator = signed_with(bundle, allocation=lambda r: r.update(issued=1))
    refused(forged, operator, VerifyFailure.incomplete_evidence, "issued differs")


def test_an_installation_without_an_allocation_has_no_bundle(
        proven: tuple[Checkpointer, Bundle], market: World) -> None:
    checkpointer, _plan = proven
    with pytest.raises(InstallationAllocationNotFound, match="HN-9 had no allocation") as found:
        prove_installation(market, checkpointer, "HN-9")
    assert found.value.code is OperatorFailure.installation_allocation_not_found


@pytest.fixture
def hn1(proven: tuple[Checkpointer, Bundle], market: World) -> tuple[Checkpointer, Bundle]:
    checkpointer, _plan = proven
    return checkpointer, prove_installation(market, checkpointer, "HN-1")


@pytest.mark.parametrize("link", ["rules", "output_before", "output"])
def test_an_entry_dropped_is_refused(hn1: tuple[Checkpointer, Bundle], link: str) -> None:
    checkpointer, bundle = hn1
    dropped = copy.deepcopy(bundle)
    dropped["installation"]["entries"][link] = None
    refused(dropped, checkpointer.operator, VerifyFailure.incomplete_evidence, "entry dropped")


def test_an_entry_of_another_installation_or_year_is_refused(
        hn1: tuple[Checkpointer, Bundle]) -> None:
    checkpointer, bundle = hn1
    entries = bundle["installation"]["entries"]
    swapped = copy.deepcopy(bundle)
    swapped["installation"]["entries"]["output"] = entries["output_before"]
    refused(swapped, checkpointer.operator, VerifyFailure.wrong_subject,
            "the output of 'HN-1' for 2025, not of HN-1 for 2026")
    wrong_op = copy.deepcopy(bundle)
    wrong_op["installation"]["entries"]["rules"] = entries["output"]
    refused(wrong_op, checkpointer.operator, VerifyFailure.incomplete_evidence,
            "it must be a genesis or set_scheme_rules")
    broken = copy.deepcopy(bundle)
    broken["installation"]["entries"]["output"]["inclusion"]["hashes"][0] = "00" * 32
    refused(broken, checkpointer.operator, VerifyFailure.log_proof_failed, "is not in")


def test_a_changed_leaf_value_of_the_allocation_breaks_its_proof(
        hn1: tuple[Checkpointer, Bundle]) -> None:
    checkpointer, bundle = hn1
    changed = copy.deepcopy(bundle)
    record = json.loads(changed["installation"]["state"]["value"])
    record["final"] += 1
    changed["installation"]["state"]["value"] = canonical(record)
    refused(changed, checkpointer.operator, VerifyFailure.state_proof_failed,
            "HN-1's allocation for 2026 does not hold")


@pytest.mark.parametrize(("plan", "allocation", "verdict"), [
    (lambda p: None, lambda r: r.update(preallocated=575_261), "pre-allocation differs"),
    (lambda p: None, lambda r: r.update(final=903_979, issued=903_979), "final differs"),
    (lambda p: None, lambda r: r.update(issued=903_981), "issued differs"),
    (lambda p: None, lambda r: r.update(debt_applied=1), "issued differs"),
    (lambda p: p["sectors"][0].update(benchmark="0.8219"), lambda r: None,
     "pre-allocation differs"),
    (lambda p: p["sectors"][0].update(factors={"load": "1.001"}), lambda r: None,
     "pre-allocation differs"),
    (lambda p: p["sectors"][0].update(output_unit="GJ"), lambda r: None, "not an output in GJ"),
    (lambda p: None, lambda r: r.update(sector="cement"), "sector not in plan"),
    (lambda p: None, lambda r: r.update(source="new_entrant"), "a new entrant's stated"),
], ids=["preallocated", "final", "issued", "debt_applied", "benchmark", "factors", "unit",
        "sector", "source"])
def test_a_figure_that_does_not_recompute_is_refused_by_name(
        hn1: tuple[Checkpointer, Bundle], plan: Callable[[dict[str, Any]], object],
        allocation: Callable[[dict[str, Any]], object], verdict: str) -> None:
    _checkpointer, bundle = hn1
    forged, operator = signed_with(bundle, plan, allocation)
    refused(forged, operator, VerifyFailure.incomplete_evidence, verdict)


def test_the_forged_checkpoint_alone_still_verifies(hn1: tuple[Checkpointer, Bundle]) -> None:
    """The forgeries above differ from the bundle only by what they change."""
    _checkpointer, bundle = hn1
    forged, operator = signed_with(bundle)
    assert "trued up to 903,980 t" in statement(forged, operator)


def test_a_plan_for_another_scheme_does_not_carry_the_allocation(
        hn1: tuple[Checkpointer, Bundle]) -> None:
    _checkpointer, bundle = hn1
    forged, operator = signed_with(bundle, allocation=lambda r: r.update(scheme="CN-GD"))
    refused(forged, operator, VerifyFailure.wrong_subject, "in CN-ETS")


def test_a_closure_and_a_new_entrant_rest_on_their_own_entries(market: World) -> None:
    verify_output(market, "HN-1", 2025, "1000000")
    set_plan(market, 2026)
    market.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2026, batch="PRE-26",
              targets=json.dumps([["HN-1", "HN"]]))
    market.by("registry", "new_entrant_allocate", scheme="CN-ETS", year=2026,
              installation="HN-2", account="HN", batch="NE-1", quantity=1_000,
              reason="unit 2 commissioned in March")
    market.by("registry", "installation_close", installation="HN-1", lastYear=2025,
              reason="decommissioned under the capacity plan")
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    closed = prove_installation(market, checkpointer, "HN-1")
    said = statement(closed, checkpointer.operator)
    assert "pre-allocated 575,260 t" in said and "settled at 0 t by the closure in entry" in said
    assert "received 0 t (issued 575,260 t, taken back 575,260 t" in said
    forged, operator = signed_with(closed, allocation=lambda r: r.update(
        final=1, taken_back=575_259))
    refused(forged, operator, VerifyFailure.incomplete_evidence, "final differs")
    entrant = prove_installation(market, checkpointer, "HN-2")
    assert entrant["installation"]["entries"] == {"rules": None, "output_before": None,
                                                   "output": None, "closure": None}
    assert "1,000 t as a new entrant (a stated quantity); not trued up yet; received 1,000 t" \
        in statement(entrant, checkpointer.operator)
    with_rules = copy.deepcopy(entrant)
    with_rules["installation"]["entries"]["rules"] = \
        closed["installation"]["entries"]["rules"]
    refused(with_rules, checkpointer.operator, VerifyFailure.incomplete_evidence,
            "rests on no output or share")


# --- over HTTP and the command line ----------------------------------------------------------

def test_the_plan_is_public_and_an_installations_share_its_emitters(tmp_path: Path) -> None:
    """Over HTTP, as the reads are guarded: a plan's bundle for anyone; with an installation,
    for its emitter, the registry and auditors. Then `carbonledger proof allocation`. Its
    scheme's rules were set by set_scheme_rules: that entry carries the share."""
    data_dir = tmp_path / "ledger"
    allocation_market(data_dir)
    with build(load_config(data_dir), data_dir, password=lambda: PASSWORD) as app, \
            TestClient(create_app(app.service)) as http:
        registry = registry_wallet(app.config, data_dir, PASSWORD)
        wallets = {"registry": registry, **{
            name: Wallet(read_keystore(data_dir / "keystores" / f"{name}.json", PASSWORD),
                         registry.domain) for name in ("huaneng", "baowu", "cec")}}

        def by(who: str, op: str, /, **fields: Any) -> None:
            client = Client(HttpTransport("http://test", http=http,
                                          operations=app.service.operations))
            signed = client.sign(client.instruction(op, **fields), wallets[who])
            answer = http.post("/v1/instructions", json=signed.as_json())
            assert answer.status_code == 200, answer.text

        def get(path: str, who: str | None = None) -> Any:
            headers = {} if who is None else {
                "Authorization": f"Bearer {login_over(http, wallets[who], who)}"}
            return http.get(path, headers=headers)

        by("registry", "allocation_plan_set", scheme="CN-ETS", year=YEAR, cap=2_000_000,
           reserve=100_000, auction=300_000, sectors=json.dumps(SECTORS))
        by("cec", "output_verify", verifier="cec", installation="HN-1", year=YEAR - 1,
           output="1000000", unit="MWh")
        by("registry", "allocation_preallocate", scheme="CN-ETS", year=YEAR, batch="P",
           targets=json.dumps([["HN-1", "HN-C"]]))
        app.service.cut_checkpoint()
        plan = get(f"/v1/proofs/allocation?subject=CN-ETS&subject={YEAR}")  # no token
        assert plan.status_code == 200, plan.text
        operator = app.service.operator
        assert f"the {YEAR} plan holds" in app.service.verify(plan.json(), operator).statement
        path = f"/v1/proofs/allocation?subject=CN-ETS&subject={YEAR}&subject=HN-1"
        problem_of(get(path), 401)
        for who in ("baowu", "cec"):
            assert problem_of(get(path, who), 403)["code"] == "record_forbidden"
        for who in ("huaneng", "registry"):
            answer = get(path, who)
            assert answer.status_code == 200, answer.text
            said = app.service.verify(answer.json(), operator).statement
            # 1,000,000 MWh x 0.8218 x 1.012 x 70% = 582,163.12 t
            assert "pre-allocated 582,163 t = 1000000 MWh" in said
        rules = json.loads(answer.json()["installation"]["entries"]["rules"]["entry"])
        assert rules["instruction"]["op"] == "set_scheme_rules"
        missing = get(f"/v1/proofs/allocation?subject=CN-ETS&subject={YEAR + 1}")
        assert problem_of(missing, 404)["code"] == "plan_not_found"
        absent = get(f"/v1/proofs/allocation?subject=CN-ETS&subject={YEAR}&subject=BW-1",
                     "registry")
        assert problem_of(absent, 404)["code"] == "installation_allocation_not_found"
    command = CliRunner(env={"CARBONLEDGER_PASSWORD": PASSWORD})
    bundle = tmp_path / "HN-1.json"
    written = command.invoke(main, ["--data-dir", str(data_dir), "proof", "allocation",
                                    "CN-ETS", str(YEAR), "--installation", "HN-1", "-o",
                                    str(bundle)])
    assert written.exit_code == 0, written.output
    assert "pre-allocated 582,163 t" in written.output
    verified = command.invoke(main, ["--data-dir", str(data_dir), "verify", str(bundle)])
    assert verified.exit_code == 0, verified.output
    assert f"the {YEAR} plan holds: 982,163 t of 2,000,000 t committed" in verified.output
    assert "× 1.012 × 7000 bp (rules entry 1)" in verified.output


# --- the rule, twice -------------------------------------------------------------------------

def _decimal(rng: random.Random) -> str:
    digits = rng.choice([1, 2, 4, 7, 12, 20])
    text = str(rng.randrange(10 ** digits))
    point = rng.randrange(len(text) + 1)
    return f"{text[:point] or '0'}.{text[point:]}" if point < len(text) else text


def test_the_auditors_rule_is_the_ledgers_on_many_figures() -> None:
    rng = random.Random(20261207)
    cases = [("0.5", "1", [], 10_000), ("2.5", "1", [], 10_000), ("1", "0.00005", [], 10_000),
             ("100000.4999999999994999", "1", [], 10_000), ("0", "0.8218", ["1.012"], 7000),
             ("1000000", "0.8218", ["1"], 7000), ("123456789.123456789", "1.8", [], 1)]
    cases += [(_decimal(rng), _decimal(rng), [_decimal(rng) for _ in range(rng.randrange(4))],
               rng.randrange(10_001)) for _ in range(3_000)]
    for output, bench, factors, share in cases:
        sector = SectorPlan("s", 0, Decimal(bench), "t",
                            tuple((f"f{i}", Decimal(f)) for i, f in enumerate(factors)))
        assert allocation_rule.allocation_tonnes(output, bench, factors, share) == \
            benchmark.allocation_tonnes(Decimal(output), sector, share), (output, bench,
                                                                          factors, share)


@pytest.mark.parametrize("text", ["NaN", "-1", "Infinity", "1e", ""])
def test_the_auditors_rule_refuses_what_is_not_a_figure(text: str) -> None:
    with pytest.raises(ValueError, match="decimal"):
        allocation_rule.allocation_tonnes(text, "1", [])
