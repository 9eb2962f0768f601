"""Every emissions figure is as provable as a holding: monthly submissions and obligations are
leaves of the state commitment that checkpoints sign. A submission is proven with the entry
that journaled it, an obligation with its record, a year's disclosure row by row; each bundle
verifies offline, and a bundle whose record, entry or row was altered is refused with its
reason. An obligation edited in the database is refused by the next cut's transition check
(docs/adr/0008), and the audit, which recomputes the leaves from its replay, passes."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from anchoring.audit import audit
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.records import check_record
from anchoring.auditor.smt import SparseMerkleTree
from anchoring.auditor.verify import verify_bundle
from anchoring.auditor.verify_compliance import emissions_key, obligation_key
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.compliance_evidence import (
    ComplianceRecordNotFound,
    prove_disclosure,
    prove_emissions,
    prove_obligation,
    prove_published,
)
from anchoring.operator.errors import NotCheckpointed, TransitionDiffers
from anchoring.operator.state_versions import leaves_at
from api.bootstrap import init_ledger, open_ledger, registry_wallet
from api.cli import main
from api.config import load_config
from compliance.queries import disclosure
from ledger.canonical import canonical_json
from ledger.clock import FixedClock
from ledger.replay import replay_check
from ledger.store.state_leaves import all_leaves
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.compliance.helpers import (
    monthly,
    qualify,
    register_installation,
    report,
    submit_year,
    verify,
)
from tests.isolation import LEDGER_AND_DATABASES, run_without
from tests.world import OPERATIONS, World

Bundle = dict[str, Any]
KINDS = tuple(OPERATIONS.bundle_kinds.values())
CORRECTED = "HN-1:2025-03"
CORRECTION = "HN-1:2025-03:corrected"


@dataclass
class Cycle:
    """A year's cycle on the ledger, with a checkpointer that signs it."""

    world: World
    checkpointer: Checkpointer

    @property
    def operator(self) -> str:
        return self.checkpointer.operator

    @property
    def prover(self) -> Prover:
        return Prover(self.world.store, self.checkpointer.state)

    def verify(self, bundle: Bundle) -> str:
        return verify_bundle(_as_read(bundle), self.operator, KINDS).statement

    def refused(self, bundle: Bundle, code: VerifyFailure, match: str) -> None:
        with pytest.raises(VerificationFailed, match=match) as refused:
            verify_bundle(_as_read(bundle), self.operator, KINDS)
        assert refused.value.code is code, refused.value

    def signed_leaf(self, number: int, key: bytes) -> dict[str, Any] | None:
        with self.world.store.read() as tx:
            value = dict(leaves_at(tx, number)).get(key)
        return None if value is None else json.loads(value)


def _as_read(bundle: Bundle) -> Bundle:
    result: Bundle = json.loads(json.dumps(bundle))  # as a reader receives it
    return result


def year_2025(world: World) -> None:
    """Huaneng: a year of HN-1 and HN-2 at 100 t a month, March of HN-1 corrected to 110 t;
    verified at 2,410 t; 2,000 t of allowances and 100 t of CCER surrendered (310 t owed).
    Baowu: a year of BW-1 at 100 t a month; verified at 1,200 t and met with allowances."""
    qualify(world, sector="power")
    qualify(world, sector="steel")
    huaneng = [*submit_year(world, "huaneng", "HN-1", 2025, 100_000),
               *submit_year(world, "huaneng", "HN-2", 2025, 100_000)]
    world.by("huaneng", "monthly_submit", **monthly(CORRECTION, "HN-1", "2025-03", 110_000,
                                                    supersedes=CORRECTED))
    report(world, "huaneng", 2025, [CORRECTION if s == CORRECTED else s for s in huaneng])
    report(world, "baowu", 2025, submit_year(world, "baowu", "BW-1", 2025, 100_000))
    verify(world, "huaneng", 2025, 2_410)
    verify(world, "baowu", 2025, 1_200)
    world.allocate("A25", "HN", 3_000)
    world.issue_credits("C1", "HN", 200)
    world.allocate("B25", "BW", 1_200)
    surrender(world, "huaneng", "HN", "A25", 2_000)
    surrender(world, "huaneng", "HN", "C1", 100)
    surrender(world, "baowu", "BW", "B25", 1_200)


def surrender(world: World, who: str, account: str, batch: str, quantity: int,
              year: int = 2025) -> None:
    world.by(who, "surrender", account=account, year=year, batch=batch, quantity=quantity,
             serialFirst=0, serialLast=0)


