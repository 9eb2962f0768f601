"""Failures the service answers as problems: a store out of reach (503, Retry-After, the same
signed instruction to be sent again), and a failure nobody foresaw (500, logged, nothing of
the server's insides in the answer)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import operation_set
from api.http import DirectCommitter, create_app
from api.service import LedgerService, Parts
from ledger.clock import utc_now
from ledger.engine import Ledger
from ledger.store.database import Store, sqlite_url
from tests.api.http.conftest import Served, market, problem_of
from tests.world import fresh_wallet


def test_a_store_out_of_reach_is_503_with_retry_after(tmp_path: Path) -> None:
    # a real store whose database cannot be opened: its directory does not exist
    store = Store(sqlite_url(tmp_path / "gone" / "ledger.db"))
    service = LedgerService(Parts(Ledger(store, operation_set(), utc_now)))
    signed = fresh_wallet().sign(service.operations.instruction(
        "transfer", fromAccount="HN", toAccount="ICBC", batch="A1", quantity=1)).as_json()
    try:
        with TestClient(create_app(service, committer=DirectCommitter(service))) as http:
            for answer in (http.get("/v1/head"), http.get("/v1/participants"),
                           http.post("/v1/instructions", json=signed)):
                problem = problem_of(answer, 503)
                assert (problem["code"], problem["retryable"]) == ("unreachable", True)
                assert answer.headers["retry-after"] == "1"
                assert "gone" not in answer.text  # the driver's words stay in the log
                assert "submit" in problem["detail"] or "try again" in problem["detail"]
    finally:
        store.dispose()


class _Broken:
    """A committer with a bug: what the service has not foreseen."""

    def submit(self, document: Mapping[str, Any]) -> Any:
        raise KeyError("/srv/ledger/secret.py line 3")

    def submit_many(self, documents: Sequence[Mapping[str, Any]]) -> list[Any]:
        raise KeyError("/srv/ledger/secret.py line 3")

    async def submit_many_async(self, documents: Sequence[Mapping[str, Any]]) -> list[Any]:
        raise KeyError("/srv/ledger/secret.py line 3")


def test_an_unforeseen_failure_is_a_logged_500_that_tells_nothing(
        reader: Served, caplog: pytest.LogCaptureFixture) -> None:
    served = market(reader)
    signed = served.signed("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                           batch="A1", quantity=1)
    app = create_app(served.app.service, committer=_Broken())
    with caplog.at_level(logging.ERROR, "carbonledger.http"), \
            TestClient(app, raise_server_exceptions=False) as http:
        answer = http.post("/v1/instructions", json=signed)
    problem = problem_of(answer, 500)
    assert problem["code"] == "internal_error"
    assert "secret" not in answer.text
    assert "secret.py" in caplog.text
    assert served.http.get("/v1/head").json()["head"] == served.head()
