"""The full, independent audit: replay the journal, recompute every signed checkpoint.

`carbonledger audit` trusts nothing the database derived, only the journal's signed
instructions and the operator key the auditor names:

1. the journal is replayed from scratch in a scratch database (ledger.replay): every signature
   re-verified, every entry rebuilt byte for byte, every projection compared at the end;
2. at each checkpoint marker, with the scratch database at exactly that point, the checkpoint
   is recomputed and compared with the stored, signed one: its note's signature by the trusted
   key, its columns against its note, its log size, its log root (from the entries' bytes, not
   their stored hashes), its state root and the leaf versions stored for it. The state is
   tracked independently of the checkpointer: triggers on the scratch database record every
   row the replay touches in the tables each leaf kind of the ledger's modules watches
   (ledger.modules.LeafKind), rather than asking the kinds what the journal's entries touched
   as the checkpointer does;
3. at the end: no checkpoint beyond the last marker, the stored log nodes equal the recomputed
   ones, no stray leaf version, and the ledger's invariants hold.

Given the registry the checkpoints are anchored on (`audit(..., chain=read_registry(...))`),
each recomputed checkpoint — its number, log size and the two roots recomputed from the
journal, not the stored or signed ones — is also compared with the commitment the registry
holds for that number, and the registry must not hold more checkpoints than the journal has
markers. The signed notes are the database's own evidence, and whoever holds the operator key
can sign a rewritten history; the chain's commitments cannot be rewritten, so this catches a
database whose history is not the one anchored, however consistent it is with itself.

Lost data never reads as a pass. An empty journal is a discrepancy (every ledger begins with
its genesis entry); a journal shorter than its signed checkpoints say is named with the entries
and markers missing; with a registry, a journal with fewer markers than the registry has
checkpoints fails; and an auditor who knows that checkpoint N exists (from an earlier audit, a
proof bundle, a report) says so (`expect_checkpoint=N`, `carbonledger audit
--expect-checkpoint N`), so that a store cut short together with its checkpoints table fails
too. Checkpoint times never go backwards, and each checkpoint's signed time is its marker's
acceptance time. Entry times never go backwards from journal format 2 on (the engine accepts
an entry no earlier than the head entry; the replay rebuilds exactly that, so a format 2 entry
moved back in time is a replay difference). Format 1 entries took each writer's clock as it
was, and writers on two machines journaled times a little out of order: what the audit cannot
refuse it reports, the largest step back (`largest_step_back`).

`replay --check` (`replay_against_checkpoints`, run by the application service) is the same
replay with the checks of the signed checkpoints that need no state tree (`SignedCheckpoints`:
signature, columns, origin, marker position, log root, times, and what is missing); the audit
(`_CheckpointAuditor`) is that and the state roots, leaf versions, log nodes and the chain.

The first discrepancy is reported with the entry, checkpoint, table or node where it lies.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog
from anchoring.auditor.note import CheckpointBody, NoteError, open_note
from anchoring.auditor.smt import MAX_BATCH_CHANGES, SparseMerkleTree
from anchoring.operator.checkpoints import (
    checkpoint_at,
    first_anchored_after,
    latest_checkpoint,
    ledger_origin,
    stored_checkpoints,
)
from anchoring.operator.contract import AnchoredCheckpoint, checkpoint_commitment
from anchoring.operator.log_store import stored_nodes
from anchoring.operator.state_versions import closed_at, opened_at, version_count
from ledger.clock import parse_time
from ledger.modules import LeafKind, OperationSet
from ledger.parallel_signatures import SignaturePool
from ledger.replay import Progress, ReplayReport, replay_check
from ledger.state import JournalRow
from ledger.store.database import Store
from ledger.store.state_leaves import Leaves, touched_leaves
from ledger.store.touched import track_touched

_TAIL_ROWS = 2000  # journal rows read at a time after the last checkpoint


class AnchoredRoots(Protocol):
    """A registry as the audit reads it (anchoring.operator.chain.RegistryReader); a node that fails
    raises anchoring.operator.chain.ChainUnavailable, which ends the audit without a verdict."""

    @property
    def description(self) -> str: ...

    @property
    def address(self) -> str: ...

    @property
    def chain_id(self) -> int: ...

    def latest_number(self) -> int: ...

    def commitment_of(self, number: int) -> bytes: ...


@dataclass(frozen=True)
class AuditReport:
    entries: int
    checkpoints: int
    elapsed_s: float
    first_discrepancy: str | None
    anchored: int | None = None
    """Checkpoints the registry holds exactly as recomputed; None if no registry was read."""
    chain_latest: int | None = None
    """The registry's latest checkpoint number when the audit started."""
    largest_step_back: tuple[int, float] | None = None
    """The entry accepted furthest before an earlier entry's time, and by how many seconds;
    None if times never went back."""

    @property
    def ok(self) -> bool:
        return self.first_discrepancy is None


