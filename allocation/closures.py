"""Closed installations: an installation's closure names its last year of allocation, and no
allocation (pre-allocation, new-entrant, true-up upward) is issued to it for a later year."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allocation.reasons import AllocationReason
from allocation.schema import installation_closures
from ledger.errors import require
from ledger.ops import Context

# the last year an instruction may name (ledger.instructions checks years 1990..2200): the
# years after a closure's last one that may hold an allocation to take back
LAST_YEAR = 2200


def find_closure(ctx: Context, installation: str) -> Mapping[str, Any] | None:
    """The installation's closure row, or None while it is open."""
    return ctx.ws.row(installation_closures, (installation,))


def require_open(ctx: Context, installation: str, year: int) -> None:
    """`installation_closed` if the installation closed before `year`."""
    closure = find_closure(ctx, installation)
    if closure is not None:
        require(year <= closure["last_year"], AllocationReason.installation_closed,
                f"{installation} closed after {closure['last_year']}: no allocation for "
                f"{year}")
