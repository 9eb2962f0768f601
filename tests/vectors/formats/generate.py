"""Regenerate the golden vectors of this folder, by hand, from the repository's root:

    .venv/bin/python -m tests.vectors.formats.generate

Regenerating them is right ONLY when a format version changes: a journal entry's format
(ledger.journal.ENTRY_FORMAT), the proof bundle version
(anchoring.auditor.bundle_format.BUNDLE_VERSION), the EIP-712 domain version, the checkpoint
note. These vectors hold bytes that existing ledgers have already signed, logged and anchored;
if a change makes tests/test_golden_formats.py fail, the change breaks them, and regenerating
would only hide that. A new version gets new vectors, and the old ones stay as long as the
code must read what they hold. The test suite never runs this script.

Everything is deterministic: a fixed clock, fixed keys (tests/world.py's key sequence, the
operator key of tests/anchoring/ledger_history.py) and instruction ids derived from a counter,
and secp256k1 signatures are deterministic (RFC 6979). Running it twice writes the same files.
Before writing, it checks every vector with the test's own checks and every mutation fails as
its wantErr says.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import coincurve

import ledger.client
import tests.world
from anchoring.auditor.note import open_note, sign_note
from anchoring.operator.allocation_evidence import prove_allocation, prove_auction
from anchoring.operator.bundles import Prover
from anchoring.operator.compliance_evidence import (
    prove_disclosure,
    prove_emissions,
    prove_obligation,
)
from anchoring.operator.pledge_evidence import prove_pledge
from anchoring.operator.project_evidence import prove_retirement
from anchoring.operator.provenance_evidence import prove_provenance
from compliance.figures import figures_json, parse_figures, total_kg
from custody.signatures import address_of
from ledger.canonical import canonical_json, leaf_hash
from ledger.clock import FixedClock
from ledger.journal import ENTRY_FORMAT, MARKER_OP, make_entry, stored_form, writing_form
from ledger.schemes import load_rules_dir, parse_rules_document
from ledger.state import JournalRow
from ledger.store.database import Store, sqlite_url
from pledge.invariants import check_agreement_invariants
from tests.anchoring.ledger_history import OPERATOR_KEY, OTHER_KEY, History, build_history
from tests.pledge.helpers import PLEDGORS, REPO_PARTIES, by, open_repo, register
from tests.test_golden_formats import JOURNAL, OPERATIONS, VECTORS, check, fails_as_wanted
from tests.world import World, fresh_wallet

Vector = dict[str, Any]
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _instruction_ids() -> Callable[[], bytes]:
    """Instruction ids from a counter instead of the time and random bytes."""
    counter = itertools.count(1)
    return lambda: hashlib.sha256(b"carbonledger golden vector %d" % next(counter)).digest()


# --- the history ------------------------------------------------------------------------------

def build(store: Store) -> History:
    """A varied history. Up to checkpoint 4 its entries are written in format 1's legacy form
    (no "format" key), as earlier versions wrote them: issuance, transfers, retirement,
    cancellation, freezing, a pledge and a repo. Then in format 1 with the key: an amendment,
    scheme rules, a key rotation, a transfer by serial range, a repo closed in part and
    defaulted, an enforced pledge, checkpoint 5 and an entry after it."""
    clock = FixedClock(START)
    with writing_form(None):
        # checkpoints 1-3 and an entry after them
        history = build_history(store, clock, genesis_rules())
        world = history.world
        world.participant("icbc", "bank", "ICBC", "trading")
        register(world)  # P1: 400 t of HN's A1 pledged to ICBC
        by(world, ("icbc",), "pledge_release", pledge="P1", quantity=100)
        open_repo(world)  # R1: HN sells 400 t of A1 to ICBC, to buy back by 2026-09-30
        history.cut()

    with writing_form(1):
        _in_format_1(world, clock, history)
    _in_format_2(world)
    world.assert_invariants()
    assert not check_agreement_invariants(store)
    return history


def _in_format_1(world: World, clock: FixedClock, history: History) -> None:
    clock.moment = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    by(world, PLEDGORS, "pledge_amend", pledge="P1", loanReference="ICBC-SZ-2026-0042",
       principal=9_000_000_00, currency="CNY", maturityDate="2026-12-31")
    # CCER's rules as the genesis recorded them (not as ledger/schemes/ holds them now)
    genesis = genesis_rules()
    ccer = parse_rules_document(genesis)["CCER"] if genesis else load_rules_dir()["CCER"]
    world.by("registry", "set_scheme_rules", scheme="CCER",
             rules=json.dumps(ccer.as_json(), sort_keys=True))
    world.participant("boc", "bank", "BOC", "trading")
    world.wallets["boc-desk"] = fresh_wallet()
    world.by("boc", "register_key", participant="boc", key=world.wallets["boc-desk"].address)
    world.by("boc-desk", "revoke_key", participant="boc", key=world.wallets["boc"].address)
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="BOC", batch="A1",
             quantity=20, serialFirst=981, serialLast=1000)
    by(world, REPO_PARTIES, "repo_close", repo="R1", quantity=100)
    clock.moment = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 2026-10-01 in Beijing
    by(world, ("icbc",), "repo_default", repo="R1", defaulter="seller")
    clock.moment = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)  # after the pledge's maturity
    by(world, ("icbc",), "pledge_enforce", pledge="P1", quantity=100, toAccount="ICBC")
    world.by("gw", "retire", account="GW", batch="C1", quantity=15, beneficiary="Shenzhen Metro",
             reason="2026 operations", claim="carbon neutral travel 2026")
    world.by("registry", "cancel", account="HN", batch="A1", quantity=5, reason="correction")
    clock.advance(seconds=30)
    history.cut()
    world.by("registry", "freeze_account", account="BOC", reason="court order 2027-3")


def _in_format_2(world: World) -> None:
    """After the last checkpoint, in format 2 (the bundles and the note above stay those of
    checkpoint 5): a key rotation, text in several scripts, and ordinary operations."""
    old, new = world.wallets["huaneng"], fresh_wallet()
    world.by("huaneng", "rotate_key", participant="huaneng", oldKey=old.address,
             newKey=new.address)
    world.wallets["huaneng"], world.wallets["huaneng-retired"] = new, old
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=10)
    world.by("gw", "retire", account="GW", batch="C1", quantity=5, beneficiary="深圳地铁集团",
             reason="2027 年度运营", claim="Café Zürich: carbon neutral travel 2027")
    world.by("registry", "unfreeze_account", account="BOC", reason="court order lifted 2027-4")


def genesis_rules() -> str | None:
    """The scheme rules the history's genesis has recorded since the vectors were first
    written (in the committed journal), so that a later change to ledger/schemes/ (a new
    section for a new module) does not change every vector after the genesis; None before
    there is a journal."""
    if not JOURNAL.exists():
        return None
    genesis = json.loads(JOURNAL.read_text(encoding="utf-8").splitlines()[0])
    return str(json.loads(genesis["entry"])["instruction"]["fields"]["rules"])


def rules_before(scheme: str, *sections: str) -> dict[str, Any]:
    """The scheme's rules of ledger/schemes/ without the sections added after a cycle's
    vectors were written, so that its entries stay byte for byte what they were."""
    document = load_rules_dir()[scheme].as_json()
    for section in sections:
        document.pop(section)
    return document


def compliance_cycle(history: History) -> None:
    """After everything above, in format 2, then checkpoint 6: the compliance module's
    operations, once each at least — CN-ETS's rules gain its [compliance] section as an
    existing ledger's would, a year's monthly data, its report and verification, and a
    surrender. The vectors made before it (the note, the bundles at checkpoint 5) stay as
    they were."""
    world = history.world
    clock = world.clock
    world.by("registry", "set_scheme_rules", scheme="CN-ETS",
             rules=json.dumps(rules_before("CN-ETS", "allocation"), sort_keys=True))
    world.participant("cec", "verifier")
    world.by("huaneng", "document_key_publish", participant="huaneng",
             publicKey="0x" + coincurve.PrivateKey(world.wallets["huaneng"].private_key)
             .public_key.format(compressed=True).hex())
    world.by("registry", "installation_register", installation="HN-1", emitter="huaneng",
             scheme="CN-ETS", sector="power", name="Huaneng Shidongkou unit 1")
    world.by("huaneng", "instrument_register", instrument="FLOW-1", installation="HN-1",
             parameter="coal feed (t)")
    world.by("huaneng", "instrument_calibrate", instrument="FLOW-1",
             calibratedBy="Shanghai Institute of Metrology", calibratedOn="2026-01-01",
             validUntil="2026-12-31", certificateHash="0x" + "cd" * 32)
    ids = []
    for month in range(1, 13):
        lines = [{"source": "coal", "activity": f"{1000 + month}.5", "activityUnit": "t",
                  "factor": "2.6604", "factorUnit": "tCO2/t", "instrument": "FLOW-1"}]
        figures = figures_json(lines)
        ids.append(f"HN-1-2026-{month:02d}")
        world.by("huaneng", "monthly_submit", submission=ids[-1], installation="HN-1",
                 month=f"2026-{month:02d}", documentHash="0x" + hashlib.sha256(
                     figures.encode()).hexdigest(), documentFormat="json", figures=figures,
                 totalKg=total_kg(parse_figures(figures)), supersedes="")
    world.by("huaneng", "annual_report_submit", report="HN-2026", emitter="huaneng", year=2026,
             scheme="CN-ETS", documentHash="0x" + "ef" * 32, submissions=json.dumps(ids))
    world.by("registry", "verifier_qualify", verifier="cec", sector="power", action="grant",
             reason="accredited for power generation")
    world.by("registry", "verifier_declare_conflict", verifier="cec", entity="gw",
             relation="consultant")
    world.by("cec", "verification_sign", verifier="cec", emitter="huaneng", year=2026,
             report="HN-2026", verifiedEmissions=32_900)
    world.by("registry", "offset_project_register", project="GANSU-WIND-1", projectType="wind")
    clock.advance(seconds=30)
    world.by("huaneng", "surrender", account="HN", year=2026, batch="A1", quantity=30,
             serialFirst=0, serialLast=0)
    world.assert_invariants()
    clock.advance(seconds=30)
    history.cut()


def project_cycle(history: History) -> None:
    """After checkpoint 6, then checkpoint 7: the projects module's operations, once each at
    least — CCER's rules gain the project cycle ([projects], issue_operation) as an existing
    ledger's would, a methodology, a project through its comment period, validation and
    registration, a monitoring period verified and issued, a retirement for a claim."""
    world = history.world
    clock = world.clock
    rules = load_rules_dir()["CCER"]
    world.by("registry", "set_scheme_rules", scheme="CCER",
             rules=json.dumps(rules.as_json(), sort_keys=True))
    for body in ("sgs", "bv"):  # cec has declared it consulted for gw
        world.participant(body, "verifier")
        world.by("registry", "verifier_qualify", verifier=body, sector="energy",
                 action="grant", reason="accredited for energy projects")
    world.by("registry", "methodology_publish", methodology="CM-001-V01", version="1.0",
             sector="energy", title="Grid-connected renewable electricity",
             applicability="wind and solar plants feeding a regional grid",
             validFrom="2026-01-01", validUntil="", bufferBp=0)
    world.by("gw", "project_submit", project="GANSU-WIND", owner="gw",
             methodology="CM-001-V01", title="Gansu Guazhou 200 MW wind farm",
             location="Guazhou, Gansu", startDate="2025-06-01", creditingStart="2026-01-01",
             creditingEnd="2035-12-31", expectedReductions=3_200_000,
             pddHash="0x" + "d1" * 32)
    world.by("huaneng", "project_comment", project="GANSU-WIND", commentHash="0x" + "c0" * 32,
             summary="asks for the grid emission factor used")
    clock.advance(days=29)  # past 20 working days of comments
    world.by("sgs", "project_validate", project="GANSU-WIND", validator="sgs",
             validationHash="0x" + "7a" * 32)
    world.by("registry", "project_register", project="GANSU-WIND")
    world.by("gw", "monitoring_submit", project="GANSU-WIND", period="P2026",
             startDate="2026-01-01", endDate="2026-12-31", reportHash="0x" + "e0" * 32,
             claimedReductions=52_000)
    world.by("bv", "monitoring_verify", project="GANSU-WIND", period="P2026", verifier="bv",
             verifiedReductions=50_000)
    world.by("registry", "ccer_issue", batch="GW2026", project="GANSU-WIND", period="P2026",
             quantity=50_000, account="GW")
    world.by("gw", "claim_retire", retirement="R-1", account="GW", batch="GW2026",
             quantity=25, serialFirst=0, serialLast=0, beneficiary="Shenzhen Metro",
             purpose="event", subject="SZ-MARATHON-2027", periodStart="2027-02-01",
             periodEnd="2027-02-01", claim="carbon neutral marathon")
    world.by("registry", "project_status", project="GANSU-WIND", action="suspend",
             reason="inspection of the 2027 monitoring plan")
    world.by("registry", "methodology_publish", methodology="CM-001-V02", version="2.0",
             sector="energy", title="Grid-connected renewable electricity",
             applicability="wind and solar plants feeding a regional grid",
             validFrom="2027-01-01", validUntil="", bufferBp=500)
    world.by("registry", "methodology_retire", methodology="CM-001-V01", action="supersede",
             replacedBy="CM-001-V02", existingProjects="keep", reason="version 2 published")
    world.assert_invariants()
    clock.advance(seconds=30)
    history.cut()


def allocation_cycle(history: History) -> None:
    """After checkpoint 7, then checkpoint 8: the allocation module's operations, once each at
    least — CN-ETS moves under its plan (its rules gain [allocation] and issue_operation) as an
    existing ledger's would, verified output, the 2027 plan and an amendment, pre-allocation,
    market figures, a release and an absorption, a new entrant, an auction announced, bid in
    and cleared, a true-up and a closure."""
    world = history.world
    clock = world.clock
    rules = load_rules_dir()["CN-ETS"].as_json()
    rules["issue_operation"] = "allocation"
    world.by("registry", "set_scheme_rules", scheme="CN-ETS",
             rules=json.dumps(rules, sort_keys=True))
    world.by("registry", "installation_register", installation="HN-2", emitter="huaneng",
             scheme="CN-ETS", sector="power", name="Huaneng Shidongkou unit 2")
    world.by("cec", "output_verify", verifier="cec", installation="HN-1", year=2026,
             output="41250.5", unit="MWh")
    sectors = [{"sector": "power", "free_cap": 60_000, "benchmark": "0.8218",
                "output_unit": "MWh", "factors": {"cooling": "1", "load": "1.0125"}}]
    world.by("registry", "allocation_plan_set", scheme="CN-ETS", year=2027, cap=100_000,
             reserve=10_000, auction=20_000, sectors=json.dumps(sectors))
    sectors[0]["free_cap"] = 65_000
    world.by("registry", "allocation_plan_amend", scheme="CN-ETS", year=2027, cap=105_000,
             sectors=json.dumps(sectors), reason="two units recommissioned")
    world.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2027, batch="FA2027",
             targets=json.dumps([["HN-1", "HN"]]))
    world.by("registry", "market_figures_publish", figures="MF-2027-02", scheme="CN-ETS",
             period="2027-02", averagePrice=10_500, surplus=80_000,
             source="Shanghai Environment and Energy Exchange")
    world.by("registry", "reserve_release", scheme="CN-ETS", year=2027, quantity=5_000,
             figures="MF-2027-02", reason="the February average price passed 100 CNY/t")
    world.by("registry", "market_figures_publish", figures="MF-2027-03", scheme="CN-ETS",
             period="2027-03", averagePrice=2_900, surplus=95_000,
             source="Shanghai Environment and Energy Exchange")
    world.by("registry", "reserve_absorb", scheme="CN-ETS", year=2027, quantity=2_000,
             figures="MF-2027-03", reason="the March average price fell below 30 CNY/t")
    world.by("registry", "new_entrant_allocate", scheme="CN-ETS", year=2027,
             installation="HN-2", account="HN", batch="NE2027", quantity=3_000,
             reason="unit 2 commissioned in 2027")
    opens = clock.moment
    closes = datetime.fromtimestamp(opens.timestamp() + 3_600, UTC)
    world.by("registry", "auction_announce", auction="AUC-2027-1", scheme="CN-ETS", year=2027,
             quantity=8_000, reservePrice=4_000, opens=opens.strftime("%Y-%m-%dT%H:%M:%SZ"),
             closes=closes.strftime("%Y-%m-%dT%H:%M:%SZ"), bidderLimitBp=6_000,
             batch="AU2027-1")
    world.by("huaneng", "auction_bid", auction="AUC-2027-1", bid="HN-B1", bidder="huaneng",
             account="HN", quantity=4_800, price=6_100)
    world.by("icbc", "auction_bid", auction="AUC-2027-1", bid="IC-B1", bidder="icbc",
             account="ICBC", quantity=4_000, price=5_800)
    clock.advance(seconds=3_600)
    world.by("registry", "auction_clear", auction="AUC-2027-1")
    world.by("cec", "output_verify", verifier="cec", installation="HN-1", year=2027,
             output="39800", unit="MWh")
    world.by("registry", "allocation_true_up", scheme="CN-ETS", year=2027, batch="TU2027",
             targets=json.dumps([["HN-1", "HN"]]))
    world.by("registry", "installation_close", installation="HN-2", lastYear=2027,
             reason="unit 2 decommissioned")
    world.assert_invariants()
    clock.advance(seconds=30)
    history.cut()


def allocation_bundle_vectors(history: History) -> dict[str, Vector]:
    """The allocation module's bundle kind, at checkpoint 8."""
    prover = Prover(history.store, history.checkpointer.state)
    latest = history.checkpoints[-1].number
    made = {
        "bundle-auction": (prove_auction(prover, "AUC-2027-1"),
                           f"auction AUC-2027-1's book and clearing at checkpoint {latest}"),
        "bundle-allocation": (prove_allocation(prover, "CN-ETS", 2027, installation="HN-1"),
                              f"the CN-ETS 2027 plan and HN-1's allocation for 2027 at "
                              f"checkpoint {latest}"),
    }
    return {name: {"description": description, "trusted_operator": history.operator,
                   "bundle": json.loads(json.dumps(bundle))}
            for name, (bundle, description) in made.items()}


