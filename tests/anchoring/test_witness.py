"""A witness replays the operator's journal on its own and cosigns the checkpoints that follow
from it: incrementally, run after run; and it refuses, naming the checkpoint or the entry, a
journal rewritten after the fact or a state the operator's tables were changed to, even when
the operator key re-signed the checkpoint. Its cosignatures, kept by the operator, travel in
bundles that `verify_bundle(..., witnesses=...)` then accepts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from anchoring.auditor.cosignature import CosignatureError, parse_vkey, require_cosigned
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.merkle import leaf_hash, root_from_leaf_hashes
from anchoring.auditor.note import open_note, sign_note
from anchoring.auditor.smt import SparseMerkleTree
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from anchoring.operator.contract import AnchoredCheckpoint, attestation_digest
from anchoring.operator.cosignatures import accept_attestation, accept_cosigned_note
from anchoring.witness.errors import WitnessNotReady, WitnessRefused
from anchoring.witness.identity import create_witness, load_keys
from anchoring.witness.source import StoreSource
from anchoring.witness.witness import AttestFor, Witness
from custody.signatures import recover_signer
from ledger.clock import FixedClock
from ledger.store.database import Store
from ledger.store.state_leaves import all_leaves
from tests.anchoring.ledger_history import OPERATOR_KEY, History, build_history
from tests.world import OPERATIONS

PASSWORD = "witness password"
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


@pytest.fixture
def history(sqlite_store: Store, clock: FixedClock) -> History:
    return build_history(sqlite_store, clock)


def _witness(directory: Path, history: History, name: str = "witness.example/w1",
             attest: bool = False) -> Witness:
    if not (directory / "witness.json").exists():
        create_witness(directory, name, history.operator, PASSWORD, scrypt_n=2)
    from anchoring.witness.identity import load_witness

    config = load_witness(directory)
    return Witness(directory, config, load_keys(directory, config, PASSWORD), OPERATIONS,
                   clock=lambda: 1_780_000_000,
                   attest_for=AttestFor(31337, REGISTRY) if attest else None)


def _source(history: History) -> StoreSource:
    return StoreSource(history.store, "the operator's store")


def _more(history: History) -> None:
    world = history.world
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=3)
    world.by("gw", "retire", account="GW", batch="C1", quantity=2, beneficiary="b",
             reason="r", claim="c")
    history.cut()


def test_a_witness_that_agrees_cosigns_every_checkpoint_incrementally(
        any_store: Store, clock: FixedClock, tmp_path: Path) -> None:
    history = build_history(any_store, clock)  # the operator's store: SQLite or PostgreSQL
    witness = _witness(tmp_path / "w1", history, attest=True)
    report = witness.run(_source(history))
    assert [c.number for c in report.cosigned] == [1, 2, 3]
    assert report.entries == history.checkpoints[-1].log_size
    vkey = parse_vkey(witness.config.vkey)
    for cosigned, stored in zip(report.cosigned, history.checkpoints, strict=True):
        note = cosigned.note_file.read_text()
        assert note.startswith(stored.note)  # the operator's note, one line added
        assert open_note(note, history.operator) == stored.body
        assert [c.timestamp for c in require_cosigned(note, [vkey])] == [1_780_000_000]
        attestation = json.loads(cosigned.attestation_file.read_text())  # type: ignore[union-attr]
        digest = attestation_digest(31337, REGISTRY, AnchoredCheckpoint(
            stored.number, stored.log_size, stored.log_root, stored.state_root))
        assert recover_signer(digest, bytes.fromhex(attestation["signature"][2:])) == \
            witness.config.attester == attestation["attester"]

    # nothing new: nothing replayed, nothing cosigned
    assert _witness(tmp_path / "w1", history).run(_source(history)).cosigned == []
    # a later checkpoint: only its entries are replayed, and only it is cosigned
    _more(history)
    again = _witness(tmp_path / "w1", history).run(_source(history))
    assert [c.number for c in again.cosigned] == [4]
    assert again.entries == history.checkpoints[3].log_size - history.checkpoints[2].log_size


def test_the_operator_keeps_cosignatures_and_bundles_carry_them(
        history: History, tmp_path: Path) -> None:
    witnesses = [_witness(tmp_path / f"w{n}", history, f"witness.example/w{n}")
                 for n in (1, 2)]
    keys = [parse_vkey(w.config.vkey) for w in witnesses]
    notes = [w.run(_source(history)).cosigned[2].note_file.read_text() for w in witnesses]
    with history.store.write() as tx:
        assert [r.witness for r in accept_cosigned_note(tx, notes[0], keys, history.operator)] \
            == ["witness.example/w1"]
        assert accept_cosigned_note(tx, notes[0], keys, history.operator) == []  # kept once
        accept_cosigned_note(tx, notes[1], keys, history.operator)
    bundle = json.loads(json.dumps(Prover(history.store).entry(7)))
    assert verify_bundle(bundle, history.operator, witnesses=keys).cosigned_by
    assert verify_bundle(bundle, history.operator).statement  # without witnesses, as before
    with pytest.raises(VerificationFailed) as refused:  # checkpoint 2: never handed over
        verify_bundle(Prover(history.store).entry(7, 2), history.operator, witnesses=keys)
    assert refused.value.code is VerifyFailure.too_few_cosignatures

    # a note cosigned by a witness the operator does not know, or by nobody, is refused
    with history.store.write() as tx, pytest.raises(CosignatureError) as nobody:
        accept_cosigned_note(tx, history.checkpoints[0].note, keys, history.operator)
    assert nobody.value.code is VerifyFailure.too_few_cosignatures


def test_attestations_are_kept_only_when_the_attester_signed_this_checkpoint(
        history: History, tmp_path: Path) -> None:
    witness = _witness(tmp_path / "w1", history, attest=True)
    cosigned = witness.run(_source(history)).cosigned
    document = json.loads(cosigned[0].attestation_file.read_text())  # type: ignore[union-attr]
    with history.store.write() as tx:
        assert accept_attestation(tx, document) == (1, witness.config.attester, True)
        assert accept_attestation(tx, document)[2] is False
        for forged in ({**document, "checkpoint": 2}, {**document, "chain_id": 1},
                       {**document, "attester": history.operator}):
            with pytest.raises(CosignatureError) as refused:
                accept_attestation(tx, forged)
            assert refused.value.code is VerifyFailure.cosignature_invalid


def _resign(history: History, number: int, *, log_root: bytes | None = None,
            state_root: bytes | None = None) -> None:
    """The insider's step: checkpoint `number` signed again by the operator key, with other
    roots, and its row made to match."""
    stored = history.checkpoints[number - 1]
    body = replace(stored.body, log_root=log_root or stored.log_root,
                   state_root=state_root or stored.state_root)
    with history.store.write() as tx:
        tx.execute("UPDATE checkpoints SET note = :note, log_root = :log, state_root = :state "
                   "WHERE number = :n", {"note": sign_note(body, OPERATOR_KEY),
                                         "log": body.log_root, "state": body.state_root,
                                         "n": number})


def _rewrite_entry(history: History, seq: int) -> None:
    """Entry `seq`'s bytes changed (its quantity), with its leaf hash made to match."""
    with history.store.read() as tx:
        row = tx.journal_row(seq)
    assert row is not None and b'"quantity":70' in row.entry
    entry = row.entry.replace(b'"quantity":70', b'"quantity":60')
    with history.store.write() as tx:
        tx.execute("UPDATE journal SET entry = :entry, leaf_hash = :hash WHERE seq = :seq",
                   {"entry": entry, "hash": leaf_hash(entry), "seq": seq})


