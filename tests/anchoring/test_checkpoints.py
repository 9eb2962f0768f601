"""Cutting checkpoints: the marker, the log and state roots against slow references, the
stored log and leaf versions, the policy, failures, and the signed note's format."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from anchoring.auditor.merkle import consistency_proof, inclusion_proof, leaf_hash
from anchoring.auditor.note import (
    CheckpointBody,
    NoteError,
    key_id,
    open_note,
    parse_address,
    sign_note,
    split_note,
)
from anchoring.auditor.smt import SparseMerkleTree
from anchoring.operator import checkpoints as checkpoints_module
from anchoring.operator.checkpoints import Checkpointer, CheckpointPolicy, checkpoint_at
from anchoring.operator.errors import StoreInconsistent
from anchoring.operator.log_store import open_log
from anchoring.operator.state_versions import leaves_at
from custody.signatures import address_of
from ledger.clock import FixedClock
from ledger.replay import replay_check
from ledger.store.database import Store
from tests.anchoring.ledger_history import (
    OPERATOR_KEY,
    OTHER_KEY,
    History,
    build_history,
    reference_log_root,
    reference_state_root,
)
from tests.world import OPERATIONS, World


@pytest.fixture
def history(any_store: Store, clock: FixedClock) -> History:
    return build_history(any_store, clock)


def test_each_checkpoint_signs_its_marker_log_root_and_state_root(history: History) -> None:
    store = history.store
    for number, checkpoint in enumerate(history.checkpoints, 1):
        body = open_note(checkpoint.note, history.operator)
        assert body == checkpoint.body and body.number == number
        with store.read() as tx:
            marker = tx.journal_row(body.size - 1)
            assert checkpoint_at(tx, number) == checkpoint
        assert marker is not None
        assert marker.entry == f'{{"checkpoint":{number},"seq":{body.size - 1}}}'.encode()
        assert body.time == marker.accepted_at
        assert body.log_root == reference_log_root(store, body.size)
    # the state root of the latest checkpoint, against a full read of the tables at that point
    ledger = history.world
    assert ledger.head() == history.checkpoints[-1].log_size  # one entry since
    assert replay_check(store, OPERATIONS).ok
    with store.read() as tx:
        assert tx.checkpoint == 3


def test_state_roots_equal_a_full_rebuild_after_every_kind_of_change(
        sqlite_store: Store, clock: FixedClock) -> None:
    world = World.create(sqlite_store, clock)
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)

    def cut_and_compare() -> None:
        assert checkpointer.cut().state_root == reference_state_root(sqlite_store)

    cut_and_compare()  # genesis only: no lots, no accounts
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.participant("li", "individual", "LI", "individual")
    world.allocate("A1", "HN", 1000)
    cut_and_compare()
    world.issue_credits("C1", "GW", 500)
    world.by("gw", "transfer", fromAccount="GW", toAccount="LI", batch="C1", quantity=10,
             serialFirst=101, serialLast=110)  # a split in the middle: three lots
    world.by("li", "retire", account="LI", batch="C1", quantity=10, beneficiary="Li",
             reason="voluntary", claim="flights")  # a whole lot changes state
    cut_and_compare()
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1",
             quantity=1000)  # the whole holding leaves: HN's holding leaf disappears
    cut_and_compare()
    world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1", quantity=400)
    world.by("registry", "freeze_account", account="LI", reason="kyc")
    world.by("registry", "cancel", account="HN", batch="A1", quantity=400, reason="error")
    cut_and_compare()
    world.by("registry", "unfreeze_account", account="LI", reason="kyc done")
    # a new process: it rebuilds the tree from the stored versions before it builds on it
    fresh = Checkpointer(world.ledger, OPERATOR_KEY)
    assert fresh.cut().state_root == reference_state_root(sqlite_store)
    # every checkpoint's leaf set can be read back and rebuilds its signed root
    with sqlite_store.read() as tx:
        for number in range(1, 6):
            checkpoint = checkpoint_at(tx, number)
            assert checkpoint is not None
            assert SparseMerkleTree.from_items(leaves_at(tx, number)).root == \
                checkpoint.state_root
    world.assert_invariants()


def test_the_stored_log_answers_proofs_for_every_size(history: History) -> None:
    store = history.store
    size = history.checkpoints[-1].log_size
    with store.read() as tx:
        hashes = [leaf_hash(row.entry) for row in tx.journal_rows(0, size)]
        log = open_log(tx, size)
        (nodes,) = tx.one("SELECT COUNT(*) FROM log_nodes")
        rng = random.Random(7)
        for _ in range(40):
            tree_size = rng.randint(1, size)
            index = rng.randrange(tree_size)
            assert log.inclusion_proof(index, tree_size) == \
                inclusion_proof(hashes, index, tree_size)
            first = rng.randint(1, tree_size)
            assert log.consistency_proof(first, tree_size) == \
                consistency_proof(hashes, first, tree_size)
    assert nodes == size - bin(size).count("1")  # every perfect subtree above the leaves, once


def test_maybe_cut_follows_the_policy(sqlite_store: Store, clock: FixedClock) -> None:
    world = World.create(sqlite_store, clock)
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY,
                                CheckpointPolicy(every_entries=3, every_s=60))
    assert checkpointer.maybe_cut() is None  # one entry, no time passed
    world.participant("huaneng", "emitter")  # two more entries: three in all
    first = checkpointer.maybe_cut()
    assert first is not None and first.log_size == 4
    assert checkpointer.maybe_cut() is None  # nothing new since
    world.participant("gw", "project_owner")
    clock.advance(seconds=59)
    assert checkpointer.maybe_cut() is None
    clock.advance(seconds=1)
    second = checkpointer.maybe_cut()
    assert second is not None and second.number == 2 and second.log_size == 7
    clock.advance(seconds=3600)
    assert checkpointer.maybe_cut() is None  # time passed, but nothing to checkpoint


def test_a_failed_cut_leaves_nothing_and_the_next_one_is_right(
        history: History, monkeypatch: pytest.MonkeyPatch) -> None:
    store = history.store
    with store.read() as tx:
        before = (tx.head, tx.checkpoint, tx.one("SELECT COUNT(*) FROM state_leaves")[0])

    def refuse(*_: object) -> str:
        raise OSError("the signing device is unplugged")

    monkeypatch.setattr(checkpoints_module, "sign_note", refuse)
    history.world.by("registry", "freeze_account", account="HN", reason="audit")
    with pytest.raises(OSError, match="unplugged"):
        history.checkpointer.cut()
    with store.read() as tx:
        after = (tx.head, tx.checkpoint, tx.one("SELECT COUNT(*) FROM state_leaves")[0])
    assert after == (before[0] + 1, before[1], before[2])  # only the freeze entry is new
    monkeypatch.undo()
    checkpoint = history.cut()
    assert checkpoint.number == 4
    assert checkpoint.state_root == reference_state_root(store)
    assert checkpoint.log_root == reference_log_root(store, checkpoint.log_size)


def test_two_checkpointers_take_turns(history: History) -> None:
    other = Checkpointer(history.world.ledger, OPERATOR_KEY)
    history.world.by("registry", "freeze_account", account="HN", reason="audit")
    fourth = other.cut()  # rebuilds from the stored versions
    history.world.by("registry", "unfreeze_account", account="HN", reason="done")
    fifth = history.checkpointer.cut()  # its tree is at checkpoint 3: it must rebuild too
    assert (fourth.number, fifth.number) == (4, 5)
    assert fifth.state_root == reference_state_root(history.store)


def test_a_marker_without_a_signed_checkpoint_stops_the_checkpointer(history: History) -> None:
    history.world.ledger.append_checkpoint_marker()
    with pytest.raises(StoreInconsistent, match="4 checkpoint markers but 3 signed"):
        history.checkpointer.cut()


# --- the signed note ---------------------------------------------------------------------------

BODY = CheckpointBody("carbonledger/registry/00112233aabbccdd", 1234, bytes(range(32)), 7,
                      bytes(range(32, 64)), "2026-06-01T09:00:00.000Z")


def test_the_note_has_tlog_checkpoints_shape_and_an_ethereum_signature() -> None:
    note = sign_note(BODY, OPERATOR_KEY)
    text, signatures = split_note(note)
    lines = text.split("\n")
    assert lines[:3] == [BODY.origin, "1234", base64.b64encode(BODY.log_root).decode()]
    assert lines[3:6] == ["checkpoint 7", "state " + base64.b64encode(BODY.state_root).decode(),
                          "time 2026-06-01T09:00:00.000Z"]
    assert note.endswith("\n") and "\n\n\u2014 " + BODY.origin + " " in note
    ((name, blob),) = signatures
    operator = address_of(OPERATOR_KEY)
    assert name == BODY.origin and blob[:4] == key_id(BODY.origin, parse_address(operator))
    # any Ethereum tool recovers the operator from the note text (EIP-191 personal_sign)
    assert Account.recover_message(encode_defunct(text=text), signature=blob[4:]) == operator
    assert open_note(note, operator) == BODY
    assert open_note(note, operator.lower()) == BODY


def _resigned_line(note: str, key: bytes) -> str:
    """The signature line another key would add to the same text."""
    return sign_note(open_note(note, address_of(OPERATOR_KEY)), key).split("\n\n")[1]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda n: n.replace("checkpoint 7", "checkpoint 8"), "not signed by"),
    (lambda n: n.replace("\n1234\n", "\n1235\n"), "not signed by"),
    (lambda n: n.split("\n\n")[0] + "\n\n" + _resigned_line(n, OTHER_KEY),
     "no signature by the trusted operator key"),
    (lambda n: n.replace("time 2026", "time 2O26"), "RFC 3339"),
    (lambda n: n.replace("\u2014", "--"), "malformed signature line"),
    (lambda n: n.replace("\n\n", "\n"), "not a signed note"),
    (lambda n: n.replace("checkpoint 7\n", "checkpoint 7\nextra line\n"), "want 6"),
    (lambda n: n.replace("checkpoint 7", "checkpoint 07"), "leading zeros"),
    (lambda n: n.replace("time", "\ttime"), "control characters"),
])
def test_a_changed_or_foreign_note_is_refused(change: Callable[[str], str],
                                              reason: str) -> None:
    note = sign_note(BODY, OPERATOR_KEY)
    with pytest.raises(NoteError, match=reason):
        open_note(change(note), address_of(OPERATOR_KEY))


def test_other_keys_signatures_are_ignored_and_a_bad_checksum_is_a_typo() -> None:
    note = sign_note(BODY, OPERATOR_KEY)
    cosigned = note + _resigned_line(note, OTHER_KEY)  # a witness's cosignature, say
    assert open_note(cosigned, address_of(OPERATOR_KEY)) == BODY
    assert open_note(cosigned, address_of(OTHER_KEY)) == BODY
    operator = address_of(OPERATOR_KEY)
    at = next(i for i, ch in enumerate(operator) if i > 1 and ch.isalpha())
    typo = operator[:at] + operator[at].swapcase() + operator[at + 1:]
    with pytest.raises(NoteError, match="EIP-55 checksum"):
        open_note(note, typo)
    with pytest.raises(NoteError, match="20-byte hex address"):
        open_note(note, "0x1234")


def test_the_checkpoint_row_keeps_room_for_the_anchor(history: History) -> None:
    from anchoring.operator.checkpoints import Anchor, record_anchor

    anchor = Anchor(31337, "0x" + "11" * 20, bytes(32), 12, 1_780_000_000)
    with history.store.write() as tx:
        record_anchor(tx, 2, anchor)
    with history.store.read() as tx:
        stored = checkpoint_at(tx, 2)
    assert stored is not None and stored.anchor == anchor
    assert json.dumps(anchor.as_json(2))  # the bundle's anchor field
