"""The working set: the ledger state one database transaction reads and changes.

It is an identity map over the store. Reads go to the store once and are cached; the changes of
every accepted operation are applied here and written back in one flush per transaction, with
one statement per table (executemany). That is what lets a submission of a hundred apply its
operations for little more than the round trips of one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ledger.effects import Changes, LotEffects, Row
from ledger.model import (
    LOT_STATES,
    Account,
    Batch,
    Lien,
    Lot,
    LotState,
    Participant,
    SigningKey,
)
from ledger.schemes import SchemeRules

if TYPE_CHECKING:
    from sqlalchemy import Table

HeldKey = tuple[str, str, LotState]  # (account, batch, state)
HELD_FIRST_PAGE = 4  # lots read first for selection by quantity: most spends need one or two
HELD_PAGE_GROWTH = 4  # each further page is this many times larger


@dataclass(frozen=True)
class InstructionRecord:
    """What the journal remembers of an accepted instruction id, for idempotent resubmission."""

    seq: int
    body_hash: bytes


@dataclass(frozen=True)
class JournalRow:
    seq: int
    instruction_id: bytes
    body_hash: bytes
    op: str
    entry: bytes
    leaf_hash: bytes
    accepted_at: str


@dataclass(frozen=True)
class ReadAhead:
    """The first reads of a write transaction, known before it begins: the store sends them
    together with the head lock (one round trip on PostgreSQL)."""

    instruction_ids: Sequence[bytes] = ()
    signers: Sequence[str] = ()
    accounts: Sequence[str] = ()
    batches: Sequence[str] = ()  # read with their scheme's rules
    held: Sequence[tuple[str, str]] = ()  # (account, batch): the first page of its lots
    held_state: LotState = LotState.tradable


@dataclass
class ReadAheadRows:
    """What the store found for a `ReadAhead`; a missing id is simply absent."""

    records: dict[bytes, InstructionRecord] = field(default_factory=dict)
    signers: list[tuple[SigningKey, Participant]] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    rules: dict[str, SchemeRules | None] = field(default_factory=dict)
    held: dict[tuple[str, str], list[Lot]] = field(default_factory=dict)
    # the holdings of the `held` pairs: what the lots they spend must be counted in
    holdings: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)

    def add_batches(self, found: Mapping[str, tuple[Batch, SchemeRules | None]]) -> None:
        for batch_id, (batch, rules) in found.items():
            self.batches[batch_id] = batch
            self.rules[batch.scheme] = rules


class Source(Protocol):
    """Reads from the store, many ids at a time so that a submission can read ahead."""

    def participants(self, ids: Sequence[str]) -> dict[str, Participant]: ...
    def keys(self, addresses: Sequence[str]) -> dict[str, SigningKey]: ...
    def key_addresses_of(self, participant: str) -> list[str]: ...
    def accounts(self, ids: Sequence[str]) -> dict[str, Account]: ...
    def batches(self, ids: Sequence[str]) -> dict[str, Batch]: ...
    def liens(self, ids: Sequence[str]) -> dict[str, Lien]: ...
    def instruction_records(self, ids: Sequence[bytes]) -> dict[bytes, InstructionRecord]: ...
    def scheme_rules(self, scheme: str) -> SchemeRules | None: ...
    def signers(self, addresses: Sequence[str]) -> list[tuple[SigningKey, Participant]]: ...
    def held_lots(self, pairs: Sequence[tuple[str, str]], state: LotState, limit: int,
                  after: int = 0) -> dict[tuple[str, str], list[Lot]]:
        """Per (account, batch): its `state` lots with serial_first > `after`, lowest first,
        at most `limit` of them."""
        ...
    def lots_overlapping(self, batch: str, first: int, last: int) -> list[Lot]: ...
    def lots_under_lien(self, lien: str) -> list[Lot]: ...
    def holdings(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str],
                                                                tuple[int, ...]]:
        """Per (account, batch): its buckets in LOT_STATES order; a pair without a holding
        is absent."""
        ...
    def row(self, table: Table, key: tuple[Any, ...]) -> Mapping[str, Any] | None: ...
    def rows_with_prefix(self, table: Table, prefix: tuple[Any, ...]
                         ) -> dict[tuple[Any, ...], Mapping[str, Any]]:
        """The rows of a module's table whose primary key begins with `prefix` (the values
        of its first key columns), by key."""
        ...


T = TypeVar("T")
RowKey = tuple["Table", tuple[Any, ...]]  # (table, primary-key values)


class _Cache(Generic[T]):
    """Rows of one table by id: cached reads, and which ids were inserted or updated."""

    def __init__(self, load: _Loader[T]) -> None:
        self._load = load
        self.rows: dict[str, T | None] = {}
        self.inserted: dict[str, T] = {}
        self.updated: dict[str, T] = {}

    def prefetch(self, ids: Iterable[str]) -> None:
        missing = [i for i in set(ids) if i not in self.rows]
        if missing:
            self.remember(missing, self._load(missing))

    def remember(self, asked: Iterable[str], found: Mapping[str, T]) -> None:
        """Cache what a read of `asked` found; an id it did not find is cached as absent."""
        for i in asked:
            self.rows[i] = found.get(i)

    def get(self, row_id: str) -> T | None:
        if row_id not in self.rows:
            self.prefetch([row_id])
        return self.rows[row_id]

    def put(self, row_id: str, row: T) -> None:
        existed = self.get(row_id) is not None
        self.rows[row_id] = row
        if row_id in self.inserted or not existed:
            self.inserted[row_id] = row
        else:
            self.updated[row_id] = row


class _Loader(Protocol[T]):  # type: ignore[misc]
    def __call__(self, ids: Sequence[str], /) -> Mapping[str, T]: ...


class WorkingSet:
    def __init__(self, source: Source, head: int, checkpoint: int = 0) -> None:
        self.source = source
        self.head = head  # seq of the last journal entry, -1 for an empty journal
        self.checkpoint = checkpoint  # number of the last checkpoint marker, 0 for none
        self.participants: _Cache[Participant] = _Cache(source.participants)
        self.keys: _Cache[SigningKey] = _Cache(source.keys)
        self.accounts: _Cache[Account] = _Cache(source.accounts)
        self.batches: _Cache[Batch] = _Cache(source.batches)
        self.liens: _Cache[Lien] = _Cache(source.liens)
        self._rules: dict[str, SchemeRules | None] = {}
        self.rules_changed: dict[str, tuple[SchemeRules, int]] = {}
        self._records: dict[bytes, InstructionRecord | None] = {}
        self.entries: list[JournalRow] = []
        # lots: the identity map, indexed by batch; `None` marks a lot closed in this transaction
        self.lots: dict[str, Lot | None] = {}
        self._by_batch: dict[str, dict[str, Lot]] = {}
        self.stored_lot_ids: set[str] = set()
        self.changed_lot_ids: set[str] = set()
        # every live lot this transaction knows, by holding and state, however it was read
        # (a page for a spend by quantity, a range lookup, a lien's lots) or made; one index
        # kept by `_remember`, `_link` and `_unlink` alone, so no mix of reads can split it
        self._held: dict[HeldKey, dict[str, Lot]] = {}
        # how far the store's lots of a holding have been paged in, lowest serials first:
        # every lot up to the boundary is in `_held` (None: all of them); absent: none paged
        self._boundary: dict[HeldKey, int | None] = {}
        self._page_size: dict[HeldKey, int] = {}
        self.holding_deltas: dict[tuple[str, str], list[int]] = {}
        # rows of tables defined outside the core (ledger.effects.Row): cached reads, and the
        # last write of each key in this transaction
        self._rows: dict[RowKey, Mapping[str, Any] | None] = {}
        self.rows_written: dict[RowKey, Row] = {}
        # each such row as it was before this transaction first wrote it, with the seq of
        # the entry that did: the store keeps these (table row_undo) so that the checkpointer
        # can read a row as it was at the previous checkpoint (anchoring.operator.transition)
        self.rows_before: dict[RowKey, tuple[int, Mapping[str, Any] | None]] = {}
        # the store's version of each lot read from it and not yet taken out of its holding
        # in this transaction; what those lots take out of each holding, by state; and the
        # holdings read, which must cover it (`debits_not_covered`)
        self._stored_live: dict[str, Lot] = {}
        self.stored_debits: dict[tuple[str, str], list[int]] = {}
        self._holdings: dict[tuple[str, str], tuple[int, ...] | None] = {}

    # --- reads ---------------------------------------------------------------------------

    def rules(self, scheme: str) -> SchemeRules | None:
        if scheme not in self._rules:
            self._rules[scheme] = self.source.scheme_rules(scheme)
        return self._rules[scheme]

    def active_keys_of(self, participant: str) -> list[SigningKey]:
        """The participant's keys that are not revoked, this transaction's changes included."""
        addresses = set(self.source.key_addresses_of(participant))
        addresses.update(a for a, key in self.keys.rows.items()
                         if key is not None and key.participant == participant)
        found = (self.keys.get(address) for address in sorted(addresses))
        return [key for key in found if key is not None and not key.revoked]

    def _remember_signers(self, asked: Iterable[str],
                          found: Iterable[tuple[SigningKey, Participant]]) -> None:
        by_address = {key.address: (key, participant) for key, participant in found}
        for address in asked:
            key, participant = by_address.get(address, (None, None))
            self.keys.rows[address] = key
            if participant is not None and participant.id not in self.participants.rows:
                self.participants.rows[participant.id] = participant

    def absorb(self, asked: ReadAhead, found: ReadAheadRows) -> None:
        """Take in the rows read ahead with the head lock; call before any other read."""
        self._remember_records(asked.instruction_ids, found.records)
        self._remember_signers(asked.signers, found.signers)
        self.accounts.remember(asked.accounts, found.accounts)
        self.batches.remember(asked.batches, found.batches)
        self._rules.update(found.rules)
        for account, batch in asked.held:
            self._take_first_page((account, batch, asked.held_state),
                                  found.held.get((account, batch), []))
            self._holdings[(account, batch)] = found.holdings.get((account, batch))

    def record(self, instruction_id: bytes) -> InstructionRecord | None:
        if instruction_id not in self._records:
            self.prefetch_records([instruction_id])
        return self._records[instruction_id]

    def prefetch_records(self, ids: Iterable[bytes]) -> None:
        missing = [i for i in set(ids) if i not in self._records]
        if missing:
            self._remember_records(missing, self.source.instruction_records(missing))

    def _remember_records(self, asked: Iterable[bytes],
                          found: Mapping[bytes, InstructionRecord]) -> None:
        for i in asked:
            self._records[i] = found.get(i)

    def held_lots(self, account: str, batch: str, state: LotState,
                  need: int | None = None) -> list[Lot]:
        """Live lots of `batch` in `account` in `state`, lowest serials first.

        With `need`, only the fewest lowest-serial lots holding at least `need` units (all of
        them if they do not suffice): an account can hold thousands of lots of one batch, and
        spending a few tonnes must not read them all. Lots are read a page at a time; the
        loaded part is a prefix in serial order, up to `_boundary[key]` (None: all loaded).
        """
        key = (account, batch, state)
        if key not in self._boundary:
            self.prefetch_held([(account, batch)], state)
        while True:
            boundary = self._boundary[key]
            lots = sorted(self._held.get(key, {}).values(), key=lambda lot: lot.first)
            if boundary is None:
                return lots
            visible = [lot for lot in lots if lot.first <= boundary]
            if need is not None and sum(lot.quantity for lot in visible) >= need:
                return visible
            self._load_page(key, after=boundary)

    def prefetch_held(self, pairs: Sequence[tuple[str, str]], state: LotState) -> None:
        """Read the first page of `state` lots of each (account, batch) pair in one query."""
        keys = [(a, b, state) for a, b in pairs if (a, b, state) not in self._boundary]
        if not keys:
            return
        pages = self.source.held_lots([(k[0], k[1]) for k in keys], state, HELD_FIRST_PAGE)
        for key in keys:
            self._take_first_page(key, pages.get((key[0], key[1]), []))

    def _take_first_page(self, key: HeldKey, page: list[Lot]) -> None:
        self._remember(page)
        self._boundary[key] = page[-1].first if len(page) == HELD_FIRST_PAGE else None
        self._page_size[key] = HELD_FIRST_PAGE

    def _load_page(self, key: HeldKey, after: int) -> None:
        account, batch, state = key
        size = self._page_size[key] = self._page_size[key] * HELD_PAGE_GROWTH
        page = self.source.held_lots([(account, batch)], state, size,
                                     after=after).get((account, batch), [])
        self._remember(page)
        self._boundary[key] = page[-1].first if len(page) == size else None

    def lots_overlapping(self, batch: str, first: int, last: int) -> list[Lot]:
        self._remember(self.source.lots_overlapping(batch, first, last))
        return sorted((lot for lot in self._by_batch.get(batch, {}).values()
                       if lot.first <= last and lot.last >= first), key=lambda lot: lot.first)

    def row(self, table: Table, key: tuple[Any, ...]) -> Mapping[str, Any] | None:
        """A row of a table a module declares, by its primary-key values."""
        if (table, key) not in self._rows:
            self._rows[(table, key)] = self.source.row(table, key)
        return self._rows[(table, key)]

    def rows_with_prefix(self, table: Table,
                         prefix: tuple[Any, ...]) -> list[Mapping[str, Any]]:
        """The rows of a module's table whose primary key begins with `prefix` (an auction's
        bids by the auction's id), ordered by key: the store's, as this transaction changed
        them, and those it wrote. One read, whatever the number of rows."""
        found: dict[tuple[Any, ...], Mapping[str, Any] | None] = {}
        for key, values in self.source.rows_with_prefix(table, prefix).items():
            # a row this transaction read or wrote already is known better here
            found[key] = self._rows.setdefault((table, key), values)
        size = len(prefix)
        for (written_table, key), row in self.rows_written.items():
            if written_table is table and key[:size] == prefix:
                found[key] = row.values
        return [values for _, values in sorted(found.items()) if values is not None]

    def lots_under_lien(self, lien: str) -> list[Lot]:
        self._remember(self.source.lots_under_lien(lien))
        return sorted((lot for lots in self._by_batch.values() for lot in lots.values()
                       if lot.lien == lien), key=lambda lot: (lot.batch, lot.first))

    def _remember(self, stored: Iterable[Lot]) -> None:
        """Add lots read from the store, unless this transaction already knows them better."""
        for lot in stored:
            if lot.id not in self.lots:
                self.stored_lot_ids.add(lot.id)
                self._stored_live[lot.id] = lot
                self._index(lot)

    # --- writes --------------------------------------------------------------------------

    def apply(self, changes: Changes, seq: int) -> None:
        for participant in changes.participants:
            self.participants.put(participant.id, participant)
        for key in changes.keys:
            self.keys.put(key.address, key)
        for account in changes.accounts:
            self.accounts.put(account.id, account)
        for batch in changes.batches:
            self.batches.put(batch.id, batch)
        for lien in changes.liens:
            self.liens.put(lien.id, lien)
        for rules in changes.rules:
            self._rules[rules.scheme] = rules
            self.rules_changed[rules.scheme] = (rules, seq)
        for row in changes.rows:
            self._put_row(row, seq)
        self.apply_lots(changes.lots)

    def _put_row(self, row: Row, seq: int) -> None:
        where = (row.table, row.key)
        if where not in self.rows_before:
            self.rows_before[where] = (seq, None if row.new else self.row(row.table, row.key))
        earlier = self.rows_written.get(where)
        if earlier is not None and earlier.new:  # inserted earlier in this transaction
            row = replace(row, new=True)
        self.rows_written[where] = row
        self._rows[where] = row.values

    def apply_lots(self, effects: LotEffects) -> None:
        for lot in effects.closed:
            self._unlink(lot)
            self.lots[lot.id] = None
            self.changed_lot_ids.add(lot.id)
        for lot in effects.created:
            self._link(lot)
        for before, after in effects.updated:
            assert (before.first, before.last, before.batch) == (after.first, after.last,
                                                                 after.batch)
            self._unlink(before)
            self._link(after)

    def _index(self, lot: Lot) -> None:
        self.lots[lot.id] = lot
        self._by_batch.setdefault(lot.batch, {})[lot.id] = lot
        self._held.setdefault((lot.account, lot.batch, lot.state), {})[lot.id] = lot

    def _link(self, lot: Lot) -> None:
        self._index(lot)
        self.changed_lot_ids.add(lot.id)
        self._add_holding(lot, lot.quantity)

    def _unlink(self, lot: Lot) -> None:
        current = self.lots.get(lot.id)
        assert current == lot, f"lot {lot.id} changed under the operation"
        del self._by_batch[lot.batch][lot.id]
        del self._held[(lot.account, lot.batch, lot.state)][lot.id]
        self._add_holding(lot, -lot.quantity)
        if self._stored_live.pop(lot.id, None) is not None:
            debits = self.stored_debits.setdefault((lot.account, lot.batch),
                                                   [0] * len(LOT_STATES))
            debits[LOT_STATES.index(lot.state)] += lot.quantity

    def _add_holding(self, lot: Lot, quantity: int) -> None:
        deltas = self.holding_deltas.setdefault((lot.account, lot.batch), [0] * len(LOT_STATES))
        deltas[LOT_STATES.index(lot.state)] += quantity

    def debits_not_covered(self) -> str | None:
        """The first holding whose stored lots this transaction took out more units from than
        the holding holds, in words; None when every debit is covered.

        A lot read from the store is counted in the holding of its account, batch and state;
        a lot whose row was changed behind the ledger's back (its holder, say) is not, and
        spending it would take that holding below zero. Reads the holdings not yet read."""
        missing = [pair for pair in self.stored_debits if pair not in self._holdings]
        if missing:
            found = self.source.holdings(missing)
            for pair in missing:
                self._holdings[pair] = found.get(pair)
        for (account, batch), debits in sorted(self.stored_debits.items()):
            held = self._holdings[(account, batch)] or (0,) * len(LOT_STATES)
            for state, debit, have in zip(LOT_STATES, debits, held, strict=True):
                if debit > have:
                    return (f"holding ({account}, {batch}): {debit} t of stored "
                            f"{state.value} lots were spent from it, but it holds {have} t "
                            f"{state.value}: the lots and holdings tables disagree")
        return None

    def append(self, row: JournalRow) -> None:
        assert row.seq == self.head + 1, "journal sequence numbers are gapless"
        self.entries.append(row)
        self.head = row.seq
        self._records[row.instruction_id] = InstructionRecord(row.seq, row.body_hash)