def project_bundle_vectors(history: History) -> dict[str, Vector]:
    """The projects module's bundle kinds, at checkpoint 7."""
    prover = Prover(history.store, history.checkpointer.state)
    latest = history.checkpoints[-1].number
    made = {
        "bundle-retirement": (prove_retirement(prover, "R-1"),
                              f"retirement R-1 and the provenance of its units at checkpoint "
                              f"{latest}"),
        "bundle-provenance": (prove_provenance(prover, "GW2026", 40_000),
                              f"serial 40000 of GW2026 (tradable in GW) and its batch's "
                              f"project cycle at checkpoint {latest}"),
    }
    return {name: {"description": description, "trusted_operator": history.operator,
                   "bundle": json.loads(json.dumps(bundle))}
            for name, (bundle, description) in made.items()}


def compliance_bundle_vectors(history: History) -> dict[str, Vector]:
    """The compliance module's bundle kinds, at checkpoint 6."""
    prover = Prover(history.store, history.checkpointer.state)
    latest = history.checkpoints[-1].number
    made = {
        "bundle-emissions": (prove_emissions(prover, "HN-1-2026-07"),
                             f"monthly submission HN-1-2026-07 and its entry at checkpoint "
                             f"{latest}"),
        "bundle-obligation": (prove_obligation(prover, "huaneng", 2026),
                              f"huaneng's 2026 obligation at checkpoint {latest}"),
        "bundle-disclosure": (prove_disclosure(prover, 2026),
                              f"the 2026 disclosure's rows at checkpoint {latest}"),
    }
    return {name: {"description": description, "trusted_operator": history.operator,
                   "bundle": json.loads(json.dumps(bundle))}
            for name, (bundle, description) in made.items()}


