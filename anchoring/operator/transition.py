"""Transition-checked checkpoints: before checkpoint K is signed, the entries since checkpoint
K-1 are re-executed against K-1's committed state, and what they give must be what the tables
hold (docs/adr/0008-transition-checked-checkpoints.md).

The state root commits ownership: every live lot, every holding, every account. An insider
with the database can change those tables behind the ledger's back, and the engine, which
trusts them, would build on the change; a checkpoint signed over the result would make a
forgery provable against the chain. So the checkpointer does not take the tables' word for the
state it signs. It re-executes each entry since K-1, in order, with the engine's own code
(signatures, authorization, the operation's handler: `Ledger.reexecute`) at the entry's
acceptance time, over a `CommittedSource`: K-1's leaves for what the root commits, and for
what it does not, the live tables as they were at K-1 (rows by the seq that made them, a
module row from its undo, a key's nonce from the entries). Each rebuilt entry must equal the
stored one byte for byte (so its effects too), and every leaf the entries touched must then
equal the leaf read from the tables. The first difference is named, by entry, and nothing is
signed.

What stays unchecked is what the root does not commit and the window does not rebuild: the
contents of participants, keys, batches, liens, scheme rules and instruction records as of
K-1 (their rows are trusted, filtered by the seq that made them), a key's nonce against its
last use before K-1, and a module's rows as of K-1 (their undo, or the row). The full audit
replays all of it, and witnesses re-execute it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from anchoring.auditor.state_changes import EntriesSince
from anchoring.auditor.state_keys import ACCOUNT, HOLDING, LOT, account_key, holding_key, lot_key
from anchoring.operator.errors import TransitionDiffers
from anchoring.operator.lot_index import LotIndex
from custody.eip712 import Domain
from ledger.clock import parse_time
from ledger.engine import Ledger
from ledger.errors import Rejected
from ledger.formats import writing_form
from ledger.instructions import SignedInstruction, make_domain
from ledger.journal import stored_form
from ledger.model import (
    Account,
    AccountType,
    Batch,
    Lien,
    Lot,
    LotState,
    Participant,
    SigningKey,
)
from ledger.schemes import SchemeRules
from ledger.state import InstructionRecord, JournalRow, WorkingSet
from ledger.store.sql import SqlTransaction
from ledger.store.state_leaves import (
    HOLDING_BUCKETS,
    Leaves,
    account_value,
    holding_value,
    lot_value,
)

if TYPE_CHECKING:
    from sqlalchemy import Table

    from ledger.modules import OperationSet

class CommittedSource:
    """The engine's reads (ledger.state.Source) answered with checkpoint K-1's state: its
    committed leaves for lots, holdings and accounts; for what the root does not commit, the
    live tables as they were when the journal held `size` entries (K-1's log size)."""

    def __init__(self, tx: SqlTransaction, leaves: Mapping[bytes, bytes], lots: LotIndex,
                 size: int, first_nonces: Mapping[str, int]) -> None:
        self.tx = tx
        self.leaves = leaves
        self.lot_index = lots
        self.size = size
        self.first_nonces = first_nonces  # each signer's first nonce since K-1

    def _before(self, seq: int) -> bool:
        return seq < self.size

    def participants(self, ids: Sequence[str]) -> dict[str, Participant]:
        return {i: p for i, p in self.tx.participants(ids).items()
                if self._before(p.registered_seq)}

    def keys(self, addresses: Sequence[str]) -> dict[str, SigningKey]:
        return {a: k for a, k in ((a, self._key_then(k))
                                  for a, k in self.tx.keys(addresses).items()) if k}

    def _key_then(self, key: SigningKey) -> SigningKey | None:
        """A key as it was at K-1. Its last nonce then is not kept: a key that signed since
        is given one below the first nonce it used since (the engine then checks that its
        nonces since K-1 increase); any other key's is the table's."""
        if not self._before(key.registered_seq):
            return None
        revoked = key.revoked_seq if key.revoked_seq is not None and \
            self._before(key.revoked_seq) else None
        first = self.first_nonces.get(key.address)
        last_nonce = key.last_nonce if first is None else first - 1
        return SigningKey(key.address, key.participant, key.registered_seq, revoked, last_nonce)

    def key_addresses_of(self, participant: str) -> list[str]:
        """Its keys' addresses, those registered since included: `keys` leaves them out."""
        return self.tx.key_addresses_of(participant)

    def signers(self, addresses: Sequence[str]) -> list[tuple[SigningKey, Participant]]:
        keys = self.keys(addresses)
        people = self.participants(sorted({k.participant for k in keys.values()}))
        return [(key, people[key.participant]) for key in keys.values()
                if key.participant in people]

    def accounts(self, ids: Sequence[str]) -> dict[str, Account]:
        """An account's committed fields from its leaf; why it was frozen and when it was
        opened, which the root does not commit, from its row."""
        rows = self.tx.accounts(ids)
        found = {}
        for account_id in ids:
            value = self.leaves.get(account_key(account_id))
            if value is None:
                continue
            leaf = json.loads(value)
            row = rows.get(account_id)
            found[account_id] = Account(account_id, leaf["participant"], AccountType(leaf["type"]),
                                        leaf["frozen"], row.freeze_reason if row else "",
                                        row.opened_seq if row else 0)
        return found

    def batches(self, ids: Sequence[str]) -> dict[str, Batch]:
        return {i: b for i, b in self.tx.batches(ids).items() if self._before(b.issued_seq)}

    def liens(self, ids: Sequence[str]) -> dict[str, Lien]:
        return {i: lien for i, lien in self.tx.liens(ids).items()
                if self._before(lien.created_seq)}

    def instruction_records(self, ids: Sequence[bytes]) -> dict[bytes, InstructionRecord]:
        return {i: r for i, r in self.tx.instruction_records(ids).items()
                if self._before(r.seq)}

    def scheme_rules(self, scheme: str) -> SchemeRules | None:
        return self.tx.scheme_rules_as_of(scheme, self.size)

    def held_lots(self, pairs: Sequence[tuple[str, str]], state: LotState, limit: int,
                  after: int = 0) -> dict[tuple[str, str], list[Lot]]:
        return {(a, b): self.lot_index.held(a, b, state, limit, after) for a, b in pairs}

    def lots_overlapping(self, batch: str, first: int, last: int) -> list[Lot]:
        return self.lot_index.overlapping(batch, first, last)

    def lots_under_lien(self, lien: str) -> list[Lot]:
        return self.lot_index.under_lien(lien)

    def holdings(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str],
                                                                tuple[int, ...]]:
        found = {}
        for account, batch in pairs:
            buckets = holding_buckets(self.leaves.get(holding_key(account, batch)))
            if buckets is not None:
                found[(account, batch)] = buckets
        return found

    def row(self, table: Table, key: tuple[Any, ...]) -> Mapping[str, Any] | None:
        return self.tx.row_as_of(table, key, self.size)

    def rows_with_prefix(self, table: Table, prefix: tuple[Any, ...]
                         ) -> dict[tuple[Any, ...], Mapping[str, Any]]:
        return self.tx.rows_with_prefix_as_of(table, prefix, self.size)


