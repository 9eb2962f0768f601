"""The HTTP service's application factory: a FastAPI app over one application service.

Nothing happens at import: `create_app` is handed the service (built by api.bootstrap.build)
and the committer writes go through, and wires the routes (writes.py, reads.py; routing.py
refuses query parameters a route does not declare), the problem answers (problems.py) and
the OpenAPI document. The read routes are plain functions: FastAPI runs them in its thread
pool, since every call into the service blocks on the store. The write route is a coroutine
that awaits the committer (writes.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

import api.http.auth as auth
import api.http.problems as problems
import api.http.schemas as schemas
from api.access import Sessions, policy_for, sessions_for
from api.http.allocation_reads import allocation_router
from api.http.clock import clock_router
from api.http.committer import Committer, DirectCommitter
from api.http.compliance_reads import compliance_router
from api.http.documents import documents_router
from api.http.project_reads import project_router
from api.http.public_documents import public_documents_router
from api.http.reads import reads_router
from api.http.tiles import tiles_router
from api.http.writes import install_writes
from api.inputs import MAX_DOCUMENT_CHARS
from api.service import LedgerService

API_VERSION = "1"
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024  # ~2,500 signed transfers in one array
# Each worker thread keeps a store connection of its own (ledger/store/database.py), and the
# store's pool lends at most 12: more threads than that would wait on the pool, not the disk.
DEFAULT_WORKER_THREADS = 8


def create_app(service: LedgerService, *, committer: Committer | None = None,
               sessions: Sessions | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               worker_threads: int = DEFAULT_WORKER_THREADS,
               tiles_dir: Path | None = None, proof_threads: int | None = None) -> FastAPI:
    """The HTTP service over `service`; writes go through `committer` (default: each request
    in its own transaction). A request body over `max_body_bytes` is refused with 413.
    Logins and tokens are `sessions`' (default: a secret of this process's own; worker
    processes serving one ledger share one: api/session_key.py). With `tiles_dir`, the log's
    tiles in it are served under /tiles/ (api/http/tiles.py). `proof_threads`: the threads
    proving (default: by store, api/http/reads.py)."""
    if not 0 < max_body_bytes <= MAX_DOCUMENT_CHARS:
        raise ValueError(f"max_body_bytes must be 1 to {MAX_DOCUMENT_CHARS}")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = worker_threads
        yield

    app = FastAPI(title="carbonledger", version=API_VERSION, lifespan=lifespan,
                  description=_DESCRIPTION, openapi_url="/v1/openapi.json",
                  docs_url="/v1/docs", redoc_url=None)
    problems.install(app)
    auth.install(app)
    sessions = sessions or sessions_for(service)
    install_writes(app, committer or DirectCommitter(service), max_body_bytes)
    app.include_router(clock_router(service))  # public: deadlines need the ledger's time
    app.include_router(auth.auth_router(sessions))
    app.include_router(reads_router(service, auth.viewer_of(sessions), policy_for(service),
                                    proof_threads))
    app.include_router(documents_router(service, auth.viewer_of(sessions), policy_for(service)))
    app.include_router(compliance_router(service, auth.viewer_of(sessions), policy_for(service)))
    app.include_router(project_router(service))  # public: the project cycle is published
    app.include_router(allocation_router(service, auth.viewer_of(sessions),
                                         policy_for(service)))
    app.include_router(public_documents_router(service, auth.viewer_of(sessions),
                                               policy_for(service)))
    if tiles_dir is not None:
        app.include_router(tiles_router(tiles_dir, auth.viewer_of(sessions), policy_for(service)))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


# Schemas the routes name in their hand-written parts (problems, the instruction body, the
# journal's lines), which FastAPI does not collect from response models.
_EXTRA_SCHEMAS: tuple[type[Any], ...] = (schemas.Problem, schemas.SignedInstruction,
                                         schemas.Approval, schemas.JournalEntry)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version,
                               description=app.description, routes=app.routes)
        found = document.setdefault("components", {}).setdefault("schemas", {})
        for model in _EXTRA_SCHEMAS:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            found.update(schema.pop("$defs", {}))
            found[model.__name__] = schema
        # FastAPI drops every null from the document it builds, the examples' too (a lot's
        # "lien": null): each example is put back as its model gives it
        for name, schema in found.items():
            described = getattr(schemas, name, None)
            if isinstance(described, type) and issubclass(described, BaseModel) \
                    and "examples" in schema:
                schema["examples"] = described.model_json_schema()["examples"]
        app.openapi_schema = document
    return app.openapi_schema


_DESCRIPTION = """\
A permissioned carbon-asset ledger. Writes are signed instructions (their JSON form), POSTed
one at a time or as an array applied in one transaction; they are authenticated by their own
signatures and idempotent on their id (a second submission answers with the first receipt,
marked `duplicate`). Reads are the application service's queries; proof bundles are checked
offline with `carbonledger verify` against the operator key you trust.

Every failure is an RFC 9457 problem (`application/problem+json`): `reason` names a refusal
of the ledger, `code` any other failure, `retryable` whether the same request can succeed
later. A 503 with Retry-After means the store was out of reach: submit the SAME signed
instruction again, never a newly signed one.
"""
