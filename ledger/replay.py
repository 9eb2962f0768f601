"""Rebuild every projection from the journal alone and compare with the live store.

`carbonledger replay --check`: each journal entry's signed instruction is applied again, in a
scratch database, at the time the entry records; every signature is verified again; each
rebuilt entry must equal the stored one byte for byte (so its effects and hash match), and at
the end every projection table must equal the live one row for row. The first difference is
reported with the entry number or the table and key where it lies.

An empty journal is a difference, not a pass over nothing: every ledger begins with its
genesis entry. Comparing the journal with the signed checkpoints (sizes, roots, times) is
anchoring's part (`anchoring.audit.replay_against_checkpoints`, which the application
service's `replay_check` runs): this module imports nothing of anchoring.

Each entry is rebuilt in the form it was stored in, with or without its "format" key
(ledger.journal): a ledger written by an older version replays exactly, and an entry of a
format this code does not know is a difference, named, not an exception.

With a `SignaturePool` (ledger/parallel_signatures.py) on the ledger's domain, the signatures
of the next group of entries are recovered in the pool's processes while this one is applied:
recovery is the costliest step of an entry, and it needs no state. Only a signature the pool
found good is taken as checked, and only for entries stored in today's format (the pool parses
as today's code admits); anything else, and everything while the pool starts or after one of
its processes died, is checked here as before. The result is the same with or without it.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from ledger.clock import parse_time
from ledger.engine import Ledger
from ledger.errors import Rejected
from ledger.journal import (
    ENTRY_FORMAT,
    MARKER_OP,
    EntryForm,
    UnknownEntryFormat,
    make_marker,
    stored_form,
    writing_form,
)
from ledger.modules import OperationSet
from ledger.parallel_signatures import PendingVerdicts, SignaturePool, SignaturePoolError
from ledger.signature_check import CHECKED, UNCHECKED
from ledger.state import JournalRow
from ledger.store.database import Store, sqlite_url
from ledger.store.scans import table_rows
from ledger.store.schema import CORE_PROJECTIONS

REPLAY_GROUP = 500  # entries replayed in one transaction, by default
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReplayReport:
    entries: int
    elapsed_s: float
    first_difference: str | None
    checkpoints: int | None = None
    """Signed checkpoints compared with the journal; None when replayed without them."""
    largest_step_back: tuple[int, float] | None = None
    """The entry accepted furthest before an earlier entry's time, and by how many seconds;
    None if times never went back (or were not looked at). Not a difference: the engine takes
    each writer's clock as it is (see anchoring.audit)."""

    @property
    def ok(self) -> bool:
        return self.first_difference is None


class _ReplayClock:
    """Answers each operation with the acceptance time its journal entry records."""

    def __init__(self) -> None:
        self.times: Iterator[datetime] = iter(())

    def feed(self, times: list[datetime]) -> None:
        self.times = iter(times)

    def __call__(self) -> datetime:
        return next(self.times)


class ReplayObserver(Protocol):
    """Watches a replay (the audit recomputes each checkpoint's roots this way).

    `started` runs once the scratch store is migrated, before any entry is replayed;
    `checkpoint` runs after each checkpoint marker is replayed, when the scratch store holds
    exactly the state at that checkpoint. A string it returns is a difference: the replay
    stops there and reports it.
    """

    def started(self, scratch: Store) -> None: ...

    def checkpoint(self, scratch: Store, number: int, size: int) -> str | None: ...


