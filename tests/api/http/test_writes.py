"""`POST /v1/instructions`: receipts for what the ledger accepts, a problem naming the reason
for what it refuses, and nothing written for a body it cannot read."""

from __future__ import annotations

import json

from api.http.app import DEFAULT_MAX_BODY_BYTES
from ledger.errors import Reason
from tests.api.http.conftest import Served, market, problem_of


def test_a_signed_instruction_gets_its_receipt_and_moves_units(served: Served) -> None:
    market(served)
    receipt = served.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                              batch="A1", quantity=10, serialFirst=501, serialLast=510)
    assert receipt["seq"] == served.head()
    assert receipt["entry_hash"].startswith("0x") and receipt["duplicate"] is False
    (entry,) = served.app.service.journal(receipt["seq"], receipt["seq"] + 1)
    assert entry.entry_hash == receipt["entry_hash"]
    assert {(h.account, h.tradable) for h in served.app.service.holdings(batch="A1")} == {
        ("HN", 990), ("ICBC", 10)}


def test_submitting_the_same_instruction_again_answers_with_its_first_receipt(
        served: Served) -> None:
    market(served)
    signed = served.signed("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                           batch="A1", quantity=10)
    first = served.post(signed).json()["receipt"]
    again = served.post(signed)
    assert again.status_code == 200
    assert again.json()["receipt"] == {**first, "duplicate": True}
    assert served.app.service.holdings("ICBC")[0].tradable == 10  # moved once


def test_an_array_is_applied_in_one_transaction_and_a_refusal_refuses_nothing_else(
        served: Served) -> None:
    market(served)
    good = served.signed("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                         batch="A1", quantity=5)
    too_much = served.signed("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                             batch="A1", quantity=5_000)
    head = served.head()
    answer = served.post([good, {"op": "transfer"}, too_much])
    assert answer.status_code == 200
    first, malformed, refused = answer.json()["results"]
    assert first["receipt"]["seq"] == head + 1 == served.head()
    assert malformed["refused"]["reason"] == "malformed_instruction"
    assert refused["refused"] == {"reason": "insufficient_tradable",
                                  "message": Reason.insufficient_tradable.message,
                                  "detail": refused["refused"]["detail"], "retryable": True}
    assert served.app.service.holdings("ICBC")[0].tradable == 5


def test_a_refusal_is_a_problem_naming_its_reason_and_changes_nothing(served: Served) -> None:
    market(served)
    head = served.head()
    answer = served.post(served.signed("huaneng", "transfer", fromAccount="HN",
                                       toAccount="ICBC", batch="A1", quantity=5_000))
    problem = problem_of(answer, 422)
    assert problem["reason"] == "insufficient_tradable"
    assert problem["type"] == "urn:carbonledger:reason:insufficient_tradable"
    assert problem["title"] == Reason.insufficient_tradable.message
    assert problem["retryable"] is True
    assert served.head() == head


def test_conflicts_are_409(served: Served) -> None:
    market(served)
    # something that exists already
    exists = served.post(served.signed("MEE", "register_participant", participant="icbc",
                                       name="ICBC", role="bank"))
    assert problem_of(exists, 409)["reason"] == "participant_exists"
    # an instruction id used for another instruction
    wallet = served.wallets["huaneng"]
    first = served.signed("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                          batch="A1", quantity=1)
    assert served.post(first).status_code == 200
    instruction = served.app.service.operations.instruction(
        "transfer", fromAccount="HN", toAccount="ICBC", batch="A1", quantity=2,
        instruction_id=bytes.fromhex(first["id"][2:]))
    reused = served.post(wallet.sign(instruction).as_json())
    assert problem_of(reused, 409)["reason"] == "instruction_id_reused"
    # a nonce at or below the key's last one
    wallet.nonce = served.app.service.last_nonce(wallet.address) - 1
    stale = served.post(served.signed("huaneng", "transfer", fromAccount="HN",
                                      toAccount="ICBC", batch="A1", quantity=1))
    assert problem_of(stale, 409)["reason"] == "stale_nonce"
    assert served.app.service.holdings("ICBC")[0].tradable == 1


def test_unknown_fields_of_an_instruction_are_refused(served: Served) -> None:
    market(served)
    signed = served.signed("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                           batch="A1", quantity=1)
    head = served.head()
    extra_top = served.post({**signed, "memo": "x"})
    assert problem_of(extra_top, 422)["reason"] == "malformed_instruction"
    extra_field = served.post({**signed, "fields": {**signed["fields"], "memo": "x"}})
    assert problem_of(extra_field, 422)["reason"] == "malformed_instruction"
    assert served.head() == head


def _raw(served: Served, body: bytes) -> object:
    return served.http.post("/v1/instructions", content=body,
                            headers={"content-type": "application/json"})


def test_bodies_that_are_not_json_are_400_and_change_nothing(served: Served) -> None:
    head = served.head()
    for body, says in ((b'{"op": ', "not JSON"), (b"\xff\xfe{}", "not UTF-8"),
                       (b"[" * 65 + b"]" * 65, "nests deeper than 64"),
                       (b'{"op": "transfer", "op": "retire"}', 'key "op" appears twice')):
        problem = problem_of(_raw(served, body), 400)
        assert problem["code"] == "malformed_document"
        assert says in problem["detail"]
    assert served.head() == head


def test_a_deeply_nested_body_is_refused_before_it_is_parsed(served: Served) -> None:
    # deep enough to overflow the C stack of a JSON decoder that followed it (api/inputs.py)
    body = b"[" * 200_000 + b"]" * 200_000
    problem = problem_of(_raw(served, body), 400)
    assert "nests deeper" in problem["detail"]
    assert served.http.get("/v1/head").status_code == 200  # the service is still there


def test_a_body_over_the_limit_is_413(served: Served) -> None:
    head = served.head()
    body = json.dumps([{"op": "x" * 1000}] * (DEFAULT_MAX_BODY_BYTES // 1000)).encode()
    assert len(body) > DEFAULT_MAX_BODY_BYTES
    declared = _raw(served, body)
    assert problem_of(declared, 413)["code"] == "body_too_large"

    def chunks() -> object:  # no Content-Length: the limit is kept while reading
        for start in range(0, len(body), 65_536):
            yield body[start:start + 65_536]

    streamed = served.http.post("/v1/instructions", content=chunks())
    assert "content-length" not in streamed.request.headers
    assert problem_of(streamed, 413)["code"] == "body_too_large"
    assert served.head() == head


def test_a_smaller_limit_is_the_app_s_own(served: Served) -> None:
    from fastapi.testclient import TestClient

    from api.http import DirectCommitter, create_app

    service = served.app.service
    small = create_app(service, committer=DirectCommitter(service), max_body_bytes=100)
    with TestClient(small) as http:
        answer = http.post("/v1/instructions", content=b" " * 101)
    assert problem_of(answer, 413)["detail"].startswith("the body is larger than 100 bytes")


def test_a_modules_exists_reason_is_a_conflict_too(served: Served) -> None:
    """agreement_exists is the pledge module's, not on the core's list: named *_exists, 409."""
    from tests.pledge.helpers import PLEDGE

    market(served)
    instruction = served.app.service.operations.instruction("pledge_register", **PLEDGE)
    signed = served.wallets["icbc"].cosign(served.wallets["huaneng"].sign(instruction))
    assert served.post(signed.as_json()).status_code == 200
    again = served.app.service.operations.instruction("pledge_register",
                                                      **(PLEDGE | {"quantity": 10}))
    twice = served.wallets["icbc"].cosign(served.wallets["huaneng"].sign(again))
    assert problem_of(served.post(twice.as_json()), 409)["reason"] == "agreement_exists"


def test_a_large_array_is_read_whole_and_applied_in_order(served: Served) -> None:
    """An array over PARSE_ON_LOOP_BYTES is parsed off the event loop: the same answers."""
    from api.http.writes import PARSE_ON_LOOP_BYTES

    market(served)
    array = [served.signed("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                           batch="A1", quantity=1) for _ in range(150)]
    array.insert(75, {"op": "transfer"})
    body = json.dumps(array).encode()
    assert len(body) > PARSE_ON_LOOP_BYTES
    head = served.head()
    answer = _raw(served, body)
    assert answer.status_code == 200  # type: ignore[attr-defined]
    results = answer.json()["results"]  # type: ignore[attr-defined]
    assert [r["refused"]["reason"] for r in results if "refused" in r] == [
        "malformed_instruction"]
    receipts = [r["receipt"] for r in results if "receipt" in r]
    assert [r["seq"] for r in receipts] == list(range(head + 1, head + 151))
    assert [r["instruction_id"] for r in receipts] == [d["id"] for d in array if "id" in d]
    assert served.app.service.holdings("ICBC")[0].tradable == 150


def test_a_query_on_the_write_route_is_refused_and_changes_nothing(served: Served) -> None:
    market(served)
    signed = served.signed("huaneng", "transfer", fromAccount="HN", toAccount="ICBC",
                           batch="A1", quantity=1)
    head = served.head()
    answer = served.http.post("/v1/instructions?dry_run=1", json=signed)
    assert problem_of(answer, 400)["code"] == "unknown_parameter"
    assert served.head() == head
    assert served.post(signed).status_code == 200  # the same instruction, without the query
    assert served.head() == head + 1
