"""The OpenAPI document is complete: every route of the interface, each with its answer's
schema, examples and the problems it can answer; and what the service answers matches it."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.api.http.conftest import Served, market
from tests.api.http.test_reads import _pledge_and_repo

INTERFACE = {
    ("post", "/v1/instructions"), ("get", "/v1/head"), ("get", "/v1/participants"),
    ("get", "/v1/keys"), ("get", "/v1/keys/{address}/nonce"), ("get", "/v1/accounts"),
    ("get", "/v1/batches"), ("get", "/v1/holdings"), ("get", "/v1/lots"),
    ("get", "/v1/journal"), ("get", "/v1/checkpoints"), ("get", "/v1/pledges"),
    ("get", "/v1/pledges/{pledge_id}"), ("get", "/v1/repos"), ("get", "/v1/repos/{repo_id}"),
    ("get", "/v1/proofs/{kind}"), ("post", "/v1/auth/challenge"), ("post", "/v1/auth/token"),
    # confidential documents (api/http/documents.py)
    ("post", "/v1/documents"), ("get", "/v1/documents/{sha256}"),
    ("post", "/v1/documents/{sha256}/readers"), ("get", "/v1/document-keys"),
    # compliance (api/http/compliance_reads.py)
    ("get", "/v1/compliance/status/{year}"), ("get", "/v1/compliance/risk/{year}"),
    ("get", "/v1/compliance/credit-records/{entity}"),
    ("get", "/v1/compliance/monthly/{emitter}/{year}"),
    ("get", "/v1/compliance/disclosures/{year}"),
    # the project cycle, public (api/http/project_reads.py)
    ("get", "/v1/methodologies"), ("get", "/v1/methodologies/{methodology_id}"),
    ("get", "/v1/projects"), ("get", "/v1/projects/{project_id}"),
    ("get", "/v1/retirements"), ("get", "/v1/retirements/{retirement_id}"),
    # public documents of the project cycle (api/http/public_documents.py)
    ("post", "/v1/public-documents"), ("get", "/v1/public-documents/{sha256}"),
    # quota allocation (api/http/allocation_reads.py)
    ("get", "/v1/allocation/plans"), ("get", "/v1/allocation/plans/{scheme}/{year}"),
    ("get", "/v1/allocation/plans/{scheme}/{year}/amendments"),
    ("get", "/v1/allocation/plans/{scheme}/{year}/reserve"),
    ("get", "/v1/allocation/plans/{scheme}/{year}/allocations"),
    ("get", "/v1/allocation/installations/{installation}"),
    ("get", "/v1/allocation/market-figures"), ("get", "/v1/auctions"),
    ("get", "/v1/auctions/{auction_id}"), ("get", "/v1/auctions/{auction_id}/bids"),
}
PROBLEM = "application/problem+json"


def _document(served: Served) -> dict[str, Any]:
    answer = served.http.get("/v1/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _check(document: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    Draft202012Validator({**schema, "components": document["components"]}).validate(value)


def test_every_route_is_documented_with_its_answers_and_problems(reader: Served) -> None:
    document = _document(reader)
    operations = {(method, path): operation
                  for path, methods in document["paths"].items()
                  for method, operation in methods.items()}
    assert operations.keys() >= INTERFACE
    for (method, path), operation in operations.items():
        responses = operation["responses"]
        (ok_type,) = responses["200"]["content"].keys() - {"application/json"} or \
            responses["200"]["content"].keys()
        assert "schema" in responses["200"]["content"][ok_type], (method, path)
        assert {"400", "422", "500"} <= responses.keys(), (method, path)
        for status, response in responses.items():
            if status != "200":
                assert response["content"][PROBLEM]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}, (method, path, status)
                assert response["description"]
    assert "413" in operations["post", "/v1/instructions"]["responses"]
    assert "409" in operations["post", "/v1/instructions"]["responses"]
    assert "404" in operations["get", "/v1/pledges/{pledge_id}"]["responses"]
    for guarded in ("/v1/holdings", "/v1/journal", "/v1/pledges/{pledge_id}",
                    "/v1/proofs/{kind}"):
        assert {"401", "403"} <= operations["get", guarded]["responses"].keys(), guarded
    assert "401" in operations["post", "/v1/auth/token"]["responses"]
    login = operations["post", "/v1/auth/token"]["requestBody"]["content"]["application/json"]
    _check(document, login["schema"], login["example"])
    body = operations["post", "/v1/instructions"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["oneOf"][0] == {"$ref": "#/components/schemas/SignedInstruction"}
    _check(document, body["schema"], body["examples"]["one"]["value"])
    _check(document, body["schema"], body["examples"]["array"]["value"])
    schemas = document["components"]["schemas"]
    for name, schema in schemas.items():  # every object has an example, and it is valid
        if "enum" in schema:
            continue
        assert "examples" in schema, f"{name} has no example"
        (example,) = schema["examples"]
        _check(document, {"$ref": f"#/components/schemas/{name}"}, example)
    assert schemas["Holding"]["additionalProperties"] is False  # unknown fields refused


def test_what_the_service_answers_matches_the_document(reader: Served) -> None:
    served = market(reader)
    _pledge_and_repo(served)
    served.app.service.cut_checkpoint()
    document = _document(served)
    for who, path, template in ((None, "/v1/holdings", "/v1/holdings"),
                                ("icbc", "/v1/pledges/P404", "/v1/pledges/{pledge_id}"),
                                ("icbc", "/v1/journal", "/v1/journal")):
        if who is not None:
            served.login(who)
        answer = served.http.get(path)
        assert answer.status_code == (401 if who is None else 403)
        schema = document["paths"][template]["get"]["responses"][str(answer.status_code)]
        _check(document, schema["content"][PROBLEM]["schema"], answer.json())
    challenge = served.http.post("/v1/auth/challenge")
    _check(document, document["paths"]["/v1/auth/challenge"]["post"]["responses"]["200"][
        "content"]["application/json"]["schema"], challenge.json())
    served.login("MEE")  # the registry reads everything
    huaneng = served.wallets["huaneng"].address
    lot = served.app.service.lots(account="ICBC")[0].id
    for path, template in (
            ("/v1/head", "/v1/head"), ("/v1/participants", "/v1/participants"),
            ("/v1/keys?participant=icbc", "/v1/keys"),
            (f"/v1/keys/{huaneng}/nonce", "/v1/keys/{address}/nonce"),
            ("/v1/accounts", "/v1/accounts"), ("/v1/batches", "/v1/batches"),
            ("/v1/holdings", "/v1/holdings"), ("/v1/lots", "/v1/lots"),
            ("/v1/checkpoints", "/v1/checkpoints"), ("/v1/pledges", "/v1/pledges"),
            ("/v1/pledges/P1", "/v1/pledges/{pledge_id}"), ("/v1/repos", "/v1/repos"),
            ("/v1/repos/R1", "/v1/repos/{repo_id}"),
            (f"/v1/proofs/lot?subject={lot}", "/v1/proofs/{kind}"),
            ("/v1/pledges/P404", "/v1/pledges/{pledge_id}"),
            ("/v1/holdings?x=1", "/v1/holdings")):
        answer = served.http.get(path)
        status = str(answer.status_code)
        media = answer.headers["content-type"]
        schema = document["paths"][template]["get"]["responses"][status]["content"][media]
        _check(document, schema["schema"], answer.json())
    journal = served.http.get("/v1/journal")
    line = document["paths"]["/v1/journal"]["get"]["responses"]["200"]["content"][
        "application/x-ndjson"]["schema"]
    for entry in journal.text.splitlines():
        _check(document, line, __import__("json").loads(entry))
    submit = document["paths"]["/v1/instructions"]["post"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    one = served.post(served.signed("huaneng", "transfer", fromAccount="HN",
                                    toAccount="ICBC", batch="A1", quantity=1))
    many = served.post([served.signed("huaneng", "transfer", fromAccount="HN",
                                      toAccount="ICBC", batch="A1", quantity=1), {}])
    for answer in (one, many):
        assert answer.status_code == 200
        _check(document, submit, answer.json())
