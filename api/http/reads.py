"""The reads: every query of the application service, the journal as a stream, proof bundles.

Lists answer `{"items": [...]}` of each record's JSON (schemas.py); a filter that matches
nothing is an empty list, an id that names nothing a 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse

import api.http.schemas as schemas
from api.http.problems import RequestProblem
from api.http.responses import json_response, problem_responses
from api.http.routing import StrictRoute
from api.service import LedgerService
from custody.signatures import to_checksum_address
from ledger.store.queries import MAX_PAGE

NDJSON = "application/x-ndjson"
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
JOURNAL_PAGE = MAX_PAGE  # entries read from the store at a time while a journal streams
Filter = Annotated[str | None, Query(min_length=1, max_length=128)]  # "" would match all


def reads_router(service: LedgerService) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute)
    read = problem_responses(400, 422, 503)
    lookup = problem_responses(400, 404, 422, 503)

    @router.get("/head", tags=["journal"], response_model=schemas.Head, responses=read)
    def head() -> schemas.Head:
        """The sequence number of the last journal entry (-1: an empty journal)."""
        return schemas.Head(head=service.head())

    @router.get("/participants", tags=["participants"], response_model=schemas.Participants,
                responses=read)
    def participants() -> dict[str, Any]:
        return {"items": [asdict(p) for p in service.participants()]}

    @router.get("/keys", tags=["participants"], response_model=schemas.SigningKeys,
                responses=read)
    def keys(participant: Filter = None) -> dict[str, Any]:
        """Signing keys with their last used nonce (a key signs with any higher one)."""
        return {"items": [asdict(k) for k in service.keys(participant)]}

    @router.get("/keys/{address}/nonce", tags=["participants"], response_model=schemas.Nonce,
                responses=read)
    def nonce(address: Annotated[str, Path(description="0x and 40 hex digits")]
              ) -> schemas.Nonce:
        """The last nonce a key signed with, and the next one to sign with. A key that is
        not registered (yet) has signed nothing: 0 and 1."""
        checked = _checksummed(address)
        last = service.last_nonce(checked)
        return schemas.Nonce(address=checked, last_nonce=last, next_nonce=last + 1)

    @router.get("/accounts", tags=["accounts"], response_model=schemas.Accounts,
                responses=read)
    def accounts(participant: Filter = None) -> dict[str, Any]:
        return {"items": [asdict(a) for a in service.accounts(participant)]}

    @router.get("/batches", tags=["units"], response_model=schemas.Batches, responses=read)
    def batches(scheme: Filter = None) -> dict[str, Any]:
        return {"items": [asdict(b) for b in service.batches(scheme)]}

    @router.get("/holdings", tags=["units"], response_model=schemas.Holdings, responses=read)
    def holdings(account: Filter = None, batch: Filter = None) -> dict[str, Any]:
        """What each account holds of each batch, by state (whole tonnes)."""
        return {"items": [asdict(h) for h in service.holdings(account, batch)]}

    @router.get("/lots", tags=["units"], response_model=schemas.Lots, responses=read)
    def lots(batch: Filter = None, account: Filter = None) -> dict[str, Any]:
        """Live lots: serial ranges, their holder, state and lien."""
        return {"items": [asdict(lot) for lot in service.lots(batch, account)]}

    @router.get("/journal", tags=["journal"], response_class=StreamingResponse,
                responses={**read, 200: {"description": "One journal entry per line, in "
                                                        "order", "content": {NDJSON: {
                    "schema": {"$ref": "#/components/schemas/JournalEntry"}}}}})
    def journal(start: Annotated[int, Query(ge=0)] = 0,
                stop: Annotated[int | None, Query(ge=0, description="default: the head + 1")]
                = None) -> StreamingResponse:
        """Entries start <= seq < stop as NDJSON (application/x-ndjson), one entry per line.
        The first page is read before the answer starts, so that a store out of reach is a
        503; a failure later cuts the stream short (a client counts the lines)."""
        end = max(start, service.head() + 1) if stop is None else stop
        if end < start:
            raise RequestProblem(422, "invalid_parameter", "a journal range is start <= stop",
                                 f"start {start} is after stop {end}")
        first = service.journal(start, min(end, start + JOURNAL_PAGE))
        return StreamingResponse(_lines(service, first, end), media_type=NDJSON)

    @router.get("/checkpoints", tags=["checkpoints"], response_model=schemas.Checkpoints,
                responses=read)
    def checkpoints() -> dict[str, Any]:
        """Every signed checkpoint, with where it is anchored (if it is)."""
        return {"items": [_checkpoint(c) for c in service.checkpoints()]}

    @router.get("/pledges", tags=["agreements"], response_model=schemas.Pledges,
                responses=read)
    def pledges(account: Filter = None) -> dict[str, Any]:
        return {"items": [asdict(p) for p in service.pledges(account)]}

    @router.get("/pledges/{pledge_id}", tags=["agreements"],
                response_model=schemas.PledgeHistory, responses=lookup)
    def pledge(pledge_id: str) -> dict[str, Any]:
        """A pledge's terms, the lots still under its lien and every entry that acted on it."""
        found = service.pledge(pledge_id)
        if found is None:
            raise _not_found("pledge", pledge_id)
        return asdict(found)

    @router.get("/repos", tags=["agreements"], response_model=schemas.Repos, responses=read)
    def repos(account: Filter = None) -> dict[str, Any]:
        return {"items": [asdict(r) for r in service.repos(account)]}

    @router.get("/repos/{repo_id}", tags=["agreements"], response_model=schemas.RepoHistory,
                responses=lookup)
    def repo(repo_id: str) -> dict[str, Any]:
        """A repo's terms, the lots still under its lien and every entry that acted on it."""
        found = service.repo(repo_id)
        if found is None:
            raise _not_found("repo", repo_id)
        return asdict(found)

    @router.get("/proofs/{kind}", tags=["proofs"], response_model=schemas.Bundle,
                responses=lookup)
    def proof(kind: Annotated[str, Path(description="entry, lot, holding, account, "
                                                    "consistency, pledge")],
              subject: Annotated[list[str], Query(description="what the proof is about, in "
                                                  "order: entry SEQ, lot ID, holding ACCOUNT "
                                                  "BATCH, account ID, consistency FIRST "
                                                  "SECOND, pledge ID")],
              checkpoint: Annotated[int | None, Query(ge=1, description="default: the "
                                                      "latest")] = None) -> Response:
        """A proof bundle (docs/proof-format.md), checked against the operator's key before it
        is handed out. Check it yourself with `carbonledger verify`."""
        if kind not in service.operations.bundle_kinds:
            raise RequestProblem(404, "unknown_proof_kind", "no proof of this kind",
                                 f"no proof of kind {kind!r}: one of "
                                 f"{', '.join(service.operations.bundle_kinds)}")
        try:
            bundle = service.prove(kind, *subject, checkpoint=checkpoint)
        except ValueError as exc:  # the subject does not fit the kind (api/service.py)
            raise RequestProblem(422, "invalid_subject", "the subject does not fit the kind",
                                 str(exc)) from exc
        return json_response(bundle)

    return router


