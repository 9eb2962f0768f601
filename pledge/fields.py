"""The pledge and repo instructions' own field checks, run when an instruction is parsed
(the first, stateless validation stage): amounts of money, currencies, calendar days, flags.

Money is an exact integer of the currency's minor unit (fen for CNY, cents for USD), never a
float, and at most 2^53-1 like every integer in a journal entry.
"""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Any

from ledger.errors import Reason, Rejected
from ledger.formats import strict_admission
from ledger.instructions import DATE_PATTERN, FieldCheck, check_date, check_text
from ledger.model import MAX_QUANTITY

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")  # the shape of an ISO 4217 alphabetic code
MAX_REFERENCE_CHARS = 200


class RepoParty(enum.StrEnum):
    """Who failed to perform a repo: the seller did not repurchase, or a free-use buyer did
    not deliver the units back."""

    seller = "seller"
    buyer = "buyer"


def _malformed(detail: str) -> Rejected:
    return Rejected(Reason.malformed_instruction, detail)


def check_amount(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _malformed(f"{name} must be a positive integer of the currency's minor unit")
    if value > MAX_QUANTITY:
        raise _malformed(f"{name} must be at most 2^53-1 minor units")
    return value


def check_currency(name: str, value: str) -> str:
    if not CURRENCY_PATTERN.match(value):
        raise _malformed(f"{name} must be an ISO 4217 code such as CNY")
    return value


def check_day(name: str, value: str) -> str:
    """A calendar day, YYYY-MM-DD: unlike the core's `date` check, never empty."""
    if strict_admission():
        check_date(name, value)
        return value
    try:
        if not DATE_PATTERN.match(value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        raise _malformed(f"{name} must be a calendar date YYYY-MM-DD") from None
    return value


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _malformed(f"{name} must be true or false")
    return value


def check_reference(name: str, value: str) -> str:
    if not value.strip() or len(value) > MAX_REFERENCE_CHARS:
        raise _malformed(f"{name} must be 1 to {MAX_REFERENCE_CHARS} characters")
    if strict_admission():
        check_text(name, value)
    return value


FIELD_CHECKS: dict[str, FieldCheck] = {
    "amount": check_amount, "currency": check_currency, "day": check_day, "flag": check_flag,
    "reference": check_reference,
}
