"""`POST /v1/instructions`: one signed instruction, or an array applied in one transaction.

The body is read here, bounded (413 over the limit), and parsed by api.inputs.parse_document,
the reader every interface uses for a document from outside: bounded nesting, duplicate keys
refused. FastAPI's own body parsing never sees an instruction. A write is authenticated by
the instruction's own signatures; the answer waits until its transaction is durable.

The route is a coroutine: it reads and parses the body on the event loop (a large body in a
worker thread, so that the loop is not held while it parses) and awaits the committer, whose
writer thread answers the loop directly. A request costs no thread-pool hop, which under the
GIL was a good part of the server's time per transfer (bench/api_load.py).

`install_writes` also puts `DirectWrites` in front of the app's routing: a POST to exactly
/v1/instructions, without a query, is answered there by the same `answer` as the route's,
and a failure by the app's own problem handlers; FastAPI's routing, dependency solving and
request objects, some 80 microseconds a request, are skipped. Anything else (a query to
refuse, another path or method) goes on to the app, and the route stays what the OpenAPI
document describes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

import api.http.schemas as schemas
from api.http.committer import Committer
from api.http.problems import RequestProblem
from api.http.responses import json_response, problem_responses
from api.http.routing import StrictRoute
from api.inputs import parse_document
from ledger.errors import Rejected

_ONE = schemas.SignedInstruction.model_json_schema()["examples"][0]
# A body up to this size is parsed on the event loop (a signed transfer is ~1 KB and parses
# in tens of microseconds); a larger one, an array of many, in a worker thread.
PARSE_ON_LOOP_BYTES = 64 * 1024
PATH = "/v1/instructions"
Answer = Callable[[bytes], Awaitable[Response]]


def install_writes(app: FastAPI, committer: Committer, max_body_bytes: int) -> None:
    """The write route, and `DirectWrites` answering it ahead of the app's routing."""
    answer = answerer(committer)
    app.include_router(writes_router(answer, max_body_bytes))
    app.add_middleware(DirectWrites, problems_of=app, answer=answer,
                       max_body_bytes=max_body_bytes)


def answerer(committer: Committer) -> Answer:
    """What a body (read whole, within the limit) is answered with: receipts, refusals or a
    problem (raised, for the app's handlers)."""

    async def answer(body: bytes) -> Response:
        document = (parse_document(_text(body)) if len(body) <= PARSE_ON_LOOP_BYTES
                    else await run_in_threadpool(lambda: parse_document(_text(body))))
        if isinstance(document, list):
            results = await committer.submit_many_async(document)
            return json_response({"results": [_result(r) for r in results]})
        (result,) = await committer.submit_many_async([document])
        if isinstance(result, Rejected):
            raise result
        return json_response({"receipt": result.as_dict()})

    return answer


async def read_bounded(declared: str | None, chunks: AsyncIterator[bytes],
                       max_body_bytes: int) -> bytes:
    """The body, refused as soon as it is known to be over the limit (before it is read when
    it declares its length)."""
    if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
        raise _too_large(max_body_bytes)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_body_bytes:
            raise _too_large(max_body_bytes)
    return bytes(body)


def writes_router(answer: Answer, max_body_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute, tags=["instructions"])

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
    async def submit(request: Request) -> Response:
        """One signed instruction (`SignedInstruction.as_json()`): its receipt, or a problem
        naming why it was refused (409 for a conflict: a reused id, a stale nonce, something
        that exists already; 422 for the other refusals). A JSON array of them is applied in
        one transaction: a receipt or a refusal for each, and a refusal refuses nothing
        else. Submitting an instruction again answers with its first receipt, `duplicate`."""
        body = await read_bounded(request.headers.get("content-length"), request.stream(),
                                  max_body_bytes)
        return await answer(body)

    return router


class DirectWrites:
    """ASGI middleware: POST /v1/instructions without a query, answered by `answer` with the
    route's limit; a failure is answered by the handler `problems_of` (the app) has for it,
    as the route's would be. A failure no handler names but the catch-all is raised on, to
    the app's server-error handling, which logs it and answers 500 as it does for a route."""

    def __init__(self, app: ASGIApp, *, problems_of: FastAPI, answer: Answer,
                 max_body_bytes: int) -> None:
        self.app = app
        self._problems_of = problems_of
        self._answer = answer
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST" \
                or scope["query_string"]:
            await self.app(scope, receive, send)
            return
        declared = next((value.decode("latin-1") for name, value in scope["headers"]
                         if name == b"content-length"), None)
        try:
            body = await read_bounded(declared, _chunks(receive), self._max_body_bytes)
            response = await self._answer(body)
        except ClientDisconnect:
            return  # nobody to answer; nothing was submitted
        except Exception as failure:
            handler = self._handler(failure)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), failure)
        await response(scope, receive, send)

    def _handler(self, failure: Exception) -> Any:
        handlers = self._problems_of.exception_handlers
        for kind in type(failure).__mro__:
            if kind is Exception:
                return None
            if kind in handlers:
                return handlers[kind]
        return None


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


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

