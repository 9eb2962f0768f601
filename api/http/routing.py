"""How the service's routes read their query: strictly."""

from __future__ import annotations

import typing
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from api.http.problems import RequestProblem


class StrictRoute(APIRoute):
    """A route that refuses query parameters it does not declare, and a parameter given twice
    unless it is a list: a misspelt filter must not quietly widen a query."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        fields = self.dependant.query_params
        declared = {field.alias for field in fields}
        repeatable = {field.alias for field in fields
                      if typing.get_origin(field.field_info.annotation) is list}

        async def strict(request: Request) -> Response:
            for name in request.query_params:
                if name not in declared:
                    expected = ", ".join(sorted(declared)) or "none"
                    raise RequestProblem(
                        400, "unknown_parameter", "the request names an unknown parameter",
                        f"unknown query parameter {name!r} (this route takes: {expected})")
                if name not in repeatable and len(request.query_params.getlist(name)) > 1:
                    raise RequestProblem(
                        400, "repeated_parameter", "a parameter is given twice",
                        f"the query parameter {name!r} is given more than once")
            return await handler(request)

        return strict
