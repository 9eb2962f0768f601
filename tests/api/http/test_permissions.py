"""Who may read what over HTTP, tried with real signatures against the real app: with no
token, another participant's, an expired one, one from another service, one whose key was
revoked, a changed one, a replayed login (at the same app and at a second app over the same
store: two worker processes); a bank that sees its collateral while the pledge is active; the
registry and auditors that see everything; and the client logging in over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.access import TOKEN_TTL_S, Sessions, sessions_for
from api.client import Client, HttpTransport
from api.http import DirectCommitter, create_app
from tests.api.http.conftest import Served, login_over, market, problem_of
from tests.world import fresh_wallet

SECRET = bytes(range(32))


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ledger(reader: Served) -> Served:
    """HN (huaneng) holds 1,000 t of A1, 400 t of it pledged to ICBC (P1); CEC audits."""
    served = market(reader)
    pledge = served.app.service.operations.instruction(
        "pledge_register", pledge="P1", account="HN", pledgee="icbc", batch="A1",
        quantity=400, loanReference="ICBC-1", principal=100_00, currency="CNY",
        startDate="2026-01-01", maturityDate="2099-12-31")
    signed = served.wallets["icbc"].cosign(served.wallets["huaneng"].sign(pledge))
    assert served.post(signed.as_json()).status_code == 200
    served.wallets["cec"] = fresh_wallet()
    served.accepted("MEE", "register_participant", participant="cec", name="CEC",
                    role="auditor")
    served.accepted("MEE", "register_key", participant="cec", key=served.wallets["cec"].address)
    return served


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(ledger: Served, clock: Clock) -> Iterator[TestClient]:
    """A second app over the same ledger whose sessions' clock the test moves."""
    yield from _app(ledger, sessions_for(ledger.app.service, secret=SECRET, clock=clock))


def _app(served: Served, sessions: Sessions) -> Iterator[TestClient]:
    service = served.app.service
    with TestClient(create_app(service, committer=DirectCommitter(service),
                               sessions=sessions)) as http:
        yield http


def _get(http: Any, path: str, token: str | None = None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(path, params=params, headers=headers)


def _denied(answer: Any, status: int, code: str) -> dict[str, Any]:
    problem = problem_of(answer, status)
    assert problem["code"] == code, problem
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "log in" in problem["detail"]
    return problem


def test_public_reads_need_no_token(ledger: Served) -> None:
    service = ledger.app.service
    service.cut_checkpoint()
    ledger.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC", batch="A1",
                    quantity=1)
    service.cut_checkpoint()
    huaneng = ledger.wallets["huaneng"].address
    for path in ("/v1/head", "/v1/participants", "/v1/keys", f"/v1/keys/{huaneng}/nonce",
                 "/v1/batches", "/v1/checkpoints"):
        assert ledger.http.get(path).status_code == 200, path
    consistency = ledger.http.get("/v1/proofs/consistency?subject=1&subject=2")
    assert consistency.status_code == 200 and consistency.json()["kind"] == "consistency"
    challenge = ledger.http.post("/v1/auth/challenge").json()
    assert challenge["domain"]["chainId"] == service.ledger.domain.chain_id


