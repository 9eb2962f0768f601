"""Which leaves of the state commitment the journal entries since a checkpoint may have changed.

Each leaf kind says it for its own leaves (ledger.modules.LeafKind.touched), from the entries
(`EntriesSince`). For the core's kinds the journal says it: effects name every lot that was
closed, created or updated, with the holder and batch of every new version; the lots' earlier
holders come from the previous checkpoint's leaves; holdings follow from both; each instruction
names the accounts it acts on, as its operation's footprint declares (ledger.modules.Footprint,
handed in by whoever built the ledger's operation set, as `accounts_named`). The set may hold
more than what changed — the checkpointer compares each leaf with its previous value — but
never less, and the audit, which detects changes independently (database triggers on a
replay), would name the checkpoint if it did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from anchoring.auditor.state_keys import lot_key

PreviousValue = Callable[[bytes], bytes | None]
"""The value a key held at the previous checkpoint (None: absent)."""

AccountsNamed = Callable[[str, Mapping[str, Any]], Iterable[str]]
"""The accounts an operation's fields name: (op, fields) -> account ids."""

Touched = dict[str, set[Any]]
"""The ids of each kind's leaves that may have changed, by the kind's name."""


@dataclass(frozen=True)
class EntriesSince:
    """The journal entries since the previous checkpoint, and what a leaf kind may consult to
    say which of its leaves they may have changed."""

    entries: Sequence[Mapping[str, Any]]  # parsed, in order; checkpoint markers left out
    previous: PreviousValue  # a leaf's value at the previous checkpoint
    accounts_named: AccountsNamed  # the accounts an operation's footprint names


class SaysWhatItTouched(Protocol):
    """What `touched_by` needs of a leaf kind (ledger.modules.LeafKind, which this part may
    not import)."""

    @property
    def name(self) -> str: ...

    @property
    def touched(self) -> Callable[[EntriesSince], set[Any]]: ...


def touched_by(documents: Iterable[Mapping[str, Any]], previous: PreviousValue,
               accounts_named: AccountsNamed,
               kinds: Iterable[SaysWhatItTouched]) -> Touched:
    """For each of `kinds`, the ids of its leaves that the journal entries `documents`
    (parsed, in order) may have changed. Checkpoint markers change nothing and are skipped."""
    since = EntriesSince([d for d in documents if "checkpoint" not in d], previous,
                         accounts_named)
    return {kind.name: kind.touched(since) for kind in kinds}


# --- the core's kinds ----------------------------------------------------------------------

def lots_touched(since: EntriesSince) -> set[str]:
    """Every lot an entry closed, created or updated."""
    lots: set[str] = set()
    for document in since.entries:
        effects = document["effects"]
        lots.update(effects["closed"])
        lots.update(lot["id"] for lot in effects["created"])
        lots.update(lot["id"] for lot in effects["updated"])
    return lots


def holdings_touched(since: EntriesSince) -> set[tuple[str, str]]:
    """Every (account, batch) a lot left or entered."""
    holdings: set[tuple[str, str]] = set()
    holder: dict[str, tuple[str, str]] = {}  # lot id -> (account, batch) as of the last entry

    def before(lot_id: str) -> None:
        """The holding a lot leaves: its version as of the entries so far, else at the
        previous checkpoint."""
        pair = holder.pop(lot_id, None)
        if pair is None:
            value = since.previous(lot_key(lot_id))
            if value is not None:
                lot = json.loads(value)
                pair = (lot["account"], lot["batch"])
        if pair is not None:
            holdings.add(pair)

    for document in since.entries:
        effects = document["effects"]
        for lot_id in effects["closed"]:
            before(lot_id)
        for lot in effects["updated"]:
            before(lot["id"])
        for lot in effects["created"] + effects["updated"]:
            holder[lot["id"]] = (lot["account"], lot["batch"])
            holdings.add((lot["account"], lot["batch"]))
    return holdings


def accounts_touched(since: EntriesSince) -> set[str]:
    """Every account an instruction's operation names in its footprint."""
    accounts: set[str] = set()
    for document in since.entries:
        instruction = document["instruction"]
        accounts.update(since.accounts_named(instruction["op"], instruction["fields"]))
    return accounts
