"""An amendment, a reserve movement, a new-entrant allocation and a closure state their reason:
the text is disclosed with the record, so an empty or blank one is refused."""

from __future__ import annotations

from allocation.reasons import AllocationReason
from ledger.errors import require


def require_reason(op: str, reason: str) -> str:
    """The stated reason, or `reason_required` when it is empty or only blanks."""
    require(bool(reason.strip()), AllocationReason.reason_required, f"{op} states no reason")
    return reason
