"""Checkpoints: (number, log size, log root, state root, time), cut, signed and stored.

A cut is one write transaction holding the journal head, so nothing moves while it runs:

1. append the marker entry {"checkpoint":K,"seq":S}, the log's last leaf (ledger.journal);
2. extend the Merkle log over the entries since the previous checkpoint
   (anchoring.operator.log_store), rehashing their bytes: a leaf hash that disagrees with its
   entry stops the cut;
3. re-execute those entries against the previous checkpoint's committed state, with the
   engine's own code, and refuse to go on, naming the first entry, when an entry or the state
   it leaves differs from the journal and the tables (anchoring.operator.transition);
4. advance the state commitment by what those entries touched
   (anchoring.operator.state_commitment);
5. sign the checkpoint as a signed note with the operator's key (anchoring.auditor.note) and
   store it.

`Checkpointer.maybe_cut()` cuts when N entries or T seconds have passed since the last
checkpoint (`CheckpointPolicy`); `cut()` cuts now. The checkpoint's time is the marker's
acceptance time, from the ledger's clock, so a replay finds the same time in the journal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.note import CheckpointBody, sign_note
from anchoring.auditor.smt import EMPTY_ROOT as EMPTY_STATE_ROOT
from anchoring.operator.errors import LedgerNotInitialized, StoreInconsistent, TransitionDiffers
from anchoring.operator.log_store import open_log
from anchoring.operator.state_commitment import StateCommitment
from anchoring.operator.state_tree import PRUNE_PER_CUT, TreeRetention
from anchoring.operator.transition import reexecute
from custody.signatures import address_of
from ledger.clock import parse_time
from ledger.engine import Ledger
from ledger.store.sql import SqlTransaction

STORED_COLUMNS = ("number, log_size, log_root, state_root, cut_at, origin, signer, note, "
            "anchor_chain_id, anchor_contract, anchor_tx_hash, anchor_block_number, "
            "anchor_block_time")


@dataclass(frozen=True)
class Anchor:
    """Where a checkpoint is anchored on chain (recorded by the anchoring service)."""

    chain_id: int
    contract: str
    tx_hash: bytes
    block_number: int
    block_time: int  # unix seconds

    def as_json(self, number: int) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "contract": self.contract, "checkpoint": number,
                "tx_hash": "0x" + self.tx_hash.hex(), "block_number": self.block_number,
                "block_time": self.block_time}


@dataclass(frozen=True)
class StoredCheckpoint:
    number: int
    log_size: int
    log_root: bytes
    state_root: bytes
    time: str
    origin: str
    signer: str  # the operator's address, checksummed
    note: str  # the signed checkpoint; the fields above index it
    anchor: Anchor | None = None

    @property
    def body(self) -> CheckpointBody:
        return CheckpointBody(self.origin, self.log_size, self.log_root, self.number,
                              self.state_root, self.time)


@dataclass(frozen=True)
class CheckpointPolicy:
    """Cut every `every_entries` journal entries or `every_s` seconds, whichever first."""

    every_entries: int = 1000
    every_s: float = 60.0

    def __post_init__(self) -> None:
        if self.every_entries < 1 or self.every_s <= 0:
            raise ValueError("a checkpoint policy needs every_entries >= 1 and every_s > 0")


# --- the checkpoints table ---------------------------------------------------------------------

def latest_checkpoint(tx: SqlTransaction) -> StoredCheckpoint | None:
    row = tx.one(f"SELECT {STORED_COLUMNS} FROM checkpoints ORDER BY number DESC LIMIT 1")
    return None if row is None else stored_from_row(row)


def checkpoint_at(tx: SqlTransaction, number: int) -> StoredCheckpoint | None:
    row = tx.one(f"SELECT {STORED_COLUMNS} FROM checkpoints WHERE number = :n", {"n": number})
    return None if row is None else stored_from_row(row)


def stored_checkpoints(tx: SqlTransaction) -> list[StoredCheckpoint]:
    rows = tx.all(f"SELECT {STORED_COLUMNS} FROM checkpoints ORDER BY number")
    return [stored_from_row(r) for r in rows]


def latest_number(tx: SqlTransaction) -> int:
    """The latest stored checkpoint's number; 0 when none is."""
    (top,) = tx.one("SELECT MAX(number) FROM checkpoints")
    return int(top or 0)


def latest_anchored(tx: SqlTransaction) -> int | None:
    """The latest checkpoint recorded as anchored (on any registry); None if none is."""
    (top,) = tx.one("SELECT MAX(number) FROM checkpoints WHERE anchor_chain_id IS NOT NULL")
    return None if top is None else int(top)


