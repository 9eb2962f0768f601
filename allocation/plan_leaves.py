"""The plan leaf of the state commitment (docs/adr/0002, docs/allocation.md): one per scheme
and year, by (scheme, year in decimal), committing to the plan's cap, its counters and each
sector's free allocation so far. Its value and reads are allocation/plan_leaf_store.py's;
which plans the entries since a checkpoint may have changed is said here, from the entries:

- the operations that name the plan in their `scheme` and `year` fields (setting and amending
  it, the reserve's movements, pre-allocation, true-up, new entrants, announcing an auction);
- auction_clear, by its auction: the plan its announcement named (an announcement since, or
  the auction's leaf at the previous checkpoint);
- installation_close: the plans of the years after the closure's last that the installation
  was allocated for (an allocation since names its plan itself; an earlier one is the
  installation's allocation leaf at the previous checkpoint, which names its scheme).
"""

from __future__ import annotations

import json

from allocation.closures import LAST_YEAR
from allocation.installation_leaf_store import installation_allocation_key
from allocation.plan_leaf_store import PLAN, PlanId, all_plan_leaves, plan_key, plan_leaves
from anchoring.auditor.state_changes import EntriesSince
from anchoring.auditor.verify_allocation import auction_key
from ledger.modules import LeafKind

NAMING_THE_PLAN = frozenset({
    "allocation_plan_set", "allocation_plan_amend", "reserve_release", "reserve_absorb",
    "allocation_preallocate", "allocation_true_up", "new_entrant_allocate",
    "auction_announce"})
AUCTION_ANNOUNCE = "auction_announce"
AUCTION_CLEAR = "auction_clear"
INSTALLATION_CLOSE = "installation_close"


def plans_touched(since: EntriesSince) -> set[PlanId]:
    touched: set[PlanId] = set()
    announced: dict[str, PlanId] = {}  # auction -> its plan, for auctions announced since
    for entry in since.entries:
        instruction = entry["instruction"]
        op, fields = instruction["op"], instruction["fields"]
        if op in NAMING_THE_PLAN:
            plan = (fields["scheme"], str(fields["year"]))
            touched.add(plan)
            if op == AUCTION_ANNOUNCE:
                announced[fields["auction"]] = plan
        elif op == AUCTION_CLEAR:
            plan_of_auction = announced.get(fields["auction"]) or _auction_plan(
                since, fields["auction"])
            if plan_of_auction is not None:
                touched.add(plan_of_auction)
        elif op == INSTALLATION_CLOSE:
            touched |= _allocated_after(since, fields["installation"], int(fields["lastYear"]))
    return touched


def _auction_plan(since: EntriesSince, auction: str) -> PlanId | None:
    """The plan an auction announced before the previous checkpoint offers (None: no such
    auction, and an accepted clearing had one: then nothing changed)."""
    value = since.previous(auction_key(auction))
    if value is None:
        return None
    record = json.loads(value)
    return (str(record["scheme"]), str(record["year"]))


def _allocated_after(since: EntriesSince, installation: str, last_year: int) -> set[PlanId]:
    """The plans of the installation's allocations after `last_year` at the previous
    checkpoint. A closure is rare, and the years are bounded: each is one lookup."""
    found: set[PlanId] = set()
    for year in range(last_year + 1, LAST_YEAR + 1):
        value = since.previous(installation_allocation_key((installation, str(year))))
        if value is not None:
            found.add((str(json.loads(value)["scheme"]), str(year)))
    return found


PLAN_LEAVES = LeafKind(PLAN, plan_key, plans_touched, plan_leaves, all_plan_leaves,
                       {"allocation_plans": ("scheme", "year"),
                        "sector_allocations": ("scheme", "year")})
