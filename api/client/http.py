"""`HttpTransport`: the ledger's service over HTTP (the /v1 interface of api/http/).

Answers are decoded into the same typed values the application service returns
(api/client/records.py); an RFC 9457 problem that names one of the ledger's reasons becomes
that `Rejected`, by the reason's name in the client's operation set; any other problem is a
`ServerFailed` with its code; no answer, or one that is not the interface's, is
`ServerUnreachable`. Documents from the server are read with the same bounds as any document
from outside (api/inputs.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from allocation.views import (
    AllocationView,
    Amendment,
    Auction,
    Bid,
    MarketFigures,
    PlanView,
    ReserveMovement,
)
from api.client.errors import ServerFailed, ServerUnreachable
from api.client.records import RecordError, from_json
from api.client.transport import SignDigest
from api.inputs import DocumentError, parse_document
from api.service import Bundle
from compliance.model import MonthlySubmission
from compliance.queries import CreditRecord, Disclosure, RiskWarning, Status
from ledger.clock import parse_time
from ledger.engine import Result
from ledger.errors import Rejected
from ledger.journal import Receipt
from ledger.model import Account, Batch, Lot, Participant, SigningKey
from ledger.modules import OperationSet
from ledger.store.queries import Holding, JournalEntry
from pledge.model import Pledge, Repo
from pledge.queries import PledgeHistory, RepoHistory
from projects.model import Methodology, Project
from projects.queries import ProjectRecord, RetirementRecord

if TYPE_CHECKING:
    import httpx  # imported when a transport is made: a command that stays local never does

    from anchoring.operator.checkpoints import StoredCheckpoint
    from compliance.document_store import PublishedKey, StoredDocument
    from compliance.sealing import Sealed, WrappedKey

R = TypeVar("R")
DEFAULT_TIMEOUT_S = 30.0


class HttpTransport:
    """A ledger's service at `base_url` (e.g. http://127.0.0.1:8080). `http` is an httpx
    client to send through instead of a new one (FastAPI's TestClient is one); `operations`
    the operation set whose reasons a refusal is read back into (default: this
    installation's, api.bootstrap.operation_set())."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None,
                 operations: OperationSet | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        import httpx

        if operations is None:
            from api.bootstrap import operation_set

            operations = operation_set()
        self._operations = operations
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.Client(base_url=self.base_url, timeout=timeout_s)
        self._login: tuple[str, SignDigest] | None = None  # who reads, and how it signs
        self._token: str | None = None

    @property
    def operations(self) -> OperationSet:
        return self._operations

    @property
    def token(self) -> str | None:
        """The bearer token this transport sends since its login (None before one), for a
        tool that sends requests of its own with it."""
        return self._token

    # --- commands ---------------------------------------------------------------------------

    def submit(self, document: Mapping[str, Any]) -> Receipt:
        answer = self._json(self._send("POST", "/v1/instructions", body=document))
        return self._receipt(_field(answer, "receipt"))

    def submit_many(self, documents: Sequence[Mapping[str, Any]]) -> list[Result]:
        answer = self._json(self._send("POST", "/v1/instructions", body=list(documents)))
        results = _field(answer, "results")
        if not isinstance(results, list) or len(results) != len(documents):
            raise ServerUnreachable(f"{self.base_url} answered {len(documents)} instructions "
                                    "with a different number of results")
        return [self._result(r) for r in results]

    def prove(self, kind: str, *subject: Any, checkpoint: int | None = None) -> Bundle:
        params: list[tuple[str, Any]] = [("subject", str(s)) for s in subject]
        if checkpoint is not None:
            params.append(("checkpoint", checkpoint))
        bundle = self._json(self._send("GET", f"/v1/proofs/{_segment(kind)}", params=params))
        if not isinstance(bundle, dict):
            raise ServerUnreachable(f"{self.base_url} answered a proof with no bundle")
        return bundle

    # --- queries ----------------------------------------------------------------------------

    def last_nonce(self, address: str) -> int:
        answer = self._get(f"/v1/keys/{_segment(address)}/nonce")
        last = _field(answer, "last_nonce")
        if not isinstance(last, int) or isinstance(last, bool) or last < 0:
            raise ServerUnreachable(f"{self.base_url} answered a nonce that is not one")
        return last

    def head(self) -> int:
        head = _field(self._get("/v1/head"), "head")
        if not isinstance(head, int) or isinstance(head, bool):
            raise ServerUnreachable(f"{self.base_url} answered a head that is not a number")
        return head

    def chain_id(self) -> int:
        """The chain id of the domain a login challenge is signed under (public: anyone
        signing an instruction needs it before it may read anything else)."""
        domain = _field(self._json(self._send("POST", "/v1/auth/challenge", signed=False)),
                        "domain")
        chain_id = domain.get("chainId") if isinstance(domain, dict) else None
        if not isinstance(chain_id, int) or isinstance(chain_id, bool):
            raise ServerUnreachable(f"{self.base_url} answered a domain with no chain id")
        return chain_id

    def login(self, participant: str, sign: SignDigest) -> None:
        """Log in now (a `ServerFailed` 401 if the server refuses), and again once whenever
        the token has expired."""
        self._login = (participant, sign)
        self._log_in()

    def _log_in(self) -> None:
        from api.access import login_digest
        from ledger.instructions import DOMAIN_NAME, DOMAIN_VERSION, make_domain

        assert self._login is not None
        participant, sign = self._login
        self._token = None
        issued = self._json(self._send("POST", "/v1/auth/challenge", signed=False))
        challenge, expires, domain = (_field(issued, "challenge"), _field(issued, "expires"),
                                      _field(issued, "domain"))
        try:
            raw = bytes.fromhex(str(challenge).removeprefix("0x"))
            # only a carbonledger domain: a login signature must never serve another kind
            if (domain.get("name"), domain.get("version")) != (DOMAIN_NAME, DOMAIN_VERSION):
                raise ValueError(f"the domain is {domain!r}")
            digest = login_digest(make_domain(int(domain["chainId"])), raw, participant,
                                  int(expires))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ServerUnreachable(f"{self.base_url} answered a challenge that is not one: "
                                    f"{exc}") from exc
        answer = self._json(self._send("POST", "/v1/auth/token", signed=False, body={
            "challenge": "0x" + raw.hex(), "participant": participant, "expires": expires,
            "signature": "0x" + sign(digest).hex()}))
        token = _field(answer, "token")
        if not isinstance(token, str):
            raise ServerUnreachable(f"{self.base_url} answered a token that is not one")
        self._token = token

    def now(self) -> datetime:
        now = _field(self._get("/v1/clock"), "now")
        try:
            return parse_time(now)
        except (TypeError, ValueError) as exc:
            raise ServerUnreachable(f"{self.base_url} answered a time that is not one") from exc

    def participants(self) -> list[Participant]:
        return self._items(Participant, "/v1/participants")

    def keys(self, participant: str | None = None) -> list[SigningKey]:
        return self._items(SigningKey, "/v1/keys", participant=participant)

    def accounts(self, participant: str | None = None) -> list[Account]:
        return self._items(Account, "/v1/accounts", participant=participant)

    def batches(self, scheme: str | None = None) -> list[Batch]:
        return self._items(Batch, "/v1/batches", scheme=scheme)

    def holdings(self, account: str | None = None, batch: str | None = None) -> list[Holding]:
        return self._items(Holding, "/v1/holdings", account=account, batch=batch)

    def lots(self, batch: str | None = None, account: str | None = None) -> list[Lot]:
        return self._items(Lot, "/v1/lots", batch=batch, account=account)

    def journal(self, start: int, stop: int) -> list[JournalEntry]:
        response = self._send("GET", "/v1/journal", params=[("start", start), ("stop", stop)])
        entries = []
        for line in response.text.splitlines():
            if line.strip():
                entries.append(self._record(JournalEntry, self._parse(line)))
        return entries

    def checkpoints(self) -> list[StoredCheckpoint]:
        from anchoring.operator.checkpoints import StoredCheckpoint

        return self._items(StoredCheckpoint, "/v1/checkpoints")

    def pledges(self, account: str | None = None) -> list[Pledge]:
        return self._items(Pledge, "/v1/pledges", account=account)

    def pledge(self, pledge_id: str) -> PledgeHistory | None:
        return self._one(PledgeHistory, f"/v1/pledges/{_segment(pledge_id)}")

    def repos(self, account: str | None = None) -> list[Repo]:
        return self._items(Repo, "/v1/repos", account=account)

    def repo(self, repo_id: str) -> RepoHistory | None:
        return self._one(RepoHistory, f"/v1/repos/{_segment(repo_id)}")

    def compliance_status(self, year: int) -> list[Status]:
        return self._items(Status, f"/v1/compliance/status/{int(year)}")

    def compliance_risk(self, year: int) -> list[RiskWarning]:
        return self._items(RiskWarning, f"/v1/compliance/risk/{int(year)}")

    def credit_record(self, entity: str) -> CreditRecord:
        return self._record(CreditRecord,
                            self._get(f"/v1/compliance/credit-records/{_segment(entity)}"))

    def monthly_submissions(self, emitter: str, year: int) -> list[MonthlySubmission]:
        return self._items(MonthlySubmission,
                           f"/v1/compliance/monthly/{_segment(emitter)}/{int(year)}")

    def disclosure(self, year: int, scheme: str | None = None) -> Disclosure:
        return self._record(Disclosure, self._get(f"/v1/compliance/disclosures/{int(year)}",
                                                  scheme=scheme))

    # --- the project cycle (api/http/project_reads.py) --------------------------------------

    def methodologies(self) -> list[Methodology]:
        return self._items(Methodology, "/v1/methodologies")

    def methodology(self, methodology_id: str) -> Methodology | None:
        return self._one(Methodology, f"/v1/methodologies/{_segment(methodology_id)}")

    def projects(self, owner: str | None = None,
                 methodology: str | None = None) -> list[Project]:
        return self._items(Project, "/v1/projects", owner=owner, methodology=methodology)

    def project(self, project_id: str) -> ProjectRecord | None:
        return self._one(ProjectRecord, f"/v1/projects/{_segment(project_id)}")

    def claim_retirements(self, account: str | None = None) -> list[RetirementRecord]:
        return self._items(RetirementRecord, "/v1/retirements", account=account)

    def claim_retirement(self, retirement_id: str) -> RetirementRecord | None:
        return self._one(RetirementRecord, f"/v1/retirements/{_segment(retirement_id)}")

    # --- quota allocation (api/http/allocation_reads.py) -----------------------------------

    def allocation_plan(self, scheme: str, year: int) -> PlanView | None:
        return self._one(PlanView, f"/v1/allocation/plans/{_segment(scheme)}/{int(year)}")

    def allocation_plans(self, scheme: str | None = None) -> list[PlanView]:
        return self._items(PlanView, "/v1/allocation/plans", scheme=scheme)

    def plan_amendments(self, scheme: str, year: int) -> list[Amendment]:
        return self._items(Amendment, f"/v1/allocation/plans/{_segment(scheme)}/{int(year)}"
                                      "/amendments")

    def reserve_movements(self, scheme: str, year: int) -> list[ReserveMovement]:
        return self._items(ReserveMovement,
                           f"/v1/allocation/plans/{_segment(scheme)}/{int(year)}/reserve")

    def market_figures(self, scheme: str | None = None) -> list[MarketFigures]:
        return self._items(MarketFigures, "/v1/allocation/market-figures", scheme=scheme)

    def installation_allocations(self, installation: str) -> list[AllocationView]:
        return self._items(AllocationView,
                           f"/v1/allocation/installations/{_segment(installation)}")

    def year_allocations(self, scheme: str, year: int) -> list[AllocationView]:
        return self._items(AllocationView, f"/v1/allocation/plans/{_segment(scheme)}/"
                                           f"{int(year)}/allocations")

    def auctions(self, scheme: str | None = None, year: int | None = None) -> list[Auction]:
        return self._items(Auction, "/v1/auctions", scheme=scheme, year=year)

    def auction(self, auction_id: str) -> Auction | None:
        return self._one(Auction, f"/v1/auctions/{_segment(auction_id)}")

    def auction_bids(self, auction_id: str) -> list[Bid]:
        return self._items(Bid, f"/v1/auctions/{_segment(auction_id)}/bids")

    # --- confidential documents (api/http/documents.py) ------------------------------------

    def document_keys(self, participant: str | None = None) -> list[PublishedKey]:
        from compliance.document_store import PublishedKey

        items = _field(self._get("/v1/document-keys", participant=participant), "items")
        try:
            return [PublishedKey(i["participant"], i["address"], i["public_key"],
                                 i["published_seq"]) for i in items]
        except (KeyError, TypeError) as exc:
            raise ServerUnreachable(f"{self.base_url} answered document keys that are not "
                                    f"the interface's: {exc}") from exc

    def store_document(self, owner: str, sealed: Sealed, media_type: str) -> StoredDocument:
        from compliance.document_store import StoredDocument
        from compliance.sealing import sealed_as_json

        answer = self._documents("POST", "/v1/documents", body={
            "media_type": media_type, "sealed": sealed_as_json(sealed)})
        stored = StoredDocument(_field(answer, "sha256"), _field(answer, "owner"),
                                _field(answer, "media_type"), _field(answer, "stored_at"))
        if stored.owner != owner or stored.sha256 != sealed.sha256:
            raise ServerUnreachable(f"{self.base_url} stored {stored.sha256} for "
                                    f"{stored.owner}: log in as {owner} to store its document")
        return stored

    def sealed_document(self, sha256: str, reader: str) -> Sealed:
        from compliance.sealing import SealError, sealed_from_json

        answer = self._documents("GET", f"/v1/documents/{_segment(sha256)}")
        try:
            return sealed_from_json(_field(answer, "sealed"))
        except SealError as exc:
            raise ServerUnreachable(f"{self.base_url} answered a sealed document that is not "
                                    f"one: {exc}") from exc

    def share_document(self, sha256: str, by: str, reader: str,
                       keys: Sequence[WrappedKey]) -> int:
        from compliance.sealing import wrapped_key_as_json

        answer = self._documents("POST", f"/v1/documents/{_segment(sha256)}/readers", body={
            "reader": reader, "keys": [wrapped_key_as_json(k) for k in keys]})
        added = _field(answer, "added")
        if not isinstance(added, int) or isinstance(added, bool):
            raise ServerUnreachable(f"{self.base_url} answered a share that is not one")
        return added

    def _documents(self, method: str, path: str, *, body: Any = None) -> Any:
        """A document route's answer; its refusals as the same `DocumentError` (or
        `SealError`) the service raises in process."""
        from compliance.documents import DocumentError, DocumentFailure
        from compliance.sealing import SealError, SealFailure

        try:
            return self._json(self._send(method, path, body=body))
        except ServerFailed as failed:
            if failed.code in DocumentFailure.__members__:
                code = DocumentFailure[failed.code]
                raise DocumentError(code, failed.detail.removeprefix(f"{code.message}: ")) \
                    from failed
            if failed.code in SealFailure.__members__:
                raise SealError(SealFailure[failed.code], failed.detail) from failed
            raise

    # --- public documents of the project cycle (api/http/public_documents.py) --------------

    def store_public_document(self, owner: str, data: bytes, media_type: str) -> str:
        answer = self._public_documents("POST", "/v1/public-documents", body=data,
                                        media_type=media_type)
        sha256, stored_by = _field(answer, "sha256"), _field(answer, "stored_by")
        if not isinstance(sha256, str) or not isinstance(stored_by, str):
            raise ServerUnreachable(f"{self.base_url} answered a stored document that is "
                                    "not one")
        return sha256

    def public_document(self, sha256: str) -> bytes:
        return self._public_documents("GET", f"/v1/public-documents/{_segment(sha256)}",
                                      signed=False)

    def _public_documents(self, method: str, path: str, *, body: bytes | None = None,
                          media_type: str = "", signed: bool = True) -> Any:
        """A public document route's answer (JSON, or the raw bytes of a GET); its refusals
        as the same `PublicDocumentError` the service raises in process."""
        from projects.public_documents import PublicDocumentError, PublicDocumentFailure

        try:
            response = self._send(method, path, body=body, media_type=media_type,
                                  signed=signed)
        except ServerFailed as failed:
            if failed.code in PublicDocumentFailure.__members__:
                code = PublicDocumentFailure[failed.code]
                raise PublicDocumentError(code, failed.detail.removeprefix(
                    f"{code.message}: ")) from failed
            raise
        return response.content if method == "GET" else self._json(response)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # --- the wire ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, params: Any = None,
              body: Any = None, signed: bool = True, media_type: str = "") -> httpx.Response:
        """`signed`: with the login's token, if there is one; a token refused as expired (or
        its key's rotation) is renewed by logging in again, once, and the request resent.
        A body of bytes is sent as it is, with `media_type`; any other body as JSON."""
        if isinstance(body, bytes):
            content: bytes | None = body
            headers = {"content-type": media_type}
        else:
            content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
            headers = {"content-type": "application/json"} if content is not None else {}
        import httpx

        for attempt in (1, 2):
            if signed and self._token is not None:
                headers["authorization"] = f"Bearer {self._token}"
            try:
                response = self._http.request(method, path, params=params, content=content,
                                              headers=headers)
            except httpx.HTTPError as exc:
                raise ServerUnreachable(f"no answer from {self.base_url}: {exc}") from exc
            if (response.status_code == 401 and signed and attempt == 1
                    and self._login is not None and self._token is not None):
                self._log_in()
                continue
            if response.status_code >= 400:
                raise self._problem(response)
            return response
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _problem(self, response: httpx.Response) -> Exception:
        """A refusal of an instruction as the ledger's own `Rejected`; anything else as
        `ServerFailed`."""
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if isinstance(problem, dict) and isinstance(problem.get("reason"), str):
            reason = self._operations.reasons.get(problem["reason"])
            if reason is not None:
                return Rejected(reason, _detail(problem, reason.message))
        return ServerFailed.of(response.status_code, problem)

    def _get(self, path: str, **params: Any) -> Any:
        query = [(name, value) for name, value in params.items() if value is not None]
        return self._json(self._send("GET", path, params=query))

    def _json(self, response: httpx.Response) -> Any:
        return self._parse(response.text)

    def _parse(self, text: str) -> Any:
        try:
            return parse_document(text)
        except DocumentError as exc:
            raise ServerUnreachable(f"{self.base_url} answered something that is not the "
                                    f"ledger's interface: {exc}") from exc

    def _items(self, record: type[R], path: str, **params: Any) -> list[R]:
        items = _field(self._get(path, **params), "items")
        if not isinstance(items, list):
            raise ServerUnreachable(f"{path}: the answer's items are not a list")
        return [self._record(record, item) for item in items]

    def _one(self, record: type[R], path: str) -> R | None:
        try:
            return self._record(record, self._get(path))
        except ServerFailed as failed:
            if failed.status == 404:
                return None
            raise

    def _record(self, record: type[R], document: Any) -> R:
        try:
            return from_json(record, document)
        except RecordError as exc:
            raise ServerUnreachable(f"{self.base_url} answered something that is not the "
                                    f"ledger's interface: {exc}") from exc

    def _receipt(self, document: Any) -> Receipt:
        return self._record(Receipt, document)

    def _result(self, document: Any) -> Result:
        if isinstance(document, dict) and "receipt" in document:
            return self._receipt(document["receipt"])
        refused = document.get("refused") if isinstance(document, dict) else None
        if isinstance(refused, dict) and isinstance(refused.get("reason"), str):
            reason = self._operations.reasons.get(refused["reason"])
            if reason is None:
                raise ServerFailed(409, refused["reason"], "a refusal by a reason this client "
                                   "does not know: upgrade carbonledger")
            return Rejected(reason, _detail(refused, reason.message))
        raise ServerUnreachable(f"{self.base_url} answered a result that is neither a receipt "
                                "nor a refusal")


def _field(answer: Any, name: str) -> Any:
    if not isinstance(answer, dict) or name not in answer:
        raise ServerUnreachable(f"the answer has no {name!r}: is this a carbonledger server?")
    return answer[name]


def _detail(problem: dict[str, Any], message: str) -> str:
    """A refusal's own detail: a problem without one repeats the reason's message there."""
    detail = str(problem.get("detail") or "")
    return "" if detail == message else detail


def _segment(value: str) -> str:
    """One path segment: ids are of the safe alphabet, but a caller may pass anything."""
    from urllib.parse import quote

    return quote(str(value), safe="")
