"""The compliance instructions' own field checks, run when an instruction is parsed (the first,
stateless validation stage): months, calendar days, document hashes, kilograms, lists of ids,
public keys and monthly figures, and the module's enumerations.

These are always held to the strictest admission rules: no journal of an earlier format holds a
compliance instruction.
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any

from compliance.figures import parse_figures
from ledger.errors import Reason, Rejected
from ledger.instructions import ID_PATTERN, FieldCheck, check_date, check_text
from ledger.model import MAX_QUANTITY

MONTH_PATTERN = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
SHA256_PATTERN = re.compile(r"0x[0-9a-f]{64}")
PUBLIC_KEY_PATTERN = re.compile(r"0x0[23][0-9a-f]{64}")  # compressed secp256k1
MAX_IDS = 1_000  # a report names at most this many monthly submissions (80+ installations)


class QualificationAction(enum.StrEnum):
    grant = "grant"
    suspend = "suspend"
    revoke = "revoke"


class ConflictRelation(enum.StrEnum):
    member = "member"  # the verifier belongs to the entity (or the entity to it)
    consultant = "consultant"  # the verifier has consulted for the entity


class DocumentFormat(enum.StrEnum):
    json = "json"
    csv = "csv"


def _malformed(detail: str) -> Rejected:
    return Rejected(Reason.malformed_instruction, detail)


def check_month(name: str, value: str) -> str:
    if not MONTH_PATTERN.fullmatch(value):
        raise _malformed(f"{name} must be a month YYYY-MM")
    year = int(value[:4])
    if not 1990 <= year <= 2200:
        raise _malformed(f"{name} must be a month of a year 1990..2200")
    return value


def check_calendar_day(name: str, value: str) -> str:
    """A real calendar day YYYY-MM-DD, never empty."""
    check_date(name, value)
    return value


def check_sha256(name: str, value: str) -> str:
    if not SHA256_PATTERN.fullmatch(value):
        raise _malformed(f"{name} must be a SHA-256 digest: 0x and 64 lower-case hex digits")
    return value


def check_kilograms(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_QUANTITY:
        raise _malformed(f"{name} must be a whole number of kilograms, 0 to 2^53-1")
    return value


def check_tonnes(name: str, value: Any) -> int:
    """Whole tonnes CO2e (verified emissions), 0 to 2^53-1."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_QUANTITY:
        raise _malformed(f"{name} must be a whole number of tonnes, 0 to 2^53-1")
    return value


def check_optional_id(name: str, value: str) -> str:
    """An id, or empty for none."""
    if value and not ID_PATTERN.fullmatch(value):
        raise _malformed(f"{name} {value!r} is not a valid id, nor empty")
    return value


def check_id_list(name: str, value: str) -> str:
    """A JSON array of 1 to MAX_IDS distinct ids, as text."""
    try:
        ids = json.loads(value)
    except (ValueError, RecursionError):
        raise _malformed(f"{name} must be a JSON array of ids") from None
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_IDS \
            or not all(isinstance(i, str) and ID_PATTERN.fullmatch(i) for i in ids):
        raise _malformed(f"{name} must be a JSON array of 1 to {MAX_IDS} ids")
    if len(set(ids)) != len(ids):
        raise _malformed(f"{name} names an id twice")
    return value


def check_public_key(name: str, value: str) -> str:
    if not PUBLIC_KEY_PATTERN.fullmatch(value):
        raise _malformed(f"{name} must be a compressed secp256k1 public key: 0x02 or 0x03 and "
                         "64 lower-case hex digits")
    return value


def check_label(name: str, value: str) -> str:
    """A short, plain name (a sector, a project type, a measured parameter): 1 to 200
    characters of text."""
    if not value.strip() or len(value) > 200:
        raise _malformed(f"{name} must be 1 to 200 characters")
    check_text(name, value)
    return value


def check_figures(name: str, value: str) -> str:
    """The monthly figures as JSON text: parsed and checked here, kept as sent."""
    parse_figures(value)
    return value


FIELD_CHECKS: dict[str, FieldCheck] = {
    "month": check_month, "calendar_day": check_calendar_day, "sha256": check_sha256,
    "kilograms": check_kilograms, "tonnes": check_tonnes, "optional_id": check_optional_id,
    "id_list": check_id_list,
    "public_key": check_public_key, "label": check_label, "figures": check_figures,
}

ENUMS: dict[str, type[enum.Enum]] = {
    "QualificationAction": QualificationAction, "ConflictRelation": ConflictRelation,
    "DocumentFormat": DocumentFormat,
}
