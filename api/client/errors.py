"""What a client call can fail with, besides the ledger's own refusal (`ledger.errors.Rejected`,
raised as is: over HTTP the problem's reason name is turned back into the same reason).

    ClientError              the root of the client's own failures
      ServerUnreachable      no answer, or an answer that is not the interface's (also a
                             ConnectionError: the CLI says "fix it and run it again", exit 3)
      ServerFailed           the server answered with a problem that is not a refusal of an
                             instruction: a store, verification or operator code, a bad query
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """A client call failed for a reason other than the ledger refusing an instruction."""


class ServerUnreachable(ClientError, ConnectionError):
    """The server cannot be reached, or its answer is not the ledger's interface."""


class ServerFailed(ClientError):
    """The server answered with an RFC 9457 problem that carries a code, not a refusal:
    `status` its HTTP status, `code` the store's, verifier's or operator's code (or the
    reason name the client does not know), `retryable` whether the same request may
    succeed later."""

    def __init__(self, status: int, code: str, detail: str, *, retryable: bool = False) -> None:
        super().__init__(f"the server answered {status}" + (f" ({code})" if code else "")
                         + (f": {detail}" if detail else ""))
        self.status = status
        self.code = code
        self.detail = detail
        self.retryable = retryable

    @property
    def is_unavailable(self) -> bool:
        """The server or what it needs (its store, its chain) is out of reach for now."""
        return self.status >= 500

    @classmethod
    def of(cls, status: int, problem: Any) -> ServerFailed:
        if not isinstance(problem, dict):
            return cls(status, "", "")
        code = problem.get("code") or problem.get("reason") or ""
        detail = problem.get("detail") or problem.get("title") or ""
        return cls(status, str(code), str(detail), retryable=bool(problem.get("retryable")))
