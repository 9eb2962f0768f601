"""Which leaves of the state commitment the journal entries since a checkpoint may have changed.

The journal says it: effects name every lot that was closed, created or updated, with the
holder and batch of every new version; the lots' earlier holders come from the previous
checkpoint's leaves; holdings follow from both; each instruction names the accounts it acts on,
as its operation's footprint declares (ledger.modules.Footprint, handed in by whoever built the
ledger's operation set, as `accounts_named`). The set may hold more than
what changed — the checkpointer compares each leaf with its previous value — but never less,
and the audit, which detects changes independently (database triggers on a replay), would
name the checkpoint if it did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from anchoring.auditor.state_keys import lot_key

PreviousValue = Callable[[bytes], bytes | None]
"""The value a key held at the previous checkpoint (None: absent)."""

AccountsNamed = Callable[[str, Mapping[str, Any]], Iterable[str]]
"""The accounts an operation's fields name: (op, fields) -> account ids."""


@dataclass
class Touched:
    lots: set[str] = field(default_factory=set)
    holdings: set[tuple[str, str]] = field(default_factory=set)  # (account, batch)
    accounts: set[str] = field(default_factory=set)


def touched_by(documents: Iterable[Mapping[str, Any]], previous: PreviousValue,
               accounts_named: AccountsNamed) -> Touched:
    """Every lot, holding and account that the journal entries `documents` (parsed, in order)
    may have changed. Checkpoint markers change nothing and are skipped."""
    touched = Touched()
    holder: dict[str, tuple[str, str]] = {}  # lot id -> (account, batch) as of the last entry

    def before(lot_id: str) -> None:
        """The holding a lot leaves: its version as of the entries so far, else at the
        previous checkpoint."""
        pair = holder.pop(lot_id, None)
        if pair is None:
            value = previous(lot_key(lot_id))
            if value is not None:
                lot = json.loads(value)
                pair = (lot["account"], lot["batch"])
        if pair is not None:
            touched.holdings.add(pair)

    for document in documents:
        if "checkpoint" in document:
            continue
        instruction = document["instruction"]
        touched.accounts.update(accounts_named(instruction["op"], instruction["fields"]))
        effects = document["effects"]
        for lot_id in effects["closed"]:
            touched.lots.add(lot_id)
            before(lot_id)
        for lot in effects["updated"]:
            before(lot["id"])
        for lot in effects["created"] + effects["updated"]:
            touched.lots.add(lot["id"])
            holder[lot["id"]] = (lot["account"], lot["batch"])
            touched.holdings.add((lot["account"], lot["batch"]))
    return touched