def anchored_on(tx: SqlTransaction, chain_id: int, contract: str) -> dict[int, tuple[bytes, int]]:
    """Checkpoints recorded as anchored on this registry: number -> (tx hash, block)."""
    rows = tx.all("SELECT number, anchor_tx_hash, anchor_block_number FROM checkpoints "
                  "WHERE anchor_chain_id = :chain AND anchor_contract = :contract",
                  {"chain": chain_id, "contract": contract})
    return {int(row[0]): (bytes(row[1]), int(row[2])) for row in rows}


def anchored_elsewhere(tx: SqlTransaction, chain_id: int,
                       contract: str) -> dict[int, tuple[int, str]]:
    """Checkpoints recorded as anchored on any other registry or chain: number -> (chain id,
    contract)."""
    rows = tx.all("SELECT number, anchor_chain_id, anchor_contract FROM checkpoints "
                  "WHERE anchor_chain_id IS NOT NULL AND NOT (anchor_chain_id = :chain "
                  "AND anchor_contract = :contract)",
                  {"chain": chain_id, "contract": contract})
    return {int(row[0]): (int(row[1]), str(row[2])) for row in rows}


def first_anchored_after(tx: SqlTransaction, chain_id: int, contract: str,
                         number: int) -> tuple[int, int] | None:
    """The first checkpoint after `number` recorded as anchored on this registry: (number,
    block), or None."""
    row = tx.one("SELECT number, anchor_block_number FROM checkpoints WHERE anchor_chain_id = "
                 ":chain AND anchor_contract = :contract AND number > :latest ORDER BY number "
                 "LIMIT 1", {"chain": chain_id, "contract": contract, "latest": number})
    return None if row is None else (int(row[0]), int(row[1]))


def record_anchor(tx: SqlTransaction, number: int, anchor: Anchor) -> None:
    """Note where checkpoint `number` is anchored (for the anchoring service)."""
    tx.execute("UPDATE checkpoints SET anchor_chain_id = :chain, anchor_contract = :contract, "
               "anchor_tx_hash = :tx_hash, anchor_block_number = :block, "
               "anchor_block_time = :time WHERE number = :n",
               {"chain": anchor.chain_id, "contract": anchor.contract,
                "tx_hash": anchor.tx_hash, "block": anchor.block_number,
                "time": anchor.block_time, "n": number})


def ledger_origin(tx: SqlTransaction) -> str:
    """The log's identity, the first line of its checkpoints: the registry's id and the start
    of the genesis entry's hash, so that two ledgers never share an origin."""
    genesis = tx.journal_row(0)
    if genesis is None:
        raise LedgerNotInitialized("the ledger has no genesis entry: run `carbonledger init`")
    registry = json.loads(genesis.entry)["instruction"]["fields"]["registry"]
    return f"carbonledger/{registry}/{genesis.leaf_hash[:8].hex()}"


def _insert(tx: SqlTransaction, checkpoint: StoredCheckpoint) -> None:
    tx.execute("INSERT INTO checkpoints (number, log_size, log_root, state_root, cut_at, "
               "origin, signer, note) VALUES (:number, :size, :log_root, :state_root, "
               ":time, :origin, :signer, :note)",
               {"number": checkpoint.number, "size": checkpoint.log_size,
                "log_root": checkpoint.log_root, "state_root": checkpoint.state_root,
                "time": checkpoint.time, "origin": checkpoint.origin,
                "signer": checkpoint.signer, "note": checkpoint.note})


def stored_from_row(row: Any) -> StoredCheckpoint:
    anchor = None
    if row[8] is not None:
        anchor = Anchor(int(row[8]), row[9], bytes(row[10]), int(row[11]), int(row[12]))
    return StoredCheckpoint(int(row[0]), int(row[1]), bytes(row[2]), bytes(row[3]), row[4],
                            row[5], row[6], row[7], anchor)


# --- cutting -------------------------------------------------------------------------------

