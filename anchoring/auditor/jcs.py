"""JSON as the proof format reads it: strictly parsed, and RFC 8785 (JCS) canonical text.

The format's JSON is a subset (docs/proof-format.md, "JSON"): objects with unique string
keys, strings of valid Unicode, integers within ±(2^53-1), booleans, null and arrays — no
other numbers. `parse` reads a document and refuses what is outside the subset, including a
duplicate key (a plain JSON reader keeps the last one, so two readers could see two different
bundles); `parse_canonical` also requires the text to be exactly the RFC 8785 form of what
it holds, which is the form the log and the state tree commit to.

RFC 8785 sorts an object's keys by their UTF-16 code units (section 3.2.3), which differs from
code-point order only when a key holds a character beyond U+FFFF: `canonical_text` sorts by
code units, and so it agrees with every JCS implementation on every document of the subset.

Pure: the standard library only. Nesting is bounded before anything is parsed, since the
decoder follows nesting on the C stack and some libraries raise the recursion limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from anchoring.auditor.errors import VerificationFailed, VerifyFailure

MAX_SAFE_INTEGER = (1 << 53) - 1
MAX_NESTING = 64  # the limits api.inputs holds every document to (no bundle nests past ~8)
MAX_DOCUMENT_CHARS = 8 * 1024 * 1024
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
_ESCAPED = re.compile(r'[\x00-\x1f"\\]')  # what json.dumps escapes when ensure_ascii=False
_LITERALS = {None: "null", True: "true", False: "false"}


def parse(text: str, what: str, *, malformed: VerifyFailure = VerifyFailure.malformed_bundle
          ) -> Any:
    """`text` as JSON of the format's subset; `what` names it in a refusal. Text that is not
    JSON at all is refused with `malformed` (a bundle's own file: `not_a_bundle`)."""
    if not isinstance(text, str):
        _refuse(VerifyFailure.wrong_type, f"{what} must be JSON text")
    if len(text) > MAX_DOCUMENT_CHARS:
        _refuse(malformed, f"{what} is larger than {MAX_DOCUMENT_CHARS:,} characters")
    _check_nesting(text, what, malformed)
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_safe_integer,
                           parse_float=_no_fraction, parse_constant=_no_constant)
    except VerificationFailed as refusal:  # from a hook below
        raise VerificationFailed(refusal.code, f"{what}: {refusal.reason}") from None
    except (ValueError, RecursionError) as exc:
        _refuse(malformed, f"{what} is not JSON: {exc}")
    check_subset(value, what)
    return value


def parse_canonical(text: str, what: str) -> Any:
    """`text` as JSON of the subset that is, byte for byte, its own RFC 8785 form."""
    value = parse(text, what)
    if canonical_text(value) != text:
        _refuse(VerifyFailure.not_canonical,
                f"{what} is not in its canonical form (RFC 8785: no whitespace, keys in "
                "UTF-16 code-unit order, minimal escapes), which is the form committed to")
    return value


def canonical_text(value: Any) -> str:
    """RFC 8785 text of a value of the subset (`check_subset` first if it may not be)."""
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_string(key)}:{canonical_text(item)}"
                              for key, item in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_text(item) for item in value) + "]"
    if isinstance(value, str):
        return _string(value)
    if value is None or isinstance(value, bool):
        return _LITERALS[value]
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"{type(value).__name__} is outside the format's JSON")


def check_subset(value: Any, what: str) -> None:
    """Refuse a parsed value outside the subset: a float, an unsafe integer, a string that is
    not valid Unicode (a lone surrogate), a key that is not a string. Iterative: a document
    built in code may nest deeper than any parsed one."""
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        # exact types first, without the abstract classes' slower checks: most of a bundle
        # is hashes in hex and ids (ASCII, so valid Unicode) in lists and dicts
        if type(item) is str and item.isascii():
            continue
        if type(item) is list:
            pending.extend(item)
            continue
        if isinstance(item, Mapping):
            for key in item:
                if not isinstance(key, str):
                    _refuse(VerifyFailure.wrong_type, f"{what} has a key that is not a string")
                _check_unicode(key, what)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, str):
            _check_unicode(item, what)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                _refuse(VerifyFailure.bad_number,
                        f"{what} holds an integer of {item.bit_length()} bits, outside "
                        "±(2^53-1)")
        elif isinstance(item, float):
            _refuse(VerifyFailure.bad_number,
                    f"{what} holds the number {item!r:.40}: the format has integers only")
        else:
            _refuse(VerifyFailure.wrong_type,
                    f"{what} holds a {type(item).__name__}, which JSON does not have")


# --- parsing hooks --------------------------------------------------------------------------

def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise VerificationFailed(VerifyFailure.duplicate_key,
                           f"the key {key!r:.60} appears twice in one object")
        seen.add(key)
    return dict(pairs)


def _safe_integer(text: str) -> int:
    if len(text) > 17 or not -MAX_SAFE_INTEGER <= int(text) <= MAX_SAFE_INTEGER:
        raise VerificationFailed(VerifyFailure.bad_number,
                       f"the integer {text:.40} is outside ±(2^53-1)")
    return int(text)


def _no_fraction(text: str) -> NoReturn:
    raise VerificationFailed(VerifyFailure.bad_number,
                   f"the number {text:.40} is not an integer: the format has integers only")


def _no_constant(text: str) -> NoReturn:
    raise VerificationFailed(VerifyFailure.bad_number, f"{text} is not a JSON number")


# --- small parts --------------------------------------------------------------------------

def _check_nesting(text: str, what: str, malformed: VerifyFailure) -> None:
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if bracket[0] in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            _refuse(malformed, f"{what} nests deeper than {MAX_NESTING} levels")


def _check_unicode(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        _refuse(VerifyFailure.malformed_bundle,
                f"{what} holds a string that is not valid Unicode (a lone surrogate)")


def _string(text: str) -> str:
    # Python's escapes are RFC 8785's: \" \\ \b \f \n \r \t, other controls as \u00xx
    # (lowercase), everything else as itself; a string with none of them is itself, quoted.
    if _ESCAPED.search(text) is None:
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def _refuse(code: VerifyFailure, message: str) -> NoReturn:
    raise VerificationFailed(code, message)
