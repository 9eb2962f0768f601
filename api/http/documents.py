"""Confidential documents over HTTP: sealed monthly data and reports, kept beside the journal
(compliance/documents.py), and the public keys they are sealed for.

    POST /v1/documents                  the token's participant stores a sealed document
    GET  /v1/documents/{sha256}         a reader fetches it, with its own wrapped keys
    POST /v1/documents/{sha256}/readers the owner or the registry shares it with a reader
    GET  /v1/document-keys              the published document keys (public)

The service never sees a plaintext: the client seals before it uploads and opens after it
fetches (api/client/client.py), and checks the SHA-256 the journal names. A document that
does not exist and one the participant may not read are told apart (404, 403): its hash is
in the journal for anyone to see, only its content is kept from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.access import ReadPolicy, Viewer
from api.http.auth import ViewerOf
from api.http.problems import RequestProblem
from api.http.responses import problem_responses
from api.http.routing import StrictRoute
from api.inputs import DocumentError as UnreadableBody
from api.inputs import parse_document
from api.service import LedgerService
from compliance.documents import MAX_DOCUMENT_BYTES, MAX_READERS
from compliance.sealing import (
    FORMAT,
    SealError,
    sealed_as_json,
    sealed_from_json,
    wrapped_key_from_json,
)

# The sealed document as hex, its wrapped keys, and the JSON around them.
MAX_BODY_BYTES = 2 * (MAX_DOCUMENT_BYTES + 16) + 256 * MAX_READERS + 4096
_SHA256 = r"^0x[0-9a-f]{64}$"
_HEX = r"^0x([0-9a-f]{2})*$"
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_EXAMPLE_HASH = "0x" + "3f" * 32
_EXAMPLE_ADDRESS = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
_EXAMPLE_KEY = {"address": _EXAMPLE_ADDRESS, "ephemeral_public_key": "0x02" + "a1" * 32,
                "wrapped_key": "0x" + "5c" * 60}
_EXAMPLE_SEALED = {"format": FORMAT, "sha256": _EXAMPLE_HASH, "nonce": "0x" + "0b" * 12,
                   "ciphertext": "0x" + "e4" * 40, "readers": [_EXAMPLE_KEY]}
Sha256 = Annotated[str, Path(pattern=_SHA256, description="the document's SHA-256: 0x and 64 "
                                                          "lower-case hex digits")]


def _strict(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


class WrappedKey(BaseModel):
    """The document's key wrapped for one reader's published key (ECIES on secp256k1)."""

    model_config = _strict(_EXAMPLE_KEY)

    address: str = Field(pattern=_ADDRESS, description="the reader key's address")
    ephemeral_public_key: str = Field(pattern=r"^0x0[23][0-9a-f]{64}$")
    wrapped_key: str = Field(pattern=r"^0x[0-9a-f]{120}$",
                             description="AES-GCM nonce and ciphertext of the document key")


class SealedDocument(BaseModel):
    """A document sealed as carbonledger-sealed/1 (compliance/sealing.py)."""

    model_config = _strict(_EXAMPLE_SEALED)

    format: str = Field(pattern=f"^{FORMAT}$")
    sha256: str = Field(pattern=_SHA256, description="the plaintext's SHA-256")
    nonce: str = Field(pattern=r"^0x[0-9a-f]{24}$")
    ciphertext: str = Field(pattern=_HEX, max_length=2 * (MAX_DOCUMENT_BYTES + 16) + 2)
    readers: list[WrappedKey] = Field(min_length=1, max_length=MAX_READERS)


class Upload(BaseModel):
    """A sealed document to store, owned by the token's participant."""

    model_config = _strict({"media_type": "application/json", "sealed": _EXAMPLE_SEALED})

    media_type: str = Field(pattern=r"^[a-z]+/[A-Za-z0-9.+-]{1,80}$",
                            description="application/json or text/csv")
    sealed: SealedDocument


class Share(BaseModel):
    """The document's key wrapped for each published key of `reader`."""

    model_config = _strict({"reader": "verifier-1", "keys": [_EXAMPLE_KEY]})

    reader: str = Field(pattern=_ID, description="the participant to share it with")
    keys: list[WrappedKey] = Field(min_length=1, max_length=MAX_READERS)


class Stored(BaseModel):
    """A stored document: `new` is false when it was stored before (nothing changed)."""

    model_config = _strict({"sha256": _EXAMPLE_HASH, "owner": "huaneng",
                            "media_type": "application/json",
                            "stored_at": "2026-06-01T09:00:00.000Z",
                            "readers": ["MEE", "huaneng"], "new": True})

    sha256: str
    owner: str
    media_type: str
    stored_at: str
    readers: list[str] = Field(description="the participants it is readable by")
    new: bool


class Fetched(BaseModel):
    """A stored document as one reader receives it: its own wrapped keys only."""

    model_config = _strict({"sha256": _EXAMPLE_HASH, "owner": "huaneng",
                            "media_type": "application/json",
                            "stored_at": "2026-06-01T09:00:00.000Z",
                            "sealed": _EXAMPLE_SEALED})

    sha256: str
    owner: str
    media_type: str
    stored_at: str
    sealed: SealedDocument


