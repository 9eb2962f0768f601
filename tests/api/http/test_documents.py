"""Confidential documents over HTTP and through the client: an emitter's monthly data, sealed
in the client for itself and the registry, is read back by them, by the verifier it is shared
with, and by nobody else (403); the service stores ciphertext only. The same client calls run
in process (LocalTransport)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import coincurve
import pytest

from api.client import Client, ClientError, HttpTransport, LocalTransport
from compliance.documents import DocumentError, DocumentFailure
from compliance.sealing import document_hash, wrap_for, wrapped_key_as_json
from ledger.client import Wallet
from tests.api.http.conftest import Served, market, problem_of
from tests.world import fresh_wallet

DOCUMENT = json.dumps({"installation": "HN-1", "month": "2025-01", "lines": [
    {"source": "coal", "activity": "77123.456", "activityUnit": "t", "factor": "2.6604",
     "factorUnit": "tCO2/t", "instrument": ""}]}).encode()
NOWHERE = "0x" + "00" * 32


def public_key_of(wallet: Wallet) -> bytes:
    return coincurve.PrivateKey(wallet.private_key).public_key.format(compressed=True)


class Desks:
    """A client per participant over the served app, each reading as its own login."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.clients: dict[str, Client] = {}

    def __getitem__(self, who: str) -> tuple[Client, Wallet]:
        if who not in self.clients:
            self.clients[who] = Client(HttpTransport("http://testserver",
                                                     http=self.served.http))
        return self.clients[who], self.served.wallets[who]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def onboard(served: Served, name: str, role: str) -> None:
    served.wallets[name] = fresh_wallet()
    served.accepted("MEE", "register_participant", participant=name, name=name.upper(),
                    role=role)
    served.accepted("MEE", "register_key", participant=name, key=served.wallets[name].address)


@pytest.fixture
def desks(reader: Served) -> Iterator[Desks]:
    market(reader)  # huaneng (emitter), icbc (bank)
    onboard(reader, "baowu", "emitter")
    onboard(reader, "cec", "verifier")
    desks = Desks(reader)
    for who in ("MEE", "huaneng", "baowu", "cec"):
        client, wallet = desks[who]
        client.publish_document_key(wallet)
    yield desks
    desks.close()


def upload(desks: Desks) -> str:
    client, wallet = desks["huaneng"]
    return client.upload_document(DOCUMENT, "application/json", wallet)


def read(desks: Desks, who: str, sha256: str) -> bytes:
    client, wallet = desks[who]
    return client.read_document(sha256, wallet)


def refused(code: DocumentFailure, desks: Desks, who: str, sha256: str) -> None:
    with pytest.raises(DocumentError) as caught:
        read(desks, who, sha256)
    assert caught.value.code is code, caught.value