# --- vectors ----------------------------------------------------------------------------------

def operation_vectors(world: World, rows: list[JournalRow]) -> dict[str, Vector]:
    """One vector per operation: its first entry in the history, written as this code writes
    entries now (format 1 with the key; same seq, time and effects)."""
    keys = {wallet.address: wallet.private_key for wallet in world.wallets.values()}
    vectors: dict[str, Vector] = {}
    for row in rows:
        if row.op == MARKER_OP or f"entry-{row.op}" in vectors:
            continue
        document = json.loads(row.entry)
        form = stored_form(document) or 1  # a legacy entry's vector is written in format 1
        with writing_form(form):
            signed = OPERATIONS.parse_signed(document["instruction"])
            entry = make_entry(row.seq, signed, row.accepted_at, document["effects"]).entry
        instruction = signed.instruction
        vectors[f"entry-{row.op}"] = {
            "description": f"{row.op}: the signed instruction of journal entry {row.seq}, "
                           f"its EIP-712 digest per signer, and its entry in journal format "
                           f"{form}",
            "op": row.op,
            "domain": world.registry.domain.as_dict(),
            "eip712_type": instruction.schema.struct.encode_type(),
            "instruction": document["instruction"],
            "signers": [{"address": a.signer, "private_key": "0x" + keys[a.signer].hex(),
                         "nonce": a.nonce,
                         "digest": "0x" + instruction.digest(world.registry.domain, a.signer,
                                                             a.nonce).hex()}
                        for a in signed.approvals],
            "entry": entry.decode("utf-8"),
            "leaf_hash": leaf_hash(entry).hex(),
        }
    missing = set(OPERATIONS.names) - {name.removeprefix("entry-") for name in vectors}
    assert not missing, f"the history has no {sorted(missing)}"
    return vectors


