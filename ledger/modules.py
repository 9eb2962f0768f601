"""The module seam: what a capability brings to the ledger, and the one set of operations that
the composition root builds from the modules it is given.

A capability (the core, pledges and repos, ...) declares itself as a `Module`: its operations
(each a schema — the EIP-712 struct and the stateless check of its fields —, a handler and the
roles that may sign it), the field checks and enumerations its schemas name, and the tables its
handlers write through `ledger.effects.Row`. Nothing registers itself by being imported:

    operations = OperationSet([CORE, PLEDGE])     # api/bootstrap.py does this
    ledger = Ledger(store, operations)
    replay_check(store, operations)

Everything that parses, applies or replays the journal is handed the same set, so an audit's
verdict never depends on which packages a process happened to import.
"""

from __future__ import annotations

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

    from sqlalchemy import Table

    from ledger.effects import Changes
    from ledger.ops.context import Context

Handler = Callable[[Instruction, "Context"], "Changes"]


@dataclass(frozen=True)
class Operation:
    """One operation: its schema, its handler, and the roles whose signature may perform it
    (who may act on a particular account or agreement is the handler's own check)."""

    schema: OpSchema
    handler: Handler
    roles: frozenset[str]

    @property
    def name(self) -> str:
        return self.schema.op


@dataclass(frozen=True)
class Module:
    """What one capability brings. `field_checks` and `enums` are the checks its schemas name
    beyond the core's (ledger.instructions.define_schema); `reasons` its own named refusals;
    `tables` the tables its handlers write through `ledger.effects.Row` (projections that
    replay must rebuild)."""

    name: str
    operations: tuple[Operation, ...] = ()
    field_checks: Mapping[str, FieldCheck] = field(default_factory=dict)
    enums: Mapping[str, type[enum.Enum]] = field(default_factory=dict)
    reasons: type[ReasonCode] | None = None
    tables: tuple[Table, ...] = ()


class OperationSet:
    """Every operation of the modules a ledger is built with, by name; refuses a second
    definition of any name (an operation, a check, an enumeration, a table)."""

    def __init__(self, modules: Sequence[Module]) -> None:
        _unique("module", ((m.name, m) for m in modules))
        self.modules = tuple(modules)
        self._operations: dict[str, Operation] = _unique(
            "operation", ((op.name, op) for m in modules for op in m.operations))
        self.field_checks: dict[str, FieldCheck] = _unique(
            "field check", ((n, c) for m in modules for n, c in m.field_checks.items()))
        self.enums: dict[str, type[enum.Enum]] = _unique(
            "enumeration", ((n, e) for m in modules for n, e in m.enums.items()))
        # a reason's name is its identity on the wire (an HTTP error code): one meaning each
        self.reasons: dict[str, ReasonCode] = _unique(
            "reason", ((r.name, r) for m in modules if m.reasons for r in m.reasons))
        self.tables: dict[str, Table] = _unique(
            "table", ((t.name, t) for m in modules for t in m.tables))

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

    def role_may(self, role: str, op: str) -> bool:
        found = self._operations.get(op)
        return found is not None and role in found.roles

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
