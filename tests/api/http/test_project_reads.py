"""The project cycle's reads over HTTP, against the real app over a ledger that ran GANSU-WIND's
cycle (tests/projects/test_provenance.py): public without a token, filtered by owner,
methodology and account, a 404 for an id that names nothing; what the service answers matches
its OpenAPI document; and the client reads them back into the service's own values."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from api.client import Client, HttpTransport
from api.http import DirectCommitter, create_app
from api.service import LedgerService, Parts
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.api.http.conftest import problem_of
from tests.projects.helpers import METHODOLOGY, OWNER, PROJECT, project_world
from tests.projects.test_provenance import LI_RETIREMENT, Q1, Q2, the_cycle
from tests.world import World


@dataclass
class Cycle:
    world: World
    service: LedgerService
    http: TestClient

    def get(self, path: str) -> Any:
        answer = self.http.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def cycle(sqlite_store: Store, clock: FixedClock) -> Iterator[Cycle]:
    world = project_world(sqlite_store, clock)
    the_cycle(world)
    service = LedgerService(Parts(world.ledger))
    committer = DirectCommitter(service)
    try:
        with TestClient(create_app(service, committer=committer)) as http:
            yield Cycle(world, service, http)
    finally:
        committer.close()
    world.assert_invariants()


def test_methodologies_and_projects_are_public(cycle: Cycle) -> None:
    (methodology,) = cycle.get("/v1/methodologies")["items"]
    assert (methodology["id"], methodology["status"], methodology["sector"]) == \
        (METHODOLOGY, "active", "energy")
    assert cycle.get(f"/v1/methodologies/{METHODOLOGY}") == methodology
    (project,) = cycle.get(f"/v1/projects?owner={OWNER}&methodology={METHODOLOGY}")["items"]
    assert (project["id"], project["status"], project["validator"]) == \
        (PROJECT, "registered", "cec")
    assert cycle.get("/v1/projects?owner=li")["items"] == []
    assert cycle.get("/v1/projects?methodology=CM-404")["items"] == []


def test_a_project_names_the_entries_of_its_periods(cycle: Cycle) -> None:
    record = cycle.get(f"/v1/projects/{PROJECT}")
    assert record["project"]["id"] == PROJECT
    assert record["project"]["submitted_seq"] < record["validated_seq"] < \
        record["registered_seq"]
    assert [(p["period"], p["status"], p["verified_t"], p["issued_t"], p["batch"])
            for p in record["periods"]] == [("2024Q1", "issued", 9_000, 9_000, Q1),
                                            ("2024Q2", "issued", 7_500, 7_000, Q2)]
    entries = {e.seq: e.op for e in cycle.service.journal(0, 1000)}
    for period in record["periods"]:
        assert [entries[period[f"{step}_seq"]] for step in ("reported", "verified", "issued")] \
            == ["monitoring_submit", "monitoring_verify", "ccer_issue"]


def test_retirements_are_public_by_account_and_by_id(cycle: Cycle) -> None:
    every = cycle.get("/v1/retirements")["items"]
    assert [r["retirement"]["id"] for r in every] == ["RET-GW-1", LI_RETIREMENT]
    (li,) = cycle.get("/v1/retirements?account=LI")["items"]
    assert li == cycle.get(f"/v1/retirements/{LI_RETIREMENT}")
    assert (li["project"], li["period"], li["retirement"]["serials"],
            li["retirement"]["beneficiary"]) == (PROJECT, "2024Q1", [[1, 100], [201, 250]],
                                                 "Li Wei")


def test_an_unknown_id_is_a_404_and_a_filter_is_checked(cycle: Cycle) -> None:
    for path, code in (("/v1/methodologies/CM-404", "methodology_not_found"),
                       ("/v1/projects/NOPE", "project_not_found"),
                       ("/v1/retirements/RET-404", "retirement_not_found")):
        assert problem_of(cycle.http.get(path), 404)["code"] == code
    problem_of(cycle.http.get("/v1/projects?owner="), 422)
    problem_of(cycle.http.get("/v1/retirements?holder=LI"), 400)


def test_the_answers_match_the_document(cycle: Cycle) -> None:
    document = cycle.get("/v1/openapi.json")
    for path, template in (("/v1/methodologies", "/v1/methodologies"),
                           (f"/v1/methodologies/{METHODOLOGY}",
                            "/v1/methodologies/{methodology_id}"),
                           ("/v1/projects", "/v1/projects"),
                           (f"/v1/projects/{PROJECT}", "/v1/projects/{project_id}"),
                           ("/v1/retirements", "/v1/retirements"),
                           (f"/v1/retirements/{LI_RETIREMENT}",
                            "/v1/retirements/{retirement_id}"),
                           ("/v1/projects/NOPE", "/v1/projects/{project_id}")):
        answer = cycle.http.get(path)
        operation = document["paths"][template]["get"]
        assert {"401", "403"}.isdisjoint(operation["responses"]), template  # public
        schema = operation["responses"][str(answer.status_code)]["content"][
            answer.headers["content-type"]]["schema"]
        Draft202012Validator({**schema, "components": document["components"]}).validate(
            answer.json())


def test_the_client_reads_back_the_services_values(cycle: Cycle) -> None:
    service = cycle.service
    with Client(HttpTransport("http://testserver", http=cycle.http,
                              operations=service.operations)) as client:
        assert client.methodologies() == service.methodologies()
        assert client.methodology(METHODOLOGY) == service.methodology(METHODOLOGY)
        assert client.projects(owner=OWNER) == service.projects(owner=OWNER)
        assert client.project(PROJECT) == service.project(PROJECT)
        assert client.claim_retirements() == service.claim_retirements()
        assert client.claim_retirements("LI") == service.claim_retirements("LI")
        found = client.claim_retirement(LI_RETIREMENT)
        assert found == service.claim_retirement(LI_RETIREMENT)
        assert found is not None and found.retirement.serials == ((1, 100), (201, 250))
        assert client.project("NOPE") is None and client.claim_retirement("NOPE") is None
        assert client.methodology("NOPE") is None