def note_vector(history: History) -> Vector:
    checkpoint = history.checkpoints[-1]
    body = open_note(checkpoint.note, history.operator)
    return {
        "description": f"checkpoint {body.number}: a C2SP signed note (docs/proof-format.md), "
                       "signed by the operator key",
        "operator": history.operator,
        "operator_key": "0x" + OPERATOR_KEY.hex(),
        "body": {"origin": body.origin, "size": body.size, "log_root": body.log_root.hex(),
                 "number": body.number, "state_root": body.state_root.hex(),
                 "time": body.time},
        "note": checkpoint.note,
    }


def bundle_vectors(history: History, rows: list[JournalRow]) -> dict[str, Vector]:
    prover = Prover(history.store, history.checkpointer.state)
    first_modern = next(r.seq for r in rows if r.op == "pledge_amend")
    first_transfer = next(r.seq for r in rows if r.op == "transfer")
    first = history.checkpoints[0].number
    latest = history.checkpoints[-1].number
    with history.store.read() as tx:
        pledged = sorted(lot.id for lot in tx.lots_under_lien("P1"))
    made = {
        "bundle-entry": (prover.entry(first_modern),
                         f"entry {first_modern} (pledge_amend, format 1) in checkpoint "
                         f"{latest}"),
        "bundle-entry-legacy": (prover.entry(first_transfer),
                                f"entry {first_transfer} (transfer, legacy form: no format "
                                f"key) in checkpoint {latest}"),
        "bundle-lot": (prover.lot(pledged[0]), f"lot {pledged[0]} (pledged under P1) at "
                       f"checkpoint {latest}"),
        "bundle-lot-absent": (prover.lot("1.0"), f"lot 1.0 never existed at checkpoint "
                              f"{latest}: a non-membership proof"),
        "bundle-holding": (prover.holding("HN", "A1"), f"HN's holding of A1 at checkpoint "
                           f"{latest}"),
        "bundle-account": (prover.account("GW"), f"account GW at checkpoint {latest}"),
        "bundle-consistency": (prover.consistency(first, latest),
                               f"checkpoint {latest} extends checkpoint {first}"),
        "bundle-pledge": (prove_pledge(prover, "P1"),
                          f"pledge P1's evidence pack at checkpoint {latest}: registration "
                          "and release in the legacy form, amendment and enforcement in "
                          "format 1"),
    }
    return {name: {"description": description, "trusted_operator": history.operator,
                   "bundle": json.loads(json.dumps(bundle))}
            for name, (bundle, description) in made.items()}