def _transfer_seq(history: History) -> int:
    with history.store.read() as tx:
        rows = tx.journal_rows(0, history.checkpoints[1].log_size)
    return next(r.seq for r in rows if r.op == "transfer")


def test_a_journal_rewritten_after_the_witness_cosigned_is_refused_naming_the_entry(
        history: History, tmp_path: Path) -> None:
    witness = _witness(tmp_path / "w1", history)
    witness.run(_source(history))
    _more(history)
    seq = _transfer_seq(history)
    _rewrite_entry(history, seq)
    with history.store.read() as tx:
        hashes = [r.leaf_hash for r in tx.journal_rows(0, history.checkpoints[3].log_size)]
    _resign(history, 4, log_root=root_from_leaf_hashes(hashes))
    with pytest.raises(WitnessRefused) as refused:
        _witness(tmp_path / "w1", history).run(_source(history))
    message = str(refused.value)
    assert message.startswith("checkpoint 4 (marker entry") and "log root" in message
    assert f"entry {seq} in the operator's journal is not the entry the witness replayed" \
        in message
    assert refused.value.code is VerifyFailure.witness_refused
    # recorded, and final
    with pytest.raises(WitnessRefused, match="refused before, and for good: checkpoint 4"):
        _witness(tmp_path / "w1", history).run(_source(history))
    assert not (tmp_path / "w1" / "cosigned" / "4.note").exists()


