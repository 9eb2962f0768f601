"""Public documents over HTTP and through the client: a project owner stores its design
document with a token (who stored it is recorded); anyone reads it without one, served with
its media type, and the served bytes hash to the name; problems are RFC 9457. The client
checks what it receives against the hash it asked for."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.client import Client, HttpTransport
from projects.public_documents import (
    MAX_PUBLIC_DOCUMENT_BYTES,
    PublicDocumentError,
    PublicDocumentFailure,
)
from tests.api.http.conftest import Served, market, problem_of

PDD = b"%PDF-1.7\nProject design document: Gansu Jiuquan wind farm, phase II\n%%EOF\n"
PDD_SHA256 = "0x" + hashlib.sha256(PDD).hexdigest()
ROUTE = "/v1/public-documents"


@pytest.fixture
def huaneng(reader: Served) -> Iterator[tuple[Served, Client]]:
    """The market of the HTTP tests, and a client over it."""
    served = market(reader)
    with Client(HttpTransport("http://testserver", http=served.http)) as client:
        yield served, client


def test_a_token_stores_anyone_reads_and_the_bytes_hash_to_the_name(
        huaneng: tuple[Served, Client]) -> None:
    served, _ = huaneng
    problem = problem_of(served.http.post(ROUTE, content=PDD,
                                          headers={"content-type": "application/pdf"}), 401)
    assert problem["code"] == "token_required"
    assert problem_of(served.http.get(f"{ROUTE}/{PDD_SHA256}"), 404)["code"] \
        == "unknown_public_document"  # nothing was kept

    served.login("huaneng")
    answer = served.http.post(ROUTE, content=PDD, headers={"content-type": "application/pdf"})
    assert answer.status_code == 200, answer.text
    stored = answer.json()
    assert stored["sha256"] == PDD_SHA256 and stored["size"] == len(PDD)
    assert stored["stored_by"] == "huaneng" and stored["new"] is True
    served.login("MEE")  # the same bytes again: nothing changes, huaneng stays recorded
    again = served.http.post(ROUTE, content=PDD, headers={"content-type": "text/plain"}).json()
    assert again == {**stored, "new": False}

    served.logout()
    read = served.http.get(f"{ROUTE}/{PDD_SHA256}")
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/pdf"
    assert read.headers["x-content-type-options"] == "nosniff"
    assert "0x" + hashlib.sha256(read.content).hexdigest() == PDD_SHA256
    text_document = b"Comment period notice: GANSU-WIND\n"
    served.login("huaneng")
    named = served.http.post(ROUTE, content=text_document,
                             headers={"content-type": "text/plain"}).json()["sha256"]
    assert served.logout().http.get(f"{ROUTE}/{named}").headers["content-type"] == "text/plain"


def test_refusals_are_problems_and_keep_nothing(huaneng: tuple[Served, Client]) -> None:
    served, _ = huaneng
    served.login("huaneng")
    too_large = b"x" * (MAX_PUBLIC_DOCUMENT_BYTES + 1)
    for body, media_type, status, code in (
            (too_large, "application/pdf", 413, "public_document_too_large"),
            (b"", "application/pdf", 422, "empty_public_document"),
            (PDD, "pdf", 422, "bad_media_type")):
        answer = served.http.post(ROUTE, content=body, headers={"content-type": media_type})
        assert problem_of(answer, status)["code"] == code
    assert problem_of(served.http.get(f"{ROUTE}/{PDD_SHA256}"), 404)["code"] \
        == "unknown_public_document"
    assert problem_of(served.http.get(f"{ROUTE}/0xABC"), 422)["code"] == "invalid_parameter"


def test_the_client_stores_as_its_login_and_checks_what_it_reads(
        huaneng: tuple[Served, Client]) -> None:
    served, client = huaneng
    assert client.upload_public_document(PDD, "application/pdf",
                                         served.wallets["huaneng"]) == PDD_SHA256
    kept = served.app.service.public_document(PDD_SHA256).described
    assert (kept.stored_by, kept.media_type) == ("huaneng", "application/pdf")
    with Client(HttpTransport("http://testserver", http=served.http)) as anyone:
        assert anyone.public_document(PDD_SHA256) == PDD  # no login
        with pytest.raises(PublicDocumentError) as unknown:
            anyone.public_document("0x" + "00" * 32)
        assert unknown.value.code is PublicDocumentFailure.unknown_public_document


def test_bytes_that_are_not_the_named_document_are_never_handed_out(
        huaneng: tuple[Served, Client]) -> None:
    served, client = huaneng
    client.upload_public_document(PDD, "application/pdf", served.wallets["huaneng"])
    with served.app.service.store.engine.begin() as connection:  # an insider edits the kept bytes
        connection.execute(text("UPDATE public_documents SET content = :forged"),
                           {"forged": PDD.replace(b"phase II", b"phase IX")})
    served.logout()
    assert problem_of(served.http.get(f"{ROUTE}/{PDD_SHA256}"), 500)["code"] == "hash_mismatch"
    with pytest.raises(PublicDocumentError) as refused:
        client.public_document(PDD_SHA256)
    assert refused.value.code is PublicDocumentFailure.hash_mismatch

    # a server that answers other bytes than those named (not this one) is caught by the
    # client itself
    lying = FastAPI()

    @lying.get("/v1/public-documents/{sha256}")
    def other_bytes(sha256: str) -> Response:
        return Response(b"another document", media_type="application/pdf")

    with TestClient(lying) as http, \
            Client(HttpTransport("http://testserver", http=http)) as misled, \
            pytest.raises(PublicDocumentError) as mismatch:
        misled.public_document(PDD_SHA256)
    assert mismatch.value.code is PublicDocumentFailure.hash_mismatch