def audit(live: Store, operations: OperationSet, trusted_operator: str,
          progress: Progress | None = None, *, chain: AnchoredRoots | None = None,
          expect_checkpoint: int | None = None,
          pool: SignaturePool | None = None) -> AuditReport:
    """Audit the ledger in `live` against the operator key the auditor trusts (an address)
    and, if given, the registry its checkpoints are anchored on and the checkpoint the auditor
    knows exists (`expect_checkpoint`: the journal must hold at least that many)."""
    started = time.perf_counter()
    auditor = _CheckpointAuditor(live, trusted_operator, tuple(operations.leaf_kinds.values()),
                                 chain, expect_checkpoint=expect_checkpoint)
    report = replay_check(live, operations, progress=progress, observer=auditor, pool=pool)
    problem = auditor.verdict(report)
    if problem is None:
        problems = operations.check_invariants(live)  # the core's and every module's
        problem = f"invariant broken: {problems[0]}" if problems else None
    return AuditReport(report.entries, auditor.checked, time.perf_counter() - started, problem,
                       auditor.anchored if chain else None,
                       auditor.chain_latest if chain else None, auditor.largest_step_back)


def replay_against_checkpoints(live: Store, operations: OperationSet,
                               trusted_operator: str | None,
                               progress: Progress | None = None,
                               pool: SignaturePool | None = None) -> ReplayReport:
    """`replay --check`: replay the journal (ledger.replay) and compare every signed checkpoint
    with it (`SignedCheckpoints`). `trusted_operator` None is for a ledger without checkpoints:
    a stored one is then a discrepancy, since its signature cannot be checked."""
    checks = SignedCheckpoints(live, trusted_operator)
    report = replay_check(live, operations, progress=progress, observer=checks, pool=pool)
    return ReplayReport(report.entries, report.elapsed_s, checks.verdict(report), checks.checked,
                        checks.largest_step_back)


