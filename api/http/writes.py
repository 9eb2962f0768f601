"""`POST /v1/instructions`: one signed instruction, or an array applied in one transaction.

The body is read here, bounded (413 over the limit), and parsed by api.inputs.parse_document,
the reader every interface uses for a document from outside: bounded nesting, duplicate keys
refused. FastAPI's own body parsing never sees an instruction. A write is authenticated by
the instruction's own signatures; the committer blocks until its transaction is durable.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

import api.http.schemas as schemas
from api.http.committer import Committer
from api.http.problems import RequestProblem
from api.http.responses import json_response, problem_responses
from api.http.routing import StrictRoute
from api.inputs import parse_document
from ledger.errors import Rejected

_ONE = schemas.SignedInstruction.model_json_schema()["examples"][0]


def writes_router(committer: Committer, max_body_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute, tags=["instructions"])

    async def bounded_body(request: Request) -> bytes:
        """The body, refused as soon as it is known to be over the limit (before it is read
        when it declares its length)."""
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            raise _too_large(max_body_bytes)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body_bytes:
                raise _too_large(max_body_bytes)
        return bytes(body)

    @router.post(
        "/instructions", summary="Submit signed instructions",
        response_model=schemas.Accepted | schemas.Results,
        responses={**problem_responses(400, 409, 413, 422, 503),
                   200: {"description": "The receipt of the instruction, or for an array "
                                        "a receipt or a refusal of each, in order"}},
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"oneOf": [
                {"$ref": "#/components/schemas/SignedInstruction"},
                {"type": "array", "items": {"$ref": "#/components/schemas/SignedInstruction"}},
            ]},
            "examples": {"one": {"summary": "one signed instruction", "value": _ONE},
                         "array": {"summary": "several, in one transaction",
                                   "value": [_ONE]}}}}}})
    def submit(body: bytes = Depends(bounded_body)) -> Response:
        """One signed instruction (`SignedInstruction.as_json()`): its receipt, or a problem
        naming why it was refused (409 for a conflict: a reused id, a stale nonce, something
        that exists already; 422 for the other refusals). A JSON array of them is applied in
        one transaction: a receipt or a refusal for each, and a refusal refuses nothing
        else. Submitting an instruction again answers with its first receipt, `duplicate`."""
        document = parse_document(_text(body))
        if isinstance(document, list):
            results = committer.submit_many(document)
            return json_response({"results": [_result(r) for r in results]})
        result = committer.submit(document)
        if isinstance(result, Rejected):
            raise result
        return json_response({"receipt": result.as_dict()})

    return router


def _result(result: Any) -> dict[str, Any]:
    if isinstance(result, Rejected):
        return {"refused": result.as_dict()}
    return {"receipt": result.as_dict()}


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestProblem(400, "malformed_document", "the body is not UTF-8 text",
                             f"the body is not UTF-8 (byte {exc.start}): send the "
                             "instruction's JSON as UTF-8") from exc


def _too_large(limit: int) -> RequestProblem:
    return RequestProblem(413, "body_too_large", "the body is too large",
                          f"the body is larger than {limit:,} bytes: submit fewer "
                          "instructions per request")