def test_no_token_is_401_and_another_participants_account_403(ledger: Served) -> None:
    for path in ("/v1/accounts", "/v1/holdings", "/v1/lots", "/v1/pledges", "/v1/repos",
                 "/v1/pledges/P1", "/v1/journal", "/v1/proofs/account?subject=HN"):
        _denied(ledger.http.get(path), 401, "token_required")
    datang = fresh_wallet()
    ledger.wallets["datang"] = datang
    ledger.accepted("MEE", "register_participant", participant="datang", name="Datang",
                    role="emitter")
    ledger.accepted("MEE", "register_key", participant="datang", key=datang.address)
    ledger.accepted("MEE", "open_account", account="DT", participant="datang",
                    accountType="compliance")
    token = ledger.token("datang")
    for path, params in (("/v1/holdings", {"account": "HN"}), ("/v1/lots", {"account": "HN"}),
                         ("/v1/holdings", {"account": "NOPE"})):  # unknown: told apart from none
        problem = _denied(_get(ledger.http, path, token, **params), 403, "account_forbidden")
        assert "datang may not read account" in problem["detail"]
    _denied(_get(ledger.http, "/v1/pledges/P1", token), 403, "agreement_forbidden")
    _denied(_get(ledger.http, "/v1/pledges/P404", token), 403, "agreement_forbidden")
    _denied(_get(ledger.http, "/v1/proofs/holding", token, subject="HN"), 403,
            "account_forbidden")
    # a list without a filter is what datang may read: its own account, nothing of HN's
    assert _get(ledger.http, "/v1/holdings", token).json() == {"items": []}
    assert [a["id"] for a in _get(ledger.http, "/v1/accounts", token).json()["items"]] == \
        ["DT"]
    assert _get(ledger.http, "/v1/pledges", token).json() == {"items": []}
    # an agreement list is filtered to the viewer's agreements, never refused: HN's pledge P1
    # is not datang's, and the answer is the same whether HN has pledges or exists at all
    for account in ("HN", "NOPE"):
        assert _get(ledger.http, "/v1/pledges", token, account=account).json() == {"items": []}


def test_an_emitter_reads_its_own_and_never_the_journal_or_an_entry(ledger: Served) -> None:
    ledger.app.service.cut_checkpoint()
    token = ledger.token("huaneng")
    holdings = _get(ledger.http, "/v1/holdings", token).json()["items"]
    assert [(h["account"], h["tradable"], h["pledged"]) for h in holdings] == [("HN", 600, 400)]
    assert {lot["account"] for lot in _get(ledger.http, "/v1/lots", token).json()["items"]} \
        == {"HN"}
    assert _get(ledger.http, "/v1/pledges/P1", token).status_code == 200  # its pledge
    assert _get(ledger.http, "/v1/proofs/account", token, subject="HN").status_code == 200
    lot = ledger.app.service.lots(account="HN")[0].id
    assert _get(ledger.http, "/v1/proofs/lot", token, subject=lot).status_code == 200
    _denied(_get(ledger.http, "/v1/journal", token), 403, "registry_or_auditor_only")
    _denied(_get(ledger.http, "/v1/proofs/entry", token, subject="1"), 403,
            "registry_or_auditor_only")
    other = ledger.app.service.lots(account="ICBC")
    assert other == []  # ICBC holds nothing yet: a lot of its, proven, is refused to HN
    ledger.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC", batch="A1",
                    quantity=5)
    ledger.app.service.cut_checkpoint()
    (theirs,) = ledger.app.service.lots(account="ICBC")
    _denied(_get(ledger.http, "/v1/proofs/lot", token, subject=theirs.id), 403,
            "account_forbidden")


def test_a_bank_sees_the_account_it_holds_a_pledge_on_until_it_is_released(
        ledger: Served) -> None:
    token = ledger.token("icbc")
    answer = _get(ledger.http, "/v1/holdings", token, account="HN")
    assert answer.status_code == 200 and answer.json()["items"][0]["pledged"] == 400
    assert {h["account"] for h in _get(ledger.http, "/v1/holdings", token).json()["items"]} \
        == {"HN"}  # ICBC's own account holds nothing yet
    assert _get(ledger.http, "/v1/pledges/P1", token).status_code == 200
    ledger.accepted("icbc", "pledge_release", pledge="P1", quantity=400)
    _denied(_get(ledger.http, "/v1/holdings", token, account="HN"), 403, "account_forbidden")
    assert _get(ledger.http, "/v1/holdings", token).json() == {"items": []}
    assert _get(ledger.http, "/v1/pledges/P1", token).status_code == 200  # still its party