@dataclass
class SignedCheckpoints:
    """A `ledger.replay.ReplayObserver` that holds each signed checkpoint stored to the journal
    replayed up to its marker: the checkpoint is stored, its note is signed by the trusted key
    and agrees with its row and with this ledger's origin, its log size puts its marker last,
    its log root is the root of the entries' bytes, its time is its marker's and not before the
    previous checkpoint's; and, once the journal is replayed, no signed checkpoint lies beyond
    it. `replay --check` runs these; the audit adds what needs the state tree and the chain.
    It also finds the largest step back in the entries' times (`largest_step_back`)."""

    live: Store
    trusted: str | None
    expect_checkpoint: int | None = None
    checked: int = 0
    sizes: list[int] = field(default_factory=list)
    _nodes: MemoryNodeStore = field(default_factory=MemoryNodeStore)
    _origin: str | None = None
    _time: str | None = None  # the previous checkpoint's
    largest_step_back: tuple[int, float] | None = None
    _latest: datetime | None = None  # the latest time of the entries looked at

    def __post_init__(self) -> None:
        self._log = MerkleLog(self._nodes)

    def started(self, scratch: Store) -> None:
        pass

    def checkpoint(self, scratch: Store, number: int, size: int) -> str | None:
        problem = self._check(scratch, number, size)
        if problem:
            return f"checkpoint {number} (marker entry {size - 1}): {problem}"
        self.checked += 1
        self.sizes.append(size)
        return None

    def _check(self, scratch: Store, number: int, size: int) -> str | None:
        with self.live.read() as tx:
            stored = checkpoint_at(tx, number)
            if self._origin is None:
                self._origin = ledger_origin(tx)
        if stored is None:
            return "no signed checkpoint is stored for this marker"
        if self.trusted is None:
            return ("no operator key is configured to check its signature against: restore "
                    "operator.json, or audit with --operator-key ADDRESS")
        try:
            body = open_note(stored.note, self.trusted)
        except NoteError as exc:
            return str(exc)
        if body != stored.body:
            columns = [name for name in ("number", "size", "log_root", "state_root", "time",
                                         "origin")
                       if getattr(body, name) != getattr(stored.body, name)]
            return f"stored columns ({', '.join(columns)}) differ from its signed note"
        if body.origin != self._origin:
            return f"signed for log {body.origin}, this ledger is {self._origin}"
        if body.size != size:
            return f"signed log size {body.size}, but its marker makes it {size}"
        with scratch.read() as tx:
            rows = tx.journal_rows(self._log.size, size)
        self._log.extend(leaf_hash(row.entry) for row in rows)
        self._note_times(rows)
        problem = self._before_log_root(scratch, number, size)
        if problem:
            return problem
        if self._log.root() != body.log_root:
            return (f"signed log root {body.log_root.hex()}, but entries 0..{size - 1} hash to "
                    f"{self._log.root().hex()}")
        marker_time = rows[-1].accepted_at
        if body.time != marker_time:
            return (f"signed at {body.time}, but its marker entry was accepted at "
                    f"{marker_time}: a checkpoint's time is its marker's")
        if self._time is not None and _before(body.time, self._time):
            return (f"signed at {body.time}, before checkpoint {number - 1} ({self._time}): "
                    "checkpoint times never go backwards")
        self._time = body.time
        return self._after_log_root(number, body)

    def _before_log_root(self, scratch: Store, number: int, size: int) -> str | None:
        """The audit's checks that come before the signed roots are compared (the chain's)."""
        return None

    def _after_log_root(self, number: int, body: CheckpointBody) -> str | None:
        """The audit's checks of the state the checkpoint signs."""
        return None

    def verdict(self, report: ReplayReport) -> str | None:
        """The first discrepancy. A journal shorter than a signed checkpoint says comes first:
        what the replay then finds wrong (the tables ahead of the journal) follows from it. A
        replay that stopped at its first entry (an empty or unreadable journal) is reported by
        what the signed checkpoints, the chain or the auditor say is missing, when they do."""
        short = self._journal_short()
        if short:
            return short
        if report.first_difference is None:
            return self.finish()
        # (a replay counts whole runs of entries done, so `entries == 0` alone does not say
        # that it stopped at entry 0)
        stopped_at_start = report.first_difference.startswith(("entry 0:", "the journal is "))
        if report.entries == 0 and stopped_at_start:
            return self._missing_history() or report.first_difference
        return report.first_difference

    def finish(self) -> str | None:
        """The checks that need the whole journal replayed."""
        self._note_tail_times()
        return self._missing_history()

    def _note_times(self, rows: Sequence[JournalRow]) -> None:
        for row in rows:
            try:
                moment = parse_time(row.accepted_at)
            except ValueError:
                continue  # replay compared the column with the entry; the entry's time parsed
            if self._latest is not None and moment < self._latest:
                step_s = (self._latest - moment).total_seconds()
                if self.largest_step_back is None or step_s > self.largest_step_back[1]:
                    self.largest_step_back = (row.seq, step_s)
            self._latest = max(moment, self._latest or moment)

    def _note_tail_times(self) -> None:
        """The entries after the last checkpoint's marker (all of them, with none)."""
        with self.live.read() as tx:
            head = tx.head
        for start in range(self._log.size, head + 1, _TAIL_ROWS):
            with self.live.read() as tx:
                self._note_times(tx.journal_rows(start, min(start + _TAIL_ROWS, head + 1)))

    def _missing_history(self) -> str | None:
        """Signed checkpoints beyond the journal's markers; checkpoints the auditor (and, in
        the audit, the chain) know of that the journal lacks."""
        with self.live.read() as tx:
            extra = [c.number for c in stored_checkpoints(tx) if c.number > len(self.sizes)]
        if extra:
            return self._journal_short() or \
                f"checkpoint {extra[0]}: stored, but the journal holds no marker for it"
        return self._expected()

    def _journal_short(self) -> str | None:
        """The journal against the latest checkpoint stored, if it is signed by the trusted key
        and says the log holds more entries than the journal does."""
        with self.live.read() as tx:
            entries, markers = tx.head + 1, tx.checkpoint
            latest = latest_checkpoint(tx)
        if latest is None or self.trusted is None:
            return None
        try:
            body = open_note(latest.note, self.trusted)
        except NoteError:
            return None  # an unsigned row is named where the replay meets it, or at the end
        if body != latest.body or body.size <= entries:
            return None
        markers = min(markers, latest.number - 1)  # the head row may have been cut short too
        return (f"checkpoint {latest.number} is signed for a log of {body.size} entries, but the "
                f"journal holds {entries}: {_missing_entries(entries, body.size)} and the "
                f"{_markers(markers + 1, latest.number)} are missing (a store restored from an "
                "older backup, cut short or emptied)")

    def _expected(self) -> str | None:
        """The checkpoint the auditor knows exists, if the journal's markers stop before it."""
        markers = len(self.sizes)
        if self.expect_checkpoint is None or self.expect_checkpoint <= markers:
            return None
        missing = (f"checkpoint {markers + 1} and the entries it covers are"
                   if self.expect_checkpoint == markers + 1 else
                   f"checkpoints {markers + 1}..{self.expect_checkpoint} and the entries they "
                   "cover are")
        return (f"checkpoint {self.expect_checkpoint}: expected by the auditor, but the "
                f"journal's markers stop at checkpoint {markers}: {missing} missing from this "
                "database (restored from an older backup, cut short or emptied), or it is "
                "another ledger")


