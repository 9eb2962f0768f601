"""The operator's journal and signed checkpoints, as a witness reads them.

A witness trusts nothing a source says: it takes the entries' bytes and the signed notes, and
derives everything else itself. `JournalSource` is what it needs; `StoreSource` reads a copy
of the operator's database (or the database itself, read only) through the operator's store
layer. The HTTP service, once it exists, is another source of the same shape.
"""

from __future__ import annotations

from typing import Protocol

from anchoring.operator.checkpoints import checkpoint_at, latest_checkpoint
from ledger.state import JournalRow
from ledger.store.database import Store


class JournalSource(Protocol):
    @property
    def description(self) -> str: ...

    def latest_checkpoint(self) -> tuple[int, int] | None:
        """(number, log size) of the latest signed checkpoint; None before the first."""
        ...

    def note(self, number: int) -> str | None:
        """Checkpoint `number`'s signed note as the operator stored it; None if absent."""
        ...

    def rows(self, start: int, stop: int) -> list[JournalRow]:
        """Journal entries start <= seq < stop, in order (fewer if some are missing)."""
        ...


class StoreSource:
    """An operator's store: a SQLite copy of its data directory's database, or a store URL."""

    def __init__(self, store: Store, description: str) -> None:
        self.store = store
        self._description = description

    @property
    def description(self) -> str:
        return self._description

    def latest_checkpoint(self) -> tuple[int, int] | None:
        with self.store.read() as tx:
            latest = latest_checkpoint(tx)
        return None if latest is None else (latest.number, latest.log_size)

    def note(self, number: int) -> str | None:
        with self.store.read() as tx:
            stored = checkpoint_at(tx, number)
        return None if stored is None else stored.note

    def rows(self, start: int, stop: int) -> list[JournalRow]:
        with self.store.read() as tx:
            return tx.journal_rows(start, stop)


__all__ = ["JournalSource", "StoreSource"]
