"""Proof bundles, built from the store: self-contained JSON evidence (docs/proof-format.md).

    prover = Prover(store)                       # or Prover(store, checkpointer.state)
    prover.entry(seq)                            # a journal entry in the latest checkpoint
    prover.lot("12.0", number=3)                 # a lot's state (or absence) at checkpoint 3
    prover.holding("HN-C", "A1"); prover.account("HN-C")
    prover.consistency(2, 5)                     # checkpoint 5 extends checkpoint 2

Each bundle carries the signed checkpoint it is checked against, verbatim, and the proof; the
sizes and roots a proof uses are read from that note, never from elsewhere. The note carries
the witnesses' cosignatures stored for it (anchoring.operator.cosignatures) as further
signature lines after the operator's. State proofs come from
the tree persisted in the database (anchoring.operator.state_tree: a few indexed reads, through
the node cache of a running checkpointer's state commitment when given one, else the prover's
own); a checkpoint whose tree is not kept (pruned, or cut before the tree was persisted) is
rebuilt from the stored leaf versions, and the last one rebuilt is kept.

A bundle of an entry, a lot, a holding or an account at checkpoint N is a function of its
subject and N, except for what may be added to checkpoint N later: its anchor and the
witnesses' cosignatures. `Prover.state_at` reads exactly those (`CheckpointState`), so that a
service can keep bundles it has built and checked, keyed by kind, subject and that state
(api/bundle_cache.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from copy import copy
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

from anchoring.auditor.bundle_format import BUNDLE_FORMAT, BUNDLE_VERSION, COMMON_FIELDS
from anchoring.auditor.cosignature import with_cosignatures
from anchoring.auditor.merkle_log import MerkleLog
from anchoring.auditor.note import CheckpointBody, NoteError, parse_text, split_note
from anchoring.auditor.state_keys import account_key, holding_key, lot_key
from anchoring.operator.checkpoints import (
    Anchor,
    StoredCheckpoint,
    checkpoint_at,
    latest_checkpoint,
)
from anchoring.operator.cosignatures import checkpoint_and_cosignatures
from anchoring.operator.errors import NotCheckpointed, StoreInconsistent
from anchoring.operator.log_store import open_log
from anchoring.operator.state_commitment import StateReader
from anchoring.operator.state_tree import TreeStore
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction

Bundle = dict[str, Any]
_ReadCheckpoint = tuple[StoredCheckpoint, CheckpointBody, tuple[str, ...]]


class TreeSource(Protocol):
    """Whoever holds a persisted tree's node cache (a running checkpointer's
    `StateCommitment`): a prover given one reads through it."""

    @property
    def tree(self) -> TreeStore: ...


@dataclass(frozen=True)
class CheckpointState:
    """What a bundle at checkpoint `number` carries that can still change: its anchor and the
    witnesses' cosignature lines (only ever added to). The rest of the note is signed."""

    number: int
    cosignatures: tuple[str, ...]
    anchor: Anchor | None


class Prover:
    def __init__(self, store: Store, state: TreeSource | None = None) -> None:
        self.store = store
        self._reader = StateReader(state.tree if state is not None else TreeStore())
        self._tx: SqlTransaction | None = None  # the snapshot of `one_snapshot`'s prover
        # in that snapshot, the checkpoints read so far, by number asked for (None: latest)
        self._read_checkpoints: dict[int | None, _ReadCheckpoint] = {}

    @contextmanager
    def one_snapshot(self) -> Iterator[Prover]:
        """A prover of this one's that reads in one read transaction until the block ends:
        `state_at` and then a bundle see the same checkpoint, its anchor and cosignatures,
        which each read once (PostgreSQL: two round trips fewer a bundle than apart)."""
        with self.store.read() as tx:
            bound = copy(self)
            bound._tx, bound._read_checkpoints = tx, {}
            yield bound

    @contextmanager
    def _read(self) -> Iterator[SqlTransaction]:
        if self._tx is not None:
            yield self._tx
        else:
            with self.store.read() as tx:
                yield tx

    def _checkpoint(self, tx: SqlTransaction, number: int | None) -> _ReadCheckpoint:
        if self._tx is None:
            return _checkpoint(tx, number)
        read = self._read_checkpoints.get(number)
        if read is None:
            read = _checkpoint(tx, number)
            self._read_checkpoints[number] = self._read_checkpoints[read[0].number] = read
        return read

    def entry(self, seq: int, number: int | None = None) -> Bundle:
        """Journal entry `seq` in checkpoint `number` (default: the latest)."""
        with self._read() as tx:
            checkpoint, body, _ = self._checkpoint(tx, number)
            if not 0 <= seq < body.size:
                raise NotCheckpointed(
                    f"entry {seq} is not in checkpoint {body.number}, whose log holds entries "
                    f"0..{body.size - 1}: cut a checkpoint, or name a later one")
            row = tx.journal_row(seq)
            if row is None:
                raise StoreInconsistent(f"entry {seq} is missing from the journal; run "
                                        "`carbonledger audit`")
            hashes = _log(tx, lambda log: log.inclusion_proof(seq, body.size))
        try:
            entry = row.entry.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StoreInconsistent(f"entry {seq}: stored bytes are not UTF-8") from exc
        return {**_common("entry", checkpoint), "entry": entry,
                "inclusion": {"index": seq, "hashes": [h.hex() for h in hashes]}}

    def state_at(self, number: int | None = None) -> CheckpointState | None:
        """Checkpoint `number`'s (default: the latest) anchor and cosignatures, in one read;
        None when there is no such checkpoint (proving then says why)."""
        with self._read() as tx:
            try:
                checkpoint, _, cosignatures = self._checkpoint(tx, number)
            except NotCheckpointed:
                return None
        return CheckpointState(checkpoint.number, cosignatures, checkpoint.anchor)

    def lot(self, lot_id: str, number: int | None = None) -> Bundle:
        """Lot `lot_id`'s state at checkpoint `number`, or proof that it was not live."""
        return self._state("lot", lot_id, lot_key(lot_id), number)

    def holding(self, account: str, batch: str, number: int | None = None) -> Bundle:
        return self._state("holding", {"account": account, "batch": batch},
                           holding_key(account, batch), number)

    def account(self, account_id: str, number: int | None = None) -> Bundle:
        return self._state("account", account_id, account_key(account_id), number)

    def leaf(self, kind: str, subject: Any, key: bytes, number: int | None = None) -> Bundle:
        """A module's leaf (ledger.modules.LeafKind) at checkpoint `number`: a bundle of
        `kind` that names `subject`, with the state proof of `key` (its value, or absence)."""
        return self._state(kind, subject, key, number)

    def consistency(self, first: int, second: int) -> Bundle:
        """Proof that checkpoint `second`'s log extends checkpoint `first`'s."""
        if not 1 <= first < second:
            raise NotCheckpointed(f"a consistency proof goes from an earlier checkpoint to a "
                                  f"later one (numbered from 1): got {first} and {second}")
        with self._read() as tx:
            older, older_body, _ = self._checkpoint(tx, first)
            newer, newer_body, _ = self._checkpoint(tx, second)
            hashes = _log(tx, lambda log: log.consistency_proof(older_body.size,
                                                                 newer_body.size))
        return {**_common("consistency", newer), "from_checkpoint": older.note,
                "from_anchor": _anchor(older), "consistency": [h.hex() for h in hashes]}

    def _state(self, kind: str, subject: Any, key: bytes, number: int | None) -> Bundle:
        with self._read() as tx:
            checkpoint, body, _ = self._checkpoint(tx, number)
            value, proof = self._reader.value_and_proof(tx, key, body.number)
        state = {"key": key.hex(), "value": None if value is None else value.decode("utf-8"),
                 "proof": proof.to_dict()}
        return {**_common(kind, checkpoint), kind: subject, "state": state}