def _lines(service: LedgerService, first: list[Any], stop: int) -> Iterator[bytes]:
    page = first
    while page:
        yield b"".join(orjson.dumps(asdict(entry)) + b"\n" for entry in page)
        after = page[-1].seq + 1
        if after >= stop:
            return
        page = service.journal(after, min(stop, after + JOURNAL_PAGE))


def _checkpoint(stored: Any) -> dict[str, Any]:
    anchor = stored.anchor
    return {"number": stored.number, "log_size": stored.log_size,
            "log_root": "0x" + stored.log_root.hex(), "state_root": "0x" + stored.state_root.hex(),
            "time": stored.time, "origin": stored.origin, "signer": stored.signer,
            "note": stored.note,
            "anchor": None if anchor is None else {
                "chain_id": anchor.chain_id, "contract": anchor.contract,
                "tx_hash": "0x" + anchor.tx_hash.hex(), "block_number": anchor.block_number,
                "block_time": anchor.block_time}}


def _checksummed(address: str) -> str:
    """The EIP-55 form of `address` (as keys are stored); a mixed-case address must carry a
    right checksum, since a wrong one is most likely a typo."""
    if not _ADDRESS.fullmatch(address):
        raise RequestProblem(422, "invalid_address", "not an address",
                             "an address is 0x and 40 hex digits")
    checksummed = to_checksum_address(bytes.fromhex(address[2:]))
    if address not in (checksummed, address.lower()):
        raise RequestProblem(422, "invalid_address", "not an address",
                             f"{address} has a wrong EIP-55 checksum")
    return checksummed


def _not_found(what: str, name: str) -> RequestProblem:
    return RequestProblem(404, f"{what}_not_found", f"no {what} has this id",
                          f"there is no {what} {name!r}")

