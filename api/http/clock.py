"""GET /v1/clock: the ledger's time, public. Instruction deadlines are checked against the
ledger's clock, which on a demo or test deployment may be days ahead of the caller's
(`carbonledger clock`, api/ledger_clock.py): a client computes its deadlines from this."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.http.responses import problem_responses
from api.http.routing import StrictRoute
from api.ledger_clock import deployment_of, ledger_time
from api.service import LedgerService
from ledger.clock import format_time


class Clock(BaseModel):
    """The time the ledger accepts an entry at now (RFC 3339, UTC, milliseconds): its clock's,
    or the last entry's if that is later, since the journal never goes back. `deployment`:
    production (the system's clock, never moved), test or demo (a clock that may be moved)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"now": "2027-03-08T09:00:00.000Z", "deployment": "demo"}]})

    now: str
    deployment: Literal["production", "test", "demo"]


def clock_router(service: LedgerService) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute)

    @router.get("/clock", tags=["journal"], response_model=Clock,
                responses=problem_responses(400, 422, 503))
    def clock() -> Clock:
        """The ledger's time, and whether its clock may be moved. Compute an instruction's
        deadline from `now`, not from your own clock."""
        return Clock(now=format_time(ledger_time(service)),
                     deployment=deployment_of(service).value)

    return router
