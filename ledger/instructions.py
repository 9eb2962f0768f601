"""Signed instructions: the typed EIP-712 struct of every operation, and its JSON form.

An instruction is the body (operation, instruction id, deadline, the operation's fields); each
party whose consent it needs adds an approval: its address, its nonce and its signature over the
EIP-712 struct `Op(instructionId, signer, nonce, deadline, ...fields)`. The journal keeps the
instruction with its approvals, so anyone can re-verify every signature later.

This module checks an instruction's shape without the store (the first of the two validation
stages): each field's own check, then its operation's payload (ledger/payloads.py) checks how the
fields relate. The operation handlers check it against the stored state.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Protocol

from custody.eip712 import Domain, StructType, TypedDataError, signing_digest
from custody.signatures import address_of, to_checksum_address, unsafe_sign_digest
from ledger.errors import Reason, Rejected
from ledger.formats import EntryForm, current_form, strict_admission
from ledger.model import MAX_QUANTITY, AccountType, Issuance, Kind, Role
from ledger.payloads import (
    Cancel,
    FreezeAccount,
    Genesis,
    IssueBatch,
    OpenAccount,
    Payload,
    RegisterKey,
    RegisterParticipant,
    Retire,
    RevokeKey,
    RotateKey,
    SetSchemeRules,
    Transfer,
    UnfreezeAccount,
)

DOMAIN_NAME = "carbonledger"
DOMAIN_VERSION = "1"
MAX_APPROVALS = 8

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STRICT_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits, nothing after
MAX_TEXT_CHARS = 2000
MAX_RULES_CHARS = 100_000
MAX_NONCE = (1 << 53) - 1  # within JSON's exact integers, as every number on the wire
MAX_NONCE_STEP = 1 << 42  # how far beyond its last a nonce may be (ledger.engine): room for a
#                           nonce in milliseconds since 1970 until 2109, yet no single
#                           instruction can use up a key's nonces

# Characters no text field may hold (format 2 on): controls (category Cc) could rewrite an
# operator's terminal, and bidi overrides make a name read differently from its bytes
# (CVE-2021-42574, "Trojan Source").
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
JSON_WHITESPACE_CONTROLS = frozenset("\t\n\r")

HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("instructionId", "bytes32"),
    ("signer", "address"),
    ("nonce", "uint64"),
    ("deadline", "uint64"),
)


@dataclass(frozen=True)
class FieldSpec:
    """One operation field: its EIP-712 type and what values it accepts."""

    name: str
    eip712_type: str
    check: str  # id | text | quantity | serial | year | address | date | json | enum name


@dataclass(frozen=True)
class OpSchema:
    op: str
    struct: StructType
    fields: tuple[FieldSpec, ...]
    # the typed value its fields are parsed into, with the operation's own stateless rules
    payload: type[Payload]


def define_schema(op: str, struct_name: str, payload: type[Payload],
                  *fields: tuple[str, str, str]) -> OpSchema:
    """An operation's schema: its payload type (ledger.payloads.Payload, one attribute per
    field) and (field name, EIP-712 type, check) for each of its own fields.
    Checks: id, text, quantity, serial, year, address, date, json, chain, an enum of the core
    (CORE_ENUMS), or a field check or enum its module declares (ledger.modules.Module)."""
    return _schema(op, struct_name, payload, *fields)


def _schema(op: str, struct_name: str, payload: type[Payload],
            *fields: tuple[str, str, str]) -> OpSchema:
    specs = tuple(FieldSpec(name, eip_type, check) for name, eip_type, check in fields)
    struct = StructType(struct_name, HEADER_FIELDS + tuple((f.name, f.eip712_type) for f in specs))
    return OpSchema(op, struct, specs, payload)


_RANGE = (
    ("batch", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("serialFirst", "uint64", "serial"),
    ("serialLast", "uint64", "serial"),
)

CORE_SCHEMAS: dict[str, OpSchema] = {
    s.op: s
    for s in (
        _schema(
            "genesis", "Genesis", Genesis,
            ("registry", "string", "id"), ("registryName", "string", "text"),
            ("registryKey", "address", "address"), ("chainId", "uint256", "chain"),
            ("rules", "string", "json"),
        ),
        _schema("set_scheme_rules", "SetSchemeRules", SetSchemeRules,
                ("scheme", "string", "id"), ("rules", "string", "json")),
        _schema("register_participant", "RegisterParticipant", RegisterParticipant,
                ("participant", "string", "id"), ("name", "string", "text"),
                ("role", "string", "Role")),
        _schema("register_key", "RegisterKey", RegisterKey, ("participant", "string", "id"),
                ("key", "address", "address")),
        _schema("revoke_key", "RevokeKey", RevokeKey, ("participant", "string", "id"),
                ("key", "address", "address")),
        _schema("rotate_key", "RotateKey", RotateKey, ("participant", "string", "id"),
                ("oldKey", "address", "address"), ("newKey", "address", "address")),
        _schema("open_account", "OpenAccount", OpenAccount, ("account", "string", "id"),
                ("participant", "string", "id"), ("accountType", "string", "AccountType")),
        _schema("freeze_account", "FreezeAccount", FreezeAccount, ("account", "string", "id"),
                ("reason", "string", "text")),
        _schema("unfreeze_account", "UnfreezeAccount", UnfreezeAccount,
                ("account", "string", "id"), ("reason", "string", "text")),
        _schema(
            "issue_batch", "IssueBatch", IssueBatch,
            ("batch", "string", "id"), ("scheme", "string", "id"), ("kind", "string", "Kind"),
            ("vintage", "uint16", "year"), ("project", "string", "text"),
            ("monitoringStart", "string", "date"), ("monitoringEnd", "string", "date"),
            ("issuance", "string", "Issuance"), ("quantity", "uint64", "quantity"),
            ("account", "string", "id"),
        ),
        _schema("transfer", "Transfer", Transfer, ("fromAccount", "string", "id"),
                ("toAccount", "string", "id"), *_RANGE),
        _schema("retire", "Retire", Retire, ("account", "string", "id"), *_RANGE,
                ("beneficiary", "string", "text"), ("reason", "string", "text"),
                ("claim", "string", "text")),
        _schema("cancel", "Cancel", Cancel, ("account", "string", "id"), *_RANGE,
                ("reason", "string", "text")),
    )
}

CORE_ENUMS: dict[str, type[enum.Enum]] = {"Role": Role, "AccountType": AccountType, "Kind": Kind,
                                "Issuance": Issuance}

FieldCheck = Callable[[str, Any], Any]
"""A field check a module declares: function(field name, value) -> the value, or raise
`Rejected`."""


class Operations(Protocol):
    """What parsing needs of a ledger's operation set (ledger.modules.OperationSet)."""

    @property
    def field_checks(self) -> Mapping[str, FieldCheck]: ...

    @property
    def enums(self) -> Mapping[str, type[enum.Enum]]: ...

    def schema(self, op: str) -> OpSchema: ...

    def note_parsed(self, instruction: Instruction) -> None:
        """Remember that `instruction` came out of this parser, checked (ledger.engine
        admits it again without parsing it twice)."""


