"""Documents handed in from outside (a signed instruction, a proof bundle): bounded in size and
in nesting before they are parsed, so that a hostile file is refused in one line.

Nesting is checked before `json.loads` on purpose: a library the chain stack imports (py-evm)
raises the interpreter's recursion limit to 100,000, and the JSON decoder then follows a
deeply nested document until the C stack overflows and the process dies — no exception, no
message. No instruction or bundle nests deeper than a handful of levels.
"""

from __future__ import annotations

import json
import re
from typing import IO, Any

MAX_DOCUMENT_CHARS = 8 * 1024 * 1024  # a genesis with every scheme's rules is ~10 KB
MAX_NESTING = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)  # a JSON string, escapes included
_BRACKET = re.compile(r"[\[\]{}]")


class DocumentError(ValueError):
    """The document is not one the ledger reads: too large, too deeply nested, or not JSON."""


def read_document(stream: IO[str]) -> Any:
    return parse_document(stream.read(MAX_DOCUMENT_CHARS + 1))


def parse_document(text: str) -> Any:
    if len(text) > MAX_DOCUMENT_CHARS:
        raise DocumentError(f"the document is larger than {MAX_DOCUMENT_CHARS:,} characters")
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if bracket[0] in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            raise DocumentError(f"the document nests deeper than {MAX_NESTING} levels")
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicates)
    except DuplicateKey as exc:
        raise DocumentError(f"the key {exc} appears twice in one object: a document must "
                            "say each thing once") from exc
    except ValueError as exc:
        raise DocumentError(f"not JSON: {exc}") from exc


class DuplicateKey(ValueError):
    """A JSON object names the same key twice (RFC 8259 leaves its meaning open)."""


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would keep the last value silently; what a signer saw and what the ledger
    # reads must not depend on which value a parser keeps
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(json.dumps(key))
        found[key] = value
    return found
