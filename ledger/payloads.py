"""Typed payloads: each operation's fields as one frozen value, with its own stateless rules.

On the wire an operation's fields stay the flat, camelCase fields of its EIP-712 struct
(ledger/instructions.py); its payload names them in snake_case (`fromAccount` is
`from_account`), and a value object that several operations share stands for a run of them
(`Units`: batch, quantity, serialFirst, serialLast). Parsing builds the payload once, after each
field's own check, and runs its `check()`: the rules that relate its fields to each other. What
needs the stored state is the handler's to check.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

from ledger.errors import Reason, Rejected, require
from ledger.model import AccountType, Issuance, Kind, Role


class Payload:
    """An operation's payload, or a part that several share (`Units`): a frozen dataclass whose
    attributes are its wire fields in snake_case, enumerations as their enum, and parts
    (another `Payload`) that stand for several wire fields."""

    @classmethod
    def from_fields(cls, values: Mapping[str, Any]) -> Self:
        """The payload of fields that have passed their field checks."""
        return cls(**{name: kind.from_fields(values) if part else
                      kind(values[wire]) if is_enum else values[wire]
                      for name, wire, kind, part, is_enum in _attributes(cls)})

    @classmethod
    def wire_names(cls) -> tuple[str, ...]:
        """The struct fields it stands for, in the struct's order."""
        return tuple(name for _, wire, kind, part, _ in _attributes(cls)
                     for name in (kind.wire_names() if part else (wire,)))

    def check(self) -> None:
        """Its own stateless rules, `Rejected` at the first that fails; none by default."""


def _wire_name(attribute: str) -> str:
    head, *rest = attribute.split("_")
    return head + "".join(word.capitalize() for word in rest)


_Attribute = tuple[str, str, Any, bool, bool]  # name, wire name, type, is a part, is an enum
_ATTRIBUTES: dict[type[Payload], tuple[_Attribute, ...]] = {}


def _attributes(cls: type[Payload]) -> tuple[_Attribute, ...]:
    """Its attributes, resolved once per class (every parse asks)."""
    found = _ATTRIBUTES.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _ATTRIBUTES[cls] = tuple(
            (f.name, _wire_name(f.name), hints[f.name], _is_part(hints[f.name]),
             _is_enum(hints[f.name]))
            for f in fields(cls))  # type: ignore[arg-type]
    return found


def _is_part(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Payload)


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, enum.Enum)


def _malformed(detail: str) -> Rejected:
    return Rejected(Reason.malformed_instruction, detail)


# --- shared parts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Units(Payload):
    """The units of one batch an operation takes: a quantity, oldest serials first (serials 0
    and 0), or an explicit serial range whose length equals the quantity."""

    batch: str
    quantity: int
    serial_first: int
    serial_last: int

    @property
    def by_quantity(self) -> bool:
        return self.serial_first == 0

    def check(self) -> None:
        first, last, quantity = self.serial_first, self.serial_last, self.quantity
        if (first == 0) != (last == 0):
            raise _malformed("serialFirst and serialLast are both 0 (by quantity) or both set")
        require(not first or (last >= first and last - first + 1 == quantity),
                Reason.serial_range_mismatch,
                f"{first}..{last} holds {last - first + 1} units, quantity is {quantity}")


# --- the core's operations (their schemas: ledger.instructions.CORE_SCHEMAS) ---------------


@dataclass(frozen=True)
class Genesis(Payload):
    registry: str
    registry_name: str
    registry_key: str
    chain_id: int
    rules: str  # the rules document, JSON: read by the handler, which refuses invalid_rules


@dataclass(frozen=True)
class SetSchemeRules(Payload):
    scheme: str
    rules: str


@dataclass(frozen=True)
class RegisterParticipant(Payload):
    participant: str
    name: str
    role: Role


@dataclass(frozen=True)
class RegisterKey(Payload):
    participant: str
    key: str


@dataclass(frozen=True)
class RevokeKey(Payload):
    participant: str
    key: str


@dataclass(frozen=True)
class RotateKey(Payload):
    participant: str
    old_key: str
    new_key: str

    def check(self) -> None:
        require(self.old_key != self.new_key, Reason.key_exists,
                "a rotation names a new key, not the one it retires")


@dataclass(frozen=True)
class OpenAccount(Payload):
    account: str
    participant: str
    account_type: AccountType


@dataclass(frozen=True)
class FreezeAccount(Payload):
    account: str
    reason: str


@dataclass(frozen=True)
class UnfreezeAccount(Payload):
    account: str
    reason: str


@dataclass(frozen=True)
class IssueBatch(Payload):
    batch: str
    scheme: str
    kind: Kind
    vintage: int
    project: str
    monitoring_start: str
    monitoring_end: str
    issuance: Issuance
    quantity: int
    account: str

    def require_consistent(self) -> None:
        """A credit batch is a project's, over a monitoring period; an allowance batch is
        neither. Stateless, but the handler runs it after its checks of authority and scheme,
        where it has always been refused."""
        start, end = self.monitoring_start, self.monitoring_end
        if self.kind == Kind.credit:
            require(self.issuance == Issuance.credit_issuance, Reason.invalid_batch,
                    "credits are issued by credit_issuance")
            require(bool(self.project), Reason.invalid_batch, "a credit batch names its project")
            require(bool(start) and bool(end) and start <= end, Reason.invalid_batch,
                    "a credit batch names its monitoring period, start <= end")
        else:
            require(self.issuance != Issuance.credit_issuance, Reason.invalid_batch,
                    "allowances are issued by free_allocation or auction")
            require(not self.project and not start and not end, Reason.invalid_batch,
                    "an allowance batch names no project or monitoring period")


@dataclass(frozen=True)
class Transfer(Payload):
    from_account: str
    to_account: str
    units: Units

    def check(self) -> None:
        self.units.check()
        require(self.from_account != self.to_account, Reason.same_account)


@dataclass(frozen=True)
class Retire(Payload):
    account: str
    units: Units
    beneficiary: str
    reason: str
    claim: str

    def check(self) -> None:
        self.units.check()


@dataclass(frozen=True)
class Cancel(Payload):
    account: str
    units: Units
    reason: str

    def check(self) -> None:
        self.units.check()
