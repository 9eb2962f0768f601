"""Serial numbers: how a unit and a lot are written (docs/serials.md).

A batch's serial prefix is `{scheme}-{vintage}-{batch}`; its units are numbered 1..quantity;
a unit's full serial is the prefix, a dash and its number; a lot is written `prefix-first..last`.
"""

from __future__ import annotations


def serial_prefix(scheme: str, vintage: int, batch: str) -> str:
    return f"{scheme}-{vintage}-{batch}"


def unit_serial(prefix: str, number: int) -> str:
    return f"{prefix}-{number}"


def lot_serials(prefix: str, first: int, last: int) -> str:
    return f"{prefix}-{first}..{last}"