def test_a_journal_rewritten_before_the_witness_saw_it_is_refused_at_the_entry(
        history: History, tmp_path: Path) -> None:
    seq = _transfer_seq(history)
    _rewrite_entry(history, seq)
    with pytest.raises(WitnessRefused, match=f"^entry {seq}: ") as refused:
        _witness(tmp_path / "w1", history).run(_source(history))
    assert "signature" in str(refused.value) or "refused on replay" in str(refused.value)
    # bytes changed without their leaf hash: named as such
    with history.store.write() as tx:
        tx.execute("UPDATE journal SET entry = :e WHERE seq = 2",
                   {"e": b'{"changed":true}'})
    with pytest.raises(WitnessRefused, match="entry 2: its bytes in the operator's journal do "
                                             "not hash to its stored leaf hash"):
        _witness(tmp_path / "w2", history, "witness.example/w2").run(_source(history))


def test_a_lots_holder_changed_in_the_tables_and_re_signed_is_refused(
        history: History, tmp_path: Path) -> None:
    witness = _witness(tmp_path / "w1", history)
    witness.run(_source(history))
    _more(history)
    # The insider gives a lot of HN's to GW in the operator's tables and has the operator key
    # sign the state those tables now hold.
    with history.store.write() as tx:
        lot = tx.one("SELECT id FROM lots WHERE account = 'HN' ORDER BY id")[0]
        tx.execute("UPDATE lots SET account = 'GW' WHERE id = :id", {"id": lot})
        tampered = SparseMerkleTree.from_items(
            list(all_leaves(tx, OPERATIONS.leaf_kinds.values()))).root
    assert tampered != history.checkpoints[3].state_root
    _resign(history, 4, state_root=tampered)
    with pytest.raises(WitnessRefused, match=r"^checkpoint 4 \(marker entry \d+\): the operator "
                                             r"signed state root .* but the entries the witness "
                                             r"replayed give"):
        _witness(tmp_path / "w1", history).run(_source(history))


def test_a_checkpoint_signed_by_another_key_is_refused(history: History,
                                                       tmp_path: Path) -> None:
    stored = history.checkpoints[0]
    with history.store.write() as tx:
        tx.execute("UPDATE checkpoints SET note = :note WHERE number = 1",
                   {"note": sign_note(stored.body, (7).to_bytes(32, "big"))})
    with pytest.raises(WitnessRefused, match=r"^checkpoint 1 .*carries no signature by the "
                                             r"trusted operator key"):
        _witness(tmp_path / "w1", history).run(_source(history))


def test_a_witness_killed_before_recording_a_cosignature_checks_that_checkpoint_again(
        history: History, tmp_path: Path) -> None:
    directory = tmp_path / "w1"
    _witness(directory, history).run(_source(history))
    progress = json.loads((directory / "progress.json").read_text())
    # As if killed after replaying checkpoint 3's marker and before recording its cosignature:
    # the replica stands at checkpoint 3, the record at 2.
    (directory / "cosigned" / "3.note").unlink()
    (directory / "progress.json").write_text(json.dumps({**progress, "checkpoint": 2}))
    again = _witness(directory, history).run(_source(history))  # its tree rebuilt from the store
    assert [c.number for c in again.cosigned] == [3] and again.entries == 0
    assert (directory / "cosigned" / "3.note").read_text().startswith(
        history.checkpoints[2].note)
    # a record further behind than that: the directory was changed by hand, and it says so
    (directory / "progress.json").write_text(json.dumps({**progress, "checkpoint": 1}))
    with pytest.raises(WitnessNotReady, match="replayed 3 checkpoint markers but the witness "
                                              "recorded 1"):
        _witness(directory, history).run(_source(history))


def test_the_operator_keeps_no_more_cosignatures_than_a_note_can_carry(history: History) -> None:
    from anchoring.auditor.cosignature import WitnessKey, cosign, with_cosignatures
    from anchoring.auditor.note import NoteError
    from custody import ed25519

    seeds = [bytes([n + 1]) * 32 for n in range(16)]
    keys = [WitnessKey(f"w.example/{n}", ed25519.public_key(seed))
            for n, seed in enumerate(seeds)]
    note = history.checkpoints[0].note
    lines = [cosign(note, key.name, seed, 1) for key, seed in zip(keys, seeds, strict=True)]
    with history.store.write() as tx:  # the operator's line and 15 witnesses': 16, the most
        assert len(accept_cosigned_note(tx, with_cosignatures(note, lines[:15]), keys,
                                        history.operator)) == 15
    with pytest.raises(NoteError, match="more than 16 signature lines"), \
            history.store.write() as tx:
        accept_cosigned_note(tx, note + lines[15], keys, history.operator)
    bundle = Prover(history.store).entry(1, 1)
    assert len(verify_bundle(bundle, history.operator, witnesses=keys[:15]).cosigned_by) == 15
