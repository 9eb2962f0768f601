"""The allocation reads (allocation/views.py; docs/allocation.md, "Interfaces").

Public: a scheme's plan for a year (its sectors' free allocation and what each received, the
counters of the cap's invariant), its amendments, the reserve's movements and the market
figures, which the registry publishes; every auction's terms and where it stands, and its
results once cleared.

Sealed bids: a cleared auction's book (every bid and its fill) is public. Before clearing,
the registry and auditors read every bid (they replay the journal anyway); a bidder reads its
own bids only, and anyone else none: a list filtered to what the token may read, never a
refusal, so that it does not tell whether others have bid.

An installation's allocations (each figure with its inputs: output, benchmark, factors,
share, debts) are its emitter's, the registry's and auditors', as an emitter's obligation and
monthly submissions are.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

import api.http.schemas as schemas
from api.access import AccessDenied, Denial, ReadPolicy, Viewer
from api.http.auth import ViewerOf
from api.http.problems import RequestProblem
from api.http.reads import Filter
from api.http.responses import problem_responses
from api.http.routing import StrictRoute
from api.service import LedgerService

Id = Annotated[str, Path(min_length=1, max_length=128)]
Year = Annotated[int, Path(ge=1990, le=2200, description="the plan's year")]
YearFilter = Annotated[int | None, Query(ge=1990, le=2200)]


def allocation_router(service: LedgerService, viewer_of: ViewerOf, policy: ReadPolicy
                      ) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute, tags=["allocation"])
    read = problem_responses(400, 422, 503)  # public
    lookup = problem_responses(400, 404, 422, 503)
    guarded = problem_responses(400, 401, 403, 422, 503)
    guarded_lookup = problem_responses(400, 401, 403, 404, 422, 503)
    token = Depends(viewer_of)

    @router.get("/allocation/plans", response_model=schemas.AllocationPlans, responses=read)
    def plans(scheme: Filter = None) -> dict[str, Any]:
        """Every allocation plan (of a scheme), by scheme and year. Public."""
        return {"items": [asdict(p) for p in service.allocation_plans(scheme)]}

    @router.get("/allocation/plans/{scheme}/{year}", response_model=schemas.AllocationPlan,
                responses=lookup)
    def plan(scheme: Id, year: Year) -> dict[str, Any]:
        """A scheme's plan for a year: the cap, the counters its invariant bounds, each
        sector's free allocation, benchmark, factors and what it received. Public."""
        found = service.allocation_plan(scheme, year)
        if found is None:
            raise _not_found("plan", f"{scheme} {year}")
        return asdict(found)

    @router.get("/allocation/plans/{scheme}/{year}/amendments",
                response_model=schemas.PlanAmendments, responses=read)
    def amendments(scheme: Id, year: Year) -> dict[str, Any]:
        """Every amendment of the plan, oldest first, with its reason. Public."""
        return {"items": [asdict(a) for a in service.plan_amendments(scheme, year)]}

    @router.get("/allocation/plans/{scheme}/{year}/reserve",
                response_model=schemas.ReserveMovements, responses=read)
    def reserve(scheme: Id, year: Year) -> dict[str, Any]:
        """Every movement of the plan's market-stability reserve, oldest first. Public."""
        return {"items": [asdict(m) for m in service.reserve_movements(scheme, year)]}

    @router.get("/allocation/market-figures", response_model=schemas.MarketFiguresList,
                responses=read)
    def market_figures(scheme: Filter = None) -> dict[str, Any]:
        """Every set of market figures (of a scheme), in the order published. Public."""
        return {"items": [asdict(f) for f in service.market_figures(scheme)]}

    @router.get("/allocation/plans/{scheme}/{year}/allocations",
                response_model=schemas.InstallationAllocations, responses=guarded)
    def year_allocations(scheme: Id, year: Year, viewer: Viewer | None = token
                         ) -> dict[str, Any]:
        """Every installation's allocation for the plan's year, each figure with its inputs;
        those the token's participant may read (an emitter: its own installations'; the
        registry and auditors: all)."""
        found = policy.require_viewer(viewer, "allocations")
        return {"items": [asdict(a) for a in service.year_allocations(scheme, year)
                          if policy.may_read_compliance(found, _emitter(a.account) or "")]}

    @router.get("/allocation/installations/{installation}",
                response_model=schemas.InstallationAllocations, responses=guarded)
    def installation_allocations(installation: Id, viewer: Viewer | None = token
                                 ) -> dict[str, Any]:
        """What an installation received, year by year, each figure with its inputs (its
        verified output, the sector's benchmark and factors, the share, the debts); to its
        emitter, the registry and auditors. For anyone else an installation with no
        allocation is refused like another's, so that a refusal does not tell which."""
        found = policy.require_viewer(viewer, f"the allocations of {installation}")
        allocations = service.installation_allocations(installation)
        if not found.sees_everything and (not allocations or any(
                _emitter(a.account) != found.participant for a in allocations)):
            raise AccessDenied(Denial.record_forbidden, f"{found.participant} may not read "
                               f"the allocations of {installation}: only its emitter, the "
                               "registry and auditors may")
        return {"items": [asdict(a) for a in allocations]}

    def _emitter(account: str) -> str | None:
        """The installation's emitter: allocations go only to its compliance accounts."""
        return policy.holder_of(account)

    @router.get("/auctions", response_model=schemas.Auctions, responses=read)
    def auctions(scheme: Filter = None, year: YearFilter = None) -> dict[str, Any]:
        """Every auction (of a scheme, of a year), in the order announced: its terms, where
        it stands on the ledger's clock, its results once cleared. Public."""
        return {"items": [asdict(a) for a in service.auctions(scheme, year)]}

    @router.get("/auctions/{auction_id}", response_model=schemas.Auction, responses=lookup)
    def auction(auction_id: Id) -> dict[str, Any]:
        """One auction's terms, phase and, once cleared, results. Public."""
        found = service.auction(auction_id)
        if found is None:
            raise _not_found("auction", auction_id)
        return asdict(found)

    @router.get("/auctions/{auction_id}/bids", response_model=schemas.Bids,
                responses=guarded_lookup)
    def bids(auction_id: Id, viewer: Viewer | None = token) -> dict[str, Any]:
        """An auction's bids in the order placed, with their fills once cleared. A cleared
        auction's book is public; before clearing the bids are sealed: the registry and
        auditors read them all, a bidder its own, anyone else none."""
        found = service.auction(auction_id)
        if found is None:
            raise _not_found("auction", auction_id)
        if found.cleared:
            return {"items": [asdict(b) for b in service.auction_bids(auction_id)]}
        reader = policy.require_viewer(viewer, f"the sealed bids of auction {auction_id}")
        bidder = None if reader.sees_everything else reader.participant
        return {"items": [asdict(b) for b in service.auction_bids(auction_id, bidder)]}

    return router


def _not_found(what: str, name: str) -> RequestProblem:
    return RequestProblem(404, f"{what}_not_found", f"no {what} has this id",
                          f"there is no {what} {name!r}")
