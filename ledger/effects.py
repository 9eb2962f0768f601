"""What an accepted operation changes, as plain values: the pure core's output.

Handlers read the state and return `Changes`; they never write. The engine applies the changes to
the working set only when the handler returns, so a refused instruction leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.model import Account, Batch, Lien, Lot, Participant, SigningKey, lot_id
from ledger.schemes import SchemeRules

if TYPE_CHECKING:
    from sqlalchemy import Table


@dataclass
class LotEffects:
    """Lots that end (split into parts), lots that begin, and lots that keep their id but change
    holder, state or lien. Lots are never edited in range: a split always makes new ids."""

    closed: list[Lot] = field(default_factory=list)
    created: list[Lot] = field(default_factory=list)
    updated: list[tuple[Lot, Lot]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "closed": [lot.id for lot in self.closed],
            "created": [lot.as_dict() for lot in self.created],
            "updated": [after.as_dict() for _, after in self.updated],
        }

    def is_empty(self) -> bool:
        return not (self.closed or self.created or self.updated)


@dataclass(frozen=True)
class Row:
    """A row of a table a module declares (the pledge module's pledges, repos and their
    events). `key` holds the table's primary-key values in column order, `values`
    every column (key included). `new` rows are inserted; the others replace the stored row
    with the same key. These tables are projections like the rest: a replay rebuilds them."""

    table: Table  # declared by its module (ledger.modules.Module.tables)
    key: tuple[Any, ...]
    values: Mapping[str, Any]
    new: bool


@dataclass
class Changes:
    participants: list[Participant] = field(default_factory=list)
    keys: list[SigningKey] = field(default_factory=list)  # new keys, and revocations
    accounts: list[Account] = field(default_factory=list)  # new accounts, and freezes
    batches: list[Batch] = field(default_factory=list)
    liens: list[Lien] = field(default_factory=list)
    rules: list[SchemeRules] = field(default_factory=list)
    lots: LotEffects = field(default_factory=LotEffects)
    rows: list[Row] = field(default_factory=list)


class LotIds:
    """Hands out the ids of the lots one journal entry creates: seq.0, seq.1, ..."""

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.next_index = 0

    def __call__(self) -> str:
        new_id = lot_id(self.seq, self.next_index)
        self.next_index += 1
        return new_id