def test_a_repo_shows_each_party_the_repo_not_the_other_partys_account(
        ledger: Served) -> None:
    """The repo's units move into the buyer's own account: the seller follows them through
    the repo (its terms and the lots under its lien), and neither party reads the other's
    account through it — unlike a pledgee, whose collateral stays in the pledgor's."""
    huaneng, icbc = ledger.wallets["huaneng"], ledger.wallets["icbc"]
    repo = ledger.app.service.operations.instruction(
        "repo_open", repo="R1", sellerAccount="HN", buyerAccount="ICBC", batch="A1",
        quantity=300, purchasePrice=2_400_000, repurchasePrice=2_420_000, currency="CNY",
        repurchaseDate="2099-06-30", freeUse=False)
    assert ledger.post(icbc.cosign(huaneng.sign(repo)).as_json()).status_code == 200
    seller = ledger.token("huaneng")
    _denied(_get(ledger.http, "/v1/holdings", seller, account="ICBC"), 403, "account_forbidden")
    assert {h["account"] for h in _get(ledger.http, "/v1/holdings", seller).json()["items"]} \
        == {"HN"}
    history = _get(ledger.http, "/v1/repos/R1", seller)
    assert history.status_code == 200
    assert sum(lot["last"] - lot["first"] + 1 for lot in history.json()["lots"]) == 300
    ledger.accepted("icbc", "pledge_release", pledge="P1", quantity=400)
    buyer = ledger.token("icbc")  # no pledge on HN any more: the repo alone shows nothing of HN
    _denied(_get(ledger.http, "/v1/holdings", buyer, account="HN"), 403, "account_forbidden")
    assert _get(ledger.http, "/v1/repos/R1", buyer).status_code == 200


@pytest.mark.parametrize("who", ["MEE", "cec"])
def test_the_registry_and_auditors_read_everything(ledger: Served, who: str) -> None:
    ledger.app.service.cut_checkpoint()
    token = ledger.token(who)
    holdings = _get(ledger.http, "/v1/holdings", token).json()["items"]
    assert {h["account"] for h in holdings} == {"HN"}
    assert {a["id"] for a in _get(ledger.http, "/v1/accounts", token).json()["items"]} == \
        {"HN", "ICBC"}
    journal = _get(ledger.http, "/v1/journal", token)
    assert journal.status_code == 200
    assert len(journal.text.splitlines()) == ledger.head() + 1
    assert _get(ledger.http, "/v1/proofs/entry", token, subject="1").status_code == 200
    assert _get(ledger.http, "/v1/pledges/P1", token).status_code == 200
    assert problem_of(_get(ledger.http, "/v1/pledges/P404", token), 404)["code"] == \
        "pledge_not_found"
    assert _get(ledger.http, "/v1/holdings", token, account="NOPE").json() == {"items": []}


def test_an_expired_token_is_401(ledger: Served, timed: TestClient, clock: Clock) -> None:
    token = login_over(timed, ledger.wallets["huaneng"], "huaneng")
    assert _get(timed, "/v1/holdings", token).status_code == 200
    clock.now += TOKEN_TTL_S + 1
    _denied(_get(timed, "/v1/holdings", token), 401, "token_expired")


def test_a_token_of_another_service_or_changed_is_401(ledger: Served,
                                                      timed: TestClient) -> None:
    token = ledger.token("huaneng")  # the first app's secret: its own
    _denied(_get(timed, "/v1/holdings", token), 401, "token_invalid")
    body, mac = login_over(timed, ledger.wallets["huaneng"], "huaneng").split(".")
    for changed in (body[:-2] + "xx." + mac, body + "." + mac[::-1], "not-a-token"):
        _denied(_get(timed, "/v1/holdings", changed), 401, "token_invalid")
    _denied(timed.get("/v1/holdings", headers={"Authorization": "Bearer "}), 401,
            "token_required")


