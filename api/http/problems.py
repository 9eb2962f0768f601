"""Every failure as an RFC 9457 problem (application/problem+json): the named failures of the
application service keep their name (`reason` for a refusal, `code` for the rest) and get
their status here, from their type and code, never from their message.

No response carries a traceback, a driver's message or a path: a store failure says what its
code says, and anything unforeseen is logged and answered as a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from anchoring.auditor.errors import VerifyError
from anchoring.operator.errors import OperatorError, OperatorFailure
from api.group_commit import CommitterClosed
from api.inputs import DocumentError
from api.service import ServiceUnavailable
from ledger.errors import Reason, ReasonCode, Rejected
from ledger.request_errors import RequestRefused
from ledger.store.errors import StoreError, StoreFailure

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 1  # the store was out of reach: worth another try soon, not at once
log = logging.getLogger("carbonledger.http")

# Refusals that say the thing asked for exists already, or the signer's turn has passed:
# the request conflicts with the ledger's state (409). Every other refusal is 422.
CONFLICTS: frozenset[ReasonCode] = frozenset({
    Reason.instruction_id_reused, Reason.stale_nonce, Reason.ledger_already_initialized,
    Reason.participant_exists, Reason.account_exists, Reason.batch_exists, Reason.key_exists,
})



def is_conflict(reason: ReasonCode) -> bool:
    """409: a listed conflict, or any module's "<thing>_exists" (a pledge's, a lien's, ...),
    so that a module's reasons get the status their name says without editing this list."""
    return reason in CONFLICTS or reason.name.endswith("_exists")


# Store failures a client waits out (with Retry-After); the others are the server's to fix.
_STORE_UNAVAILABLE = frozenset({StoreFailure.unreachable, StoreFailure.connection_lost,
                                StoreFailure.outcome_unknown, StoreFailure.no_ledger})

_OPERATOR_STATUS = {
    OperatorFailure.not_checkpointed: 404,  # no checkpoint covers it (yet)
    OperatorFailure.pledge_not_found: 404,
    OperatorFailure.compliance_record_not_found: 404,
    OperatorFailure.retirement_not_found: 404,
    OperatorFailure.unit_not_found: 404,
    OperatorFailure.auction_not_found: 404,
    OperatorFailure.plan_not_found: 404,
    OperatorFailure.installation_allocation_not_found: 404,
    OperatorFailure.ledger_not_initialized: 503,
    OperatorFailure.operator_key_missing: 503,
    OperatorFailure.chain_unavailable: 503,
}


class RequestProblem(Exception):
    """A request the service cannot read: a body not JSON or too large, an unknown query
    parameter, an id that names nothing. `code` names it on the wire."""

    def __init__(self, status: int, code: str, title: str, detail: str = "") -> None:
        super().__init__(title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title


def problem(status: int, title: str, detail: str, *, reason: str | None = None,
            code: str | None = None, retryable: bool | None = None,
            headers: Mapping[str, str] | None = None) -> JSONResponse:
    name = reason or code or "about:blank"
    body: dict[str, Any] = {"type": f"urn:carbonledger:{'reason' if reason else 'code'}:{name}",
                            "title": title, "status": status, "detail": detail}
    if reason is not None:
        body["reason"] = reason
    if code is not None:
        body["code"] = code
    if retryable is not None:
        body["retryable"] = retryable
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def refusal(rejected: Rejected) -> JSONResponse:
    status = 409 if is_conflict(rejected.reason) else 422
    return problem(status, rejected.reason.message, rejected.detail or rejected.reason.message,
                   reason=rejected.reason.name, retryable=rejected.retryable)


def _store_failure(failure: StoreError) -> JSONResponse:
    # the code's message says what to do; the detail (a driver's words) stays in the log
    log.warning("store failure: %s", failure)
    if failure.code in _STORE_UNAVAILABLE:
        return problem(503, "the ledger's store is unavailable", failure.code.message,
                       code=failure.code.name, retryable=failure.code.retryable,
                       headers={"Retry-After": str(RETRY_AFTER_S)}
                       if failure.code.retryable else None)
    return problem(500, "the ledger's store failed", failure.code.message,
                   code=failure.code.name, retryable=False)


def _operator_failure(failure: OperatorError) -> JSONResponse:
    status = _OPERATOR_STATUS.get(failure.code, 500)
    if status >= 500:
        log.error("operator failure: %s", failure)
    detail = str(failure) if status < 500 else failure.code.message
    return problem(status, failure.code.message, detail, code=failure.code.name,
                   retryable=failure.code.retryable)


def _verify_failure(failure: VerifyError) -> JSONResponse:
    # the service checks each bundle before handing it out: one that fails is the server's
    log.error("a bundle failed its own check: %s", failure)
    return problem(500, "the proof does not verify", failure.code.message,
                   code=failure.code.name, retryable=False)


def install(app: FastAPI) -> None:
    """Answer every failure of `app` as a problem."""

    async def rejected(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Rejected)
        return refusal(exc)

    async def request_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestProblem)
        return problem(exc.status, exc.title, exc.detail, code=exc.code, retryable=False)

    async def refused_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestRefused)
        return problem(exc.code.status, exc.code.message, str(exc), code=exc.code.name,
                       retryable=False)

    async def document(_: Request, exc: Exception) -> JSONResponse:
        return problem(400, "the body is not a document the ledger reads", str(exc),
                       code="malformed_document", retryable=False)

    async def store(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StoreError)
        return _store_failure(exc)

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        return problem(503, "the service lacks a part this request needs", str(exc),
                       code="service_unavailable", retryable=False)

    async def closing(_: Request, exc: Exception) -> JSONResponse:
        return problem(503, "the service is shutting down", str(exc), code="shutting_down",
                       retryable=True, headers={"Retry-After": "1"})

    async def operator(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OperatorError)
        return _operator_failure(exc)

    async def verify(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, VerifyError)
        return _verify_failure(exc)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem(422, "a parameter is missing or not of its type",
                       "; ".join(_said(error) for error in exc.errors()),
                       code="invalid_parameter", retryable=False)

    async def http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        title = str(exc.detail) if isinstance(exc.detail, str) else "request failed"
        return problem(exc.status_code, title, title, code=code, retryable=False,
                       headers=exc.headers)

    async def unforeseen(_: Request, exc: Exception) -> JSONResponse:
        # the server logs the traceback too (Starlette raises the failure on after answering)
        log.error("unforeseen failure: %r", exc)
        return problem(500, "internal error", "the service failed; the failure is logged",
                       code="internal_error", retryable=False)

    handlers = {Rejected: rejected, RequestProblem: request_problem,
                RequestRefused: refused_request, DocumentError: document,
                StoreError: store, ServiceUnavailable: unavailable, CommitterClosed: closing,
                OperatorError: operator,
                VerifyError: verify, RequestValidationError: invalid, HTTPException: http,
                Exception: unforeseen}
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def _said(error: Any) -> str:
    """A validation error in a line: where, and what (pydantic's message; never the input)."""
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}"