def journal_lines(rows: list[JournalRow]) -> list[str]:
    return [json.dumps({"seq": r.seq, "op": r.op, "accepted_at": r.accepted_at,
                        "instruction_id": r.instruction_id.hex(), "body_hash": r.body_hash.hex(),
                        "leaf_hash": r.leaf_hash.hex(), "entry": r.entry.decode("utf-8")},
                       ensure_ascii=False) for r in rows]


# --- mutations ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutation:
    base: str
    change: str
    description: str
    mutate: Callable[[Vector], None]
    want_err: str
    want_reason: str = ""


def _entry_doc(vector: Vector) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(vector["entry"])
    return document


def _set_entry(vector: Vector, document: dict[str, Any], *, rehash: bool = True) -> None:
    """Store a changed entry; with `rehash`, its leaf hash follows (the change is then only
    caught by what the entry's content must satisfy)."""
    # RFC 8785 on the journal's subset, written without the subset check: a mutation may leave
    # the subset (an integer beyond 2^53), and the check under test must be what refuses it.
    vector["entry"] = json.dumps(document, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False)
    if rehash:
        vector["leaf_hash"] = leaf_hash(vector["entry"].encode("utf-8")).hex()


def _instruction_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Vector], None]:
    """Change the signed instruction, in the vector and in its entry alike."""
    def mutate(vector: Vector) -> None:
        change(vector["instruction"])
        document = _entry_doc(vector)
        document["instruction"] = vector["instruction"]
        _set_entry(vector, document)
    return mutate


def _flip_bit(hex_text: str, byte: int) -> str:
    raw = bytearray(bytes.fromhex(hex_text.removeprefix("0x")))
    raw[byte] ^= 0x01
    return ("0x" if hex_text.startswith("0x") else "") + raw.hex()


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _high_s(signature: str) -> str:
    """The same signature with s replaced by n - s (and v flipped): valid ECDSA, but not the
    unique low-s form (EIP-2)."""
    raw = bytes.fromhex(signature[2:])
    s = SECP256K1_N - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()  # 27 <-> 28


def _entry_field(name: str, value: Any) -> Callable[[Vector], None]:
    def mutate(vector: Vector) -> None:
        document = _entry_doc(vector)
        document[name] = value
        _set_entry(vector, document)
    return mutate