def test_a_token_dies_with_its_key(ledger: Served) -> None:
    token = ledger.token("huaneng")
    spare = fresh_wallet()
    ledger.accepted("MEE", "register_key", participant="huaneng", key=spare.address)
    ledger.accepted("huaneng", "revoke_key", participant="huaneng",
                    key=ledger.wallets["huaneng"].address)
    problem = _denied(_get(ledger.http, "/v1/holdings", token), 401, "key_inactive")
    assert "no longer active" in problem["detail"]
    ledger.wallets["huaneng"] = spare
    assert _get(ledger.http, "/v1/holdings", ledger.token("huaneng")).status_code == 200


def _signed_login(http: Any, served: Served, who: str) -> dict[str, Any]:
    from api.access import login_digest
    from custody.signatures import unsafe_sign_digest

    issued = http.post("/v1/auth/challenge").json()
    digest = login_digest(served.wallets[who].domain, bytes.fromhex(issued["challenge"][2:]),
                          who, issued["expires"])
    return {"challenge": issued["challenge"], "participant": who, "expires": issued["expires"],
            "signature": "0x" + unsafe_sign_digest(served.wallets[who].private_key,
                                                   digest).hex()}


def test_a_replayed_login_is_401_at_any_worker(ledger: Served, timed: TestClient,
                                              clock: Clock) -> None:
    login = _signed_login(timed, ledger, "icbc")
    assert timed.post("/v1/auth/token", json=login).status_code == 200
    _denied(timed.post("/v1/auth/token", json=login), 401, "challenge_invalid")
    # a second worker: another app with the same secret over the same store
    for worker in _app(ledger, sessions_for(ledger.app.service, secret=SECRET, clock=clock)):
        _denied(worker.post("/v1/auth/token", json=login), 401, "challenge_invalid")
        fresh = _signed_login(timed, ledger, "icbc")  # issued by one worker...
        redeemed = worker.post("/v1/auth/token", json=fresh)  # ...redeemed at the other
        assert redeemed.status_code == 200
        assert redeemed.json()["participant"] == "icbc" and redeemed.json()["role"] == "bank"
        assert _get(timed, "/v1/holdings", redeemed.json()["token"]).status_code == 200
        assert _get(worker, "/v1/holdings", redeemed.json()["token"]).status_code == 200


def test_a_login_body_is_read_strictly(ledger: Served) -> None:
    login = _signed_login(ledger.http, ledger, "icbc")
    for body, status, code in (({**login, "role": "registry"}, 422, "invalid_parameter"),
                               ({**login, "expires": str(login["expires"])}, 422,
                                "invalid_parameter"),
                               ({k: v for k, v in login.items() if k != "signature"}, 422,
                                "invalid_parameter"),
                               ({**login, "participant": "huaneng"}, 401, "key_inactive")):
        assert problem_of(ledger.http.post("/v1/auth/token", json=body), status)["code"] == \
            code
    assert problem_of(ledger.http.post("/v1/auth/token", content=b"{"), 400)["code"] == \
        "malformed_document"
    assert problem_of(ledger.http.post("/v1/auth/challenge", json={"x": 1}), 422)["code"] == \
        "unexpected_body"
    assert ledger.http.post("/v1/auth/token", json=login).status_code == 200  # still good


def test_the_client_logs_in_over_http_and_again_when_its_token_expires(
        ledger: Served, timed: TestClient, clock: Clock) -> None:
    with Client(HttpTransport("http://testserver", http=timed)) as client:
        assert client.login(client.wallet(ledger.wallets["icbc"].private_key)) == "icbc"
        assert [h.account for h in client.holdings()] == ["HN"]
        assert client.pledge("P1") is not None
        clock.now += TOKEN_TTL_S + 1  # the token expires: the client logs in again, once
        assert [h.account for h in client.holdings(account="HN")] == ["HN"]
        from api.client import ServerFailed

        with pytest.raises(ServerFailed) as forbidden:
            client.journal(0, 1)
        assert (forbidden.value.status, forbidden.value.code) == \
            (403, "registry_or_auditor_only")