def replay_check(live: Store, operations: OperationSet, scratch_dir: Path | None = None,
                 progress: Progress | None = None,
                 observer: ReplayObserver | None = None,
                 group_size: int | None = None,
                 pool: SignaturePool | None = None) -> ReplayReport:
    """Replay the journal into a scratch store and compare. Entries are applied in groups of
    `group_size` (default REPLAY_GROUP) per transaction: any grouping must give the same result,
    since each entry was accepted with whatever else shared its transaction. `pool`: see the
    module's docstring."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=scratch_dir) as tmp:
        scratch = Store(sqlite_url(Path(tmp) / "replay.db"), synchronous="OFF")
        scratch.upgrade(operations)
        try:
            if observer:
                observer.started(scratch)
            entries, difference = _replay(live, Ledger(scratch, operations, _ReplayClock()),
                                          progress, observer, group_size or REPLAY_GROUP, pool)
            if difference is None:
                difference = compare_projections(live, scratch, operations)
        finally:
            scratch.dispose()
    return ReplayReport(entries, time.perf_counter() - started, difference)


def _replay(live: Store, rebuilt: Ledger, progress: Progress | None,
            observer: ReplayObserver | None, group_size: int,
            pool: SignaturePool | None) -> tuple[int, str | None]:
    """Apply the live journal's entries to `rebuilt` (a ledger on the scratch store, with a
    `_ReplayClock`), `group_size` to a transaction."""
    with live.read() as tx:
        head = tx.head
    if head < 0:
        return 0, ("the journal is empty: every ledger begins with its genesis entry, so this "
                   "store lost its journal or was never a ledger")

    def stored() -> Iterator[JournalRow]:
        for start in range(0, head + 1, group_size):
            with live.read() as tx:
                rows = tx.journal_rows(start, min(start + group_size, head + 1))
            yield from rows  # outside the read: no transaction stays open while replaying

    done, difference = _replay_rows(
        stored(), rebuilt, observer, group_size,
        (lambda done: progress(done, head + 1)) if progress else None, pool=pool)
    if difference is None and done < head + 1:
        difference = f"entry {done}: missing from the journal"
    if difference is None:
        difference = _compare_journal_columns(live, rebuilt.store, head)
    return done, difference


def replay_rows(rows: Iterable[JournalRow], scratch: Store, operations: OperationSet,
                group_size: int = REPLAY_GROUP, *, observer: ReplayObserver | None = None,
                start: int = 0) -> tuple[int, str | None]:
    """Replay stored journal rows, entry 0 first and in order, into `scratch` (an empty,
    migrated store), as `replay --check` replays a live journal: for rows kept elsewhere, such
    as the golden journal of tests/vectors/formats/. Returns how many entries were replayed and
    the first difference, None when every entry was rebuilt to its stored bytes.

    With `start`, the rows begin at entry `start` and `scratch` already holds entries
    0..start-1, replayed before (a witness's replica, resumed): the number returned is then
    the next entry's sequence number."""
    return _replay_rows(rows, Ledger(scratch, operations, _ReplayClock()), observer,
                        group_size, None, start)


Segment = list[tuple[JournalRow, dict[str, Any]]]


def _replay_rows(rows: Iterable[JournalRow], rebuilt: Ledger,
                 observer: ReplayObserver | None, group_size: int,
                 progress: Callable[[int], None] | None,
                 start: int = 0, pool: SignaturePool | None = None) -> tuple[int, str | None]:
    scratch, clock = rebuilt.store, rebuilt.clock
    assert isinstance(clock, _ReplayClock)
    done = start
    # a marker has no format of its own: it was written under the rules of the entries before
    # it (format 2 on, never before the head entry's time)
    entries_form: EntryForm = ENTRY_FORMAT if start else None
    for group, documents, pending in _read_ahead(iter(rows), group_size, pool):
        for expected_seq, row in enumerate(group, done):
            if row.seq != expected_seq:
                return done, f"entry {expected_seq}: missing from the journal"
            if documents[row.seq - done] is _NOT_JSON:
                return done, f"entry {row.seq}: stored bytes are not JSON"
        checked = _checked_in_pool(pending, group, rebuilt, pool)
        segments, unreadable = _segments(group, documents)
        for form, segment in segments:
            if segment[0][0].op == MARKER_OP:
                with writing_form(entries_form):
                    difference = _replay_marker(rebuilt, clock, *segment[0])
                if difference is None and observer:
                    row, document = segment[0]
                    difference = observer.checkpoint(scratch, document["checkpoint"],
                                                     row.seq + 1)
            else:
                difference = _replay_instructions(rebuilt, clock, scratch, segment, form,
                                                  checked)
                entries_form = form
            if difference:
                return done, difference
            done += len(segment)
        if unreadable:
            return done, unreadable
        if progress:
            progress(done)
    return done, None


_NOT_JSON = object()  # a stored entry's bytes that do not parse


def _read_ahead(rows: Iterator[JournalRow], group_size: int, pool: SignaturePool | None
                ) -> Iterator[tuple[list[JournalRow], list[Any], PendingVerdicts | None]]:
    """The rows in groups, each with its entries' documents and, with `pool`, the verdicts on
    its signatures being computed: a group is read, and sent to the pool, before the one
    before it is handed out to be applied."""
    def read() -> tuple[list[JournalRow], list[Any], PendingVerdicts | None]:
        group = list(islice(rows, group_size))
        documents = [_document(row) for row in group]
        return group, documents, _check(documents, pool)

    current = read()
    while current[0]:
        following = read()
        yield current
        current = following


def _document(row: JournalRow) -> Any:
    try:
        return json.loads(row.entry)
    except (ValueError, RecursionError):  # no entry nests deeper than a few levels
        return _NOT_JSON


def _check(documents: list[Any], pool: SignaturePool | None) -> PendingVerdicts | None:
    """The signatures of the group's entries of today's format, sent to `pool` (None: none
    sent, since there is no pool, its processes are starting, or nothing qualifies)."""
    if pool is None or not documents:
        return None
    try:
        if not pool.ready():
            return None
    except SignaturePoolError:
        return None  # a process died starting: this group is checked here
    instructions = [_checkable(document) for document in documents]
    if not any(instruction is not None for instruction in instructions):
        return None
    return pool.check([instruction or {} for instruction in instructions])


def _checkable(document: Any) -> Any:
    """The signed instruction of an entry of today's format, which the pool may check."""
    if not isinstance(document, dict) or "instruction" not in document:
        return None
    try:
        return document["instruction"] if stored_form(document) == ENTRY_FORMAT else None
    except UnknownEntryFormat:
        return None


def _checked_in_pool(pending: PendingVerdicts | None, group: list[JournalRow],
                     rebuilt: Ledger, pool: SignaturePool | None) -> set[int] | None:
    """The sequence numbers of a group's entries whose signatures the pool found good: the
    others are checked here, in their own form. None when there are none to use, or the pool
    checks against another domain than the rebuilt ledger's (its genesis, replayed by now)."""
    if pending is None or pool is None:
        return None
    try:
        if pool.domain != rebuilt.domain:
            return None
        verdicts = pending.verdicts()
    except (SignaturePoolError, Rejected):
        return None  # a process died (the pool starts anew), or no genesis: checked here
    return {row.seq for row, verdict in zip(group, verdicts, strict=True) if verdict is CHECKED}


def _segments(rows: list[JournalRow], documents: list[dict[str, Any]]
              ) -> tuple[list[tuple[EntryForm, Segment]], str | None]:
    """Split a group into what is replayed together: each checkpoint marker alone, and runs of
    entries stored in one form (a replay rebuilds each entry in the form it was stored in).
    Stops at an entry whose format this code does not know, and names it."""
    segments: list[tuple[EntryForm, Segment]] = []
    for row, document in zip(rows, documents, strict=True):
        marker = row.op == MARKER_OP
        try:
            form = stored_form(document) if not marker and isinstance(document, dict) else None
        except UnknownEntryFormat as unknown:
            return segments, f"entry {row.seq}: {unknown}"
        last = segments[-1] if segments else None
        if marker or last is None or last[1][-1][0].op == MARKER_OP or last[0] != form:
            segments.append((form, []))
        segments[-1][1].append((row, document))
    return segments, None


def _replay_marker(rebuilt: Ledger, clock: _ReplayClock, row: JournalRow,
                   document: dict[str, Any]) -> str | None:
    try:
        clock.feed([parse_time(row.accepted_at)])
    except ValueError:
        return f"entry {row.seq}: bad acceptance time"
    number, size = rebuilt.append_checkpoint_marker()
    if size != row.seq + 1 or document != {"checkpoint": number, "seq": row.seq}:
        return f"entry {row.seq}: checkpoint marker {document} out of order " \
               f"(expected checkpoint {number})"
    if make_marker(row.seq, number, row.accepted_at) != row:
        return f"entry {row.seq}: checkpoint marker columns differ from its bytes"
    return None


def _replay_instructions(rebuilt: Ledger, clock: _ReplayClock, scratch: Store,
                         segment: Segment, form: EntryForm,
                         checked: set[int] | None) -> str | None:
    # Each entry is parsed and applied under the admission rules of the format it was written
    # in (ledger.formats), never under today's stricter ones: by the engine's one way in for
    # documents, which parses each once (an instruction that does not parse is refused there,
    # by name, as it would have been when submitted).
    with writing_form(form):
        instructions = []
        for row, document in segment:
            try:
                instructions.append(document["instruction"])
            except (KeyError, TypeError) as exc:
                return f"entry {row.seq}: no signed instruction in the entry: {exc}"
        try:
            clock.feed([parse_time(document["accepted_at"]) for _, document in segment])
        except (KeyError, TypeError, ValueError):
            return f"entry {segment[0][0].seq}..{segment[-1][0].seq}: bad acceptance time"
        verdicts = None if checked is None else [CHECKED if row.seq in checked else UNCHECKED
                                                 for row, _ in segment]
        results = rebuilt.submit_documents(instructions, verdicts)
    for (row, _), result in zip(segment, results, strict=True):
        if isinstance(result, Rejected):
            return f"entry {row.seq}: refused on replay: {result}"
        if result.seq != row.seq or result.duplicate:
            return f"entry {row.seq}: replays as entry {result.seq}"
        if result.entry_hash != "0x" + row.leaf_hash.hex():
            return f"entry {row.seq}: stored entry differs from its replay " \
                   f"({_which_part(row.entry, result.seq, scratch)})"
    return None


def _which_part(stored: bytes, seq: int, scratch: Store) -> str:
    with scratch.read() as tx:
        row = tx.journal_row(seq)
    assert row is not None
    try:
        mine, theirs = json.loads(row.entry), json.loads(stored)
    except ValueError:
        return "stored bytes are not JSON"
    parts = [k for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k)]
    return "differs in " + ", ".join(parts) if parts else "same content, different bytes"