class Shared(BaseModel):
    model_config = _strict({"sha256": _EXAMPLE_HASH, "reader": "verifier-1", "added": 1,
                            "readers": ["MEE", "huaneng", "verifier-1"]})

    sha256: str
    reader: str
    added: int = Field(description="keys newly wrapped for the reader (0: all were before)")
    readers: list[str]


class DocumentKey(BaseModel):
    model_config = _strict({"participant": "huaneng", "address": _EXAMPLE_ADDRESS,
                            "public_key": "0x02" + "a1" * 32, "published_seq": 7})

    participant: str
    address: str
    public_key: str = Field(description="compressed secp256k1, 0x and 33 bytes of hex")
    published_seq: int


class DocumentKeys(BaseModel):
    model_config = _strict({"items": [{"participant": "huaneng", "address": _EXAMPLE_ADDRESS,
                                       "public_key": "0x02" + "a1" * 32,
                                       "published_seq": 7}]})

    items: list[DocumentKey]


def documents_router(service: LedgerService, viewer_of: ViewerOf, policy: ReadPolicy
                     ) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute, tags=["documents"])
    token = Depends(viewer_of)
    guarded = problem_responses(400, 401, 403, 404, 409, 413, 422, 503)

    def viewer_for(viewer: Viewer | None, what: str) -> Viewer:
        return policy.require_viewer(viewer, what)

    @router.post("/documents", response_model=Stored, responses=guarded,
                 openapi_extra=_body(Upload))
    def upload(request_body: bytes = Depends(_bounded_body),
               viewer: Viewer | None = token) -> Stored:
        """Store a sealed document; the token's participant is its owner. Seal it first for
        your own published key and the registry's (the client does), so that you and the
        registry can read it. Content addressed: storing it again changes nothing."""
        owner = viewer_for(viewer, "storing a document").participant
        upload = _parsed(Upload, request_body)
        with _refusals():
            document, new = service.store_sealed(
                owner, sealed_from_json(upload.sealed.model_dump()), upload.media_type)
            readers = _readers(service, document.sha256)
        return Stored(**document._asdict(), readers=readers, new=new)

    @router.get("/documents/{sha256}", response_model=Fetched, responses=guarded)
    def fetch(sha256: Sha256, viewer: Viewer | None = token) -> Fetched:
        """A stored document, sealed, with the keys wrapped for the token's participant: to
        its readers only (its owner, the registry, whoever it was shared with). Open it
        with your key and check its SHA-256 (the client does both)."""
        reader = viewer_for(viewer, f"document {sha256}").participant
        with _refusals():
            document, sealed = service.sealed_document(sha256, reader)
        return Fetched(sha256=document.sha256, owner=document.owner,
                       media_type=document.media_type, stored_at=document.stored_at,
                       sealed=SealedDocument(**sealed_as_json(sealed)))

    @router.post("/documents/{sha256}/readers", response_model=Shared, responses=guarded,
                 openapi_extra=_body(Share))
    def share(sha256: Sha256, request_body: bytes = Depends(_bounded_body),
              viewer: Viewer | None = token) -> Shared:
        """Share a document with a reader chosen later (the emitter's verifier): the owner
        or the registry wraps the document's key for each of the reader's published keys."""
        by = viewer_for(viewer, f"sharing document {sha256}").participant
        shared = _parsed(Share, request_body)
        with _refusals():
            keys = [wrapped_key_from_json(k.model_dump()) for k in shared.keys]
            added = service.share_document(sha256, by, shared.reader, keys)
            readers = _readers(service, sha256)
        return Shared(sha256=sha256, reader=shared.reader, added=added, readers=readers)

    @router.get("/document-keys", response_model=DocumentKeys,
                responses=problem_responses(400, 422, 503))
    def document_keys(participant: Annotated[str | None, Query(min_length=1, max_length=128)]
                      = None) -> DocumentKeys:
        """The public keys participants published for documents to be sealed for (of one
        participant). Public, like the signing keys they are."""
        return DocumentKeys(items=[DocumentKey(**k._asdict())
                                   for k in service.document_keys(participant)])

    return router


def _readers(service: LedgerService, sha256: str) -> list[str]:
    from compliance.documents import readers

    return readers(service.store, sha256)


@contextmanager
def _refusals() -> Iterator[None]:
    """A sealed document that is not one as a 422 problem (compliance.sealing.SealFailure);
    a refused request (compliance.documents.DocumentFailure) is answered by the app's own
    handler (api/http/problems.py)."""
    try:
        yield
    except SealError as error:
        raise RequestProblem(422, error.code.name, error.code.message, str(error)) from error


async def _bounded_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise RequestProblem(413, "body_too_large", "the body is too large",
                                 f"a document body is at most {MAX_BODY_BYTES} bytes (a "
                                 f"document of {MAX_DOCUMENT_BYTES} bytes, sealed)")
    return bytes(body)


def _parsed(model: type[Any], body: bytes) -> Any:
    try:
        document = parse_document(body.decode("utf-8"))
    except (UnicodeDecodeError, UnreadableBody) as exc:
        raise RequestProblem(400, "malformed_document", "the body is not a JSON document",
                             f"the body is not JSON the service reads ({exc})") from exc
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        said = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors())
        raise RequestProblem(422, "invalid_parameter", "the body is not of its type",
                             said) from exc


def _body(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    (example,) = schema.pop("examples")
    schema.pop("$defs", None)  # the nested models are components: `Fetched` names them
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": schema, "example": example}}}}
