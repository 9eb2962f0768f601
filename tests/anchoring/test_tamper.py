"""Tamper evidence: change one byte of a stored entry, lot, leaf version, log node or checkpoint,
or delete, reorder or insert an entry, behind the ledger's back. The audit names the first
broken entry, checkpoint, table or node; a bundle generated from the changed database does not
verify against the checkpoint signed before the change; the checkpointer signs nothing on top.

The history (tests/anchoring/ledger_history.py): checkpoint 1 = entries 0..9, checkpoint 2 =
10..13 (entry 10 moves 70 t of A1 from HN to GW: lot 10.0; entry 11 retires 5 t of C1 in GW,
leaving lot 11.1), checkpoint 3 = 14..17 (lot 10.0 moves back and is split), entry 18 pending.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import pytest

from anchoring.audit import audit
from anchoring.auditor.errors import VerificationFailed
from anchoring.auditor.state_keys import lot_key
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.errors import StoreInconsistent
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.anchoring.ledger_history import OPERATOR_KEY, History, build_history
from tests.world import OPERATIONS

Db = sqlite3.Connection


@pytest.fixture
def history(sqlite_store: Store, clock: FixedClock) -> History:
    history = build_history(sqlite_store, clock)
    assert [c.log_size for c in history.checkpoints] == [10, 14, 18]
    return history


def _connect(history: History) -> closing[Db]:
    return closing(sqlite3.connect(history.store.url.removeprefix("sqlite:///")))


def _change_one_byte(db: Db, table: str, column: str, where: str, old: bytes,
                     new: bytes) -> None:
    """Replace the first `old` in one stored value by `new`, of the same length."""
    assert len(old) == len(new)
    ((value,),) = db.execute(f"SELECT {column} FROM {table} WHERE {where}").fetchall()
    raw = value.encode() if isinstance(value, str) else bytes(value)
    assert old in raw, (old, raw[:200])
    changed = raw.replace(old, new, 1)
    db.execute(f"UPDATE {table} SET {column} = ? WHERE {where}",
               (changed.decode() if isinstance(value, str) else changed,))


def _flip_first_byte(db: Db, table: str, column: str, where: str) -> None:
    ((value,),) = db.execute(f"SELECT {column} FROM {table} WHERE {where}").fetchall()
    db.execute(f"UPDATE {table} SET {column} = ? WHERE {where}",
               (bytes([value[0] ^ 1]) + bytes(value[1:]),))


def _shift_entries(db: Db, first: int, delta: int) -> None:
    """Renumber entries seq >= first by delta, through negative numbers so that the primary
    key never collides mid-statement."""
    db.execute("UPDATE journal SET seq = -seq - 1 WHERE seq >= ?", (first,))
    db.execute("UPDATE journal SET seq = -seq - 1 + ? WHERE seq < 0", (delta,))
    db.execute("UPDATE journal_head SET seq = seq + ?", (delta,))


def _delete_entry(db: Db) -> None:
    db.execute("DELETE FROM journal WHERE seq = 10")
    _shift_entries(db, 11, -1)


def _swap_entries(db: Db) -> None:
    columns = "instruction_id, body_hash, op, entry, leaf_hash, accepted_at"
    a, b = (db.execute(f"SELECT {columns} FROM journal WHERE seq = ?", (s,)).fetchone()
            for s in (10, 11))
    db.execute("UPDATE journal SET instruction_id = randomblob(32) WHERE seq IN (10, 11)")
    for seq, row in ((10, b), (11, a)):
        db.execute("UPDATE journal SET instruction_id = ?, body_hash = ?, op = ?, entry = ?, "
                   "leaf_hash = ?, accepted_at = ? WHERE seq = ?", (*row, seq))


def _insert_entry(db: Db) -> None:
    """A copy of a later, validly signed entry (the registry's cancellation, entry 16) slipped
    in at position 10; its id column changed, since ids are unique."""
    row = db.execute("SELECT instruction_id, body_hash, op, entry, leaf_hash, accepted_at "
                     "FROM journal WHERE seq = 16").fetchone()
    _shift_entries(db, 10, +1)
    db.execute("INSERT INTO journal (seq, instruction_id, body_hash, op, entry, leaf_hash, "
               "accepted_at) VALUES (10, ?, ?, ?, ?, ?, ?)",
               (bytes([row[0][0] ^ 1]) + row[0][1:], *row[1:]))


def _version(lot_id: str, checkpoint: int | None) -> str:
    """The stored leaf version of a lot opened at `checkpoint` (None: the current one)."""
    since = "to_checkpoint IS NULL" if checkpoint is None else f"from_checkpoint = {checkpoint}"
    return f"key = X'{lot_key(lot_id).hex()}' AND {since}"


@dataclass(frozen=True)
class Tamper:
    name: str
    change: Callable[[Db], None]
    audit_says: str
    bundle: Callable[[Prover], dict[str, Any]]
    bundle_fails: str  # words of the verifier's reason


TAMPERS = [
    Tamper("entry-byte",
           lambda db: _change_one_byte(db, "journal", "entry", "seq = 10", b'"quantity":70',
                                       b'"quantity":71'),
           "entry 10: refused on replay: bad_signature",
           lambda p: p.entry(10), "entry 10 is not in checkpoint 3's log"),
    Tamper("entry-leaf-hash-column",
           lambda db: _flip_first_byte(db, "journal", "leaf_hash", "seq = 10"),
           "entry 10: stored entry differs from its replay",
           lambda p: p.entry(11), "entry 11 is not in checkpoint 3's log"),
    Tamper("lot-leaf-version",
           lambda db: _change_one_byte(db, "state_leaves", "value", _version("10.0", 2),
                                       b'"last":70', b'"last":79'),
           "checkpoint 2 (marker entry 13): the state leaf version of key",
           lambda p: p.lot("10.0", 2), "root_mismatch"),
    Tamper("checkpoint-note",
           lambda db: _change_one_byte(db, "checkpoints", "note", "number = 2",
                                       b"\n14\n", b"\n15\n"),
           "checkpoint 2 (marker entry 13): checkpoint 2 is not signed by",
           lambda p: p.lot("10.0", 2), "checkpoint rejected"),
    Tamper("log-node",
           lambda db: _flip_first_byte(db, "log_nodes", "hash", "level = 1 AND idx = 5"),
           "log_nodes (1, 5) over entries 10..11: stored hash differs from the recomputed "
           "one (proofs from checkpoint 2 on use it)",
           lambda p: p.entry(8), "entry 8 is not in checkpoint 3's log"),
    Tamper("entry-deleted", _delete_entry,
           "entry 10: stored entry differs from its replay",
           lambda p: p.entry(10), "the entry says seq 11"),
    Tamper("entries-reordered", _swap_entries,
           "entry 10: stored entry differs from its replay",
           lambda p: p.entry(10), "the entry says seq 11"),
    Tamper("entry-inserted", _insert_entry,
           "entry 10: stored entry differs from its replay",
           lambda p: p.entry(10), "the entry says seq 16"),
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.name for t in TAMPERS])
def test_tampering_is_named_and_breaks_the_evidence(history: History, tamper: Tamper) -> None:
    signed_before = {c.number: c.note for c in history.checkpoints}
    assert audit(history.store, OPERATIONS, history.operator).ok
    with _connect(history) as db, db:
        tamper.change(db)

    report = audit(history.store, OPERATIONS, history.operator)
    assert report.first_discrepancy is not None
    assert report.first_discrepancy.startswith(tamper.audit_says), report.first_discrepancy

    bundle = tamper.bundle(Prover(history.store))  # a fresh process: all from the database
    with pytest.raises(VerificationFailed) as refused:
        verify_bundle(bundle, history.operator)
    assert tamper.bundle_fails in refused.value.reason, refused.value.reason
    # the bundle carries the checkpoint as signed before the change, or fails its signature
    assert bundle["checkpoint"] in signed_before.values() or tamper.name == "checkpoint-note"


def test_a_changed_lot_row_is_named_and_cannot_forge_a_proof(history: History) -> None:
    """The lots table is a projection: the audit names the changed row, and a lot's proofs
    come from the signed leaf versions, so a bundle still shows the true, signed holder."""
    with _connect(history) as db, db:
        _change_one_byte(db, "lots", "account", "id = '11.1'", b"GW", b"GX")
    report = audit(history.store, OPERATIONS, history.operator)
    assert report.first_discrepancy is not None
    assert report.first_discrepancy.startswith("table lots: live row ('11.1', 'C1', 6, 500, "
                                               "'GX'"), report.first_discrepancy
    verified = verify_bundle(Prover(history.store).lot("11.1"), history.operator)
    assert "held by account GW" in verified.statement


def test_changed_checkpoint_columns_are_named(history: History) -> None:
    with _connect(history) as db, db:
        _flip_first_byte(db, "checkpoints", "state_root", "number = 2")
    report = audit(history.store, OPERATIONS, history.operator)
    assert report.first_discrepancy == ("checkpoint 2 (marker entry 13): stored columns "
                                        "(state_root) differ from its signed note")


# --- nothing is signed on top of a changed database -------------------------------------------

def test_the_checkpointer_refuses_a_changed_pending_entry(history: History) -> None:
    with _connect(history) as db, db:
        _change_one_byte(db, "journal", "entry", "seq = 18", b'"quantity":1',
                         b'"quantity":2')
    with pytest.raises(StoreInconsistent, match="entry 18: its stored leaf hash differs"):
        history.checkpointer.cut()


def test_a_restarted_checkpointer_refuses_changed_leaf_versions(history: History) -> None:
    with _connect(history) as db, db:
        _change_one_byte(db, "state_leaves", "value", _version("11.1", None),
                         b'"last":500', b'"last":509')
    with pytest.raises(StoreInconsistent, match="table state_leaves was changed"):
        Checkpointer(history.world.ledger, OPERATOR_KEY).cut()


def test_the_checkpointer_refuses_a_changed_log(history: History) -> None:
    with _connect(history) as db, db:  # (4, 0) covers entries 0..15: part of the frontier
        _flip_first_byte(db, "log_nodes", "hash", "level = 4 AND idx = 0")
    with pytest.raises(StoreInconsistent, match="no longer has checkpoint 3's root"):
        history.checkpointer.cut()