def signed_cycle(world: World) -> Cycle:
    year_2025(world)
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    return Cycle(world, checkpointer)


@pytest.fixture
def cycle(market: World) -> Cycle:
    return signed_cycle(market)


@pytest.fixture
def any_cycle(any_market: World) -> Cycle:
    """The cycle on SQLite and on PostgreSQL (the leaves' reads are SQL of both)."""
    return signed_cycle(any_market)


# --- the leaves ---------------------------------------------------------------------------------

def test_submissions_and_obligations_are_leaves_of_the_signed_state(cycle: Cycle) -> None:
    assert cycle.signed_leaf(1, emissions_key(CORRECTED)) == {
        "id": CORRECTED, "emitter": "huaneng", "installation": "HN-1", "month": "2025-03",
        "document_hash": "0x" + "ab" * 32, "total_kg": 100_000, "calibration_lapsed": False,
        "late": False, "supersedes": "", "superseded_by": CORRECTION}
    correction = cycle.signed_leaf(1, emissions_key(CORRECTION))
    assert correction is not None
    assert (correction["total_kg"], correction["supersedes"], correction["superseded_by"]) \
        == (110_000, CORRECTED, "")
    assert cycle.signed_leaf(1, obligation_key("huaneng", 2025)) == {
        "emitter": "huaneng", "year": 2025, "scheme": "CN-ETS", "obligation": 2_410,
        "allowances": 2_000, "credits": 100, "verifier": "cec", "verified_t": 2_410,
        "monthly_kg": 2_410_000, "flagged": False}
    with cycle.world.store.read() as tx:
        assert sum(1 for _ in OPERATIONS.leaf_kinds["emissions"].read_all(tx)) == 37
        root = SparseMerkleTree.from_items(all_leaves(tx, OPERATIONS.leaf_kinds.values())).root
    assert cycle.checkpointer.state.root == root  # the root signed is the tables' full read


def test_a_later_cut_rereads_what_the_entries_since_changed(any_cycle: Cycle) -> None:
    cycle, world = any_cycle, any_cycle.world
    # an account opened since the checkpoint: its holder comes from the entry, not the state
    world.by("registry", "open_account", account="HN-B", participant="huaneng",
             accountType="compliance")
    world.allocate("A25B", "HN-B", 100)
    surrender(world, "huaneng", "HN-B", "A25B", 60)
    surrender(world, "huaneng", "HN", "A25", 40)
    # a correction changes the leaf of the submission it supersedes, too
    world.by("huaneng", "monthly_submit", **monthly("HN-2:2025-05:corrected", "HN-2",
                                                    "2025-05", 99_000,
                                                    supersedes="HN-2:2025-05"))
    second = cycle.checkpointer.cut()
    huaneng = cycle.signed_leaf(2, obligation_key("huaneng", 2025))
    assert huaneng is not None and huaneng["allowances"] == 2_100
    may = cycle.signed_leaf(2, emissions_key("HN-2:2025-05"))
    assert may is not None and may["superseded_by"] == "HN-2:2025-05:corrected"
    with world.store.read() as tx:
        assert second.state_root == SparseMerkleTree.from_items(
            all_leaves(tx, OPERATIONS.leaf_kinds.values())).root
    report_ = audit(world.store, OPERATIONS, cycle.operator)
    assert report_.ok, report_.first_discrepancy
    assert report_.checkpoints == 2
    replayed = replay_check(world.store, OPERATIONS)
    assert replayed.ok, replayed.first_difference


# --- the records' rules --------------------------------------------------------------------

EMISSIONS_RECORD = {"id": "S1", "emitter": "huaneng", "installation": "HN-1",
                    "month": "2025-03", "document_hash": "0x" + "ab" * 32, "total_kg": 0,
                    "calibration_lapsed": True, "late": False, "supersedes": "",
                    "superseded_by": "S2"}
OBLIGATION_RECORD = {"emitter": "huaneng", "year": 2025, "scheme": "CN-ETS",
                     "obligation": 10, "allowances": 9, "credits": 1, "verifier": "cec",
                     "verified_t": 10, "monthly_kg": 9_600, "flagged": False}