def get(served: Served, path: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return served.http.get(path, headers=headers)


def test_the_owner_and_the_registry_read_it_and_another_emitter_may_not(desks: Desks) -> None:
    sha256 = upload(desks)
    assert sha256 == document_hash(DOCUMENT)
    assert read(desks, "huaneng", sha256) == DOCUMENT
    assert read(desks, "MEE", sha256) == DOCUMENT
    refused(DocumentFailure.not_a_reader, desks, "baowu", sha256)
    refused(DocumentFailure.not_a_reader, desks, "cec", sha256)  # until it is shared
    refused(DocumentFailure.unknown_document, desks, "huaneng", NOWHERE)
    served = desks.served
    problem = problem_of(get(served, f"/v1/documents/{sha256}", served.token("baowu")), 403)
    assert problem["code"] == "not_a_reader"
    assert problem_of(get(served, f"/v1/documents/{NOWHERE}", served.token("baowu")),
                      404)["code"] == "unknown_document"
    assert problem_of(get(served, f"/v1/documents/{sha256}", None), 401)["code"] == \
        "token_required"
    assert problem_of(get(served, "/v1/documents/0xABC", served.token("baowu")),
                      422)["code"] == "invalid_parameter"


def test_the_verifier_reads_it_once_the_owner_shares_it(desks: Desks) -> None:
    sha256 = upload(desks)
    owner, wallet = desks["huaneng"]
    assert owner.share_document(sha256, wallet, "cec") == 1
    assert read(desks, "cec", sha256) == DOCUMENT
    assert owner.share_document(sha256, wallet, "cec") == 0  # already
    # another emitter may not share it, even with itself: it holds no key to wrap anyway
    baowu, baowu_wallet = desks["baowu"]
    with pytest.raises(DocumentError) as caught:
        baowu.share_document(sha256, baowu_wallet, "baowu")
    assert caught.value.code is DocumentFailure.not_a_reader
    # nor share a key someone else wrapped for it: only the owner and the registry share
    served = desks.served
    for_baowu = wrap_for(owner.transport.sealed_document(sha256, "huaneng"),
                         wallet.private_key, public_key_of(baowu_wallet))
    baowu_token = {"Authorization": f"Bearer {served.token('baowu')}"}
    answer = served.http.post(f"/v1/documents/{sha256}/readers", headers=baowu_token, json={
        "reader": "baowu", "keys": [wrapped_key_as_json(for_baowu)]})
    assert problem_of(answer, 403)["code"] == "may_not_share"
    answer = served.http.post(f"/v1/documents/{sha256}/readers", headers=baowu_token,
                              json={"reader": "baowu", "keys": []})
    assert problem_of(answer, 422)["code"] == "invalid_parameter"
    refused(DocumentFailure.not_a_reader, desks, "baowu", sha256)


def test_the_registry_shares_it_too(desks: Desks) -> None:
    sha256 = upload(desks)
    registry, wallet = desks["MEE"]
    assert registry.share_document(sha256, wallet, "cec") == 1
    assert read(desks, "cec", sha256) == DOCUMENT


def test_storing_it_again_is_the_same_document(desks: Desks) -> None:
    sha256 = upload(desks)
    assert upload(desks) == sha256
    assert read(desks, "MEE", sha256) == DOCUMENT
    # the same bytes from another emitter are refused, not filed under it
    baowu, wallet = desks["baowu"]
    with pytest.raises(DocumentError) as caught:
        baowu.upload_document(DOCUMENT, "application/json", wallet)
    assert caught.value.code is DocumentFailure.owned_by_another


def test_a_participant_without_a_published_key_is_told_to_publish_one(desks: Desks) -> None:
    served = desks.served
    onboard(served, "shougang", "emitter")
    client, wallet = desks["shougang"]
    with pytest.raises(ClientError, match="publish it first"):
        client.upload_document(DOCUMENT, "application/json", wallet)
    sha256 = upload(desks)
    owner, owner_wallet = desks["huaneng"]
    with pytest.raises(ClientError, match="shougang has published no document key"):
        owner.share_document(sha256, owner_wallet, "shougang")


def test_the_published_keys_are_public(desks: Desks) -> None:
    answer = desks.served.http.get("/v1/document-keys", params={"participant": "huaneng"})
    assert answer.status_code == 200, answer.text
    (key,) = answer.json()["items"]
    assert key["participant"] == "huaneng"
    assert key["address"] == desks.served.wallets["huaneng"].address
    everyone = desks.served.http.get("/v1/document-keys").json()["items"]
    assert {k["participant"] for k in everyone} == {"MEE", "huaneng", "baowu", "cec"}


def test_an_upload_must_be_a_sealed_document(desks: Desks) -> None:
    served = desks.served
    token = {"Authorization": f"Bearer {served.token('huaneng')}"}
    for body, status, code in (
            (b"{not json", 400, "malformed_document"),
            (b'{"media_type": "application/json"}', 422, "invalid_parameter"),
            (b"[]", 422, "invalid_parameter")):
        answer = served.http.post("/v1/documents", content=body, headers=token)
        assert problem_of(answer, status)["code"] == code
    unauthenticated = served.http.post("/v1/documents", content=b"{}")
    assert problem_of(unauthenticated, 401)["code"] == "token_required"


def test_the_service_keeps_ciphertext_only(desks: Desks) -> None:
    sha256 = upload(desks)
    store = desks.served.app.service.store
    with store.read() as tx:
        (ciphertext,) = tx.one("SELECT ciphertext FROM documents WHERE sha256 = :s",
                               {"s": sha256})
    assert b"77123.456" not in bytes(ciphertext) and len(ciphertext) == len(DOCUMENT) + 16


def test_in_process_the_client_seals_and_opens_the_same_way(desks: Desks) -> None:
    service = desks.served.app.service
    with Client(LocalTransport(service)) as local:
        wallet = desks.served.wallets["huaneng"]
        sha256 = local.upload_document(b"a,csv\r\n1,2\r\n", "text/csv", wallet)
        assert local.read_document(sha256, wallet) == b"a,csv\r\n1,2\r\n"
        with pytest.raises(DocumentError):
            local.read_document(sha256, desks.served.wallets["baowu"])
