"""Journal entry format versions, and which one is being written or replayed right now.

A format version names two things: the bytes of an entry (ledger.journal) and the admission
rules its instruction passed (ledger.instructions). A journal is forever, so an entry is always
replayed under the rules of the version it was written in, never under today's:

    legacy  format 1 written before entries carried the key: no "format" key in the bytes
    1       the bytes carry "format": 1; the first admission rules
    2       the same bytes with "format": 2; stricter admission rules: text in NFC without
            control or bidi-override characters, dates that are real calendar dates, a nonce
            at most MAX_NONCE_STEP beyond its key's last, and the registry's last active key
            never revoked (docs/DESIGN.md, "Journal entries")

The engine writes ENTRY_FORMAT. Replay sets the form of the entries it rebuilds with
`writing_form`, so parsing and applying them follow that version's rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

ENTRY_FORMAT = 2
"""The format version of the entries this code writes."""

KNOWN_FORMATS = frozenset({1, 2})
"""Every format version this code can replay (anchoring.auditor.bundle_format.ENTRY_FORMATS
keeps the same set)."""

STRICT_ADMISSION_FORMAT = 2
"""The first format whose entries passed the stricter admission rules."""

EntryForm = int | None
"""How an entry is written: a format version, or None for format 1's legacy form (no key)."""

# Set only by replay, around the entries of one form; the engine never sets it, so everything
# it writes is in ENTRY_FORMAT. A context variable rather than a parameter keeps the engine and
# the operations' rules unaware of old forms, and it does not leak into other threads.
_writing: ContextVar[EntryForm] = ContextVar("carbonledger_entry_form", default=ENTRY_FORMAT)


def current_form() -> EntryForm:
    """The form of the entries being written (or rebuilt by a replay) in this context."""
    return _writing.get()


def strict_admission() -> bool:
    """Whether the entry being written follows format 2's admission rules."""
    form = _writing.get()
    return form is not None and form >= STRICT_ADMISSION_FORMAT


@contextmanager
def writing_form(form: EntryForm) -> Iterator[None]:
    """Within the block, entries are written — and instructions admitted — in `form` (replay's
    rebuild of old entries); outside it, in ENTRY_FORMAT."""
    token = _writing.set(form)
    try:
        yield
    finally:
        _writing.reset(token)
