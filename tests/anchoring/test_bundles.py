"""Proof bundles: every kind verifies and says what it proves; every change to one is refused
with its reason; the verifier runs without the ledger; the CLI's proof and verify commands."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from anchoring.auditor.bundle_format import BundleKind
from anchoring.auditor.errors import VerificationFailed
from anchoring.auditor.verify import STANDARD_KINDS, verify_bundle
from anchoring.operator.bundles import Prover
from anchoring.operator.errors import NotCheckpointed
from api.bootstrap import init_ledger, load_operator
from api.cli import main
from custody.signatures import address_of
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.anchoring.ledger_history import OTHER_KEY, History, build_history
from tests.isolation import LEDGER_AND_DATABASES, VERIFY_BUNDLE, run_without

Bundle = dict[str, Any]


@pytest.fixture
def history(sqlite_store: Store, clock: FixedClock) -> History:
    return build_history(sqlite_store, clock)


def _live_lot(history: History, account: str) -> str:
    with history.store.read() as tx:
        return str(tx.one("SELECT id FROM lots WHERE account = :a ORDER BY id", {"a": account})[0])


def test_every_kind_verifies_and_says_what_it_proves(any_store: Store,
                                                     clock: FixedClock) -> None:
    history = build_history(any_store, clock)
    prover = Prover(any_store, history.checkpointer.state)
    lot = _live_lot(history, "GW")
    cases: list[tuple[Bundle, str]] = [
        (prover.entry(7), "journal entry 7 (issue_batch, accepted"),
        (prover.entry(history.checkpoints[1].log_size - 1, 3),
         "(the marker that closes checkpoint 2) is entry"),
        (prover.lot(lot), f"lot {lot} at checkpoint 3"),
        (prover.lot("7.0", 2), "lot 7.0 was not a live lot at checkpoint 2"),  # split by then
        (prover.holding("GW", "C1"), "tradable 495, pledged 0, retired 5"),
        (prover.holding("GW", "A1", 3), "account GW held no units of batch A1"),
        (prover.account("GW", 2), "a trading account of participant gw, frozen"),
        (prover.account("nobody"), "account nobody did not exist"),
        (prover.consistency(1, 3), "checkpoint 3 (log of"),
    ]
    for bundle, words in cases:
        verified = verify_bundle(json.loads(json.dumps(bundle)), history.operator)
        assert words in verified.statement, verified.statement
        assert verified.operator == history.operator and verified.anchor is None


def test_a_fresh_process_proves_past_checkpoints_as_the_live_one_does(history: History) -> None:
    live = Prover(history.store, history.checkpointer.state)
    fresh = Prover(history.store)  # rebuilds each checkpoint's tree from the stored versions
    lot = _live_lot(history, "HN")
    for number in (1, 2, 3):
        assert fresh.lot(lot, number) == live.lot(lot, number)
        assert fresh.holding("HN", "A1", number) == live.holding("HN", "A1", number)


def test_what_cannot_be_proven_is_said(history: History) -> None:
    prover = Prover(history.store)
    head = history.world.head()
    with pytest.raises(NotCheckpointed, match=f"entry {head} is not in checkpoint 3"):
        prover.entry(head)
    with pytest.raises(NotCheckpointed, match="there is no checkpoint 9: the latest is 3"):
        prover.lot("5.0", 9)
    with pytest.raises(NotCheckpointed, match="from an earlier checkpoint to a later one"):
        prover.consistency(3, 1)


# --- every change to a bundle is refused, with its reason (tests as data) ----------------------

def _flip_hex(text: str) -> str:
    return ("1" if text[0] == "0" else "0") + text[1:]


def _set(path: tuple[str | int, ...], value: Callable[[Any, Bundle], Any]) -> Callable[
        [Bundle, dict[str, Bundle]], None]:
    def change(bundle: Bundle, others: dict[str, Bundle]) -> None:
        target: Any = bundle
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value(target[path[-1]], others)
    return change


MUTATIONS: list[tuple[str, str, Callable[[Bundle, dict[str, Bundle]], None], str]] = [
    ("entry", "entry-byte-changed",
     _set(("entry",), lambda e, _: e.replace("issue_batch", "issue_batcH")),
     "is not in checkpoint 3's log"),
    ("entry", "index-is-not-the-seq",
     _set(("inclusion", "index"), lambda i, _: i + 1), "the entry says seq 7"),
    ("entry", "another-entry-with-this-proof",
     _set(("entry",), lambda _, o: o["entry8"]["entry"]), "the entry says seq 8"),
    ("entry", "size-and-root-of-another-checkpoint",
     _set(("checkpoint",), lambda _, o: o["entry8"]["checkpoint"]), "is not in checkpoint 2"),
    ("entry", "proof-hash-flipped",
     _set(("inclusion", "hashes", 0), lambda h, _: _flip_hex(h)), "leads to root"),
    ("entry", "proof-hash-added",
     _set(("inclusion", "hashes"), lambda h, _: [*h, h[0]]), "hashes"),
    ("entry", "note-signature-byte-changed",
     _set(("checkpoint",), lambda n, _: n[:-4] + ("A" if n[-4] != "A" else "B") + n[-3:]),
     "checkpoint rejected"),
    ("entry", "note-size-changed",
     _set(("checkpoint",), lambda n, _: n.replace("\n", "\n1", 1)), "checkpoint rejected"),
    ("entry", "operator-renamed",
     _set(("operator",), lambda _, __: address_of(OTHER_KEY)), "the bundle names operator"),
    ("entry", "anchor-of-another-checkpoint",
     _set(("anchor",), lambda _, __: {"chain_id": 1, "contract": "0x" + "00" * 20,
                                     "checkpoint": 2, "tx_hash": "0x" + "00" * 32,
                                     "block_number": 1, "block_time": 1}),
     "the anchor is for checkpoint 2"),
    ("entry", "unknown-field", lambda b, _: b.update(size=99), "unknown size"),
    ("entry", "unknown-kind", _set(("kind",), lambda _, __: "no-such-kind"),
     "unknown bundle kind"),
    ("entry", "future-version", _set(("version",), lambda _, __: 2), "not supported"),
    ("lot", "holder-changed",
     _set(("state", "value"), lambda v, _: v.replace('"GW"', '"HN"')), "value_mismatch"),
    ("lot", "another-lot-with-this-proof",
     _set(("lot",), lambda _, o: o["lot_hn"]["lot"]), "the proof is for key"),
    ("lot", "another-lots-value",
     _set(("state", "value"), lambda _, o: o["lot_hn"]["state"]["value"]),
     "does not describe lot"),
    ("lot", "claimed-absent",
     _set(("state", "value"), lambda _, __: None), "wrong_kind"),
    ("lot", "value-not-canonical",
     _set(("state", "value"), lambda v, _: v.replace(",", ", ", 1)), "canonical"),
    ("lot", "state-root-of-another-checkpoint",
     _set(("checkpoint",), lambda _, o: o["entry8"]["checkpoint"]), "root_mismatch"),
    ("lot", "sibling-flipped",
     _set(("state", "proof", "siblings", 0), lambda h, _: _flip_hex(h)), "root_mismatch"),
    ("consistency", "checkpoints-swapped",
     lambda b, _: b.update(checkpoint=b["from_checkpoint"], from_checkpoint=b["checkpoint"]),
     "must come before"),
    ("consistency", "proof-hash-flipped",
     _set(("consistency", 0), lambda h, _: _flip_hex(h)), "does not extend checkpoint 1"),
]


@pytest.fixture
def bundles(history: History) -> dict[str, Bundle]:
    prover = Prover(history.store, history.checkpointer.state)
    return {"entry": prover.entry(7), "entry8": prover.entry(8, 2),
            "lot": prover.lot(_live_lot(history, "GW")),
            "lot_hn": prover.lot(_live_lot(history, "HN")),
            "consistency": prover.consistency(1, 3)}


@pytest.mark.parametrize(("kind", "name", "change", "reason"), MUTATIONS,
                         ids=[m[1] for m in MUTATIONS])
def test_a_changed_bundle_is_refused(history: History, bundles: dict[str, Bundle], kind: str,
                                     name: str, change: Callable[[Bundle, dict[str, Bundle]],
                                                                 None], reason: str) -> None:
    bundle = copy.deepcopy(bundles[kind])
    verify_bundle(bundle, history.operator)  # it held before the change
    change(bundle, bundles)
    with pytest.raises(VerificationFailed) as refused:
        verify_bundle(bundle, history.operator)
    assert reason in refused.value.reason, refused.value.reason


def test_the_auditors_key_decides_not_the_bundles(history: History,
                                                  bundles: dict[str, Bundle]) -> None:
    with pytest.raises(VerificationFailed, match="the key you trust is"):
        verify_bundle(bundles["entry"], address_of(OTHER_KEY))
    renamed = {**bundles["entry"], "operator": address_of(OTHER_KEY)}
    with pytest.raises(VerificationFailed, match="no signature by the trusted operator key"):
        verify_bundle(renamed, address_of(OTHER_KEY))


def test_later_kinds_are_handed_to_the_verifier(history: History,
                                                bundles: dict[str, Bundle]) -> None:
    def verify_claim(bundle: Any, checkpoint: Any, _trusted: str) -> str:
        return f"{bundle['claim']} at checkpoint {checkpoint.number}"

    note = BundleKind("test-note", frozenset({"claim"}), verify_claim)
    bundle = {**{k: bundles["entry"][k] for k in ("format", "version", "operator",
                                                  "checkpoint", "anchor")},
              "kind": "test-note", "claim": "hello"}
    kinds = (*STANDARD_KINDS, note)
    assert verify_bundle(bundle, history.operator, kinds).statement == "hello at checkpoint 3"
    # A verifier not handed the kind does not know it: nothing registered it on the way.
    with pytest.raises(VerificationFailed, match="unknown bundle kind 'test-note'"):
        verify_bundle(bundle, history.operator)
    with pytest.raises(ValueError, match="two bundle kinds are named 'test-note'"):
        verify_bundle(bundle, history.operator, (*kinds, note))
    # The standard kinds stay available beside the new one.
    assert verify_bundle(bundles["entry"], history.operator, kinds).kind == "entry"


# --- the verifier stands alone ------------------------------------------------------------------

def test_the_verifier_runs_without_the_ledger_or_a_database(history: History,
                                                            bundles: dict[str, Bundle],
                                                            tmp_path: Path) -> None:
    for kind in ("entry", "lot", "consistency"):
        path = tmp_path / f"{kind}.json"
        path.write_text(json.dumps(bundles[kind]))
        result = run_without(LEDGER_AND_DATABASES | {"web3"}, VERIFY_BUNDLE, str(path),
                             history.operator)
        assert result.returncode == 0, result.stderr
        assert "checkpoint 3" in result.stdout


# --- the command line -----------------------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    data = tmp_path / "ledger"
    init_ledger(data, registry="MEE", registry_name="Ministry", password="pw", scrypt_n=2**4)
    return data


def test_proof_and_verify_commands(data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    cli = ["--data-dir", str(data_dir)]
    operator = load_operator(data_dir)
    assert operator is not None  # init made the operator key
    result = runner.invoke(main, [*cli, "checkpoint"])
    assert result.exit_code == 0, result.output
    assert "checkpoint 1: log size 2" in result.output and "\u2014 carbonledger/MEE/" in \
        result.output
    bundle = tmp_path / "entry.json"
    assert runner.invoke(main, [*cli, "proof", "entry", "0", "-o", str(bundle)]).exit_code == 0

    result = runner.invoke(main, [*cli, "verify", str(bundle)])
    assert result.exit_code == 0, result.output
    assert f"trusting operator key {operator.address} (the ledger's configured" in result.output
    assert "VERIFIED: journal entry 0 (genesis" in result.output

    result = runner.invoke(main, [*cli, "verify", "--operator-key", address_of(OTHER_KEY),
                                  str(bundle)])
    assert result.exit_code == 1
    assert "(given with --operator-key)" in result.output and "NOT VERIFIED" in result.output

    elsewhere = ["--data-dir", str(tmp_path / "nothing-here")]
    result = runner.invoke(main, [*elsewhere, "verify", str(bundle)])
    assert result.exit_code != 0 and "pass --operator-key ADDRESS" in result.output
    result = runner.invoke(main, [*elsewhere, "verify", "--operator-key", operator.address,
                                  str(bundle)])
    assert result.exit_code == 0, result.output

    for args, words in ((["lot", "0.0"], "was not a live lot"),
                        (["account", "MEE-T"], "did not exist"),
                        (["holding", "MEE-T", "A1"], "held no units")):
        result = runner.invoke(main, [*cli, "proof", *args])
        assert result.exit_code == 0, result.output
        (bundle := tmp_path / "state.json").write_text(result.output)
        result = runner.invoke(main, [*cli, "verify", str(bundle)])
        assert result.exit_code == 0 and words in result.output, result.output

    assert runner.invoke(main, [*cli, "checkpoint"]).exit_code == 0
    result = runner.invoke(main, [*cli, "proof", "consistency", "1", "2"])
    assert result.exit_code == 0, result.output
    bundle.write_text(result.output)
    assert "extends checkpoint 1" in runner.invoke(main, [*cli, "verify", str(bundle)]).output

    result = runner.invoke(main, [*cli, "proof", "entry", "9"])
    assert result.exit_code != 0 and "entry 9 is not in checkpoint 2" in result.output
    result = runner.invoke(main, [*cli, "checkpoint", "--if-due"])
    assert result.exit_code == 0 and "no checkpoint due" in result.output


def test_in_one_snapshot_the_state_and_the_bundle_are_read_once_and_agree(
        pg_store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a service does for each bundle it keeps (api/service.py): the checkpoint's state,
    then the bundle, in one read transaction; on PostgreSQL the checkpoint, its cosignatures
    and the BEGIN go in one round trip, read once for both."""
    from ledger.store import sql

    history = build_history(pg_store, clock)
    lot = _live_lot(history, "GW")
    prover = Prover(pg_store, history.checkpointer.state)
    apart = (prover.state_at(), prover.lot(lot))
    sent: list[list[str]] = []
    real_round_trip = sql.round_trip

    def recorded(connection: Any, statements: Any) -> Any:
        sent.append([statement for statement, _ in statements])
        return real_round_trip(connection, statements)

    monkeypatch.setattr(sql, "round_trip", recorded)
    with prover.one_snapshot() as snapshot:
        together = (snapshot.state_at(), snapshot.lot(lot))
    assert together == apart
    assert together[0] is not None and together[0].number == 3
    opening = sent[0]
    assert opening[0].startswith("BEGIN") and any("FROM cosignatures" in s for s in opening)
    assert not any("FROM checkpoints" in s for batch in sent[1:] for s in batch)
    assert sent[-1] == ["COMMIT"]
    with pytest.raises(NotCheckpointed, match="there is no checkpoint 9"), \
            prover.one_snapshot() as snapshot:
        assert snapshot.state_at(9) is None
        snapshot.lot(lot, 9)
