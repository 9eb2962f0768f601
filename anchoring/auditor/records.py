"""The records the state tree commits to, field by field: a lot, a holding, an account, and
the compliance module's monthly emissions and obligations.

Every field of a record is required and typed, and an enumeration's value must be one of its
members: a proof that holds for a record outside these rules proves something the ledger never
writes (only a broken or dishonest signer commits it), so the verifier refuses it with
`malformed_record` instead of saying what it "proves". docs/proof-format.md, "The state
commitment", lists the same rules, and docs/schemas/record-*.schema.json says them as JSON
Schema.

Pure: the standard library only. The enumerations are the ledger's (ledger.model.LotState,
ledger.model.AccountType), copied because the auditor imports nothing of the ledger; a test
keeps them equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from anchoring.auditor.errors import VerificationFailed, VerifyFailure

LOT_STATES = frozenset({"tradable", "pledged", "retired", "surrendered", "cancelled"})
ACCOUNT_TYPES = frozenset({"treasury", "compliance", "trading", "individual", "reserve"})
HOLDING_BUCKETS = ("tradable", "pledged", "retired", "surrendered", "cancelled")
MAX_SAFE_INTEGER = (1 << 53) - 1
# An id as the ledger admits it (ledger.instructions.ID_PATTERN). Journal format 1 admitted
# ids with re.match and a `$`, which lets one final newline through: a record of such an id
# is in some ledger for ever, so it stays valid here.
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\n?")
LOT_ID = re.compile(r"(?:0|[1-9][0-9]{0,15})\.(?:0|[1-9][0-9]{0,15})")  # "seq.k"
# The compliance module's records (compliance.fields: its months and document hashes).
MONTH = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")
SHA256 = re.compile(r"0x[0-9a-f]{64}")
FIRST_YEAR, LAST_YEAR = 1990, 2200  # ledger.instructions' "year" check

Check = Callable[[Any], bool]


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and ID.fullmatch(value) is not None


def _is_lot_id(value: Any) -> bool:
    return isinstance(value, str) and LOT_ID.fullmatch(value) is not None


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_SAFE_INTEGER


def _is_serial(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_SAFE_INTEGER


def _is_optional_id(value: Any) -> bool:
    return value == "" or _is_id(value)


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def _matches(pattern: re.Pattern[str]) -> Check:
    return lambda value: isinstance(value, str) and pattern.fullmatch(value) is not None


FIELDS: dict[str, dict[str, tuple[Check, str]]] = {
    "lot": {
        "account": (_is_id, "an id"),
        "batch": (_is_id, "an id"),
        "first": (_is_serial, "a serial number, an integer from 1"),
        "id": (_is_lot_id, "a lot id, \"seq.k\""),
        "last": (_is_serial, "a serial number, an integer from 1"),
        "lien": (lambda v: v is None or _is_id(v), "null or a lien's id"),
        "state": (lambda v: v in LOT_STATES if isinstance(v, str) else False,
                  f"one of {', '.join(sorted(LOT_STATES))}"),
    },
    "holding": {
        "account": (_is_id, "an id"),
        "batch": (_is_id, "an id"),
        **{bucket: (_is_count, "an integer from 0") for bucket in HOLDING_BUCKETS},
    },
    "account": {
        "frozen": (lambda v: isinstance(v, bool), "true or false"),
        "id": (_is_id, "an id"),
        "participant": (_is_id, "a participant's id"),
        "type": (lambda v: v in ACCOUNT_TYPES if isinstance(v, str) else False,
                 f"one of {', '.join(sorted(ACCOUNT_TYPES))}"),
    },
    # a monthly submission of an installation's emissions (compliance module)
    "emissions": {
        "calibration_lapsed": (_is_flag, "true or false"),
        "document_hash": (_matches(SHA256), "0x and 64 lower-case hex digits"),
        "emitter": (_is_id, "a participant's id"),
        "id": (_is_id, "an id"),
        "installation": (_is_id, "an id"),
        "late": (_is_flag, "true or false"),
        "month": (_matches(MONTH), "a month, YYYY-MM"),
        "superseded_by": (_is_optional_id, "an id, or empty while in force"),
        "supersedes": (_is_optional_id, "an id, or empty for a first submission"),
        "total_kg": (_is_count, "an integer from 0"),
    },
    # an emitter's verified obligation for a year and what was surrendered against it
    "obligation": {
        "allowances": (_is_count, "an integer from 0"),
        "credits": (_is_count, "an integer from 0"),
        "emitter": (_is_id, "a participant's id"),
        "flagged": (_is_flag, "true or false"),
        "monthly_kg": (_is_count, "an integer from 0"),
        "obligation": (_is_count, "an integer from 0"),
        "scheme": (_is_id, "an id"),
        "verified_t": (_is_count, "an integer from 0"),
        "verifier": (_is_id, "a participant's id"),
        "year": (lambda v: type(v) is int and FIRST_YEAR <= v <= LAST_YEAR,
                 f"a year, an integer {FIRST_YEAR}..{LAST_YEAR}"),
    },
}


def check_record(kind: str, record: Any, subject: str) -> Mapping[str, Any]:
    """`record`, a `kind` record of `subject`, if it follows its kind's rules."""
    fields = FIELDS[kind]
    if not isinstance(record, Mapping):
        _refuse(f"the record of {subject} is not a JSON object")
    missing, extra = set(fields) - set(record), set(record) - set(fields)
    if missing or extra:
        _refuse(f"the record of {subject} must have exactly the fields "
                f"{', '.join(sorted(fields))}"
                + (f"; missing {', '.join(sorted(missing))}" if missing else "")
                + (f"; unknown {', '.join(sorted(map(str, extra)))}" if extra else ""))
    for name, (valid, want) in fields.items():
        if not valid(record[name]):
            _refuse(f"the record of {subject} has {name} {record[name]!r:.60}; want {want}")
    if kind == "lot":
        _check_lot(record, subject)
    if kind == "emissions" and record["id"] in (record["supersedes"],
                                                 record["superseded_by"]):
        _refuse(f"the record of {subject} supersedes, or is superseded by, itself")
    if kind == "obligation" and record["allowances"] + record["credits"] > record["obligation"]:
        _refuse(f"the record of {subject} has {record['allowances']} t of allowances and "
                f"{record['credits']} t of credits surrendered against an obligation of "
                f"{record['obligation']} t: never more than the obligation")
    if kind == "holding" and not any(record[bucket] for bucket in HOLDING_BUCKETS):
        _refuse(f"the record of {subject} holds nothing: an empty holding is absent from the "
                "state tree, never a record of zeros")
    return record


def _check_lot(record: Mapping[str, Any], subject: str) -> None:
    if record["first"] > record["last"]:
        _refuse(f"the record of {subject} runs from serial {record['first']} to "
                f"{record['last']}: first must not exceed last")
    if (record["state"] == "pledged") != (record["lien"] is not None):
        _refuse(f"the record of {subject} is {record['state']} with lien "
                f"{record['lien']!r:.60}: a lot is pledged exactly when a lien holds it")


def _refuse(reason: str) -> NoReturn:
    raise VerificationFailed(VerifyFailure.malformed_record, reason)