@dataclass(frozen=True)
class Instruction:
    """What is to be done, independent of who signs it."""

    op: str
    id: bytes
    deadline: int
    fields: Mapping[str, Any]  # as on the wire: what is signed, hashed and journaled
    # the struct it is signed as, from the operation set that parsed it
    schema: OpSchema = field(compare=False, repr=False)
    # `fields` as its operation's typed value (schema.payload), built once when parsed
    payload: Payload = field(compare=False, repr=False)
    # the journal format whose admission rules it was parsed under (ledger.formats)
    parsed_under: EntryForm = field(default=None, compare=False, repr=False)

    def struct_values(self, signer: str, nonce: int) -> dict[str, Any]:
        values = dict(self.fields)
        values.update(instructionId=self.id, signer=signer, nonce=nonce, deadline=self.deadline)
        return values

    def digest(self, domain: Domain, signer: str, nonce: int) -> bytes:
        return signing_digest(domain, self.schema.struct, self.struct_values(signer, nonce))

    def body_json(self) -> dict[str, Any]:
        return {"op": self.op, "id": "0x" + self.id.hex(), "deadline": self.deadline,
                "fields": dict(self.fields)}


@dataclass(frozen=True)
class Approval:
    signer: str
    nonce: int
    signature: bytes

    def as_json(self) -> dict[str, Any]:
        return {"signer": self.signer, "nonce": self.nonce,
                "signature": "0x" + self.signature.hex()}


@dataclass(frozen=True)
class SignedInstruction:
    instruction: Instruction
    approvals: tuple[Approval, ...]

    def as_json(self) -> dict[str, Any]:
        body = self.instruction.body_json()
        body["approvals"] = [a.as_json() for a in self.approvals]
        return body

    @property
    def signers(self) -> tuple[str, ...]:
        return tuple(a.signer for a in self.approvals)


