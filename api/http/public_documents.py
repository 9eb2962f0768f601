"""Public documents of the project cycle over HTTP: project design documents, kept as is
beside the journal (projects/public_documents.py), by the SHA-256 of their bytes.

    POST /v1/public-documents           the token's participant stores one (the raw bytes,
                                        with their Content-Type): its SHA-256
    GET  /v1/public-documents/{sha256}  anyone reads it, served with its media type

Storing needs a token because whoever stores a document is recorded; reading needs none: a
design document is public during its comment period and after. A reader checks the bytes
against the name it asked for (the client does).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from api.access import ReadPolicy, Viewer
from api.http.auth import ViewerOf
from api.http.responses import problem_responses
from api.http.routing import StrictRoute
from api.service import LedgerService
from projects.public_documents import (
    MAX_PUBLIC_DOCUMENT_BYTES,
    PublicDocumentError,
    PublicDocumentFailure,
    check_size,
)

_SHA256 = r"^0x[0-9a-f]{64}$"
_EXAMPLE_HASH = "0x" + "3f" * 32
_BYTES = {"schema": {"type": "string", "format": "binary"}}
Sha256 = Annotated[str, Path(pattern=_SHA256, description="the document's SHA-256: 0x and 64 "
                                                          "lower-case hex digits")]


class StoredPublicDocument(BaseModel):
    """A stored public document: `new` is false when the same bytes were stored before
    (nothing changed; `stored_by` is whoever stored them first)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "sha256": _EXAMPLE_HASH, "media_type": "application/pdf", "size": 482113,
        "stored_by": "windfarm", "stored_at": "2026-06-01T09:00:00.000Z", "new": True}]})

    sha256: str
    media_type: str
    size: int
    stored_by: str
    stored_at: str
    new: bool


def public_documents_router(service: LedgerService, viewer_of: ViewerOf,
                            policy: ReadPolicy) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute, tags=["public documents"])
    token = Depends(viewer_of)

    @router.post("/public-documents", response_model=StoredPublicDocument,
                 responses=problem_responses(400, 401, 413, 422, 503),
                 openapi_extra={"requestBody": {"required": True, "description": (
                     "the document's bytes as they are; its Content-Type is kept and served "
                     "back (any type/subtype)"), "content": {
                         "application/pdf": _BYTES, "application/octet-stream": _BYTES}}})
    async def upload(request: Request, viewer: Viewer | None = token
                     ) -> StoredPublicDocument:
        """Store a public document (a project design document) as it is: its SHA-256 is what
        `project_submit` journals. The token's participant is recorded as who stored it.
        Content addressed: storing the same bytes again changes nothing."""
        owner = policy.require_viewer(viewer, "storing a public document").participant
        media_type = request.headers.get("content-type", "")
        data = await _bounded_body(request)
        # the store blocks: in the thread pool, as the plain routes run
        document, new = await run_in_threadpool(service.store_public_document, owner, data,
                                                media_type)
        return StoredPublicDocument(**document._asdict(), new=new)

    @router.get("/public-documents/{sha256}", response_class=Response,
                responses={200: {"description": "the document's bytes, with its media type",
                                 "content": {"*/*": _BYTES}},
                           **problem_responses(400, 404, 422, 503)})
    def fetch(sha256: Sha256) -> Response:
        """A public document's bytes, served with the media type it was stored with. Public:
        no token. Check that they hash to the name you asked for (the client does)."""
        document = service.public_document(sha256)
        return Response(document.content, headers={
            # as stored (Starlette's media_type would add a charset to a text/* type)
            "content-type": document.described.media_type,
            # served as data, never run as a page of this origin, whatever its type says
            "x-content-type-options": "nosniff", "content-security-policy": "sandbox",
            "content-disposition": f'inline; filename="{sha256}"'})

    return router


async def _bounded_body(request: Request) -> bytes:
    """The body, read no further than the largest document allowed."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_PUBLIC_DOCUMENT_BYTES:
        check_size(int(declared))  # refused before a byte is read
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PUBLIC_DOCUMENT_BYTES:
            raise PublicDocumentError(PublicDocumentFailure.public_document_too_large,
                                      f"more than {MAX_PUBLIC_DOCUMENT_BYTES} bytes sent")
    return bytes(body)
