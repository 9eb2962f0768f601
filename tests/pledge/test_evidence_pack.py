"""A pledge's evidence pack (bundle kind `pledge`): an honest pack verifies and says what it
proves; a pack whose lots or entries were altered, one that claims a later checkpoint than its
proofs hold at, and tampered bytes are refused with their reason; what cannot be proven yet is
said; the verifier runs without the ledger; the CLI's `proof pledge` and `verify`."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from anchoring.auditor import verify_pledge
from anchoring.auditor.errors import VerificationFailed
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.errors import NotCheckpointed
from anchoring.operator.pledge_evidence import PledgeNotFound, prove_pledge
from api.bootstrap import init_ledger, load_operator, open_ledger, registry_wallet
from api.cli import main
from api.config import load_config
from ledger.clock import FixedClock
from pledge.ops import PLEDGE_AMEND, PLEDGE_ENFORCE, PLEDGE_REGISTER, PLEDGE_RELEASE
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.isolation import LEDGER_AND_DATABASES, VERIFY_BUNDLE, run_without
from tests.pledge.conftest import populate
from tests.pledge.helpers import PLEDGORS, by, lien_lots, register
from tests.world import World

Bundle = dict[str, Any]


@dataclass
class Pledged:
    world: World
    checkpointer: Checkpointer

    @property
    def operator(self) -> str:
        return self.checkpointer.operator

    def pack(self, pledge_id: str = "P1", number: int | None = None) -> Bundle:
        pack = prove_pledge(Prover(self.world.store, self.checkpointer.state), pledge_id,
                            number)
        return json.loads(json.dumps(pack))  # as a reader receives it

    def verify(self, pack: Bundle) -> str:
        return verify_bundle(pack, self.operator).statement


def pledge_in_two_lots(world: World) -> None:
    """HN's A1 is 1..200 and 251..1000 once 201..250 went to Baowu, so P1 (400 t, oldest
    serials first) lies in two lots: 1..200 and 251..450. Then ICBC releases 100 t
    (1..100), and BOC holds P2 on serials 901..950 of the same holding."""
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A1", quantity=50,
             serialFirst=201, serialLast=250)
    register(world)
    register(world, ("huaneng", "boc"), pledge="P2", pledgee="boc", quantity=50,
             serialFirst=901, serialLast=950)
    by(world, ("icbc",), "pledge_release", pledge="P1", quantity=100)


@pytest.fixture
def pledged(market: World) -> Pledged:
    pledge_in_two_lots(market)
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    return Pledged(market, checkpointer)


def test_an_honest_pack_verifies_and_says_what_it_proves(pledged: Pledged) -> None:
    pack = pledged.pack()
    assert [lot[:3] for lot in lien_lots(pledged.world, "P1")] == \
        [(101, 200, "HN"), (251, 450, "HN")]
    statement = pledged.verify(pack)
    for words in ("pledge P1: huaneng (account HN) pledged 400 t of batch A1 (oldest serials "
                  "first) to icbc, registered by journal entry",
                  "securing loan ICBC-SZ-2026-0042 maturing 2026-12-31; released 100 t (entry",
                  "at checkpoint 1 (2026-06-01T09:00:00.000Z), 300 t of batch A1 are still "
                  "pledged under its lien: serials 101..200 (lot", ", 251..450 (lot"):
        assert words in statement, statement
    assert [len(pack["entries"]), len(pack["lots"])] == [2, 2]

    by_range = pledged.verify(pledged.pack("P2"))
    assert "50 t of batch A1 (serials 901..950) to boc" in by_range, by_range
    assert "nothing released or enforced since" in by_range, by_range


def test_enforcement_and_amendment_are_in_the_pack(pledged: Pledged) -> None:
    world = pledged.world
    by(world, PLEDGORS, "pledge_amend", pledge="P1", loanReference="ICBC-SZ-2026-0042-A",
       principal=9_000_000_00, currency="CNY", maturityDate="2027-03-31")
    by(world, ("icbc", "registry"), "pledge_enforce", pledge="P1", quantity=120,
       toAccount="ICBC")  # early: the registry co-signed
    pledged.checkpointer.cut()
    statement = pledged.verify(pledged.pack())
    for words in ("maturing 2027-03-31, as amended by entry", "enforced 120 t (entry",
                  "at checkpoint 2", "180 t of batch A1 are still pledged under its lien: "
                  "serials 271..450 (lot"):
        assert words in statement, statement


def test_the_verifier_knows_the_pledge_operations_by_their_names() -> None:
    names = (verify_pledge.REGISTER, verify_pledge.RELEASE, verify_pledge.ENFORCE,
             verify_pledge.AMEND)
    assert names == tuple(schema.op for schema in (PLEDGE_REGISTER, PLEDGE_RELEASE,
                                                   PLEDGE_ENFORCE, PLEDGE_AMEND))


# --- what cannot be proven is said -------------------------------------------------------------

def test_a_registration_after_the_checkpoint_asks_for_one(pledged: Pledged) -> None:
    register(pledged.world, pledge="P3", quantity=10)
    with pytest.raises(NotCheckpointed, match=r"pledge P3 was registered by journal entry "
                       r"\d+, after checkpoint 1 .* cut a checkpoint with "
                       r"`carbonledger checkpoint`"):
        pledged.pack("P3")
    pledged.checkpointer.cut()
    assert "pledge P3:" in pledged.verify(pledged.pack("P3"))


def test_no_checkpoint_and_no_pledge_are_said(market: World) -> None:
    register(market)
    prover = Prover(market.store)
    with pytest.raises(NotCheckpointed, match="no checkpoint yet: run `carbonledger "
                                              "checkpoint`"):
        prove_pledge(prover, "P1")
    Checkpointer(market.ledger, OPERATOR_KEY).cut()
    with pytest.raises(PledgeNotFound, match="there is no pledge 'R1'"):
        prove_pledge(prover, "R1")
    with pytest.raises(NotCheckpointed, match="there is no checkpoint 4: the latest is 1"):
        prove_pledge(prover, "P1", 4)


# --- a released pledge cannot be shown as still pledged at a later checkpoint ------------------

def test_a_pledge_released_after_the_checkpoint_cannot_claim_a_later_one(
        pledged: Pledged) -> None:
    before = pledged.pack()
    by(pledged.world, ("icbc",), "pledge_release", pledge="P1", quantity=300)
    pledged.checkpointer.cut()
    after = pledged.pack()
    assert "at checkpoint 2" in pledged.verify(after)
    assert "no unit is pledged under it any more" in pledged.verify(after)
    assert "at checkpoint 1" in pledged.verify(before)  # still true of checkpoint 1

    # The old lots under the new checkpoint, with entries proven afresh at it.
    prover = Prover(pledged.world.store, pledged.checkpointer.state)
    stale = {**copy.deepcopy(before), "checkpoint": after["checkpoint"],
             "pledgor_account": after["pledgor_account"]}
    stale["entries"] = [{k: v for k, v in prover.entry(json.loads(e["entry"])["seq"]).items()
                         if k in ("entry", "inclusion")} for e in before["entries"]]
    with pytest.raises(VerificationFailed, match=r"the state proof of lot .* does not hold at "
                                                 r"checkpoint 2"):
        pledged.verify(stale)
    # The honest later pack with the old lots put back.
    with pytest.raises(VerificationFailed, match="does not hold at checkpoint 2"):
        pledged.verify({**after, "lots": before["lots"]})
    # The old pack, its release left out, relabelled as the later checkpoint: its proofs are
    # of the earlier log and state.
    with pytest.raises(VerificationFailed, match="is not in checkpoint 2's log"):
        pledged.verify({**before, "checkpoint": after["checkpoint"]})


# --- every change to a pack is refused, with its reason (tests as data) ------------------------

def _flip_hex(text: str) -> str:
    return ("1" if text[0] == "0" else "0") + text[1:]


def _entry_text(pack: Bundle, index: int, old: str, new: str) -> None:
    text = pack["entries"][index]["entry"]
    assert old in text
    pack["entries"][index]["entry"] = text.replace(old, new, 1)


Change = Callable[[Bundle, dict[str, Bundle]], None]
MUTATIONS: list[tuple[str, Change, str]] = [
    # the lot list
    ("lot-left-out", lambda p, _: p["lots"].pop(), "a lot or an entry was left out"),
    ("lots-swapped", lambda p, _: p["lots"].reverse(), "serial order without overlap"),
    ("lot-listed-twice", lambda p, _: p["lots"].append(p["lots"][-1]),
     "serial order without overlap"),
    ("lot-of-another-pledge", lambda p, o: p["lots"].append(o["P2"]["lots"][0]),
     "has lien 'P2' at checkpoint 1, not 'P1'"),
    ("released-lot-passed-off", lambda p, o: p["lots"].insert(0, o["released"]),
     "has lien None at checkpoint 1, not 'P1'"),
    ("lot-moved-in-value",
     lambda p, _: p["lots"][0]["state"].update(
         value=p["lots"][0]["state"]["value"].replace('"HN"', '"BW"')),
     "does not hold at checkpoint 1"),
    ("lot-range-widened",
     lambda p, _: p["lots"][0]["state"].update(
         value=p["lots"][0]["state"]["value"].replace('"first":101', '"first":1')),
     "does not hold at checkpoint 1"),
    ("lot-with-another-lots-proof",
     lambda p, _: p["lots"][0].update(state=p["lots"][1]["state"]), "the proof is for key"),
    # the entries
    ("release-left-out", lambda p, _: p["entries"].pop(1), "a lot or an entry was left out"),
    ("registration-left-out", lambda p, _: p["entries"].pop(0), "must be pledge_register"),
    ("release-listed-twice", lambda p, _: p["entries"].append(p["entries"][1]),
     "journal order, each once"),
    ("registration-of-another-pledge",
     lambda p, o: p["entries"].__setitem__(0, o["P2"]["entries"][0]),
     "acts on pledge 'P2', not P1"),
    ("pledge-renamed", lambda p, _: p.update(pledge="P2"), "acts on pledge 'P1', not P2"),
    ("pledgor-account-of-another",
     lambda p, o: p.update(pledgor_account=o["BW"]), "proves account 'BW'"),
    ("no-entries", lambda p, _: p.update(entries=[]), "starting with the registration"),
    ("unknown-field", lambda p, _: p.update(note="trust me"), "unknown note"),
    # tampered bytes
    ("registered-quantity-edited", lambda p, _: _entry_text(p, 0, '"quantity":400',
                                                            '"quantity":500'),
     "is not in checkpoint 1's log"),
    ("released-quantity-edited", lambda p, _: _entry_text(p, 1, '"quantity":100',
                                                          '"quantity":10'),
     "is not in checkpoint 1's log"),
    ("inclusion-hash-flipped",
     lambda p, _: p["entries"][0]["inclusion"]["hashes"].__setitem__(
         0, _flip_hex(p["entries"][0]["inclusion"]["hashes"][0])),
     "is not in checkpoint 1's log"),
    ("lot-sibling-flipped",
     lambda p, _: p["lots"][1]["state"]["proof"]["siblings"].__setitem__(
         0, _flip_hex(p["lots"][1]["state"]["proof"]["siblings"][0])),
     "does not hold at checkpoint 1"),
    ("account-value-edited",
     lambda p, _: p["pledgor_account"]["state"].update(
         value=p["pledgor_account"]["state"]["value"].replace('"huaneng"', '"baowu"')),
     "does not hold at checkpoint 1"),
    ("note-signature-byte-changed",
     lambda p, _: p.update(checkpoint=p["checkpoint"][:-4] + (
         "A" if p["checkpoint"][-4] != "A" else "B") + p["checkpoint"][-3:]),
     "checkpoint rejected"),
]


@pytest.fixture
def packs(pledged: Pledged) -> dict[str, Bundle]:
    prover = Prover(pledged.world.store, pledged.checkpointer.state)
    with pledged.world.store.read() as tx:  # the 100 t ICBC released: 1..100, tradable
        (released_id,) = tx.one("SELECT id FROM lots WHERE account = 'HN' AND batch = 'A1' "
                                "AND serial_first = 1")
    released, bw = prover.lot(released_id), prover.account("BW")
    return {"P1": pledged.pack(), "P2": pledged.pack("P2"),
            "released": {"lot": released["lot"], "state": released["state"]},
            "BW": {"account": bw["account"], "state": bw["state"]}}


@pytest.mark.parametrize(("name", "change", "reason"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_changed_pack_is_refused(pledged: Pledged, packs: dict[str, Bundle], name: str,
                                   change: Change, reason: str) -> None:
    pack = copy.deepcopy(packs["P1"])
    pledged.verify(pack)  # it held before the change
    change(pack, packs)
    with pytest.raises(VerificationFailed) as refused:
        pledged.verify(pack)
    assert reason in refused.value.reason, refused.value.reason


# --- the verifier stands alone ------------------------------------------------------------------

def test_the_pack_is_checked_without_the_ledger_or_a_database(pledged: Pledged,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pledged.pack()))
    result = run_without(LEDGER_AND_DATABASES | {"web3"}, VERIFY_BUNDLE, str(path),
                         pledged.operator)
    assert result.returncode == 0, result.stderr
    assert "pledge P1: huaneng" in result.stdout


# --- the command line ---------------------------------------------------------------------------

def test_proof_pledge_and_verify_commands(clock: FixedClock, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    data = tmp_path / "ledger"
    init_ledger(data, registry="registry", registry_name="Registry", password="pw",
                scrypt_n=2**4, clock=clock)
    config = load_config(data)
    world = World(open_ledger(config, clock), clock, registry_wallet(config, data, "pw"))
    world.wallets["registry"] = world.registry
    pledge_in_two_lots(populate(world))
    world.store.dispose()
    runner, cli = CliRunner(), ["--data-dir", str(data)]

    result = runner.invoke(main, [*cli, "proof", "pledge", "P1"])
    assert result.exit_code != 0 and "no checkpoint yet" in result.output, result.output
    assert runner.invoke(main, [*cli, "checkpoint"]).exit_code == 0
    # the command cut it by the wall clock, and no entry is ever accepted before the entry
    # ahead of it: the world's instructions are signed from then on
    clock.moment = datetime.now(UTC)
    register(world, pledge="P3", quantity=10)
    world.store.dispose()
    result = runner.invoke(main, [*cli, "proof", "pledge", "P3"])
    assert result.exit_code != 0, result.output
    assert "after checkpoint 1" in result.output and "`carbonledger checkpoint`" in \
        result.output
    result = runner.invoke(main, [*cli, "proof", "pledge", "NOPE"])
    assert result.exit_code != 0 and "there is no pledge 'NOPE'" in result.output

    pack = tmp_path / "pack.json"
    result = runner.invoke(main, [*cli, "proof", "pledge", "P1", "-o", str(pack)])
    assert result.exit_code == 0, result.output
    operator = load_operator(data)
    assert operator is not None
    assert f"checked against operator key {operator.address}: pledge P1: huaneng" in \
        result.stderr and "300 t of batch A1 are still pledged" in result.stderr
    assert json.loads(pack.read_text())["kind"] == "pledge"
    result = runner.invoke(main, [*cli, "proof", "pledge", "P1"])
    assert json.loads(result.stdout)["pledge"] == "P1"  # the words stay out of the JSON

    result = runner.invoke(main, [*cli, "verify", str(pack)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED: pledge P1: huaneng (account HN) pledged 400 t" in result.output
    tampered = json.loads(pack.read_text())
    tampered["lots"].pop()
    pack.write_text(json.dumps(tampered))
    result = runner.invoke(main, [*cli, "verify", str(pack)])
    assert result.exit_code == 1 and "NOT VERIFIED" in result.output
