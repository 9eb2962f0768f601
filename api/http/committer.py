"""How the HTTP service's writes reach the ledger: through a committer, whose answer comes once
the instructions' transaction is durable (or refused). The write route awaits
`submit_many_async` on the event loop; `submit` and `submit_many` block the calling thread.

The group committer (api/group_commit.py) gathers concurrent single submissions into one
transaction, and its writer thread answers the event loop directly; `DirectCommitter` applies
each request in its own transaction, on a worker thread of the loop. Both are used through
the `Committer` protocol, so the service is built with either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from api.service import LedgerService
from ledger.errors import Rejected
from ledger.journal import Receipt


class Committer(Protocol):
    """Applies signed instructions (their JSON form); thread-safe and blocking."""

    def submit(self, document: Mapping[str, Any]) -> Receipt | Rejected: ...

    def submit_many(self, documents: Sequence[Mapping[str, Any]]
                    ) -> list[Receipt | Rejected]: ...

    async def submit_many_async(self, documents: Sequence[Mapping[str, Any]]
                                ) -> list[Receipt | Rejected]: ...


class DirectCommitter:
    """Each request in its own transaction, on the calling thread."""

    def __init__(self, service: LedgerService) -> None:
        self._service = service

    def submit(self, document: Mapping[str, Any]) -> Receipt | Rejected:
        (result,) = self._service.submit_many([document])
        return result

    def submit_many(self, documents: Sequence[Mapping[str, Any]]) -> list[Receipt | Rejected]:
        return self._service.submit_many(documents)

    async def submit_many_async(self, documents: Sequence[Mapping[str, Any]]
                                ) -> list[Receipt | Rejected]:
        """`submit_many` on a worker thread: the store blocks, the event loop must not."""
        return await run_in_threadpool(self._service.submit_many, documents)

    def close(self) -> None:
        """Nothing is pending: each call returns only when its transaction has ended."""