@pytest.mark.parametrize(("kind", "change", "says"), [
    ("emissions", {"month": "2025-13"}, "has month '2025-13'; want a month, YYYY-MM"),
    ("emissions", {"total_kg": -1}, "has total_kg -1; want an integer from 0"),
    ("emissions", {"late": 0}, "has late 0; want true or false"),
    ("emissions", {"document_hash": "0x" + "AB" * 32}, "has document_hash"),
    ("emissions", {"superseded_by": "S1"}, "supersedes, or is superseded by, itself"),
    ("emissions", {"note": "x"}, "unknown note"),
    ("obligation", {"year": "2025"}, "has year '2025'; want a year"),
    ("obligation", {"credits": 2}, "9 t of allowances and 2 t of credits surrendered against "
                                   "an obligation of 10 t"),
    ("obligation", {"verifier": ""}, "has verifier ''; want a participant's id"),
])
def test_a_record_outside_its_rules_is_refused(kind: str, change: dict[str, Any],
                                               says: str) -> None:
    honest = EMISSIONS_RECORD if kind == "emissions" else OBLIGATION_RECORD
    assert check_record(kind, honest, "it") == honest
    with pytest.raises(VerificationFailed, match=re.escape(says)) as refused:
        check_record(kind, {**honest, **change}, "it")
    assert refused.value.code is VerifyFailure.malformed_record


# --- emissions --------------------------------------------------------------------------------

def test_a_submission_is_proven_with_the_entry_that_journaled_it(cycle: Cycle) -> None:
    statement = cycle.verify(prove_emissions(cycle.prover, CORRECTION))
    for words in (f"monthly submission {CORRECTION}: huaneng's installation HN-1 emitted "
                  f"110000 kg CO2 in 2025-03 (document 0x{'ab' * 32}, correcting {CORRECTED}), "
                  "journaled by entry", "at checkpoint 1 (", ") it is in force"):
        assert words in statement, statement
    history = cycle.verify(prove_emissions(cycle.prover, CORRECTED))
    assert "emitted 100000 kg CO2 in 2025-03" in history, history
    assert history.endswith(f"it is superseded by {CORRECTION}"), history


def test_an_altered_emissions_bundle_is_refused(cycle: Cycle) -> None:
    honest = prove_emissions(cycle.prover, CORRECTION)

    inflated = copy.deepcopy(honest)
    record = json.loads(inflated["state"]["value"])
    inflated["state"]["value"] = canonical_json({**record, "total_kg": 1}).decode()
    cycle.refused(inflated, VerifyFailure.state_proof_failed,
                  f"the state proof of monthly submission {CORRECTION} does not hold")

    # another submission's entry, itself genuine and in the log
    other = prove_emissions(cycle.prover, "HN-2:2025-03")
    swapped = {**copy.deepcopy(honest), "entry": other["entry"]}
    cycle.refused(swapped, VerifyFailure.incomplete_evidence,
                  f"is not the monthly_submit of monthly submission {CORRECTION}")

    # the superseded submission's proof offered for its correction
    cycle.refused({**copy.deepcopy(honest), "submission": CORRECTED},
                  VerifyFailure.wrong_subject, "the proof is for key")

    with pytest.raises(ComplianceRecordNotFound, match="no monthly submission 'HN-9:2025-01'"):
        prove_emissions(cycle.prover, "HN-9:2025-01")


def test_a_submission_after_the_checkpoint_asks_for_one(cycle: Cycle) -> None:
    submit_year(cycle.world, "huaneng", "HN-1", 2026, 90_000)
    with pytest.raises(NotCheckpointed, match="monthly submission HN-1:2026-01 was journaled "
                                              r"by entry \d+, after checkpoint 1"):
        prove_emissions(cycle.prover, "HN-1:2026-01")
    cycle.checkpointer.cut()
    assert "emitted 90000 kg CO2 in 2026-01" in \
        cycle.verify(prove_emissions(cycle.prover, "HN-1:2026-01"))


# --- obligations ------------------------------------------------------------------------------

def test_an_obligation_is_proven_and_so_is_its_absence(cycle: Cycle) -> None:
    statement = cycle.verify(prove_obligation(cycle.prover, "huaneng", 2025))
    assert statement.startswith("huaneng's obligation for 2025 under CN-ETS at checkpoint "
                                "1 ("), statement
    for words in ("2410 t, the emissions verified by cec (2410000 kg in its monthly data)",
                  "surrendered 2000 t of allowances and 100 t of credits; 310 t still owed"):
        assert words in statement, statement
    assert cycle.verify(prove_obligation(cycle.prover, "baowu", 2025)).endswith("; met")
    assert "huaneng had no verified obligation for 2026 at checkpoint 1" in \
        cycle.verify(prove_obligation(cycle.prover, "huaneng", 2026))