class Checkpointer:
    """Cuts and signs checkpoints of one ledger with the operator's key.

    Keep one per process: it holds the latest leaves and the tree's node cache between cuts
    (see StateCommitment), so a cut costs what changed since the last one. Several processes
    may cut; each cut is serialised by the journal head lock, and a process that finds a newer
    checkpoint than its own moves on by the leaf versions recorded since.

    `check_transitions=False` signs the tables' state without re-executing the entries since
    the previous checkpoint: for measuring what the check costs, never for a ledger in use.

    `retention` (None: keep every checkpoint's tree) prunes, in each cut, the persisted tree
    nodes only checkpoints outside it need (anchoring.operator.state_tree), at most
    PRUNE_PER_CUT a cut; the latest anchored checkpoint is always kept.
    """

    def __init__(self, ledger: Ledger, operator_key: bytes,
                 policy: CheckpointPolicy | None = None,
                 state: StateCommitment | None = None, *,
                 check_transitions: bool = True,
                 retention: TreeRetention | None = None) -> None:
        self.ledger = ledger
        self.check_transitions = check_transitions
        self.policy = policy or CheckpointPolicy()
        self.state = state or StateCommitment(ledger.store)
        self.retention = retention
        self.operator = address_of(operator_key)
        self._key = operator_key
        self._origin: str | None = None

    def maybe_cut(self) -> StoredCheckpoint | None:
        """Cut if the policy says one is due; None if not (or if nothing was appended)."""
        with self.ledger.store.read() as tx:
            head = tx.head
            latest = latest_checkpoint(tx)
            since = latest.time if latest else None
            if since is None and head >= 0:
                genesis = tx.journal_row(0)
                since = genesis.accepted_at if genesis else None
        pending = head + 1 - (latest.log_size if latest else 0)
        if head < 0 or pending <= 0 or since is None:
            return None
        elapsed_s = (self.ledger.clock() - parse_time(since)).total_seconds()
        if pending >= self.policy.every_entries or elapsed_s >= self.policy.every_s:
            return self.cut()
        return None

    def cut(self) -> StoredCheckpoint:
        """Append the next checkpoint's marker, compute its roots, sign and store it."""
        try:
            with self.ledger.store.write() as tx:
                checkpoint = self._cut(tx)
        except TransitionDiffers:
            self.state.rolled_back()  # refused before the tree moved: it holds the previous
            raise
        except BaseException:
            self.state.discard()  # the tree may be ahead of what was committed
            raise
        self.state.committed()
        return checkpoint

    def _cut(self, tx: SqlTransaction) -> StoredCheckpoint:
        if tx.head < 0:
            raise LedgerNotInitialized("the ledger has no genesis entry: run `carbonledger init`")
        previous = latest_checkpoint(tx)
        number_before = previous.number if previous else 0
        size_before = previous.log_size if previous else 0
        if tx.checkpoint != number_before:
            raise StoreInconsistent(
                f"the journal holds {tx.checkpoint} checkpoint markers but {number_before} "
                "signed checkpoints: a marker was appended without a checkpoint (by "
                "Ledger.append_checkpoint_marker?), and its state is gone; run "
                "`carbonledger audit`")
        self.state.sync(tx, number_before,
                        previous.state_root if previous else EMPTY_STATE_ROOT)
        log = open_log(tx, size_before)
        if previous and log.root(size_before) != previous.log_root:
            raise StoreInconsistent(
                f"the stored log no longer has checkpoint {number_before}'s root: the journal "
                "or the table log_nodes was changed; run `carbonledger audit`")

        number, size = self.ledger.append_checkpoint_marker(tx)
        rows = tx.journal_rows(size_before, size)
        hashes = []
        for expected_seq, row in enumerate(rows, size_before):
            if row.seq != expected_seq:
                raise StoreInconsistent(f"entry {expected_seq} is missing from the journal")
            hashed = leaf_hash(row.entry)
            if hashed != row.leaf_hash:
                raise StoreInconsistent(f"entry {row.seq}: its stored leaf hash differs from "
                                        "its bytes; run `carbonledger audit`")
            hashes.append(hashed)
        if len(rows) != size - size_before:
            raise StoreInconsistent(f"entries {size_before}..{size - 1} are not all in the "
                                    "journal")
        log.extend(hashes)
        operations = self.ledger.operations
        check = None
        if self.check_transitions and len(rows) > 1:
            transition = reexecute(tx, self.ledger, self.state.leaves, self.state.lot_index(),
                                   number_before, size_before, rows[:-1])
            check = lambda read: transition.check_leaves(  # noqa: E731
                tx, read, operations, self.state.previous)
        state_root, _ = self.state.advance(tx, number,
                                           [json.loads(row.entry) for row in rows[:-1]],
                                           operations, check)
        body = CheckpointBody(self._ledger_origin(tx), size, log.root(), number, state_root,
                              rows[-1].accepted_at)
        checkpoint = StoredCheckpoint(number, size, body.log_root, state_root, body.time,
                                      body.origin, self.operator, sign_note(body, self._key))
        _insert(tx, checkpoint)
        if self.retention is not None:
            anchored = latest_anchored(tx)
            pinned = {*self.retention.pinned, *(() if anchored is None else (anchored,))}
            self.state.tree.prune(tx, number, self.retention.keep, pinned, PRUNE_PER_CUT)
        tx.forget_row_undo(size)  # what re-executing the next checkpoint's entries needs is after
        return checkpoint

    def _ledger_origin(self, tx: SqlTransaction) -> str:
        if self._origin is None:
            self._origin = ledger_origin(tx)
        return self._origin
