"""The allocation instructions' own field checks, run when an instruction is parsed (the first,
stateless stage): decimal figures, UTC instants, basis points, the plan's sectors and the
lists of (installation, account) an allocation names. The module also uses the compliance
module's `tonnes` and `label` checks, which a ledger running it always has.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from allocation.rules import BASIS_POINTS
from allocation.sectors import DECIMAL_PATTERN, parse_sectors
from ledger.errors import Reason, Rejected
from ledger.instructions import ID_PATTERN, FieldCheck

INSTANT_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
MAX_TARGETS = 1_000  # installations one allocation instruction names


def _malformed(detail: str) -> Rejected:
    return Rejected(Reason.malformed_instruction, detail)


def parse_decimal(name: str, value: str) -> Decimal:
    """A non-negative decimal string, exactly (`malformed_instruction` if not one)."""
    if not isinstance(value, str) or not DECIMAL_PATTERN.fullmatch(value):
        raise _malformed(f"{name} must be a non-negative decimal string such as \"1234.5\" "
                         "(at most 18 digits before the point and 12 after)")
    return Decimal(value)


def check_decimal_figure(name: str, value: str) -> str:
    parse_decimal(name, value)
    return value


def parse_instant(name: str, value: str) -> datetime:
    """A UTC instant written YYYY-MM-DDTHH:MM:SSZ."""
    if not INSTANT_PATTERN.fullmatch(value):
        raise _malformed(f"{name} must be a UTC instant YYYY-MM-DDTHH:MM:SSZ")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _malformed(f"{name} {value!r} is not a real instant") from None


def check_instant(name: str, value: str) -> str:
    parse_instant(name, value)
    return value


def check_basis_points(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= BASIS_POINTS:
        raise _malformed(f"{name} must be basis points, 0 to {BASIS_POINTS}")
    return value


def parse_targets(name: str, value: str) -> tuple[tuple[str, str], ...]:
    """A JSON list of 1 to MAX_TARGETS [installation, account] pairs, each installation once."""
    try:
        pairs = json.loads(value)
    except (ValueError, RecursionError):
        raise _malformed(f"{name} must be a JSON list of [installation, account] pairs") \
            from None
    if not isinstance(pairs, list) or not 1 <= len(pairs) <= MAX_TARGETS or not all(
            isinstance(pair, list) and len(pair) == 2
            and all(isinstance(i, str) and ID_PATTERN.fullmatch(i) for i in pair)
            for pair in pairs):
        raise _malformed(f"{name} must be a JSON list of 1 to {MAX_TARGETS} "
                         "[installation, account] pairs of ids")
    if len({pair[0] for pair in pairs}) != len(pairs):
        raise _malformed(f"{name} names an installation twice")
    return tuple((pair[0], pair[1]) for pair in pairs)


def check_targets(name: str, value: str) -> str:
    parse_targets(name, value)
    return value


def check_sectors(name: str, value: str) -> str:
    parse_sectors(value)
    return value


FIELD_CHECKS: dict[str, FieldCheck] = {
    "decimal_figure": check_decimal_figure, "instant": check_instant,
    "basis_points": check_basis_points, "allocation_targets": check_targets,
    "sector_plan": check_sectors,
}