def sign(instruction: Instruction, private_key: bytes, nonce: int, domain: Domain) -> Approval:
    """A party's approval of `instruction` (what a client or wallet does)."""
    signer = address_of(private_key)
    digest = instruction.digest(domain, signer, nonce)
    return Approval(signer, nonce, unsafe_sign_digest(private_key, digest))


def make_domain(chain_id: int) -> Domain:
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id)


# --- parsing and stateless validation -------------------------------------------------------


def _malformed(detail: str) -> Rejected:
    return Rejected(Reason.malformed_instruction, detail)


def parse_signed(document: Any, operations: Operations) -> SignedInstruction:
    """Check a signed instruction's JSON shape and every field's range, without the store."""
    if not isinstance(document, Mapping):
        raise _malformed("an instruction is a JSON object")
    expected = {"op", "id", "deadline", "fields", "approvals"}
    if set(document) != expected:
        raise _malformed(f"an instruction has exactly the keys {sorted(expected)}")
    instruction = parse_instruction(
        {k: document[k] for k in ("op", "id", "deadline", "fields")}, operations
    )
    return SignedInstruction(instruction, parse_approvals(document["approvals"]))


def parse_approvals(approvals: Any) -> tuple[Approval, ...]:
    """An instruction's approvals from their JSON form: 1 to MAX_APPROVALS of them."""
    if not isinstance(approvals, list) or not 1 <= len(approvals) <= MAX_APPROVALS:
        raise _malformed(f"approvals must be a list of 1 to {MAX_APPROVALS} signatures")
    return tuple(_parse_approval(a) for a in approvals)


def parse_instruction(document: Mapping[str, Any], operations: Operations) -> Instruction:
    op = document.get("op")
    if not isinstance(op, str):
        raise Rejected(Reason.unknown_operation, f"op {op!r}")
    schema = operations.schema(op)
    instruction_id = _hex_bytes(document.get("id"), 32, "id")
    deadline = document.get("deadline")
    if not isinstance(deadline, int) or isinstance(deadline, bool) \
            or not 0 < deadline <= MAX_QUANTITY:
        raise _malformed("deadline must be a Unix time in seconds")
    fields = document.get("fields")
    if not isinstance(fields, Mapping):
        raise _malformed("fields must be an object")
    names = {f.name for f in schema.fields}
    if set(fields) != names:
        missing, extra = names - set(fields), set(fields) - names
        raise _malformed(f"{op} fields: missing {sorted(missing)}, unexpected {sorted(extra)}")
    checked = {spec.name: _check_field(spec, fields[spec.name], operations)
               for spec in schema.fields}
    payload = schema.payload.from_fields(checked)
    payload.check()
    # read-only: the payload was built from these values, and the engine admits this object
    # again without a second parse (OperationSet.parsed)
    instruction = Instruction(op, instruction_id, deadline, MappingProxyType(checked), schema,
                              payload, current_form())
    operations.note_parsed(instruction)
    return instruction


def _check_field(spec: FieldSpec, value: Any, operations: Operations) -> Any:
    check = spec.check
    if spec.eip712_type == "string":
        if not isinstance(value, str):
            raise _malformed(f"{spec.name} must be a string")
        _require_encodable(spec.name, value)
    if check == "id":
        # `match` let a trailing newline through ("$" matches before one); format 2 holds the
        # whole value to the pattern
        if not (ID_PATTERN.fullmatch(value) if strict_admission() else ID_PATTERN.match(value)):
            raise _malformed(f"{spec.name} {value!r} is not a valid id (letters, digits . _ : -, "
                             "at most 64 characters, starting with a letter or digit)")
    elif check == "text":
        if len(value) > MAX_TEXT_CHARS:
            raise _malformed(f"{spec.name} is longer than {MAX_TEXT_CHARS} characters")
        if strict_admission():
            check_text(spec.name, value)
    elif check == "json":
        if len(value) > MAX_RULES_CHARS:
            raise _malformed(f"{spec.name} is longer than {MAX_RULES_CHARS} characters")
        if strict_admission():
            check_text(spec.name, value, allowed_controls=JSON_WHITESPACE_CONTROLS)
    elif check == "date":
        if value and not DATE_PATTERN.match(value):
            raise _malformed(f"{spec.name} must be a date YYYY-MM-DD or empty")
        if value and strict_admission():
            check_date(spec.name, value)
    elif check == "address":
        return _checksum(value, spec.name)
    elif check in operations.field_checks:
        return operations.field_checks[check](spec.name, value)
    elif check in CORE_ENUMS or check in operations.enums:
        choices = CORE_ENUMS.get(check) or operations.enums[check]
        allowed = [m.value for m in choices]
        if value not in allowed:
            raise _malformed(f"{spec.name} must be one of {allowed}")
    elif check in ("quantity", "serial", "year", "chain"):
        if not _is_int(value) or value < 0:
            raise _malformed(f"{spec.name} must be a non-negative integer")
        if check == "quantity" and value == 0:
            raise Rejected(Reason.quantity_not_positive, spec.name)
        if check == "year" and not 1990 <= value <= 2200:
            raise _malformed(f"{spec.name} must be a year")
        if check == "chain" and not 0 < value < 1 << 64:
            raise _malformed(f"{spec.name} must be an EVM chain id")
        if check in ("quantity", "serial") and value > MAX_QUANTITY:
            raise Rejected(Reason.quantity_out_of_range, f"{spec.name} = {value}")
    return value


