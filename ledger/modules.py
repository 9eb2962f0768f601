"""The module seam: what a capability brings to the ledger, and the one set of operations that
the composition root builds from the modules it is given.

A capability (the core, pledges and repos, ...) declares itself as a `Module`: its operations
(each a schema — the EIP-712 struct, the stateless check of its fields and the typed payload
they are parsed into —, a handler of that payload and the roles that may sign it), the field
checks and enumerations its schemas name, the tables its handlers write through
`ledger.effects.Row` and the migrations that create them, and the kinds of leaf it adds to the
state commitment. Nothing registers itself by being imported:

    operations = OperationSet([CORE, PLEDGE])     # api/bootstrap.py does this
    store.upgrade(operations)                     # the core's migrations and each module's
    ledger = Ledger(store, operations)
    replay_check(store, operations)

Everything that parses, applies or replays the journal is handed the same set, so an audit's
verdict never depends on which packages a process happened to import.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.errors import Reason, ReasonCode, Rejected
from ledger.instructions import (
    FieldCheck,
    Instruction,
    OpSchema,
    SignedInstruction,
    parse_instruction,
    parse_signed,
)

if TYPE_CHECKING:
    import enum
    from pathlib import Path

    from sqlalchemy import Table

    from anchoring.auditor.bundle_format import BundleKind
    from anchoring.auditor.state_changes import EntriesSince
    from ledger.effects import Changes
    from ledger.ops.context import Context
    from ledger.schemes import SchemeRules
    from ledger.store.database import Store
    from ledger.store.sql import SqlTransaction

Handler = Callable[[Any, "Context"], "Changes"]
"""function(payload, context) -> changes; the payload is of its schema's type (`schema.payload`,
ledger.payloads), which the handler's first parameter names."""


@dataclass(frozen=True)
class Footprint:
    """Which of an operation's fields name what it reads first and what it may change, so that
    the engine reads them ahead with the head lock (one round trip) and the checkpointer knows
    which accounts' state leaves to look at — declared, never guessed from field names."""

    accounts: tuple[str, ...] = ()  # fields naming accounts it reads and may change
    batch: str | None = None  # the field naming the (existing) batch it reads, with its rules
    spends_from: str | None = None  # the field naming the account whose units it may take by
    # quantity (lowest serials first): the first page of that holding is read ahead

    def accounts_in(self, fields: Mapping[str, Any]) -> list[str]:
        return [fields[name] for name in self.accounts]


@dataclass(frozen=True)
class Operation:
    """One operation: its schema (with its payload type), its handler, the roles whose signature
    may perform it (who may act on a particular account or agreement is the handler's own
    check), and its footprint."""

    schema: OpSchema
    handler: Handler
    roles: frozenset[str]
    footprint: Footprint = Footprint()

    @property
    def name(self) -> str:
        return self.schema.op


_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class LeafKind:
    """One kind of leaf of the state commitment (docs/adr/0002): the state a checkpoint signs
    and a proof shows, one record per leaf. A leaf's id is a string, or a pair of strings
    (a holding's account and batch); its key is SHA-256 of the typed id
    (`anchoring.auditor.state_keys.typed_key(name, *ids)`), its value the record's canonical
    JSON, or None when the record is absent from the commitment.

    The checkpointer asks `touched` which ids the journal entries since the previous
    checkpoint may have changed and reads their values with `read`; the audit finds changed
    ids on its own, from the rows of the `watches` tables that its replay inserts, updates or
    deletes, and reads them with the same `read`."""

    name: str  # the key's type prefix: unique, lower case ASCII
    key: Callable[[Any], bytes]  # id -> key
    # ids the entries may have changed: from their effects, their operations' footprints and
    # the previous checkpoint's values; more than changed is fine, less is a wrong root
    touched: Callable[[EntriesSince], set[Any]]
    # the current values of the given ids, by key (None: absent), in the caller's transaction
    read: Callable[[SqlTransaction, Iterable[Any]], dict[bytes, bytes | None]]
    # every present leaf, from a full read: the slow, obvious reference
    read_all: Callable[[SqlTransaction], Iterable[tuple[bytes, bytes]]]
    # table -> the one or two columns whose values are a row's id (the pair, for two): every
    # table whose rows the kind's values come from
    watches: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        # names go into the audit's triggers: constants of the declaration, never data
        names = [self.name, *self.watches, *(c for cs in self.watches.values() for c in cs)]
        bad = [n for n in names if not _NAME.fullmatch(n)]
        if bad:
            raise ValueError(f"leaf kind {self.name!r}: not a plain lower-case name: {bad}")
        if not self.watches or len({len(c) for c in self.watches.values()}) != 1 \
                or self.id_columns not in (1, 2):
            raise ValueError(f"leaf kind {self.name!r}: its tables must give ids of one or two "
                             "columns, the same for every table")

    @property
    def id_columns(self) -> int:
        """1: an id is one string; 2: a pair."""
        return len(next(iter(self.watches.values()), ()))