def common_fields(bundle: Bundle) -> Bundle:
    """A bundle's fields that every kind has (its checkpoint and anchor): the start of a
    module's bundle made of several proofs."""
    return {name: value for name, value in bundle.items() if name in COMMON_FIELDS}


def same_checkpoint(first: Bundle, others: Sequence[Bundle], what: str) -> None:
    """The proofs one bundle is made of are of one version of one checkpoint's note: a
    witness's cosignature added between two of them changes the note, so never mix them."""
    if any(other["checkpoint"] != first["checkpoint"] for other in others):
        raise StoreInconsistent(f"the proofs of {what} came from different versions of one "
                                "checkpoint's note (a cosignature arrived meanwhile): ask again")


def stored_checkpoint(tx: SqlTransaction, number: int | None) -> StoredCheckpoint:
    """Checkpoint `number` (None: the latest) as stored; `NotCheckpointed` if there is none."""
    checkpoint = latest_checkpoint(tx) if number is None else checkpoint_at(tx, number)
    if checkpoint is None:
        raise _not_checkpointed(tx, number)
    return checkpoint


def _not_checkpointed(tx: SqlTransaction, number: int | None) -> NotCheckpointed:
    latest = latest_checkpoint(tx)
    return NotCheckpointed(
        "no checkpoint yet: run `carbonledger checkpoint`" if latest is None else
        f"there is no checkpoint {number}: the latest is {latest.number}")


def _checkpoint(tx: SqlTransaction, number: int | None) -> _ReadCheckpoint:
    """The stored checkpoint, its note carrying the witnesses' cosignature lines, what its
    signed note says (proofs use the note's values) and those lines; one round trip."""
    checkpoint, lines = checkpoint_and_cosignatures(tx, number)
    if checkpoint is None:
        raise _not_checkpointed(tx, number)
    try:
        body = _body(checkpoint.note)
    except NoteError as exc:
        raise StoreInconsistent(f"checkpoint {checkpoint.number}'s stored note is unreadable "
                                f"({exc}); run `carbonledger audit`") from exc
    if lines:
        checkpoint = replace(checkpoint, note=with_cosignatures(checkpoint.note, lines))
    return checkpoint, body, tuple(lines)


@lru_cache(maxsize=64)
def _body(note: str) -> CheckpointBody:
    """What a stored note says, read once per note: every bundle at a checkpoint reads it."""
    text, _ = split_note(note)
    return parse_text(text)


def _log(tx: SqlTransaction, prove: Callable[[MerkleLog], list[bytes]]) -> list[bytes]:
    """A proof from the stored log (which reaches the latest checkpoint)."""
    latest = latest_checkpoint(tx)
    assert latest is not None, "asked for a proof without a checkpoint"
    try:
        return prove(open_log(tx, latest.log_size))
    except KeyError as exc:
        raise StoreInconsistent(str(exc.args[0])) from exc


def _common(kind: str, checkpoint: StoredCheckpoint) -> Bundle:
    return {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "kind": kind,
            "operator": checkpoint.signer, "checkpoint": checkpoint.note,
            "anchor": _anchor(checkpoint)}


def _anchor(checkpoint: StoredCheckpoint) -> dict[str, Any] | None:
    return None if checkpoint.anchor is None else checkpoint.anchor.as_json(checkpoint.number)