class _CheckpointAuditor(SignedCheckpoints):
    """`SignedCheckpoints`, and each checkpoint's state root and leaf versions recomputed
    from the replay, the chain's commitments and the log nodes stored."""

    def __init__(self, live: Store, trusted: str, kinds: Sequence[LeafKind],
                 chain: AnchoredRoots | None = None, *,
                 expect_checkpoint: int | None = None) -> None:
        super().__init__(live, trusted, expect_checkpoint)
        self.kinds = kinds  # the state commitment's, from the modules audited with
        self.chain = chain
        self.anchored = 0
        self.chain_latest = 0
        self._tree = SparseMerkleTree()
        self._versions = 0
        self._changes: Leaves = {}  # the leaves changed since the previous checkpoint
        self._previous: set[bytes] = set()  # ... that had a value there

    def started(self, scratch: Store) -> None:
        if self.chain is not None:
            # Read once: checkpoints anchored while the audit runs count as not anchored yet.
            self.chain_latest = self.chain.latest_number()
        # Each watched table's rows, labelled with the kind whose leaves they are.
        watched = {table: (kind.name, columns[0], columns[1] if len(columns) > 1 else None)
                   for kind in self.kinds for table, columns in kind.watches.items()}
        with scratch.write() as tx:
            track_touched(tx, watched)

    def _before_log_root(self, scratch: Store, number: int, size: int) -> str | None:
        changes = self._state_changes(scratch)
        self._previous = {key for key in changes if self._tree.get(key) is not None}
        self._changes = changes
        ordered = sorted(changes)
        for start in range(0, len(ordered), MAX_BATCH_CHANGES):
            self._tree.update({k: changes[k] for k in ordered[start:start + MAX_BATCH_CHANGES]})
        # The chain first: it is the one record of the checkpoint that nobody can re-sign.
        return self._check_chain(number, size, self._log.root(), self._tree.root)

    def _after_log_root(self, number: int, body: CheckpointBody) -> str | None:
        if self._tree.root != body.state_root:
            return (f"signed state root {body.state_root.hex()}, but the state the journal "
                    f"gives there has root {self._tree.root.hex()}")
        return self._check_versions(number, self._changes, self._previous)

    def _check_chain(self, number: int, size: int, log_root: bytes,
                     state_root: bytes) -> str | None:
        """The recomputed checkpoint against the registry's commitment for its number."""
        if self.chain is None or number > self.chain_latest:
            return None  # not anchored (yet): the ledger never waits for the chain
        held = self.chain.commitment_of(number)
        recomputed = AnchoredCheckpoint(number, size, log_root, state_root)
        if held != checkpoint_commitment(recomputed):
            return (f"the {self.chain.description} anchored another checkpoint {number}: "
                    f"the journal gives log size {size}, log root {log_root.hex()} and state "
                    f"root {state_root.hex()}, which the chain does not hold (its commitment "
                    f"0x{held.hex()}). The history in this database is not the one anchored")
        self.anchored += 1
        return None

    def _check_chain_end(self) -> str | None:
        """Checkpoints the chain has and the journal lacks; anchors recorded and not held."""
        if self.chain is None:
            return None
        markers = len(self.sizes)
        if self.chain_latest > markers:
            missing = (f"checkpoint {markers + 1} is" if self.chain_latest == markers + 1 else
                       f"checkpoints {markers + 1}..{self.chain_latest} are")
            return (f"the {self.chain.description} holds checkpoints up to "
                    f"{self.chain_latest}, but the journal's markers stop at checkpoint "
                    f"{markers}: {missing} missing from this database (restored from an older "
                    "backup, or cut short), or the registry anchors another ledger")
        with self.live.read() as tx:
            recorded = first_anchored_after(tx, self.chain.chain_id, self.chain.address,
                                            self.chain_latest)
        if recorded is not None:
            return (f"checkpoint {recorded[0]}: recorded as anchored on the "
                    f"{self.chain.description} in block {recorded[1]}, but the registry holds "
                    f"checkpoints up to {self.chain_latest} only: the chain lost it (a node "
                    "reset or reorganised) or the record is false")
        return None

    def finish(self) -> str | None:
        """The checks that need the whole journal replayed."""
        self._note_tail_times()
        problem = self._missing_history()
        if problem:
            return problem
        with self.live.read() as tx:
            problem = self._check_log_nodes(stored_nodes(tx))
            versions = version_count(tx)
        if problem:
            return problem
        if versions != self._versions:
            return (f"table state_leaves: {versions} rows, but the checkpoints opened "
                    f"{self._versions} leaf versions")
        return None

    def _missing_history(self) -> str | None:
        """The chain's checkpoints first: unlike the stored ones, nobody can re-sign them."""
        return self._check_chain_end() or super()._missing_history()

    def _state_changes(self, scratch: Store) -> Leaves:
        """The leaves the replay changed since the last checkpoint, with their new values."""
        with scratch.write() as tx:
            fresh = touched_leaves(tx, self.kinds)
        return {key: value for key, value in fresh.items() if self._tree.get(key) != value}

    def _check_versions(self, number: int, changes: Mapping[bytes, bytes | None],
                        previous: set[bytes]) -> str | None:
        with self.live.read() as tx:
            opened, closed = opened_at(tx, number), closed_at(tx, number)
        expected = {key: value for key, value in changes.items() if value is not None}
        for key in sorted(set(opened) | set(expected)):
            if opened.get(key) != expected.get(key):
                return (f"the state leaf version of key {key.hex()} it stores "
                        f"({_short(opened.get(key))}) differs from the state "
                        f"({_short(expected.get(key))})")
        if closed != previous:
            key = min(closed ^ previous)
            return f"the state leaf version of key {key.hex()} is wrongly closed or left open"
        self._versions += len(opened)
        return None

    def _check_log_nodes(self, stored: list[tuple[int, int, bytes]]) -> str | None:
        size = self._log.size
        keys = [(level, index) for level in range(1, size.bit_length())
                for index in range(size >> level)]
        expected = dict(zip(keys, self._nodes.get_many(keys), strict=True))
        for level, index, node in stored:
            want = expected.pop((int(level), int(index)), None)
            if want != bytes(node):
                first, last = int(index) << int(level), ((int(index) + 1) << int(level)) - 1
                used_by = next((n + 1 for n, s in enumerate(self.sizes) if s > last), None)
                what = "differs from the recomputed one" if want else "is not a node of the log"
                return (f"log_nodes ({level}, {index}) over entries {first}..{last}: stored "
                        f"hash {what}"
                        + (f" (proofs from checkpoint {used_by} on use it)" if used_by else ""))
        if expected:
            level, index = min(expected)
            return f"log_nodes ({level}, {index}): missing from the database"
        return None


def _before(time: str, other: str) -> bool:
    try:
        return parse_time(time) < parse_time(other)
    except ValueError:
        return time < other  # not RFC 3339 as the ledger writes it: compared as text


def _markers(first: int, last: int) -> str:
    return f"marker of checkpoint {first}" if first == last else \
        f"markers of checkpoints {first}..{last}"


def _missing_entries(first: int, stop: int) -> str:
    return f"entry {first}" if stop == first + 1 else f"entries {first}..{stop - 1}"


def _short(value: bytes | None) -> str:
    return "absent" if value is None else value.decode("utf-8", "replace")[:120]
