"""The ledger's typed records as JSON, and back: what the HTTP interface carries.

A record's JSON is its dataclass fields, enumerations as their values and bytes as 0x-prefixed
hex (docs/DESIGN.md, "HTTP service": lists are `{"items": [...]}` of these). Decoding is
strict about what a record needs and tolerant of what it does not know: a field the record
lacks is ignored (a newer server may add one), a field it needs and does not find is a
`RecordError` naming the record and the field.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

R = TypeVar("R")


class RecordError(ValueError):
    """An answer is not the record it should be (a field missing or of the wrong type)."""


def to_json(value: Any) -> Any:
    """A record (or a list, tuple or mapping of them) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def from_json(record: type[R], document: Any) -> R:
    """`record` (a dataclass) from its JSON form; RecordError if it is not one."""
    if not isinstance(document, Mapping):
        raise RecordError(f"a {record.__name__} is a JSON object, not {type(document).__name__}")
    hints = _hints(typing.cast(type, record))
    values: dict[str, Any] = {}
    for field in dataclasses.fields(record):  # type: ignore[arg-type]
        if field.name not in document:
            if field.default is dataclasses.MISSING and \
                    field.default_factory is dataclasses.MISSING:
                raise RecordError(f"a {record.__name__} has no {field.name!r}")
            continue
        try:
            values[field.name] = _value(hints[field.name], document[field.name])
        except (TypeError, ValueError) as exc:
            raise RecordError(f"{record.__name__}.{field.name}: {exc}") from exc
    return record(**values)


@functools.cache
def _hints(record: type) -> dict[str, Any]:
    # resolving a record's annotations costs more than decoding it: once per record type
    return typing.get_type_hints(record)


def _value(kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _value(inner, value)
    if origin is tuple:
        args = typing.get_args(kind)
        return tuple(_value(args[0], v) for v in _list(value))
    if origin is list:
        return [_value(typing.get_args(kind)[0], v) for v in _list(value)]
    if origin is dict or kind is dict:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        return dict(value)
    if dataclasses.is_dataclass(kind):
        return from_json(kind, value)  # type: ignore[arg-type]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is bytes:
        if not isinstance(value, str):
            raise TypeError("expected hex")
        return bytes.fromhex(value.removeprefix("0x"))
    if kind is bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, got {value!r}")
        return value
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"expected an integer, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {value!r}")
        return value
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value
