"""How a client reaches a ledger: in process (`LocalTransport`, the application service of a
local data directory) or over HTTP (`HttpTransport`, the service's /v1 interface). Both answer
with the same typed values and raise the same `Rejected` for a refused instruction, so that
nothing above them knows which one it talks to."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from allocation.views import (
    AllocationView,
    Amendment,
    Auction,
    Bid,
    MarketFigures,
    PlanView,
    ReserveMovement,
)
from api.ledger_clock import ledger_time
from api.service import Bundle, LedgerService
from compliance.model import MonthlySubmission
from compliance.queries import CreditRecord, Disclosure, RiskWarning, Status
from ledger.engine import Result
from ledger.journal import Receipt
from ledger.model import Account, Batch, Lot, Participant, SigningKey
from ledger.modules import OperationSet
from ledger.store.queries import Holding, JournalEntry
from pledge.model import Pledge, Repo
from pledge.queries import PledgeHistory, RepoHistory
from projects.model import Methodology, Project
from projects.queries import ProjectRecord, RetirementRecord

if TYPE_CHECKING:  # the chain stack is imported when a command needs it (api/service.py)
    from anchoring.operator.checkpoints import StoredCheckpoint
    from compliance.document_store import PublishedKey, StoredDocument
    from compliance.sealing import Sealed, WrappedKey

SignDigest = Callable[[bytes], bytes]
"""Signs a 32-byte digest the client computed itself (a login's) with a participant's key."""


class Transport(Protocol):
    """What a client needs of a ledger: the application service's commands and queries that
    a participant uses (api/service.py), by whatever way it is reached."""

    @property
    def operations(self) -> OperationSet: ...

    def submit(self, document: Mapping[str, Any]) -> Receipt: ...

    def submit_many(self, documents: Sequence[Mapping[str, Any]]) -> list[Result]: ...

    def last_nonce(self, address: str) -> int: ...

    def head(self) -> int: ...

    def chain_id(self) -> int:
        """The EIP-712 chain id of the ledger's genesis: every signature is bound to it."""
        ...

    def login(self, participant: str, sign: SignDigest) -> None:
        """Read as `participant` from now on; `sign` signs a login digest with its key."""
        ...

    def now(self) -> datetime:
        """The ledger's time: what instruction deadlines are checked against."""
        ...

    def participants(self) -> list[Participant]: ...

    def keys(self, participant: str | None = None) -> list[SigningKey]: ...

    def accounts(self, participant: str | None = None) -> list[Account]: ...

    def batches(self, scheme: str | None = None) -> list[Batch]: ...

    def holdings(self, account: str | None = None, batch: str | None = None) -> list[Holding]:
        ...

    def lots(self, batch: str | None = None, account: str | None = None) -> list[Lot]: ...

    def journal(self, start: int, stop: int) -> list[JournalEntry]: ...

    def checkpoints(self) -> list[StoredCheckpoint]: ...

    def pledges(self, account: str | None = None) -> list[Pledge]: ...

    def pledge(self, pledge_id: str) -> PledgeHistory | None: ...

    def repos(self, account: str | None = None) -> list[Repo]: ...

    def repo(self, repo_id: str) -> RepoHistory | None: ...

    def compliance_status(self, year: int) -> list[Status]: ...

    def compliance_risk(self, year: int) -> list[RiskWarning]: ...

    def credit_record(self, entity: str) -> CreditRecord: ...

    def monthly_submissions(self, emitter: str, year: int) -> list[MonthlySubmission]: ...

    def disclosure(self, year: int, scheme: str | None = None) -> Disclosure: ...

    # the project cycle (projects/queries.py): public
    def methodologies(self) -> list[Methodology]: ...

    def methodology(self, methodology_id: str) -> Methodology | None: ...

    def projects(self, owner: str | None = None,
                 methodology: str | None = None) -> list[Project]: ...

    def project(self, project_id: str) -> ProjectRecord | None: ...

    def claim_retirements(self, account: str | None = None) -> list[RetirementRecord]: ...

    def claim_retirement(self, retirement_id: str) -> RetirementRecord | None: ...

    # quota allocation (allocation/views.py): over HTTP, what the login may read
    def allocation_plan(self, scheme: str, year: int) -> PlanView | None: ...

    def allocation_plans(self, scheme: str | None = None) -> list[PlanView]: ...

    def plan_amendments(self, scheme: str, year: int) -> list[Amendment]: ...

    def reserve_movements(self, scheme: str, year: int) -> list[ReserveMovement]: ...

    def market_figures(self, scheme: str | None = None) -> list[MarketFigures]: ...

    def installation_allocations(self, installation: str) -> list[AllocationView]: ...

    def year_allocations(self, scheme: str, year: int) -> list[AllocationView]: ...

    def auctions(self, scheme: str | None = None, year: int | None = None) -> list[Auction]:
        ...

    def auction(self, auction_id: str) -> Auction | None: ...

    def auction_bids(self, auction_id: str) -> list[Bid]: ...

    def prove(self, kind: str, *subject: Any, checkpoint: int | None = None) -> Bundle: ...

    # confidential documents (compliance/documents.py): over HTTP, `owner`, `reader` and `by`
    # are the logged-in participant, which the server takes from the token
    def document_keys(self, participant: str | None = None) -> list[PublishedKey]: ...

    def store_document(self, owner: str, sealed: Sealed, media_type: str) -> StoredDocument:
        ...

    def sealed_document(self, sha256: str, reader: str) -> Sealed:
        """The document with `reader`'s wrapped keys; `DocumentError` if there is none or
        `reader` may not read it."""
        ...

    def share_document(self, sha256: str, by: str, reader: str,
                       keys: Sequence[WrappedKey]) -> int: ...

    # public documents of the project cycle (projects/public_documents.py): over HTTP,
    # `owner` is the logged-in participant; reading needs no login
    def store_public_document(self, owner: str, data: bytes, media_type: str) -> str: ...

    def public_document(self, sha256: str) -> bytes:
        """The bytes stored under `sha256`, as received (the client checks them);
        `PublicDocumentError` if there are none."""
        ...

    def close(self) -> None: ...


class LocalTransport:
    """The application service of a ledger in this process (a local data directory, built by
    api.bootstrap.build). It does not own the service: whoever built it closes it."""

    def __init__(self, service: LedgerService) -> None:
        self.service = service

    @property
    def operations(self) -> OperationSet:
        return self.service.operations

    def submit(self, document: Mapping[str, Any]) -> Receipt:
        return self.service.submit(document)

    def submit_many(self, documents: Sequence[Mapping[str, Any]]) -> list[Result]:
        return self.service.submit_many(documents)

    def last_nonce(self, address: str) -> int:
        return self.service.last_nonce(address)

    def head(self) -> int:
        return self.service.head()

    def chain_id(self) -> int:
        return self.service.ledger.domain.chain_id

    def login(self, participant: str, sign: SignDigest) -> None:
        """Accepted, and nothing changes: in process, reads are the operator's (all)."""

    def now(self) -> datetime:
        return ledger_time(self.service)

    def participants(self) -> list[Participant]:
        return self.service.participants()

    def keys(self, participant: str | None = None) -> list[SigningKey]:
        return self.service.keys(participant)

    def accounts(self, participant: str | None = None) -> list[Account]:
        return self.service.accounts(participant)

    def batches(self, scheme: str | None = None) -> list[Batch]:
        return self.service.batches(scheme)

    def holdings(self, account: str | None = None, batch: str | None = None) -> list[Holding]:
        return self.service.holdings(account, batch)

    def lots(self, batch: str | None = None, account: str | None = None) -> list[Lot]:
        return self.service.lots(batch, account)

    def journal(self, start: int, stop: int) -> list[JournalEntry]:
        return self.service.journal(start, stop)

    def checkpoints(self) -> list[StoredCheckpoint]:
        return self.service.checkpoints()

    def pledges(self, account: str | None = None) -> list[Pledge]:
        return self.service.pledges(account)

    def pledge(self, pledge_id: str) -> PledgeHistory | None:
        return self.service.pledge(pledge_id)

    def repos(self, account: str | None = None) -> list[Repo]:
        return self.service.repos(account)

    def repo(self, repo_id: str) -> RepoHistory | None:
        return self.service.repo(repo_id)

    def compliance_status(self, year: int) -> list[Status]:
        return self.service.compliance_status(year)

    def compliance_risk(self, year: int) -> list[RiskWarning]:
        return self.service.compliance_risk(year)

    def credit_record(self, entity: str) -> CreditRecord:
        return self.service.credit_record(entity)

    def monthly_submissions(self, emitter: str, year: int) -> list[MonthlySubmission]:
        return self.service.monthly_submissions(emitter, year)

    def disclosure(self, year: int, scheme: str | None = None) -> Disclosure:
        return self.service.disclosure(year, scheme)

    def methodologies(self) -> list[Methodology]:
        return self.service.methodologies()

    def methodology(self, methodology_id: str) -> Methodology | None:
        return self.service.methodology(methodology_id)

    def projects(self, owner: str | None = None,
                 methodology: str | None = None) -> list[Project]:
        return self.service.projects(owner, methodology)

    def project(self, project_id: str) -> ProjectRecord | None:
        return self.service.project(project_id)

    def claim_retirements(self, account: str | None = None) -> list[RetirementRecord]:
        return self.service.claim_retirements(account)

    def claim_retirement(self, retirement_id: str) -> RetirementRecord | None:
        return self.service.claim_retirement(retirement_id)

    def allocation_plan(self, scheme: str, year: int) -> PlanView | None:
        return self.service.allocation_plan(scheme, year)

    def allocation_plans(self, scheme: str | None = None) -> list[PlanView]:
        return self.service.allocation_plans(scheme)

    def plan_amendments(self, scheme: str, year: int) -> list[Amendment]:
        return self.service.plan_amendments(scheme, year)

    def reserve_movements(self, scheme: str, year: int) -> list[ReserveMovement]:
        return self.service.reserve_movements(scheme, year)

    def market_figures(self, scheme: str | None = None) -> list[MarketFigures]:
        return self.service.market_figures(scheme)

    def installation_allocations(self, installation: str) -> list[AllocationView]:
        return self.service.installation_allocations(installation)

    def year_allocations(self, scheme: str, year: int) -> list[AllocationView]:
        return self.service.year_allocations(scheme, year)

    def auctions(self, scheme: str | None = None, year: int | None = None) -> list[Auction]:
        return self.service.auctions(scheme, year)

    def auction(self, auction_id: str) -> Auction | None:
        return self.service.auction(auction_id)

    def auction_bids(self, auction_id: str) -> list[Bid]:
        return self.service.auction_bids(auction_id)

    def prove(self, kind: str, *subject: Any, checkpoint: int | None = None) -> Bundle:
        return self.service.prove(kind, *subject, checkpoint=checkpoint)

    def document_keys(self, participant: str | None = None) -> list[PublishedKey]:
        return self.service.document_keys(participant)

    def store_document(self, owner: str, sealed: Sealed, media_type: str) -> StoredDocument:
        return self.service.store_sealed(owner, sealed, media_type)[0]

    def sealed_document(self, sha256: str, reader: str) -> Sealed:
        return self.service.sealed_document(sha256, reader)[1]

    def share_document(self, sha256: str, by: str, reader: str,
                       keys: Sequence[WrappedKey]) -> int:
        return self.service.share_document(sha256, by, reader, keys)

    def store_public_document(self, owner: str, data: bytes, media_type: str) -> str:
        return self.service.store_public_document(owner, data, media_type)[0].sha256

    def public_document(self, sha256: str) -> bytes:
        return self.service.public_document(sha256).content

    def close(self) -> None:
        """Nothing to release: the service belongs to whoever built it."""