def _compare_journal_columns(live: Store, scratch: Store, head: int) -> str | None:
    """The journal's derived columns (ids, hashes) must match what the replay derived."""
    for start in range(0, head + 1, REPLAY_GROUP * 4):
        stop = min(start + REPLAY_GROUP * 4, head + 1)
        with live.read() as tx:
            stored = tx.journal_rows(start, stop)
        with scratch.read() as tx:
            rebuilt = tx.journal_rows(start, stop)
        for a, b in zip(stored, rebuilt, strict=True):
            if a != b:
                return f"entry {a.seq}: journal columns differ from the entry they index"
    return None


def compare_projections(live: Store, scratch: Store, operations: OperationSet) -> str | None:
    """Every projection, the core's and each module's tables, row for row."""
    for table in (*CORE_PROJECTIONS, *operations.tables.values()):
        with live.read() as tx:
            live_rows = [_normal(r) for r in table_rows(tx, table)]
        with scratch.read() as tx:
            scratch_rows = [_normal(r) for r in table_rows(tx, table)]
        if table.name == "holdings":  # an emptied holding may stay as a row of zeros
            live_rows = [r for r in live_rows if any(r[2:])]
            scratch_rows = [r for r in scratch_rows if any(r[2:])]
        for a, b in zip(live_rows, scratch_rows, strict=False):
            if a != b:
                return f"table {table.name}: live row {a} differs from replayed row {b}"
        if len(live_rows) != len(scratch_rows):
            longer = live_rows if len(live_rows) > len(scratch_rows) else scratch_rows
            extra = longer[min(len(live_rows), len(scratch_rows))]
            side = "live" if longer is live_rows else "replayed"
            return f"table {table.name}: {side} store has an extra row {extra}"
    with live.read() as live_tx, scratch.read() as scratch_tx:
        if (live_tx.head, live_tx.checkpoint) != (scratch_tx.head, scratch_tx.checkpoint):
            return (f"journal head: live (seq {live_tx.head}, checkpoint "
                    f"{live_tx.checkpoint}), replayed (seq {scratch_tx.head}, checkpoint "
                    f"{scratch_tx.checkpoint})")
    return None


def _normal(row: Any) -> tuple[Any, ...]:
    """Compare SQLite and PostgreSQL rows alike (booleans as 0/1, memoryview as bytes)."""
    return tuple(int(v) if isinstance(v, bool) else bytes(v) if isinstance(v, memoryview)
                 else v for v in row)