@dataclass(frozen=True)
class Module:
    """What one capability brings. `field_checks` and `enums` are the checks its schemas name
    beyond the core's (ledger.instructions.define_schema); `reasons` its own named refusals;
    `tables` the tables its handlers write through `ledger.effects.Row` (projections that
    replay must rebuild), and `migrations` the directory of the revisions that create them."""

    name: str
    operations: tuple[Operation, ...] = ()
    field_checks: Mapping[str, FieldCheck] = field(default_factory=dict)
    enums: Mapping[str, type[enum.Enum]] = field(default_factory=dict)
    reasons: type[ReasonCode] | None = None
    # its section of a scheme's rules: reads it from the rules (`SchemeRules.extra`) and
    # raises `Rejected(invalid_rules)` if it is bad, so that genesis and set_scheme_rules
    # refuse a bad document at once rather than the first operation that needs it
    rules: Callable[[SchemeRules], object] | None = None
    # what must always hold of its state, in words (empty: sound); checked after every test,
    # by the audit after its replay, and by anyone through the application service
    invariants: Callable[[Store], list[str]] | None = None
    # the kinds of proof bundle it brings, and how the offline verifier checks each
    bundle_kinds: tuple[BundleKind, ...] = ()
    # the kinds of leaf it adds to the state commitment, which checkpoints sign and the audit
    # recomputes
    leaf_kinds: tuple[LeafKind, ...] = ()
    # on a MetaData of the module's own, never the core's: the schema holds what is handed in
    tables: tuple[Table, ...] = ()
    # tables its migrations create beside the journal, which no entry writes (a module's
    # sealed documents; like the core's login_challenges): in the schema, but replay neither
    # rebuilds nor compares them
    side_tables: tuple[Table, ...] = ()
    # its Alembic version location: the directory of the revisions that create and change its
    # tables, one branch labelled with the module's name whose first revision depends on the
    # core's (docs/DESIGN.md, "Modules"); `Store.upgrade(operations)` applies them
    migrations: Path | None = None


class OperationSet:
    """Every operation of the modules a ledger is built with, by name; refuses a second
    definition of any name (an operation, a check, an enumeration, a table, a leaf kind, a
    migrations directory)."""

    def __init__(self, modules: Sequence[Module]) -> None:
        _unique("module", ((m.name, m) for m in modules))
        self.modules = tuple(modules)
        self._parsed: weakref.WeakValueDictionary[int, Instruction] = \
            weakref.WeakValueDictionary()
        self._operations: dict[str, Operation] = _unique(
            "operation", ((op.name, op) for m in modules for op in m.operations))
        self.field_checks: dict[str, FieldCheck] = _unique(
            "field check", ((n, c) for m in modules for n, c in m.field_checks.items()))
        self.enums: dict[str, type[enum.Enum]] = _unique(
            "enumeration", ((n, e) for m in modules for n, e in m.enums.items()))
        # a reason's name is its identity on the wire (an HTTP error code): one meaning each
        self.reasons: dict[str, ReasonCode] = _unique(
            "reason", ((r.name, r) for m in modules if m.reasons for r in m.reasons))
        self.bundle_kinds: dict[str, BundleKind] = _unique(
            "bundle kind", ((k.name, k) for m in modules for k in m.bundle_kinds))
        self.leaf_kinds: dict[str, LeafKind] = _unique(
            "leaf kind", ((k.name, k) for m in modules for k in m.leaf_kinds))
        # the audit's triggers are one set per table
        _unique("table watched by a leaf kind",
                ((t, k) for k in self.leaf_kinds.values() for t in k.watches))
        self.tables: dict[str, Table] = _unique(
            "table", ((t.name, t) for m in modules for t in m.tables))
        self.side_tables: dict[str, Table] = _unique(
            "table", ((t.name, t) for m in modules for t in m.side_tables))
        _unique("table", (*self.tables.items(), *self.side_tables.items()))  # one name each
        # each module's version location (Store.upgrade applies them after the core's)
        self.migrations: tuple[Path, ...] = tuple(_unique(
            "migrations directory", ((str(m.migrations.resolve()), m.migrations)
                                     for m in modules if m.migrations is not None)).values())

    def note_parsed(self, instruction: Instruction) -> None:
        self._parsed[id(instruction)] = instruction

    def parsed(self, instruction: object) -> bool:
        """Whether `instruction` is an object this operation set's parser made (checked, its
        fields read-only): held weakly, so a forgotten one cannot be mistaken for another
        that reuses its id."""
        return self._parsed.get(id(instruction)) is instruction

    def __contains__(self, op: object) -> bool:
        return op in self._operations

    def __iter__(self) -> Any:
        return iter(self._operations.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._operations)

    def operation(self, op: str) -> Operation:
        found = self._operations.get(op)
        if found is None:
            raise Rejected(Reason.unknown_operation, f"op {op!r}")
        return found

    def schema(self, op: str) -> OpSchema:
        return self.operation(op).schema

    def check_rules(self, rules: SchemeRules) -> None:
        """Every module's section of one scheme's rules is valid; `Rejected` if not."""
        for module in self.modules:
            if module.rules is not None:
                module.rules(rules)

    def check_invariants(self, store: Store) -> list[str]:
        """Every module's invariants over `store`: each violation found, in words."""
        return [problem for module in self.modules if module.invariants is not None
                for problem in module.invariants(store)]

    def accounts_named(self, op: str, fields: Mapping[str, Any]) -> list[str]:
        """The accounts an operation's fields name (its footprint): those it may change."""
        found = self._operations.get(op)
        return found.footprint.accounts_in(fields) if found else []

    # --- instructions ---------------------------------------------------------------------

    def parse_signed(self, document: Any) -> SignedInstruction:
        """A signed instruction from its JSON form, checked without the store."""
        return parse_signed(document, self)

    def parse_instruction(self, document: Mapping[str, Any]) -> Instruction:
        return parse_instruction(document, self)

    def instruction(self, op: str, *, deadline: int | None = None,
                    instruction_id: bytes | None = None, **fields: Any) -> Instruction:
        """A new instruction with a fresh id (ledger.client.new_instruction)."""
        from ledger.client import new_instruction

        return new_instruction(self, op, deadline=deadline, instruction_id=instruction_id,
                               **fields)


def _unique(what: str, pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise ValueError(f"two modules define the {what} {name!r}")
        found[name] = value
    return found