def test_an_altered_obligation_bundle_is_refused(cycle: Cycle) -> None:
    honest = prove_obligation(cycle.prover, "huaneng", 2025)
    lighter = copy.deepcopy(honest)
    record = json.loads(lighter["state"]["value"])
    lighter["state"]["value"] = canonical_json({**record, "obligation": 2_000}).decode()
    cycle.refused(lighter, VerifyFailure.state_proof_failed,
                  "the state proof of huaneng's obligation for 2025 does not hold")
    cycle.refused({**copy.deepcopy(honest), "obligation": {"emitter": "baowu", "year": 2025}},
                  VerifyFailure.wrong_subject, "the proof is for key")


# --- disclosure -------------------------------------------------------------------------------

def test_a_disclosure_matches_the_checkpoint_row_by_row(cycle: Cycle) -> None:
    bundle = prove_disclosure(cycle.prover, 2025)
    assert bundle["disclosure"] == [
        {"emitter": "baowu", "verified_t": 1_200, "allowances": 1_200, "credits": 0},
        {"emitter": "huaneng", "verified_t": 2_410, "allowances": 2_000, "credits": 100}]
    statement = cycle.verify(bundle)
    assert statement.startswith("disclosure of 2025: each of its 2 rows equals the emitter's "
                                "obligation record at checkpoint 1 ("), statement
    assert "3610 t of verified emissions, 3200 t of allowances and 100 t of credits" \
        in statement, statement
    only = prove_disclosure(cycle.prover, 2025, emitters=["huaneng"])
    assert "each of its 1 rows" in cycle.verify(only)

    with pytest.raises(ComplianceRecordNotFound, match="no emitter had a verified obligation "
                                                       "for 2026 at checkpoint 1"):
        prove_disclosure(cycle.prover, 2026)
    with pytest.raises(ComplianceRecordNotFound, match="li had no verified obligation"):
        prove_disclosure(cycle.prover, 2025, emitters=["huaneng", "li"])


def test_a_published_disclosure_is_proven_at_the_checkpoint_it_names(cycle: Cycle) -> None:
    world = cycle.world
    published = disclosure(world.store, 2025, world.clock())
    assert published.checkpoint == 1
    statement = cycle.verify(prove_published(cycle.prover, published))
    assert statement.startswith("disclosure of 2025: each of its 2 rows"), statement

    surrender(world, "huaneng", "HN", "A25", 10)  # after the checkpoint
    moved = disclosure(world.store, 2025, world.clock())
    with pytest.raises(NotCheckpointed, match=r"the figures of huaneng changed after "
                                              r"checkpoint 1: cut a checkpoint"):
        prove_published(cycle.prover, moved)
    cycle.checkpointer.cut()
    again = disclosure(world.store, 2025, world.clock())
    assert "3210 t of allowances" in cycle.verify(prove_published(cycle.prover, again))


def test_a_changed_disclosure_is_refused(cycle: Cycle) -> None:
    honest = prove_disclosure(cycle.prover, 2025)

    changed = copy.deepcopy(honest)
    changed["disclosure"][1]["credits"] = 0  # a surrender of CCER hidden
    cycle.refused(changed, VerifyFailure.incomplete_evidence,
                  "the disclosure says huaneng has credits 0 for 2025, but its obligation "
                  "record at checkpoint 1 has 100")

    shorter = copy.deepcopy(honest)
    del shorter["obligations"][0]
    cycle.refused(shorter, VerifyFailure.incomplete_evidence,
                  "the disclosure has 2 rows but the bundle proves 1 obligations")

    renamed = copy.deepcopy(honest)
    renamed["disclosure"][0]["emitter"] = "baosteel"
    cycle.refused(renamed, VerifyFailure.wrong_subject,
                  "disclosure\\[0\\] is baosteel's for 2025, but its proof is of baowu's")

    repeated = copy.deepcopy(honest)
    repeated["disclosure"][1] = repeated["disclosure"][0]
    repeated["obligations"][1] = repeated["obligations"][0]
    cycle.refused(repeated, VerifyFailure.incomplete_evidence,
                  "in order of emitter, each once: baowu follows baowu")

    later = copy.deepcopy(honest)
    later["year"] = 2026
    cycle.refused(later, VerifyFailure.wrong_subject, "is baowu's for 2026, but its proof is "
                                                      "of baowu's obligation for 2025")


