"""The reads: every query of the application service, the journal as a stream, proof bundles.

Lists answer `{"items": [...]}` of each record's JSON (schemas.py); a filter that matches
nothing is an empty list, an id that names nothing a 404.

Who may read what is api/access.py's `ReadPolicy` (the table is in docs/DESIGN.md, "Who may
read what"). Public: the head, participants, keys and nonces, batches, checkpoints and
consistency proofs. With a token: accounts, holdings, lots, pledges and repos, each list
filtered to what the token's participant may read; naming an account it may not read is a
403, and so is naming one that does not exist (a refusal does not tell which); the registry
and auditors read everything. The journal and entry proofs are theirs alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Response, Security
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

import api.http.schemas as schemas
from api.access import AccessDenied, Denial, ReadPolicy, Viewer
from api.http.auth import BEARER, ViewerOf
from api.http.problems import RequestProblem
from api.http.proof_thread import ProofThread
from api.http.responses import json_response, problem_responses
from api.http.routing import StrictRoute
from api.service import LedgerService
from custody.signatures import to_checksum_address
from ledger.store.queries import MAX_PAGE

NDJSON = "application/x-ndjson"
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
JOURNAL_PAGE = MAX_PAGE  # entries read from the store at a time while a journal streams
# The stores' integers are 64-bit (BIGINT, SQLite's INTEGER): a larger number names nothing
# and would fail in the driver, so it is refused as a parameter out of range (422).
MAX_NUMBER = 2**63 - 1
Filter = Annotated[str | None, Query(min_length=1, max_length=128)]  # "" would match all
PROOF_THREADS = {"sqlite": 1, "postgresql": 4}  # by store, one worker (bench/api_proofs.py)
PROOF_THREADS_OF_SEVERAL_WORKERS = 1  # their processes overlap the round trips instead


# Proofs of what is public: that one checkpoint extends another, a year's disclosure, and a
# retirement for an offsetting claim (they are published: anyone may check them on chain). A
# unit's provenance is public once the unit is retired; before, its proof shows the account
# holding it, and is read as that account is (below).
PUBLIC_PROOFS = frozenset({"consistency", "disclosure", "retirement"})
PROVEN_AFTER = frozenset({"lot", "emissions", "provenance"})  # whose reader shows once proven


def reads_router(service: LedgerService, viewer_of: ViewerOf, policy: ReadPolicy,
                 proof_threads: int | None = None) -> APIRouter:
    router = APIRouter(prefix="/v1", route_class=StrictRoute)
    read = problem_responses(400, 422, 503)  # public
    guarded = problem_responses(400, 401, 403, 422, 503)  # a token's
    guarded_lookup = problem_responses(400, 401, 403, 404, 422, 503)
    token = Depends(viewer_of)  # the viewer a request's bearer token names (None: no token)

    def readable(viewer: Viewer | None, what: str, account: str | None
                 ) -> tuple[Viewer, Callable[[str], bool]]:
        """The viewer and which accounts it may read of a list: 403 for an account named
        that it may not read."""
        if account is not None:
            return policy.require_account(viewer, account), lambda _: True
        found = policy.require_viewer(viewer, what)
        accounts = policy.readable_accounts(found)
        return found, (lambda _: True) if accounts is None else accounts.__contains__

    # Declared first of the reads, so matched first, as the one asked for most: each
    # route tried before it costs the event loop some 10 µs.
    # A proof is CPU work (built, then checked against the operator key) around a few store
    # reads: threads of their own do every proof's, token included, in batches
    # (api/http/proof_thread.py; docs/DESIGN.md, "The HTTP service"). SQLite reads take
    # microseconds and one thread is fastest; PostgreSQL's are round trips that more overlap
    # in one worker, while several workers overlap them in their processes.
    proofs = ProofThread(threads=proof_threads or PROOF_THREADS[service.store.dialect])

    @router.get("/proofs/{kind}", tags=["proofs"], response_model=schemas.Bundle,
                responses=guarded_lookup)
    async def proof(kind: Annotated[str, Path(description="entry, lot, holding, account, "
                                                          "consistency, pledge")],
                    subject: Annotated[list[str], Query(
                        description="what the proof is about, in order: entry SEQ, lot ID, "
                                    "holding ACCOUNT BATCH, account ID, consistency FIRST "
                                    "SECOND, pledge ID")],
                    credentials: Annotated[HTTPAuthorizationCredentials | None,
                                           Security(BEARER)],
                    checkpoint: Annotated[int | None, Query(ge=1, le=MAX_NUMBER,
                                                            description="default: the latest")]
                    = None) -> Response:
        """A proof bundle (docs/proof-format.md), checked against the operator's key before it
        is handed out. Check it yourself with `carbonledger verify`. Consistency proofs are
        public; a holding or account proof is for those who may read the account, a lot
        proof for those who may read the account the lot was in at the checkpoint, a pledge
        proof for the pledge's parties; entry proofs are the registry's and auditors'."""
        response: Response = await proofs.run(proved, kind, subject, checkpoint, credentials)
        return response

    def proved(kind: str, subject: list[str], checkpoint: int | None,
               credentials: HTTPAuthorizationCredentials | None) -> Response:
        viewer = viewer_of(credentials)  # the token's viewer, as every guarded read reads it
        if kind not in service.operations.bundle_kinds:
            raise RequestProblem(404, "unknown_proof_kind", "no proof of this kind",
                                 f"no proof of kind {kind!r}: one of "
                                 f"{', '.join(service.operations.bundle_kinds)}")
        if kind not in PUBLIC_PROOFS and kind != "provenance" \
                and not _disclosed_auction(kind, subject) and not _plan_alone(kind, subject):
            allowed(policy.require_viewer(viewer, f"a {kind} proof"), kind, subject)
        try:
            bundle = service.prove(kind, *subject, checkpoint=checkpoint)
        except ValueError as exc:  # the subject does not fit the kind (api/service.py)
            raise RequestProblem(422, "invalid_subject", "the subject does not fit the kind",
                                 str(exc)) from exc
        if kind == "provenance":
            holder = _unit_holder(bundle)  # None: retired, for everyone to see
            if holder is not None:
                found = policy.require_viewer(viewer, "the provenance of a unit not retired")
                if not found.sees_everything:
                    policy.require_account(found, holder)
        if kind == "emissions" and viewer is not None and not viewer.sees_everything:
            # whose submission it is shows once it is proven: its record names the emitter
            policy.require_own(viewer, _proven_emitter(bundle), f"the proof of submission "
                               f"{subject[0]}")
        if kind == "lot" and viewer is not None and not viewer.sees_everything:
            # the lot's account is known once it is proven: the one it was in at the checkpoint
            proven = _proven_account(bundle)
            if proven is None:
                policy.require_everything(viewer, "the proof that a lot was not live")
            else:
                policy.require_account(viewer, proven)
        return json_response(bundle)

    def require_installations_emitter(viewer: Viewer, installation: str) -> None:
        """An installation's allocations are its emitter's to read (with the registry's and
        auditors'), as /v1/allocation/installations/{installation} reads them: an unknown
        installation is refused like another's, so that a refusal does not tell which."""
        allocations = service.installation_allocations(installation)
        if not allocations or any(policy.holder_of(a.account) != viewer.participant
                                  for a in allocations):
            raise AccessDenied(Denial.record_forbidden, f"{viewer.participant} may not read "
                               f"the allocations of {installation}: only its emitter, the "
                               "registry and auditors may")

    def _disclosed_auction(kind: str, subject: list[str]) -> bool:
        """An auction's bundle discloses its book: public once the auction is cleared (its
        book is then published), the registry's and auditors' before."""
        if kind != "auction" or len(subject) != 1:
            return False
        found = service.auction(subject[0])
        return found is not None and found.cleared

    def _plan_alone(kind: str, subject: list[str]) -> bool:
        """A year's plan is public, as its read is (/v1/allocation/plans); with an
        installation, the bundle shows that installation's allocation (below)."""
        return kind == "allocation" and len(subject) == 2

    def allowed(viewer: Viewer, kind: str, subject: list[str]) -> None:
        """Refuse before proving what the subject alone shows `viewer` may not read."""
        if viewer.sees_everything or kind in PROVEN_AFTER:  # once proven, above
            return
        if kind in ("holding", "account") and subject:
            policy.require_account(viewer, subject[0])
        elif kind == "pledge" and subject:
            found = service.pledge(subject[0])
            policy.require_agreement(viewer, f"pledge {subject[0]}", None if found is None
                                     else found.pledge.parties)
        elif kind == "obligation" and subject:
            policy.require_own(viewer, subject[0], f"the obligation of {subject[0]}")
        elif kind == "allocation" and len(subject) == 3:
            require_installations_emitter(viewer, subject[2])
        elif kind == "entry" or kind not in ("holding", "account", "pledge", "obligation",
                                             "allocation"):
            # an entry names any account; a module's kind has no rule here yet
            policy.require_everything(viewer, f"{kind} proofs")

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
                responses=guarded)
    def accounts(participant: Filter = None,
                 viewer: Viewer | None = token) -> dict[str, Any]:
        """The accounts the token's participant may read (of one participant)."""
        _, may_read = readable(viewer, "accounts", None)
        return {"items": [asdict(a) for a in service.accounts(participant) if may_read(a.id)]}

    @router.get("/batches", tags=["units"], response_model=schemas.Batches, responses=read)
    def batches(scheme: Filter = None) -> dict[str, Any]:
        return {"items": [asdict(b) for b in service.batches(scheme)]}

    @router.get("/holdings", tags=["units"], response_model=schemas.Holdings,
                responses=guarded)
    def holdings(account: Filter = None, batch: Filter = None,
                 viewer: Viewer | None = token) -> dict[str, Any]:
        """What each account the token's participant may read holds of each batch, by state
        (whole tonnes)."""
        _, may_read = readable(viewer, "holdings", account)
        return {"items": [asdict(h) for h in service.holdings(account, batch)
                          if may_read(h.account)]}

    @router.get("/lots", tags=["units"], response_model=schemas.Lots, responses=guarded)
    def lots(batch: Filter = None, account: Filter = None,
             viewer: Viewer | None = token) -> dict[str, Any]:
        """Live lots of the accounts the token's participant may read: serial ranges, their
        holder, state and lien."""
        _, may_read = readable(viewer, "lots", account)
        return {"items": [asdict(lot) for lot in service.lots(batch, account)
                          if may_read(lot.account)]}

    @router.get("/journal", tags=["journal"], response_class=StreamingResponse,
                responses={**guarded, 200: {"description": "One journal entry per line, in "
                                                        "order", "content": {NDJSON: {
                    "schema": {"$ref": "#/components/schemas/JournalEntry"}}}}})
    def journal(start: Annotated[int, Query(ge=0, le=MAX_NUMBER)] = 0,
                stop: Annotated[int | None, Query(ge=0, le=MAX_NUMBER,
                                                  description="default: the head + 1")]
                = None, viewer: Viewer | None = token) -> StreamingResponse:
        """Entries start <= seq < stop as NDJSON (application/x-ndjson), one entry per line;
        the registry's and auditors' only. The first page is read before the answer starts, so
        that a store out of reach is a 503; a failure later cuts the stream short (a client
        counts the lines)."""
        policy.require_everything(viewer, "the journal")
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
                responses=guarded)
    def pledges(account: Filter = None,
                viewer: Viewer | None = token) -> dict[str, Any]:
        """The pledges the token's participant is a party to (of one pledgor account). An
        agreement list is filtered, never refused: it shows only what is the viewer's."""
        found = policy.require_viewer(viewer, "pledges")
        return {"items": [asdict(p) for p in service.pledges(account)
                          if policy.may_read_agreement(found, p.parties)]}

    @router.get("/pledges/{pledge_id}", tags=["agreements"],
                response_model=schemas.PledgeHistory, responses=guarded_lookup)
    def pledge(pledge_id: str, viewer: Viewer | None = token) -> dict[str, Any]:
        """A pledge's terms, the lots still under its lien and every entry that acted on it;
        to its parties, the registry and auditors."""
        found = service.pledge(pledge_id)
        policy.require_agreement(viewer, f"pledge {pledge_id}", None if found is None else
                                 found.pledge.parties)
        if found is None:
            raise _not_found("pledge", pledge_id)
        return asdict(found)

    @router.get("/repos", tags=["agreements"], response_model=schemas.Repos,
                responses=guarded)
    def repos(account: Filter = None,
              viewer: Viewer | None = token) -> dict[str, Any]:
        """The repos the token's participant is a party to (where one account is the
        seller's or the buyer's), filtered like the pledges."""
        found = policy.require_viewer(viewer, "repos")
        return {"items": [asdict(r) for r in service.repos(account)
                          if policy.may_read_agreement(found, r.parties)]}

    @router.get("/repos/{repo_id}", tags=["agreements"], response_model=schemas.RepoHistory,
                responses=guarded_lookup)
    def repo(repo_id: str, viewer: Viewer | None = token) -> dict[str, Any]:
        """A repo's terms, the lots still under its lien and every entry that acted on it;
        to its parties, the registry and auditors."""
        found = service.repo(repo_id)
        policy.require_agreement(viewer, f"repo {repo_id}", None if found is None else
                                 found.repo.parties)
        if found is None:
            raise _not_found("repo", repo_id)
        return asdict(found)

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


def _proven_emitter(bundle: dict[str, Any]) -> str:
    """The emitter whose monthly submission an `emissions` bundle proves (its record's)."""
    return str(json.loads(bundle["state"]["value"])["emitter"])


def _unit_holder(bundle: dict[str, Any]) -> str | None:
    """The account holding the unit a provenance bundle proves, or None once it is retired."""
    record = json.loads(bundle["lot"]["state"]["value"])
    return None if record.get("state") == "retired" else str(record.get("account"))


def _proven_account(bundle: dict[str, Any]) -> str | None:
    """The account of the lot a lot bundle proves (None: it proves the lot was not live)."""
    value = bundle.get("state", {}).get("value")
    if value is None:
        return None
    account = json.loads(value).get("account")
    if not isinstance(account, str):
        raise AccessDenied(Denial.registry_or_auditor_only, "the proven lot names no account: "
                           "ask the registry or an auditor for this proof")
    return account


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

