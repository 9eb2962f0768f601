"""The project cycle's reads: methodologies, projects (of an owner, under a methodology), one
project with its public comments and monitoring periods, and retirements for offsetting
claims (projects/queries.py).

All of them are public, with or without a token: under the national rules the registered
projects, their methodologies, their issuances and the retirements for claims are published
information, which a buyer of credits, a verification body or anyone checking a claim must be
able to read. Each record names the journal entries it derives from.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path

import api.http.schemas as schemas
from api.http.problems import RequestProblem
from api.http.reads import Filter
from api.http.responses import problem_responses
from api.http.routing import StrictRoute
from api.service import LedgerService

Id = Annotated[str, Path(min_length=1, max_length=128)]


def project_router(service: LedgerService) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute, tags=["projects"])
    read = problem_responses(400, 422, 503)
    lookup = problem_responses(400, 404, 422, 503)

    @router.get("/methodologies", response_model=schemas.Methodologies, responses=read)
    def methodologies() -> dict[str, Any]:
        """Every methodology the registry published, superseded and withdrawn ones too, by
        id. Public."""
        return {"items": [asdict(m) for m in service.methodologies()]}

    @router.get("/methodologies/{methodology_id}", response_model=schemas.Methodology,
                responses=lookup)
    def methodology(methodology_id: Id) -> dict[str, Any]:
        """One methodology: its sector, validity and status. Public."""
        found = service.methodology(methodology_id)
        if found is None:
            raise _not_found("methodology", methodology_id)
        return asdict(found)

    @router.get("/projects", response_model=schemas.Projects, responses=read)
    def projects(owner: Filter = None, methodology: Filter = None) -> dict[str, Any]:
        """Projects in every status (of one owner, under one methodology), by id. Public."""
        return {"items": [asdict(p) for p in service.projects(owner, methodology)]}

    @router.get("/projects/{project_id}", response_model=schemas.ProjectRecord,
                responses=lookup)
    def project(project_id: Id) -> dict[str, Any]:
        """A project with the entries that validated and registered it, its public comments
        and its monitoring periods (claimed, verified, issued, batch, verifier, each step's
        entry). Public."""
        found = service.project(project_id)
        if found is None:
            raise _not_found("project", project_id)
        return asdict(found)

    @router.get("/retirements", response_model=schemas.RetirementRecords, responses=read)
    def retirements(account: Filter = None) -> dict[str, Any]:
        """Retirements for offsetting claims (from one account), in the order they were
        made, with the project and monitoring period behind their units. Public."""
        return {"items": [asdict(r) for r in service.claim_retirements(account)]}

    @router.get("/retirements/{retirement_id}", response_model=schemas.RetirementRecord,
                responses=lookup)
    def retirement(retirement_id: Id) -> dict[str, Any]:
        """One retirement for a claim: beneficiary, purpose, claim, serial ranges, and the
        project and monitoring period behind them (its whole provenance, proved: GET
        /v1/proofs/retirement?subject=ID). Public."""
        found = service.claim_retirement(retirement_id)
        if found is None:
            raise _not_found("retirement", retirement_id)
        return asdict(found)

    return router


def _not_found(what: str, name: str) -> RequestProblem:
    return RequestProblem(404, f"{what}_not_found", f"no {what} has this id",
                          f"there is no {what} {name!r}")
