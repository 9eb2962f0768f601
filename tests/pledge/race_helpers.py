"""What a racing process does: submit instructions signed elsewhere, at a moment of its own
clock. Imported by spawned children, which therefore register the pledge operations too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.store.database import Store
from tests.ledger.multiprocess_helpers import Outcome, outcome_of, submit
from tests.world import DOMAIN, OPERATIONS


def submit_at(start: Any, url: str, moment: str,
              documents: Sequence[dict[str, Any]]) -> list[Outcome]:
    """Open a ledger on this process's own connection with its clock at `moment`, wait for the
    others, then submit each instruction in its own transaction."""
    signed = [OPERATIONS.parse_signed(document) for document in documents]
    store = Store(url)
    ledger = Ledger(store, OPERATIONS, FixedClock(datetime.fromisoformat(moment)))
    assert ledger.domain == DOMAIN  # reads the genesis, and connects
    start.wait()
    try:
        return [outcome_of(s, result) for s in signed for result in submit(ledger, [s])]
    finally:
        store.dispose()
