"""Logging in over HTTP, and who sends a read: `POST /v1/auth/challenge`, `POST
/v1/auth/token` (api/access.py's `Sessions`), the bearer token of each request read into a
`Viewer`, and a refusal answered as a problem (401 with `WWW-Authenticate: Bearer`, or 403).

A login body is read like an instruction (bounded, duplicate keys refused; api/inputs.py) and
then checked strictly against `schemas.LoginRequest`: a field it does not name is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

import api.http.schemas as schemas
from api.access import LOGIN, AccessDenied, Denial, Sessions, Viewer
from api.http.problems import RequestProblem, problem
from api.http.responses import problem_responses
from api.http.routing import StrictRoute
from api.inputs import DocumentError, parse_document

MAX_LOGIN_BODY_BYTES = 4096  # a login is four short fields
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                     description="A token from POST /v1/auth/token")

ViewerOf = Callable[..., Viewer | None]


def viewer_of(sessions: Sessions) -> ViewerOf:
    """A route dependency of the reads that need a token: the viewer the request's bearer
    token names (None: no token, which the read policy refuses). A token that is not valid is
    refused (401) here. Public reads do not look at the token at all."""

    def viewer(credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
               ) -> Viewer | None:
        return None if credentials is None else sessions.viewer(credentials.credentials)

    return viewer


def auth_router(sessions: Sessions) -> APIRouter:
    router = APIRouter(prefix="/v1/auth", route_class=StrictRoute, tags=["auth"])
    types = {"Login": [{"name": name, "type": kind} for name, kind in LOGIN.fields]}

    @router.post("/challenge", response_model=schemas.Challenge,
                 responses=problem_responses(400, 413, 422, 503))
    def challenge(body: bytes = Depends(_bounded_body)) -> schemas.Challenge:
        """A login challenge (no body, or `{}`). Sign the `Login` struct it describes with
        one of your registered keys and redeem it at POST /v1/auth/token before it expires."""
        if body.strip() and _document(body) != {}:
            raise RequestProblem(422, "unexpected_body", "a challenge is asked for without a "
                                 "body", "send no body (or {}) to POST /v1/auth/challenge")
        issued, expires = sessions.challenge()
        return schemas.Challenge(challenge="0x" + issued.hex(), expires=expires,
                                 domain=schemas.SigningDomain(**sessions.domain.as_dict()),
                                 primary_type="Login",
                                 types=types)

    @router.post("/token", response_model=schemas.Token,
                 responses=problem_responses(400, 401, 413, 422, 503),
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": _login_body()}}})
    def token(body: bytes = Depends(_bounded_body)) -> schemas.Token:
        """A bearer token for the participant whose key signed the challenge (each challenge
        once, before it expires). Send it as `Authorization: Bearer TOKEN`."""
        login = _login(body)
        issued, viewer = sessions.token(bytes.fromhex(login.challenge[2:]), login.participant,
                                        login.expires, bytes.fromhex(login.signature[2:]))
        return schemas.Token(token=issued, participant=viewer.participant, role=viewer.role,
                             expires=viewer.expires)

    return router


def install(app: FastAPI) -> None:
    """Answer a refused login or read as a problem: 401 asks for a (new) token."""

    async def denied(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AccessDenied)
        headers = None
        if exc.status == 401:
            error = "" if exc.denial is Denial.token_required else ', error="invalid_token"'
            headers = {"WWW-Authenticate": f'Bearer realm="carbonledger"{error}'}
        return problem(exc.status, exc.denial.title, exc.detail, code=exc.denial.name,
                       retryable=False, headers=headers)

    app.add_exception_handler(AccessDenied, denied)


async def _bounded_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY_BYTES:
            raise RequestProblem(413, "body_too_large", "the body is too large",
                                 f"a login body is at most {MAX_LOGIN_BODY_BYTES} bytes")
    return bytes(body)


def _document(body: bytes) -> Any:
    try:
        return parse_document(body.decode("utf-8"))
    except (UnicodeDecodeError, DocumentError) as exc:
        raise RequestProblem(400, "malformed_document", "the body is not a JSON document",
                             f"the body is not JSON the service reads ({exc}): send "
                             "the login's JSON object as UTF-8") from exc


def _login(body: bytes) -> schemas.LoginRequest:
    try:
        return schemas.LoginRequest.model_validate(_document(body))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]) from exc


def _login_body() -> dict[str, Any]:
    schema = schemas.LoginRequest.model_json_schema()
    (example,) = schema.pop("examples")
    return {"schema": schema, "example": example}
