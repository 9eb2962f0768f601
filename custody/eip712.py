"""EIP-712 hashing for the flat instruction structs carbonledger signs.

eth-account's `encode_typed_data` is the reference (tests check every operation against it), but
it parses a JSON type description on every call. The ledger verifies thousands of signatures a
second, so it keeps each struct's type hash precomputed and encodes the fields directly.
Only the atomic types our instructions use are supported: flat structs, no arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

try:  # safe-pysha3 is a C keccak, ~10x faster than the pycryptodome fallback of eth-hash
    import sha3 as _sha3

    def keccak256(data: bytes) -> bytes:
        return _sha3.keccak_256(data).digest()

except ImportError:  # pragma: no cover - depends on the installed wheels
    from eth_hash.auto import keccak as _keccak

    def keccak256(data: bytes) -> bytes:
        return bytes(_keccak(data))


SUPPORTED_TYPES = frozenset(
    {"bytes32", "address", "string", "bool", "uint16", "uint32", "uint64", "uint256"}
)
_UINT_BITS = {"uint16": 16, "uint32": 32, "uint64": 64, "uint256": 256}


class TypedDataError(ValueError):
    """A value does not fit the EIP-712 type declared for its field."""


@dataclass(frozen=True)
class StructType:
    """One flat EIP-712 struct: its name and ordered (field name, type) pairs."""

    name: str
    fields: tuple[tuple[str, str], ...]
    type_hash: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for field_name, field_type in self.fields:
            if field_type not in SUPPORTED_TYPES:
                raise TypedDataError(f"{self.name}.{field_name}: unsupported type {field_type}")
        object.__setattr__(self, "type_hash", keccak256(self.encode_type().encode()))

    def encode_type(self) -> str:
        inner = ",".join(f"{field_type} {field_name}" for field_name, field_type in self.fields)
        return f"{self.name}({inner})"

    def hash_struct(self, values: Mapping[str, Any]) -> bytes:
        parts = [self.type_hash]
        for field_name, field_type in self.fields:
            parts.append(encode_value(field_type, values[field_name], field_name))
        return keccak256(b"".join(parts))

    def eip712_types(self) -> list[dict[str, str]]:
        """The struct in the JSON shape wallets and eth-account expect."""
        return [{"name": n, "type": t} for n, t in self.fields]


def encode_value(field_type: str, value: Any, field_name: str = "?") -> bytes:
    """The 32-byte EIP-712 encoding of one atomic value."""
    if field_type == "string":
        if not isinstance(value, str):
            raise TypedDataError(f"{field_name} must be a string")
        return keccak256(value.encode("utf-8"))
    if field_type == "bytes32":
        if not isinstance(value, bytes | bytearray) or len(value) != 32:
            raise TypedDataError(f"{field_name} must be 32 bytes")
        return bytes(value)
    if field_type == "address":
        raw = address_bytes(value, field_name)
        return b"\x00" * 12 + raw
    if field_type == "bool":
        if not isinstance(value, bool):
            raise TypedDataError(f"{field_name} must be a bool")
        return (1 if value else 0).to_bytes(32, "big")
    bits = _UINT_BITS[field_type]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise TypedDataError(f"{field_name} must be an integer in [0, 2^{bits})")
    return value.to_bytes(32, "big")


def address_bytes(value: Any, field_name: str = "address") -> bytes:
    if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
        raise TypedDataError(f"{field_name} must be a 0x-prefixed 20-byte hex address")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise TypedDataError(f"{field_name} is not hex") from exc


DOMAIN_TYPE = StructType(
    "EIP712Domain", (("name", "string"), ("version", "string"), ("chainId", "uint256"))
)


@dataclass(frozen=True)
class Domain:
    """The signing domain: which ledger deployment a signature is good for."""

    name: str
    version: str
    chain_id: int
    separator: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        values = {"name": self.name, "version": self.version, "chainId": self.chain_id}
        object.__setattr__(self, "separator", DOMAIN_TYPE.hash_struct(values))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "chainId": self.chain_id}


def signing_digest(domain: Domain, struct: StructType, values: Mapping[str, Any]) -> bytes:
    """keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)), per EIP-712."""
    return keccak256(b"\x19\x01" + domain.separator + struct.hash_struct(values))


def full_message(
    domain: Domain, struct: StructType, values: Mapping[str, Any]
) -> dict[str, Any]:
    """The typed-data document a wallet displays and signs (eth_signTypedData_v4)."""
    message: dict[str, Any] = {}
    for name, field_type in struct.fields:
        value = values[name]
        message[name] = "0x" + value.hex() if field_type == "bytes32" else value
    return {
        "types": {
            "EIP712Domain": DOMAIN_TYPE.eip712_types(),
            struct.name: struct.eip712_types(),
        },
        "primaryType": struct.name,
        "domain": domain.as_dict(),
        "message": message,
    }


def struct_types(structs: Sequence[StructType]) -> dict[str, StructType]:
    return {s.name: s for s in structs}
