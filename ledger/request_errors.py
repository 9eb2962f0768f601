"""Refusals of requests made beside the journal — a document stored, read or shared — which
are not instructions and so not `Rejected`: a module's own closed list of failures, each an
(HTTP status, what is wrong and what to do), under one exception that the HTTP service
answers with a problem (api/http/problems.py) and the CLI with one line."""

from __future__ import annotations

import enum


class RequestFailure(enum.Enum):
    """Why a request is refused; a module lists its own members in a subclass."""

    @property
    def status(self) -> int:
        return int(self.value[0])

    @property
    def message(self) -> str:
        return str(self.value[1])


class RequestRefused(Exception):
    """A refused request: `code` says why, `detail` the specifics."""

    def __init__(self, code: RequestFailure, detail: str) -> None:
        super().__init__(f"{code.message}: {detail}")
        self.code = code
        self.detail = detail
