"""The service against its own OpenAPI document: schemathesis generates requests for every
operation the document lists (valid ones, and invalid ones the service must refuse with a
4xx), sends them to the real app in process (ASGI, no network) over a ledger that holds
participants, accounts, a batch, transfers, a pledge, a repo and two checkpoints, and checks
each answer: never a 5xx, a status code the document lists for the operation, its content
type, and a body that matches the schema the document gives for it. Each operation is asked
without a token (a protected read answers 401, which must conform too), with the registry's
token (the protected reads' 200 answers) and with an emitter's (its 403s).

Seeded (derandomized), few examples per operation and no example database, so that a run in
CI is repeatable and short; what it finds is a bug in the service or in its document.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from api.bootstrap import build, init_ledger, registry_wallet
from api.config import load_config
from api.http import DirectCommitter, create_app
from tests.api.http.conftest import PASSWORD, Served, login_over, market
from tests.api.http.test_openapi import INTERFACE
from tests.api.http.test_reads import _pledge_and_repo

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
EXAMPLES_PER_OPERATION = 30
VIEWERS = ("nobody", "MEE", "huaneng")  # no token; the registry's; an emitter's

# Every operation of the interface; a test below fails if the document lists one more or one
# fewer, so that a new route is fuzzed as soon as it exists.
OPERATIONS = sorted(INTERFACE | {("get", "/v1/clock"), ("post", "/v1/auth/challenge"),
                                 ("post", "/v1/auth/token")})
# Operations with no parameter a request could get wrong (no query, a path segment of any
# text): there is no invalid request to make of them.
NOTHING_TO_NEGATE = {("get", "/v1/head"), ("get", "/v1/participants"),
                     ("post", "/v1/auth/challenge"),
                     ("get", "/v1/checkpoints"), ("get", "/v1/clock"),
                     ("get", "/v1/keys/{address}/nonce"), ("get", "/v1/pledges/{pledge_id}"),
                     ("get", "/v1/repos/{repo_id}"), ("get", "/v1/methodologies")}
RUNS = [(method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS] + \
    [(method, path, GenerationMode.NEGATIVE) for method, path in OPERATIONS
     if (method, path) not in NOTHING_TO_NEGATE]


@dataclass
class Fuzzed:
    """The served ledger, the document schemathesis read from it, and a token of each
    viewer."""

    served: Served
    api: Any
    tokens: dict[str, str]

    def headers(self, viewer: str) -> dict[str, str] | None:
        token = self.tokens.get(viewer)
        return None if token is None else {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """One ledger and one app for the whole module (a fresh one per operation would cost more
    than the requests): the market of the HTTP tests, a pledge, a repo, two checkpoints."""
    data = tmp_path_factory.mktemp("schemathesis") / "ledger"
    init_ledger(data, registry="MEE", registry_name="Ministry", password=PASSWORD,
                scrypt_n=2**4)
    with build(load_config(data), data, password=lambda: PASSWORD) as app:
        http_app: FastAPI = create_app(app.service, committer=DirectCommitter(app.service))
        with TestClient(http_app) as http:
            served = market(Served(app, http, {
                "MEE": registry_wallet(app.config, app.data_dir, PASSWORD)}))
            served.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                            batch="A1", quantity=10, serialFirst=501, serialLast=510)
            _pledge_and_repo(served)
            app.service.cut_checkpoint()
            served.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                            batch="A1", quantity=5)
            app.service.cut_checkpoint()
            tokens = {who: login_over(http, served.wallets[who], who)
                      for who in VIEWERS if who in served.wallets}
        yield Fuzzed(served, schemathesis.openapi.from_asgi("/v1/openapi.json", http_app),
                     tokens)
        assert app.service.check_invariants() == []


def test_the_document_lists_the_operations_fuzzed(fuzzed: Fuzzed) -> None:
    listed = {(operation.ok().method.lower(), operation.ok().path)
              for operation in fuzzed.api.get_all_operations()}
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize(("method", "path", "mode"), RUNS,
                         ids=[f"{m} {p} {mode.value}" for m, p, mode in RUNS])
def test_every_operation_answers_as_documented(fuzzed: Fuzzed, method: str, path: str,
                                               mode: GenerationMode, viewer: str) -> None:
    """Requests that fit the document (their answers: a success or a documented problem)
    and requests that do not (a 4xx each, never a success)."""
    operation = fuzzed.api[path][method.upper()]
    headers = fuzzed.headers(viewer)
    checks = CHECKS
    if headers is not None and mode is GenerationMode.NEGATIVE:
        # A string filter made "invalid" as a number or a list is a valid string once it is
        # in a query string: with a token, such a request is rightly answered. Without one
        # (the "nobody" runs) every invalid request is still held to a 4xx.
        checks = [c for c in CHECKS if c is not negative_data_rejection]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case: Any) -> None:
        # the viewer's token in place of the one generated, unless the header is what the
        # case made invalid
        sent = None if case.meta.is_negative_at(ParameterLocation.HEADER) else headers
        if mode is GenerationMode.NEGATIVE and isinstance(case.body, list):
            _each_refused_alone(case, sent)
            return
        case.call_and_validate(headers=sent, checks=checks)

    answers_as_documented()


def _each_refused_alone(case: Any, headers: dict[str, str] | None) -> None:
    """An array of instructions is applied as far as it goes: an item that is no signed
    instruction is refused on its own (`malformed_instruction`) in a 200 answer, so the array
    as a whole is not refused. None of these items is validly signed: each is refused."""
    answer = case.call_and_validate(
        headers=headers, checks=[c for c in CHECKS if c is not negative_data_rejection])
    if answer.status_code == 200:
        results = answer.json()["results"]
        assert len(results) == len(case.body)
        assert all("refused" in result for result in results), results


def test_the_documented_successes_of_the_lookups(fuzzed: Fuzzed) -> None:
    """Generated ids rarely name something that exists: the lookups' 200 answers (a pledge,
    a repo, a key's nonce, each kind of proof), asked with the registry's token, are checked
    here by the same checks."""
    service = fuzzed.served.app.service
    lot = service.lots(account="ICBC")[0].id
    head = service.checkpoints()[-1].log_size - 1
    huaneng = fuzzed.served.wallets["huaneng"].address
    requests: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("/v1/pledges/{pledge_id}", {"pledge_id": "P1"}, {}),
        ("/v1/repos/{repo_id}", {"repo_id": "R1"}, {}),
        ("/v1/keys/{address}/nonce", {"address": huaneng}, {}),
        ("/v1/keys/{address}/nonce", {"address": huaneng.lower()}, {}),
        ("/v1/proofs/{kind}", {"kind": "entry"}, {"subject": [str(head)]}),
        ("/v1/proofs/{kind}", {"kind": "lot"}, {"subject": [lot]}),
        ("/v1/proofs/{kind}", {"kind": "holding"}, {"subject": ["HN", "A1"]}),
        ("/v1/proofs/{kind}", {"kind": "account"}, {"subject": ["ICBC"]}),
        ("/v1/proofs/{kind}", {"kind": "consistency"}, {"subject": ["1", "2"]}),
        ("/v1/proofs/{kind}", {"kind": "pledge"}, {"subject": ["P1"], "checkpoint": 1}),
        ("/v1/journal", {}, {"start": 3, "stop": 9}),
        ("/v1/holdings", {}, {"account": "HN", "batch": "A1"}),
    ]
    for path, path_parameters, query in requests:
        case = fuzzed.api[path]["GET"].Case(path_parameters=path_parameters, query=query)
        answer = case.call_and_validate(headers=fuzzed.headers("MEE"), checks=CHECKS)
        assert answer.status_code == 200, (path, path_parameters, query, answer.text)


def test_numbers_past_the_stores_integers_are_refused_as_such(fuzzed: Fuzzed) -> None:
    """Found by this fuzzing: a sequence or checkpoint number past 2**63 - 1 reached the
    store, whose driver failed (a 500). It is a parameter out of range: a documented 422."""
    past = str(2**63)
    for path, path_parameters, query in (
            ("/v1/journal", {}, {"start": past}), ("/v1/journal", {}, {"stop": past}),
            ("/v1/proofs/{kind}", {"kind": "entry"}, {"subject": [past]}),
            ("/v1/proofs/{kind}", {"kind": "entry"}, {"subject": ["1"], "checkpoint": past}),
            ("/v1/proofs/{kind}", {"kind": "consistency"}, {"subject": ["1", past]})):
        case = fuzzed.api[path]["GET"].Case(path_parameters=path_parameters, query=query)
        answer = case.call_and_validate(headers=fuzzed.headers("MEE"), checks=CHECKS)
        assert answer.status_code == 422, (path, query, answer.text)
        assert answer.json()["code"] in ("invalid_parameter", "invalid_subject")