def check_text(name: str, value: str, allowed_controls: frozenset[str] = frozenset()) -> None:
    """Text as format 2 admits it: in Unicode NFC, without control characters (but
    `allowed_controls`) or bidi overrides; `Rejected(invalid_text)` naming the first found.
    Refused rather than repaired: the signature covers the bytes as they were sent."""
    if value.isascii():
        bad = next((c for c in value if (c < " " or c == "\x7f") and c not in allowed_controls),
                   None)
    else:
        bad = next((c for c in value if c in BIDI_CONTROLS or (
            unicodedata.category(c) == "Cc" and c not in allowed_controls)), None)
        if bad is None and not unicodedata.is_normalized("NFC", value):
            raise Rejected(Reason.invalid_text, f"{name} is not in Unicode NFC")
    if bad is not None:
        raise Rejected(Reason.invalid_text, f"{name} holds the character U+{ord(bad):04X}")


def check_date(name: str, value: str) -> None:
    """A real calendar date (2024-02-29, never 2024-02-31); `Rejected(invalid_date)` if not."""
    if not STRICT_DATE_PATTERN.fullmatch(value):
        raise Rejected(Reason.invalid_date, f"{name} {value!r}")
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise Rejected(Reason.invalid_date, f"{name} {value!r}") from exc


def _require_encodable(name: str, value: str) -> None:
    """Every string must be valid Unicode text: a lone surrogate (which JSON's \\ud800 escape
    can carry) has no UTF-8 form, so it could be neither hashed nor journaled. Refused in every
    format: no entry could ever hold one."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise Rejected(Reason.invalid_text,
                           f"{name} holds a lone surrogate U+{ord(value[exc.start]):04X}") from exc


def _parse_approval(document: Any) -> Approval:
    if not isinstance(document, Mapping) or set(document) != {"signer", "nonce", "signature"}:
        raise _malformed("an approval is {signer, nonce, signature}")
    nonce = document["nonce"]
    if not _is_int(nonce) or not 0 < nonce <= MAX_NONCE:
        raise _malformed(f"nonce must be an integer from 1 to {MAX_NONCE}")
    return Approval(
        _checksum(document["signer"], "signer"), nonce,
        _hex_bytes(document["signature"], 65, "signature"),
    )


@lru_cache(maxsize=1 << 16)
def _checksummed(hex_digits: str) -> str:
    # keccak per address is a tenth of a parse; a ledger sees the same signers again and again
    return to_checksum_address(bytes.fromhex(hex_digits))


def _checksum(value: Any, name: str) -> str:
    try:
        if not isinstance(value, str) or not value.startswith("0x") or len(value) != 42:
            raise TypedDataError(name)
        checksummed = _checksummed(value[2:].lower())
    except (TypedDataError, ValueError) as exc:
        raise _malformed(f"{name} must be a 0x-prefixed 20-byte hex address") from exc
    if value != checksummed and value != value.lower():
        raise _malformed(f"{name} has a wrong EIP-55 checksum")
    return checksummed


def _hex_bytes(value: Any, length: int, name: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 2 + 2 * length:
        raise _malformed(f"{name} must be 0x followed by {length} bytes of hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise _malformed(f"{name} is not hex") from exc


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
