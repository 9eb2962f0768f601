"""What a plan commits of its cap, and the check that a plan, as set or amended, stays within
it (docs/allocation.md): the units issued and not taken back, the reserve, the volume to
auction, and every sector's free allocation still to come.

    outstanding + Σ over sectors max(0, free_cap − allocated)  ≤  cap

For a new plan (nothing issued) this is `Σ free_cap + reserve + auction ≤ cap`.
"""

from __future__ import annotations

from collections.abc import Mapping

from allocation.plan_model import Plan, load_sector_allocation
from allocation.reasons import AllocationReason
from ledger.errors import require
from ledger.ops import Context


def committed(outstanding: int, free_caps: Mapping[str, int],
              allocated: Mapping[str, int]) -> int:
    """The units a plan has issued or set aside, and the free allocation its sectors may still
    receive."""
    still_free = sum(max(0, cap - allocated.get(sector, 0)) for sector, cap in free_caps.items())
    return outstanding + still_free


def require_within_cap(cap: int, outstanding: int, free_caps: Mapping[str, int],
                       allocated: Mapping[str, int]) -> None:
    """`plan_over_cap` unless what the plan commits fits under `cap`."""
    total = committed(outstanding, free_caps, allocated)
    require(total <= cap, AllocationReason.plan_over_cap,
            f"{total} t committed (issued, reserve, to auction and the sectors' free "
            f"allocation still to come), the cap is {cap} t")


def sectors_allocated(ctx: Context, plan: Plan) -> dict[str, int]:
    """The free allocation issued so far in each of the plan's sectors."""
    return {sector: load_sector_allocation(ctx, plan.scheme, plan.year, sector).allocated
            for sector in plan.sector_plans()}
