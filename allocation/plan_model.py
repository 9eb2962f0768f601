"""A scheme's plan for a year, and its sectors' free allocation so far, as plain values read
and written through the working set. Every operation that issues, takes back, sets aside or
offers units changes the plan through these methods, which keep the invariant
(docs/allocation.md):

    issued - taken_back + reserve + to_auction <= cap,   on_offer <= to_auction,
    and in every sector  allocated <= free_cap.

A method that would break it raises the named refusal; nothing is written then.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from allocation.reasons import AllocationReason
from allocation.schema import allocation_plans, sector_allocations
from allocation.sectors import SectorPlan, parse_sectors
from ledger.effects import Row
from ledger.errors import Rejected, require
from ledger.ops import Context


@dataclass(frozen=True, slots=True)
class Plan:
    scheme: str
    year: int
    cap: int
    sectors: str  # canonical JSON (allocation.sectors.sectors_json)
    reserve: int
    to_auction: int
    on_offer: int
    issued: int
    taken_back: int
    amendments: int
    set_seq: int
    updated_seq: int

    @property
    def outstanding(self) -> int:
        """Units of the year in existence or set aside: what the cap bounds."""
        return self.issued - self.taken_back + self.reserve + self.to_auction

    @property
    def headroom(self) -> int:
        return self.cap - self.outstanding

    @property
    def auctionable(self) -> int:
        """Units still to auction and not on offer in an announced auction."""
        return self.to_auction - self.on_offer

    def sector_plans(self) -> dict[str, SectorPlan]:
        return {s.sector: s for s in parse_sectors(self.sectors)}

    def sector(self, name: str) -> SectorPlan:
        found = self.sector_plans().get(name)
        if found is None:
            raise Rejected(AllocationReason.sector_not_in_plan,
                           f"the {self.scheme} {self.year} plan has no sector {name!r}")
        return found

    # --- changes: each returns the plan after it, or raises the named refusal -----------

    def issuing(self, quantity: int, seq: int) -> Plan:
        """Units issued for the year from the cap's headroom (free allocation, true-up)."""
        require(quantity <= self.headroom, AllocationReason.cap_exceeded,
                f"{quantity} t asked, {self.headroom} t left under the {self.scheme} "
                f"{self.year} cap of {self.cap} t")
        return replace(self, issued=self.issued + quantity, updated_seq=seq)

    def issuing_from_reserve(self, quantity: int, seq: int) -> Plan:
        """A new entrant's units: out of the reserve, into existence."""
        require(quantity <= self.reserve, AllocationReason.reserve_insufficient,
                f"{quantity} t asked, {self.reserve} t in the reserve")
        return replace(self, reserve=self.reserve - quantity, issued=self.issued + quantity,
                       updated_seq=seq)

    def taking_back(self, quantity: int, seq: int) -> Plan:
        """Units taken back and cancelled: they return to the cap's headroom."""
        return replace(self, taken_back=self.taken_back + quantity, updated_seq=seq)

    def releasing(self, quantity: int, seq: int) -> Plan:
        """Reserve -> volume to auction."""
        require(quantity <= self.reserve, AllocationReason.reserve_insufficient,
                f"{quantity} t asked, {self.reserve} t in the reserve")
        return replace(self, reserve=self.reserve - quantity,
                       to_auction=self.to_auction + quantity, updated_seq=seq)

    def absorbing(self, quantity: int, seq: int) -> Plan:
        """Volume to auction (not on offer) -> reserve."""
        require(quantity <= self.auctionable, AllocationReason.exceeds_auction_volume,
                f"{quantity} t asked, {self.auctionable} t to auction and not on offer")
        return replace(self, to_auction=self.to_auction - quantity,
                       reserve=self.reserve + quantity, updated_seq=seq)

    def offering(self, quantity: int, seq: int) -> Plan:
        """An auction announced: part of the volume to auction goes on offer."""
        require(quantity <= self.auctionable, AllocationReason.exceeds_auction_volume,
                f"{quantity} t asked, {self.auctionable} t to auction and not on offer")
        return replace(self, on_offer=self.on_offer + quantity, updated_seq=seq)

    def auctioned(self, offered: int, sold: int, seq: int) -> Plan:
        """An auction cleared: what was on offer leaves the volume to auction; what sold is
        issued, the rest returns to the cap's headroom."""
        assert 0 <= sold <= offered <= self.on_offer, "an auction sells at most its offer"
        return replace(self, on_offer=self.on_offer - offered,
                       to_auction=self.to_auction - offered, issued=self.issued + sold,
                       updated_seq=seq)

    def row(self, *, new: bool = False) -> Row:
        assert self.outstanding <= self.cap and 0 <= self.on_offer <= self.to_auction, \
            "a plan's counters keep its invariant"
        return Row(allocation_plans, (self.scheme, self.year), asdict(self), new)


@dataclass(frozen=True, slots=True)
class SectorAllocation:
    scheme: str
    year: int
    sector: str
    allocated: int  # free allocation issued, net of units taken back
    updated_seq: int
    new: bool = False  # not yet stored

    def adding(self, quantity: int, free_cap: int, seq: int) -> SectorAllocation:
        require(self.allocated + quantity <= free_cap, AllocationReason.sector_cap_exceeded,
                f"{self.sector}: {quantity} t asked, {free_cap - self.allocated} t left of its "
                f"{free_cap} t")
        return replace(self, allocated=self.allocated + quantity, updated_seq=seq)

    def removing(self, quantity: int, seq: int) -> SectorAllocation:
        return replace(self, allocated=max(0, self.allocated - quantity), updated_seq=seq)

    def row(self) -> Row:
        values: dict[str, Any] = asdict(self)
        del values["new"]
        return Row(sector_allocations, (self.scheme, self.year, self.sector), values, self.new)


def find_plan(ctx: Context, scheme: str, year: int) -> Plan | None:
    values = ctx.ws.row(allocation_plans, (scheme, year))
    return None if values is None else Plan(**values)


def load_plan(ctx: Context, scheme: str, year: int) -> Plan:
    """The plan, or `no_plan`."""
    plan = find_plan(ctx, scheme, year)
    if plan is None:
        raise Rejected(AllocationReason.no_plan, f"{scheme} {year}")
    return plan


def load_sector_allocation(ctx: Context, scheme: str, year: int,
                           sector: str) -> SectorAllocation:
    values = ctx.ws.row(sector_allocations, (scheme, year, sector))
    if values is None:
        return SectorAllocation(scheme, year, sector, 0, 0, new=True)
    return SectorAllocation(**values)