def _without_format(vector: Vector) -> None:
    document = _entry_doc(vector)
    del document["format"]
    _set_entry(vector, document)


def _effects_changed(vector: Vector) -> None:
    document = _entry_doc(vector)
    document["effects"]["created"][0]["last"] += 1
    _set_entry(vector, document, rehash=False)


def _swap_approvals(vector: Vector) -> None:
    def change(instruction: dict[str, Any]) -> None:
        first, second = instruction["approvals"]
        first["signature"], second["signature"] = second["signature"], first["signature"]
    _instruction_change(change)(vector)


def _note_text(change: Callable[[list[str]], object]) -> Callable[[Vector], None]:
    """Change the note's text lines (0: origin, 1: size, 2: root, 3-5: extensions), keeping
    its signature line."""
    def mutate(vector: Vector) -> None:
        text, signature = vector["note"].split("\n\n", 1)
        lines = text.split("\n")
        change(lines)
        vector["note"] = "\n".join(lines) + "\n\n" + signature
    return mutate


def _note_signature_bit(vector: Vector) -> None:
    import base64

    text, line = vector["note"].split("\n\n", 1)
    dash_name, blob = line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[4 + 10] ^= 0x01  # inside r, past the 4-byte key ID
    vector["note"] = f"{text}\n\n{dash_name} {base64.b64encode(bytes(raw)).decode()}\n"


def _note_other_key(vector: Vector) -> None:
    body = open_note(vector["note"], vector["operator"])
    vector["note"] = sign_note(body, OTHER_KEY)


def _bundle(change: Callable[[dict[str, Any]], None]) -> Callable[[Vector], None]:
    return lambda vector: change(vector["bundle"])


def _swap(items: list[Any], i: int, j: int) -> None:
    items[i], items[j] = items[j], items[i]


