"""How answers are written: JSON bodies serialized once (orjson), and the problem responses
each route declares in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

from api.http.problems import PROBLEM_JSON

_WHEN = {
    400: "The request cannot be read: a body that is not JSON (or nests too deeply, or names "
         "a key twice), an unknown or repeated query parameter",
    401: "No token, or one that is not valid (expired, changed, another service's, its key "
         "revoked), or a login that fails: log in (POST /v1/auth/challenge, then "
         "/v1/auth/token) and send `Authorization: Bearer TOKEN`",
    403: "The token's participant may not read this: it is not its account, nor one it "
         "holds an active pledge or open repo on, nor its agreement",
    404: "Nothing has this id, or no checkpoint covers what was asked for yet",
    409: "The instruction conflicts with the ledger: its id was used for another "
         "instruction, its nonce is stale, or what it creates exists already",
    413: "The body is larger than the service accepts",
    422: "The instruction was refused (`reason` names why), or a parameter is not of its type",
    500: "The service failed; the failure is logged",
    503: "The store is out of reach (see Retry-After), or the service lacks a part",
}


def json_response(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of a route's problems (500 always)."""
    return {status: {"description": _WHEN[status], "content": {PROBLEM_JSON: {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}
        for status in (*statuses, 500)}