def holding_buckets(value: bytes | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    document = json.loads(value)
    return tuple(int(document[bucket]) for bucket in HOLDING_BUCKETS)


class _EntryClock:
    """The re-execution's clock: each entry's own acceptance time."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        assert self.now is not None
        return self.now


@dataclass
class Transition:
    """The entries since K-1 re-executed over K-1's state: the working set they left, and the
    leaves it gives for what they touched."""

    ws: WorkingSet
    rows: Sequence[JournalRow]
    expected: Leaves

    def first_touching(self, key: bytes, operations: OperationSet,
                       previous: Callable[[bytes], bytes | None]) -> int | None:
        """The first entry that touched leaf `key` (for naming it in a difference)."""
        for row in self.rows:
            since = EntriesSince([json.loads(row.entry)], previous, operations.accounts_named)
            for kind in operations.leaf_kinds.values():
                if any(kind.key(i) == key for i in kind.touched(since)):
                    return row.seq
        return None

    def check_leaves(self, tx: SqlTransaction, fresh: Mapping[str, Leaves],
                     operations: OperationSet,
                     previous: Callable[[bytes], bytes | None]) -> None:
        """The leaves read from the tables (`fresh`, by kind) must be those the re-execution
        gives; a leaf of the core's kinds that it did not change must not have changed; and
        every row of a module's table that it wrote must be the row in the table."""
        problems: list[tuple[int, str]] = []
        core = {LOT, HOLDING, ACCOUNT}
        read: Leaves = {}
        for name, leaves in fresh.items():
            read.update(leaves)
            if name not in core:
                continue
            for key, value in leaves.items():
                if key not in self.expected and value != previous(key):
                    seq = self.first_touching(key, operations, previous)
                    problems.append((seq if seq is not None else self.rows[-1].seq,
                                     f"its {name} leaf {_show(value)} in the tables, "
                                     f"{_show(previous(key))} at the previous checkpoint, "
                                     "and no entry changed it"))
        for key, value in self.expected.items():
            if key in read and read[key] != value:
                seq = self.first_touching(key, operations, previous)
                problems.append((seq if seq is not None else self.rows[-1].seq,
                                 f"re-executed it gives {_show(value)}, the tables hold "
                                 f"{_show(read[key])}"))
        for (table, row_key), row in self.ws.rows_written.items():
            live = tx.row(table, row_key)
            if live is None or _normal(live) != _normal(row.values):
                seq = self.ws.rows_before[(table, row_key)][0]
                problems.append((seq, f"its row {list(row_key)} of table {table.name} "
                                      f"re-executes "
                                      f"as {dict(row.values)}, the table holds "
                                      f"{None if live is None else dict(live)}"))
        if problems:
            seq, what = min(problems, key=lambda p: p[0])
            raise TransitionDiffers(f"entry {seq}: {what}")


def _show(value: bytes | None) -> str:
    return "nothing" if value is None else value.decode()


def _normal(values: Mapping[str, Any]) -> dict[str, Any]:
    """SQLite hands booleans back as 0 and 1."""
    return {k: int(v) if isinstance(v, bool) else v for k, v in values.items()}


def reexecute(tx: SqlTransaction, ledger: Ledger, leaves: Mapping[bytes, bytes],
              lots: LotIndex, number_before: int, size_before: int,
              rows: Sequence[JournalRow]) -> Transition:
    """Re-execute `rows` (the entries since checkpoint `number_before`, of log size
    `size_before`, in order) against that checkpoint's state. Raises `TransitionDiffers`
    naming the first entry that is refused or rebuilds differently."""
    documents: list[dict[str, Any]] = []
    signed: list[SignedInstruction] = []
    first_nonces: dict[str, int] = {}
    operations = ledger.operations
    for row in rows:
        try:
            document = json.loads(row.entry)
            with writing_form(stored_form(document)):
                instruction = operations.parse_signed(document["instruction"])
        except (Rejected, KeyError, TypeError, ValueError) as exc:
            raise TransitionDiffers(f"entry {row.seq}: its instruction does not parse: "
                                    f"{exc}") from exc
        documents.append(document)
        signed.append(instruction)
        for approval in instruction.approvals:
            first_nonces.setdefault(approval.signer, approval.nonce)

    source = CommittedSource(tx, leaves, lots, size_before, first_nonces)
    ws = WorkingSet(source, size_before - 1, number_before)
    _read_first(ws, signed, operations)
    clock = _EntryClock()
    engine = Ledger(ledger.store, operations, clock)
    genesis = tx.journal_row(0)
    domain = make_domain(json.loads(genesis.entry)["instruction"]["fields"]["chainId"]) \
        if genesis is not None else None
    # The engine accepts an entry no earlier than the journal's head (Ledger._now): while
    # the entries since K-1 re-execute, the head is K-1's marker, not the live one.
    previous = tx.journal_row(size_before - 1) if size_before else None
    live_head_time = tx.head_time
    tx.head_time = previous.accepted_at if previous is not None else None
    try:
        for row, document, instruction in zip(rows, documents, signed, strict=True):
            if instruction.instruction.op == "genesis":
                domain = make_domain(instruction.instruction.fields["chainId"])
            assert domain is not None, "an entry after the genesis implies the genesis"
            _reexecute_entry(engine, clock, ws, tx, domain, row, document, instruction,
                             number_before)
    finally:
        tx.head_time = live_head_time
    uncovered = ws.debits_not_covered()
    if uncovered is not None:
        raise TransitionDiffers(f"entry {rows[-1].seq}: {uncovered}")
    return Transition(ws, rows, _leaves_of(ws, leaves))


def _reexecute_entry(engine: Ledger, clock: _EntryClock, ws: WorkingSet, tx: SqlTransaction,
                     domain: Domain, row: JournalRow, document: Mapping[str, Any],
                     instruction: SignedInstruction, number_before: int) -> None:
    """Apply one stored entry's instruction again, at its acceptance time; it must rebuild
    the stored entry."""
    where = f"entry {row.seq}"
    try:
        clock.now = parse_time(document["accepted_at"])
    except (KeyError, TypeError, ValueError):
        raise TransitionDiffers(f"{where}: its acceptance time is not one") from None
    try:
        with writing_form(stored_form(document)):
            receipt = engine.reexecute(ws, tx, instruction, domain)
    except Rejected as refused:
        raise TransitionDiffers(f"{where}: refused when re-executed against checkpoint "
                                f"{number_before}'s state: {refused}") from None
    except (AssertionError, KeyError, ValueError) as broken:
        raise TransitionDiffers(f"{where}: cannot be re-executed against checkpoint "
                                f"{number_before}'s state ({broken!r})") from None
    rebuilt = ws.entries[-1]
    if receipt.duplicate or rebuilt.seq != row.seq:
        raise TransitionDiffers(f"{where}: re-executes as entry {receipt.seq}"
                                + (" (a duplicate)" if receipt.duplicate else ""))
    if rebuilt.entry != row.entry:
        raise TransitionDiffers(f"{where}: re-executed against checkpoint {number_before}'s "
                                f"state it differs in {_parts(rebuilt.entry, document)}")
    if rebuilt != row:
        raise TransitionDiffers(f"{where}: its journal columns differ from its bytes")


def _read_first(ws: WorkingSet, signed: Sequence[SignedInstruction],
                operations: OperationSet) -> None:
    """What the entries will read from the tables, asked for at once rather than entry by
    entry (on PostgreSQL a round trip each): their ids, signers, accounts and batches."""
    ws.prefetch_records(s.instruction.id for s in signed)
    keys = sorted({a.signer for s in signed for a in s.approvals})
    ws.keys.prefetch(keys)
    ws.participants.prefetch({key.participant for key in map(ws.keys.get, keys) if key})
    ws.accounts.prefetch({account for s in signed
                          for account in operations.accounts_named(s.instruction.op,
                                                                   s.instruction.fields)})
    ws.batches.prefetch({s.instruction.fields["batch"] for s in signed
                         if isinstance(s.instruction.fields.get("batch"), str)})


def _parts(rebuilt: bytes, stored: Mapping[str, Any]) -> str:
    mine = json.loads(rebuilt)
    differing = [k for k in sorted(set(mine) | set(stored)) if mine.get(k) != stored.get(k)]
    if differing == ["effects"]:
        for part in ("closed", "created", "updated"):
            if mine["effects"].get(part) != stored["effects"].get(part):
                return (f"its effects ({part}: re-executed {mine['effects'].get(part)}, "
                        f"journaled {stored['effects'].get(part)})")
    return ", ".join(differing) or "its bytes"


def _leaves_of(ws: WorkingSet, previous: Mapping[bytes, bytes]) -> Leaves:
    """The core's leaves the re-execution changed, with the values it gives them."""
    leaves: Leaves = {}
    for lot_id in ws.changed_lot_ids:
        lot = ws.lots[lot_id]
        leaves[lot_key(lot_id)] = None if lot is None else lot_value(
            lot.id, lot.batch, lot.first, lot.last, lot.account, lot.state.value, lot.lien)
    for (account, batch), deltas in ws.holding_deltas.items():
        key = holding_key(account, batch)
        before = holding_buckets(previous.get(key)) or (0,) * len(HOLDING_BUCKETS)
        leaves[key] = holding_value(account, batch,
                                    [b + d for b, d in zip(before, deltas, strict=True)])
    for changed in (*ws.accounts.inserted.values(), *ws.accounts.updated.values()):
        leaves[account_key(changed.id)] = account_value(changed.id, changed.participant,
                                                        changed.type.value, changed.frozen)
    return leaves


__all__ = ["CommittedSource", "Transition", "reexecute"]