def test_the_verifier_needs_neither_the_ledger_nor_a_database(cycle: Cycle,
                                                              tmp_path: Path) -> None:
    bundles = [prove_emissions(cycle.prover, CORRECTION),
               prove_obligation(cycle.prover, "huaneng", 2025),
               prove_disclosure(cycle.prover, 2025)]
    path = tmp_path / "bundles.json"
    path.write_text(json.dumps(bundles))
    result = run_without(LEDGER_AND_DATABASES | {"web3"}, VERIFY_COMPLIANCE, str(path),
                         cycle.operator)
    assert result.returncode == 0, result.stderr
    said = result.stdout.splitlines()
    assert len(said) == 3, said
    for line, start in zip(said, (f"monthly submission {CORRECTION}: huaneng's installation",
                                  "huaneng's obligation for 2025 under CN-ETS at checkpoint 1",
                                  "disclosure of 2025: each of its 2 rows"), strict=True):
        assert line.startswith(start), line


VERIFY_COMPLIANCE = """
from anchoring.auditor.verify import verify_bundle
for bundle in json.load(open(sys.argv[1])):
    print(verify_bundle(bundle, sys.argv[2]).statement)
"""


# --- an insider's edit ------------------------------------------------------------------------

def test_an_obligation_edited_in_the_database_is_refused_by_the_next_cut(cycle: Cycle) -> None:
    world = cycle.world
    surrender(world, "huaneng", "HN", "A25", 10)
    with world.store.write() as tx:
        tx.execute("UPDATE obligations SET allowances = allowances + 290 "
                   "WHERE emitter = 'huaneng' AND year = 2025")
    with pytest.raises(TransitionDiffers, match=r"its row \['huaneng', 2025\] of table "
                                                r"obligations re-executes as .*'allowances': "
                                                r"2010,"):
        cycle.checkpointer.cut()
    # an operator who goes around that check signs it, but the audit names the checkpoint
    cycle.checkpointer.check_transitions = False
    second = cycle.checkpointer.cut()
    signed = cycle.signed_leaf(2, obligation_key("huaneng", 2025))
    assert signed is not None and signed["allowances"] == 2_300
    report_ = audit(world.store, OPERATIONS, cycle.operator)
    assert report_.first_discrepancy is not None
    assert report_.first_discrepancy.startswith(
        f"checkpoint 2 (marker entry {second.log_size - 1}): signed state root "
        f"{second.state_root.hex()}, but the state the journal gives there has root")


# --- the command line ---------------------------------------------------------------------------

def test_proof_commands_write_the_bundles_and_say_what_they_prove(
        clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    data = tmp_path / "ledger"
    init_ledger(data, registry="registry", registry_name="Registry", password="pw",
                scrypt_n=2**4, clock=clock)
    config = load_config(data)
    world = World(open_ledger(config, clock), clock, registry_wallet(config, data, "pw"))
    world.wallets["registry"] = world.registry
    world.participant("huaneng", "emitter", "HN", "compliance")
    register_installation(world, "HN-1", "huaneng")
    world.by("huaneng", "monthly_submit", **monthly("HN-1:2026-01", "HN-1", "2026-01", 5_000))
    world.store.dispose()
    runner, cli = CliRunner(), ["--data-dir", str(data)]

    result = runner.invoke(main, [*cli, "proof", "emissions", "HN-1:2026-01"])
    assert result.exit_code != 0 and "no checkpoint yet" in result.output, result.output
    assert runner.invoke(main, [*cli, "checkpoint"]).exit_code == 0

    bundle = tmp_path / "emissions.json"
    result = runner.invoke(main, [*cli, "proof", "emissions", "HN-1:2026-01", "-o",
                                  str(bundle)])
    assert result.exit_code == 0, result.output
    assert "monthly submission HN-1:2026-01: huaneng's installation HN-1 emitted 5000 kg CO2 " \
           "in 2026-01" in result.stderr, result.stderr
    assert json.loads(bundle.read_text())["submission"] == "HN-1:2026-01"

    result = runner.invoke(main, [*cli, "proof", "emissions", "NOPE"])
    assert result.exit_code != 0 and "no monthly submission 'NOPE'" in result.output
    result = runner.invoke(main, [*cli, "proof", "obligation", "huaneng", "2026"])
    assert result.exit_code == 0, result.output
    assert "huaneng had no verified obligation for 2026 at checkpoint 1" in result.stderr
    result = runner.invoke(main, [*cli, "proof", "disclosure", "2026"])
    assert result.exit_code != 0 and "nothing to disclose" in result.output, result.output
