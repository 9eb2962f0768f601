"""The compliance reads: each emitter's status for a year, the risk warning, an entity's
credit record, and a scheme's disclosure of a year (compliance/queries.py).

Who reads what is api/access.py's: the registry and auditors read every status, warning and
record; an emitter its own status, warning and credit record; a bank the warnings of the
emitters on whose accounts it holds an active pledge. The status and risk lists are filtered
to what the token's participant may read, never refused; a credit record not the reader's is
a 403. A disclosure is public: it is published.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

import api.http.schemas as schemas
from api.access import ReadPolicy, Viewer
from api.http.auth import ViewerOf
from api.http.problems import RequestProblem
from api.http.reads import Filter
from api.http.responses import problem_responses
from api.http.routing import StrictRoute
from api.service import LedgerService

Year = Annotated[int, Path(ge=1990, le=2200, description="the compliance year")]


def compliance_router(service: LedgerService, viewer_of: ViewerOf, policy: ReadPolicy
                      ) -> APIRouter:
    router = APIRouter(prefix="/v1/compliance", route_class=StrictRoute, tags=["compliance"])
    read = problem_responses(400, 422, 503)  # public
    guarded = problem_responses(400, 401, 403, 422, 503)  # a token's
    token = Depends(viewer_of)

    @router.get("/status/{year}", response_model=schemas.ComplianceStatuses, responses=guarded)
    def status(year: Year, viewer: Viewer | None = token) -> dict[str, Any]:
        """Each emitter's obligation, what it surrendered, its shortfall and its state
        (due, compliant, overdue, unverified) for `year`, on the ledger's market day now;
        those the token's participant may read."""
        found = policy.require_viewer(viewer, "compliance status")
        return {"items": [asdict(s) for s in service.compliance_status(year)
                          if policy.may_read_compliance(found, s.emitter)]}

    @router.get("/risk/{year}", response_model=schemas.RiskWarnings, responses=guarded)
    def risk(year: Year, viewer: Viewer | None = token) -> dict[str, Any]:
        """The emitters whose freely available units fall short of what they still owe for
        `year`, largest shortfall first, with the days left and what is pledged to which
        banks; those the token's participant may read (a bank: the emitters it holds an
        active pledge from)."""
        found = policy.require_viewer(viewer, "the risk warning")
        return {"items": [asdict(w) for w in service.compliance_risk(year)
                          if policy.may_read_compliance(found, w.emitter,
                                                        (p.bank for p in w.pledgees))]}

    @router.get("/credit-records/{entity}", response_model=schemas.CreditRecord,
                responses=guarded)
    def credit_record(entity: Annotated[str, Path(min_length=1, max_length=128)],
                      viewer: Viewer | None = token) -> dict[str, Any]:
        """What the journal holds against a participant: late, missing and lapsed-calibration
        monthly data, flagged verifications, overdue or late compliance, a verifier's
        suspensions and revocations, each naming its journal entry; to the participant
        itself, the registry and auditors."""
        policy.require_credit_record(viewer, entity)
        return asdict(service.credit_record(entity))

    @router.get("/monthly/{emitter}/{year}", response_model=schemas.MonthlySubmissions,
                responses=guarded)
    def monthly(emitter: Annotated[str, Path(min_length=1, max_length=128)], year: Year,
                viewer: Viewer | None = token) -> dict[str, Any]:
        """An emitter's monthly submissions of `year`, superseded ones too: what each
        journaled (figures' total in kilograms, the document's SHA-256, its flags) and which
        is in force; to the emitter itself, the registry and auditors."""
        policy.require_own(viewer, emitter, f"the monthly submissions of {emitter}")
        return {"items": [asdict(s) for s in service.monthly_submissions(emitter, year)]}

    @router.get("/disclosures/{year}", response_model=schemas.Disclosure, responses=read)
    def disclosure(year: Year, scheme: Filter = None) -> dict[str, Any]:
        """A scheme's year as published (default: the only compliance scheme): per emitter
        its verified emissions, surrendered units, state and pledged quantity; the market's
        transfers, surrenders and retirements; the journal head and signed checkpoint it was
        computed at. Public."""
        try:
            return asdict(service.disclosure(year, scheme))
        except ValueError as exc:  # not a compliance scheme
            raise RequestProblem(422, "invalid_parameter", "not a compliance scheme",
                                 str(exc)) from exc

    return router