def _entry_text(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(bundle: dict[str, Any]) -> None:
        document = json.loads(bundle["entry"])
        change(document)
        bundle["entry"] = canonical_json(document).decode("utf-8")
    return mutate


def _lot_value(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(bundle: dict[str, Any]) -> None:
        record = json.loads(bundle["state"]["value"])
        change(record)
        bundle["state"]["value"] = canonical_json(record).decode("utf-8")
    return mutate


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.__setitem__(key, value)


def _increment(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.__setitem__(key, document[key] + 1)


def _drop_release(bundle: dict[str, Any]) -> None:
    entries = bundle["entries"]
    bundle["entries"] = [e for e in entries if '"op":"pledge_release"' not in e["entry"]]
    assert len(bundle["entries"]) == len(entries) - 1


def _note_of_other_key(bundle: dict[str, Any]) -> None:
    body = open_note(bundle["checkpoint"], address_of(OPERATOR_KEY))
    bundle["checkpoint"] = sign_note(body, OTHER_KEY)  # the operator it names is kept


def _older_checkpoint_first(bundle: dict[str, Any]) -> None:
    bundle["checkpoint"], bundle["from_checkpoint"] = (bundle["from_checkpoint"],
                                                       bundle["checkpoint"])


def _transfer_quantity(instruction: dict[str, Any]) -> None:
    instruction["fields"]["quantity"] += 1


def _transfer_nonce(instruction: dict[str, Any]) -> None:
    instruction["approvals"][0]["nonce"] += 1


def _signature_bit(instruction: dict[str, Any]) -> None:
    approval = instruction["approvals"][0]
    approval["signature"] = _flip_bit(approval["signature"], 40)


def _signature_high_s(instruction: dict[str, Any]) -> None:
    approval = instruction["approvals"][0]
    approval["signature"] = _high_s(approval["signature"])


def _field_added(instruction: dict[str, Any]) -> None:
    instruction["fields"]["memo"] = "paid"


def _too_large(instruction: dict[str, Any]) -> None:
    instruction["fields"]["quantity"] = 2**53


def _domain_chain(vector: Vector) -> None:
    vector["domain"]["chainId"] = 1


def _not_canonical(vector: Vector) -> None:
    vector["entry"] = json.dumps(json.loads(vector["entry"]), indent=1)
    vector["leaf_hash"] = leaf_hash(vector["entry"].encode("utf-8")).hex()


NOT_IN_LOG = "is not in checkpoint"
NOT_BY = "signature is not by"
MUTATIONS = [
    # journal entries: the signature covers the instruction, the leaf hash the entry's bytes
    Mutation("entry-transfer", "quantity-changed", "one more unit than was signed for",
             _instruction_change(_transfer_quantity), "bad_signature", NOT_BY),
    Mutation("entry-transfer", "nonce-changed", "the approval claims another nonce",
             _instruction_change(_transfer_nonce), "bad_signature", NOT_BY),
    Mutation("entry-transfer", "signature-bit-flipped", "one bit of r flipped",
             _instruction_change(_signature_bit), "bad_signature", NOT_BY),
    Mutation("entry-transfer", "signature-high-s", "s replaced by n - s: a second valid "
             "ECDSA signature, refused so that a signature's bytes are unique (EIP-2)",
             _instruction_change(_signature_high_s), "bad_signature", "high-s"),
    Mutation("entry-transfer", "domain-chain-changed", "checked under another chain id than "
             "the one signed for", _domain_chain, "bad_signature", NOT_BY),
    Mutation("entry-transfer", "field-added", "a field the operation does not have",
             _instruction_change(_field_added), "malformed_instruction", "memo"),
    Mutation("entry-issue_batch", "quantity-beyond-max", "2^53, a quantity JSON numbers "
             "cannot carry exactly", _instruction_change(_too_large),
             "quantity_out_of_range", "2^53-1"),
    Mutation("entry-pledge_register", "signatures-swapped", "the two parties' signatures "
             "swapped between their approvals", _swap_approvals, "bad_signature", NOT_BY),
    Mutation("entry-transfer", "effects-changed", "a created lot one serial longer, the stored "
             "leaf hash kept", _effects_changed, "leaf_hash_mismatch", "the code gives"),
    Mutation("entry-transfer", "not-canonical", "the entry's JSON indented: not RFC 8785",
             _not_canonical, "not_canonical", "RFC 8785"),
    Mutation("entry-transfer", "format-unknown", f"an entry of journal format {ENTRY_FORMAT + 1}",
             _entry_field("format", ENTRY_FORMAT + 1), "UnknownEntryFormat",
             "newer than this code knows"),
    Mutation("entry-transfer", "format-not-a-number", "format \"1\", a string",
             _entry_field("format", "1"), "UnknownEntryFormat", "not a format version"),
    Mutation("entry-transfer", "format-removed", "the legacy form: a valid stored entry, but "
             "not what this code writes now", _without_format, "entry_mismatch",
             "not in format 1"),
    # the signed checkpoint
    Mutation("note", "signature-bit-flipped", "one bit of the signature flipped",
             _note_signature_bit, "NoteError", "the checkpoint signature is invalid"),
    Mutation("note", "size-changed", "the log size one larger, signature kept",
             _note_text(lambda lines: lines.__setitem__(1, str(int(lines[1]) + 1))),
             "NoteError", "is not signed by"),
    Mutation("note", "state-root-changed", "another state root, signature kept",
             _note_text(lambda lines: lines.__setitem__(
                 4, "state " + "A" * 43 + "=")), "NoteError", "is not signed by"),
    Mutation("note", "extension-line-dropped", "the time line removed",
             _note_text(lambda lines: lines.pop(5)), "NoteError", "want 6"),
    Mutation("note", "signed-by-another-key", "the same text signed by a key nobody trusts",
             _note_other_key, "NoteError", "carries no signature by the trusted operator"),
    # proof bundles
    Mutation("bundle-entry", "proof-element-swapped", "two hashes of the inclusion proof "
             "swapped", _bundle(lambda b: _swap(b["inclusion"]["hashes"], 0, 1)),
             "VerificationFailed", NOT_IN_LOG),
    Mutation("bundle-entry", "proof-element-dropped", "the inclusion proof's last hash removed",
             _bundle(lambda b: b["inclusion"]["hashes"].pop()), "VerificationFailed",
             NOT_IN_LOG),
    Mutation("bundle-entry", "index-changed", "the proof claims the next log index",
             _bundle(lambda b: _increment("index")(b["inclusion"])), "VerificationFailed",
             "an entry's position in the log is its seq"),
    Mutation("bundle-entry", "accepted-at-changed", "the entry's acceptance time a day later",
             _bundle(_entry_text(_set("accepted_at", "2026-07-02T02:00:00.000Z"))),
             "VerificationFailed", NOT_IN_LOG),
    Mutation("bundle-entry", "format-unknown",
             f"the entry claims journal format {ENTRY_FORMAT + 1}",
             _bundle(_entry_text(_set("format", ENTRY_FORMAT + 1))), "VerificationFailed",
             "which this verifier does not know"),
    Mutation("bundle-entry-legacy", "format-added", "\"format\":1 added to a legacy entry: "
             "another byte string than the log holds", _bundle(_entry_text(_set("format", 1))),
             "VerificationFailed", NOT_IN_LOG),
    Mutation("bundle-entry", "not-canonical", "the entry text with a space",
             _bundle(lambda b: b.__setitem__("entry", b["entry"].replace(",", ", ", 1))),
             "VerificationFailed", "canonical form"),
    Mutation("bundle-lot", "proof-element-swapped", "two siblings of the state proof swapped",
             _bundle(lambda b: _swap(b["state"]["proof"]["siblings"], 0, 1)),
             "VerificationFailed", "root_mismatch"),
    Mutation("bundle-lot", "state-changed", "the lot claimed tradable, not pledged",
             _bundle(lambda b: _lot_value(_set("state", "tradable"))(b)),
             "VerificationFailed", "value_mismatch"),
    Mutation("bundle-lot", "lot-renamed", "the proof passed off as another lot's",
             _bundle(lambda b: b.__setitem__("lot", "1.1")), "VerificationFailed",
             "but lot 1.1 has key"),
    Mutation("bundle-lot", "operator-changed", "the bundle names another operator",
             _bundle(lambda b: b.__setitem__("operator", address_of(OTHER_KEY))),
             "VerificationFailed", "but the key you trust is"),
    Mutation("bundle-lot", "signed-by-another-key", "the checkpoint signed again by a key "
             "the auditor does not trust", _bundle(_note_of_other_key), "VerificationFailed",
             "carries no signature by the trusted operator"),
    Mutation("bundle-lot", "unknown-field-added", "a field the format does not have",
             _bundle(_set("comment", "trust me")), "VerificationFailed", "unknown comment"),
    Mutation("bundle-lot", "version-changed", "bundle format version 2",
             _bundle(_set("version", 2)), "VerificationFailed",
             "bundle version 2 is not supported"),
    Mutation("bundle-lot-absent", "value-claimed", "a value for a lot the proof shows absent",
             _bundle(lambda b: b["state"].__setitem__("value", canonical_json(
                 {"account": "HN", "batch": "A1", "first": 1, "id": "1.0", "last": 1,
                  "lien": None, "state": "tradable"}).decode())), "VerificationFailed",
             "key_mismatch"),
    Mutation("bundle-holding", "bucket-changed", "one more tradable unit",
             _bundle(lambda b: _lot_value(_increment("tradable"))(b)), "VerificationFailed",
             "value_mismatch"),
    Mutation("bundle-account", "frozen-flipped", "the account claimed frozen",
             _bundle(lambda b: _lot_value(_set("frozen", True))(b)), "VerificationFailed",
             "value_mismatch"),
    Mutation("bundle-consistency", "proof-element-dropped", "the consistency proof's first "
             "hash removed", _bundle(lambda b: b["consistency"].pop(0)), "VerificationFailed",
             "does not extend"),
    Mutation("bundle-consistency", "checkpoints-swapped", "the later checkpoint given as the "
             "earlier", _bundle(_older_checkpoint_first), "VerificationFailed",
             "must come before"),
    Mutation("bundle-pledge", "lot-dropped", "a lot under the lien left out",
             _bundle(lambda b: b["lots"].pop()), "VerificationFailed", "left out"),
    Mutation("bundle-pledge", "release-dropped", "the release left out",
             _bundle(_drop_release), "VerificationFailed", "left out"),
    Mutation("bundle-emissions", "total-changed", "the proven month one kilogram heavier",
             _bundle(lambda b: _lot_value(_increment("total_kg"))(b)), "VerificationFailed",
             "value_mismatch"),
    Mutation("bundle-disclosure", "row-changed", "an emitter's disclosed surrender one tonne "
             "larger than its proven obligation says",
             _bundle(lambda b: _increment("allowances")(b["disclosure"][0])),
             "VerificationFailed", "but its obligation record at checkpoint"),
    Mutation("bundle-retirement", "lot-dropped", "a lot the retirement left retired left out",
             _bundle(lambda b: b["lots"].pop()), "VerificationFailed", "a lot was left out"),
    Mutation("bundle-auction", "bid-raised", "the second bid's price raised in the disclosed book",
             _bundle(lambda b: _increment("price")(b["book"][1])), "VerificationFailed",
             "book digest differs"),
    Mutation("bundle-allocation", "output-dropped", "the true-up's verified output left out",
             _bundle(lambda b: b["installation"]["entries"].update(output=None)),
             "VerificationFailed", "entry dropped"),
    Mutation("bundle-pledge", "entries-reordered", "amendment and enforcement swapped",
             _bundle(lambda b: _swap(b["entries"], -1, -2)), "VerificationFailed",
             "journal order"),
]


# --- writing -----------------------------------------------------------------------------------

def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def generate(out: Path) -> None:
    ledger.client.new_instruction_id = _instruction_ids()
    tests.world._keys = itertools.count(1)  # the key sequence, from its start
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(sqlite_url(Path(tmp) / "golden.db"))
        store.upgrade(OPERATIONS)
        try:
            history = build(store)
            with store.read() as tx:
                rows = tx.journal_rows(0, tx.head + 1)
            vectors = {"note": note_vector(history), **bundle_vectors(history, rows)}
            compliance_cycle(history)  # after checkpoint 5's vectors: they stay as they were
            vectors.update(compliance_bundle_vectors(history))
            project_cycle(history)  # after checkpoint 6's: they stay as they were too
            vectors.update(project_bundle_vectors(history))
            allocation_cycle(history)  # after checkpoint 7's: they stay as they were too
            vectors.update(allocation_bundle_vectors(history))
            with store.read() as tx:
                rows = tx.journal_rows(0, tx.head + 1)
            vectors.update(operation_vectors(history.world, rows))
        finally:
            store.dispose()

    for name, vector in vectors.items():
        check(name, vector)
    mutated: dict[str, Vector] = {}
    for mutation in MUTATIONS:
        name = f"{mutation.base}@{mutation.change}"
        vector = copy.deepcopy(vectors[mutation.base])
        mutation.mutate(vector)
        vector["description"] = f"{vectors[mutation.base]['description']}; mutated: " \
                                f"{mutation.description}"
        vector["wantErr"] = mutation.want_err
        if mutation.want_reason:
            vector["wantReason"] = mutation.want_reason
        problem = fails_as_wanted(name, vector)
        assert problem is None, problem
        mutated[name] = vector

    for old in itertools.chain(out.glob("*.json"), [out / JOURNAL.name]):
        old.unlink(missing_ok=True)
    for name, vector in {**vectors, **mutated}.items():
        _write_json(out / f"{name}.json", vector)
    (out / JOURNAL.name).write_text("\n".join(journal_lines(rows)) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors, {len(mutated)} mutations and a journal of "
          f"{len(rows)} entries to {out}")


if __name__ == "__main__":
    # A folder given as argument receives the files instead (to compare two runs, say).
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else VECTORS
    target.mkdir(parents=True, exist_ok=True)
    generate(target)
