"""The reads: every query of the application service over HTTP, as `{"items": [...]}` of each
record's JSON; the journal as NDJSON; ids that name nothing are 404; unknown or repeated query
parameters are refused rather than ignored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.http import reads
from tests.api.http.conftest import Served, market, problem_of
from tests.world import fresh_wallet


def _items(served: Served, path: str, **params: str) -> list[dict[str, Any]]:
    answer = served.http.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _pledge_and_repo(served: Served) -> None:
    """P1: 400 t of HN pledged to ICBC. R1: 300 t sold by HN-T to ICBC under repo."""
    huaneng, icbc = served.wallets["huaneng"], served.wallets["icbc"]
    operations = served.app.service.operations
    served.accepted("MEE", "open_account", account="HN-T", participant="huaneng",
                    accountType="trading")
    served.accepted("huaneng", "transfer", fromAccount="HN", toAccount="HN-T", batch="A1",
                    quantity=300, serialFirst=701, serialLast=1000)
    pledge = operations.instruction(
        "pledge_register", pledge="P1", account="HN", pledgee="icbc", batch="A1",
        quantity=400, loanReference="ICBC-1", principal=100_00, currency="CNY",
        startDate="2026-01-01", maturityDate="2099-12-31")
    assert served.post(icbc.cosign(huaneng.sign(pledge)).as_json()).status_code == 200
    repo = operations.instruction(
        "repo_open", repo="R1", sellerAccount="HN-T", buyerAccount="ICBC", batch="A1",
        quantity=300, purchasePrice=2_400_000, repurchasePrice=2_420_000, currency="CNY",
        repurchaseDate="2099-06-30", freeUse=False)
    answer = served.post(icbc.cosign(huaneng.sign(repo)).as_json())
    assert answer.status_code == 200, answer.text


def test_every_list_answers_its_records(reader: Served) -> None:
    served = market(reader).login("MEE")  # the registry reads every account
    huaneng = served.wallets["huaneng"]
    served.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC", batch="A1",
                    quantity=10, serialFirst=501, serialLast=510)
    assert served.http.get("/v1/head").json() == {"head": served.head()}
    assert [(p["id"], p["role"]) for p in _items(served, "/v1/participants")] == [
        ("MEE", "registry"), ("huaneng", "emitter"), ("icbc", "bank")]
    (key,) = _items(served, "/v1/keys", participant="huaneng")
    assert key == {"address": huaneng.address, "participant": "huaneng",
                   "registered_seq": key["registered_seq"], "revoked_seq": None,
                   "last_nonce": 1}
    assert len(_items(served, "/v1/keys")) == 3
    assert _items(served, "/v1/accounts", participant="icbc") == [{
        "id": "ICBC", "participant": "icbc", "type": "trading", "frozen": False,
        "freeze_reason": "", "opened_seq": 6}]
    (batch,) = _items(served, "/v1/batches", scheme="CN-ETS")
    assert (batch["id"], batch["kind"], batch["quantity"]) == ("A1", "allowance", 1000)
    assert _items(served, "/v1/batches", scheme="CCER") == []
    assert _items(served, "/v1/holdings", account="ICBC") == [{
        "account": "ICBC", "batch": "A1", "tradable": 10, "pledged": 0, "retired": 0,
        "surrendered": 0, "cancelled": 0}]
    assert len(_items(served, "/v1/holdings", batch="A1")) == 2
    assert [(lot["first"], lot["last"], lot["account"], lot["state"])
            for lot in _items(served, "/v1/lots", batch="A1")] == [
        (1, 500, "HN", "tradable"), (501, 510, "ICBC", "tradable"),
        (511, 1000, "HN", "tradable")]
    assert [lot["account"] for lot in _items(served, "/v1/lots", account="ICBC")] == ["ICBC"]
    assert _items(served, "/v1/checkpoints") == []


def test_pledges_and_repos_with_their_histories(reader: Served) -> None:
    served = market(reader)
    _pledge_and_repo(served)
    served.login("icbc")  # a party to both
    (pledge,) = _items(served, "/v1/pledges", account="HN")
    assert (pledge["id"], pledge["quantity"], pledge["status"]) == ("P1", 400, "active")
    assert _items(served, "/v1/pledges", account="ICBC") == []
    history = served.http.get("/v1/pledges/P1").json()
    assert history["pledge"] == pledge
    assert sum(lot["last"] - lot["first"] + 1 for lot in history["lots"]) == 400
    assert {lot["lien"] for lot in history["lots"]} == {"P1"}
    (registered,) = history["entries"]
    assert (registered["op"], registered["quantity"]) == ("pledge_register", 400)
    assert registered["signers"] == [served.wallets["huaneng"].address,
                                     served.wallets["icbc"].address]
    (repo,) = _items(served, "/v1/repos", account="HN-T")
    assert (repo["id"], repo["quantity"], repo["status"], repo["free_use"]) == (
        "R1", 300, "open", False)
    history = served.http.get("/v1/repos/R1").json()
    assert history["repo"] == repo and [e["op"] for e in history["entries"]] == ["repo_open"]


def test_an_id_that_names_nothing_is_404(reader: Served) -> None:
    reader.login("MEE")  # to anyone else, an agreement not theirs: 403 (test_permissions)
    for path, code in (("/v1/pledges/P404", "pledge_not_found"),
                       ("/v1/repos/R404", "repo_not_found"),
                       ("/v1/nowhere", "not_found")):
        assert problem_of(reader.http.get(path), 404)["code"] == code


def test_the_next_nonce_of_a_key(reader: Served) -> None:
    served = market(reader)
    huaneng = served.wallets["huaneng"]
    for _ in range(2):
        served.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC", batch="A1",
                        quantity=1)
    for spelt in (huaneng.address, huaneng.address.lower()):
        answer = served.http.get(f"/v1/keys/{spelt}/nonce")
        assert answer.json() == {"address": huaneng.address, "last_nonce": 2,
                                 "next_nonce": 3}
    stranger = fresh_wallet().address
    assert served.http.get(f"/v1/keys/{stranger}/nonce").json()["next_nonce"] == 1
    wrong_case = huaneng.address[:2] + huaneng.address[2:].swapcase()
    for bad in ("0x1234", "huaneng", wrong_case):
        assert problem_of(served.http.get(f"/v1/keys/{bad}/nonce"), 422)["code"] == \
            "invalid_address"


def test_unknown_repeated_and_mistyped_parameters_are_refused(reader: Served) -> None:
    reader.login("MEE")
    unknown = problem_of(reader.http.get("/v1/holdings", params={"acount": "HN"}), 400)
    assert unknown["code"] == "unknown_parameter" and "'acount'" in unknown["detail"]
    assert problem_of(reader.http.get("/v1/head?x=1"), 400)["code"] == "unknown_parameter"
    repeated = reader.http.get("/v1/holdings?account=HN&account=ICBC")
    assert problem_of(repeated, 400)["code"] == "repeated_parameter"
    empty = reader.http.get("/v1/holdings?account=")  # an empty filter must not match all
    assert problem_of(empty, 422)["code"] == "invalid_parameter"
    mistyped = reader.http.get("/v1/journal", params={"start": "first"})
    assert problem_of(mistyped, 422)["code"] == "invalid_parameter"
    assert problem_of(reader.http.get("/v1/journal?start=-1"), 422)["code"] == \
        "invalid_parameter"
    backwards = reader.http.get("/v1/journal", params={"start": 3, "stop": 1})
    assert "start 3 is after stop 1" in problem_of(backwards, 422)["detail"]
    wrong_method = reader.http.delete("/v1/head")
    assert problem_of(wrong_method, 405)["code"] == "method_not_allowed"


def _journal(served: Served, **params: int) -> list[dict[str, Any]]:
    answer = served.http.get("/v1/journal", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert answer.text == "" or answer.text.endswith("\n")
    return [json.loads(line) for line in answer.text.splitlines()]


def test_the_journal_streams_one_entry_a_line(reader: Served, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    served = market(reader).login("MEE")
    whole = _journal(served)
    assert [entry["seq"] for entry in whole] == list(range(served.head() + 1))
    stored = served.app.service.journal(0, served.head() + 1)
    assert [(e["op"], e["entry_hash"], e["document"]) for e in whole] == [
        (e.op, e.entry_hash, e.document) for e in stored]
    assert [e["seq"] for e in _journal(served, start=2, stop=5)] == [2, 3, 4]
    assert _journal(served, start=3, stop=3) == []
    assert _journal(served, start=served.head() + 5) == []
    # read in pages: the stream goes on from one page to the next
    monkeypatch.setattr(reads, "JOURNAL_PAGE", 3)
    assert _journal(served) == whole
    assert [e["seq"] for e in _journal(served, start=1, stop=8)] == list(range(1, 8))
