"""Signed documents as a busy server sees them, for the tests of where signatures are checked
(test_signature_verdicts.py, test_parallel_signatures.py): a small world of two emitters,
transfers in their JSON form, a forgery, and what a submission's results and journal were."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.clock import FixedClock
from ledger.journal import Receipt
from ledger.store.database import Store, sqlite_url
from tests.world import World, WorldTemplate


def two_emitters(migrated_template: Path, path: Path, moment: datetime,
                 units: int) -> WorldTemplate:
    """Two emitters, hn and dt, with accounts HN and DT holding `units` t of batches A1 and
    A2, kept as the SQLite file `path`."""
    shutil.copy(migrated_template, path)
    world = World.create(Store(sqlite_url(path)), FixedClock(moment))
    for name, account, batch in (("hn", "HN", "A1"), ("dt", "DT", "A2")):
        world.participant(name, "emitter", account, "compliance")
        world.allocate(batch, account, units)
    world.store.dispose()
    return WorldTemplate.of(world, path)


def transfer(world: World, who: str, source: str, target: str, batch: str,
             quantity: int) -> dict[str, Any]:
    """`who` signs a transfer: its JSON form, as a client hands it in."""
    return world.wallets[who].sign(world.instruction(
        "transfer", fromAccount=source, toAccount=target, batch=batch,
        quantity=quantity)).as_json()


def forged(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its quantity raised after it was signed: the signature now recovers
    another address than the signer it claims."""
    changed = {**document, "fields": {**document["fields"]}}
    changed["fields"]["quantity"] += 1
    return changed


def outcome(results: list[Any]) -> list[str]:
    """Each result as a line: a receipt's seq and entry hash (and whether it was a duplicate),
    or a refusal's reason."""
    return [f"receipt {r.seq} {r.entry_hash}{' duplicate' if r.duplicate else ''}"
            if isinstance(r, Receipt) else f"refused {r.reason.name}" for r in results]


def journal(store: Store) -> list[bytes]:
    """Every journal entry's bytes, in order."""
    with store.read() as tx:
        return [bytes(row.entry) for row in tx.journal_rows(0, tx.head + 1)]
