"""`Client`: what a bank's or a registry's software integrates with.

    client = Client(HttpTransport("http://127.0.0.1:8080"))      # or LocalTransport(service)
    bank = client.wallet(private_key)
    signed = client.sign(client.instruction("pledge_release", pledge="P1", quantity=100), bank)
    receipt = client.submit(signed)                               # or Rejected, by its reason
    client.holdings(account="HN")                                 # typed values
    client.verify(client.proof("pledge", "P1"), trusted_operator=OPERATOR)

Nonces are fetched, not remembered: a signature's nonce is one above the larger of the
key's last nonce in the ledger and the wallet's own counter, so a second process signing
with the same key (another desk, a restarted service) continues above the first's use
instead of being refused as `stale_nonce`. Two processes that sign with one key at the same
moment can still pick the same nonce; the ledger then refuses the later one, which is
signed again. A half-signed instruction waiting for its other party keeps its first
signer's nonce: that key must not sign anything else that is submitted first.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import coincurve

from allocation.views import (
    AllocationView,
    Amendment,
    Auction,
    Bid,
    MarketFigures,
    PlanView,
    ReserveMovement,
)
from api.client.errors import ClientError
from api.client.transport import Transport
from api.service import Bundle
from compliance.model import MonthlySubmission
from compliance.queries import CreditRecord, Disclosure, RiskWarning, Status
from custody.eip712 import Domain
from custody.signatures import unsafe_sign_digest
from ledger.client import DEFAULT_VALIDITY_S, Wallet
from ledger.engine import Result
from ledger.errors import Reason, Rejected
from ledger.instructions import Instruction, SignedInstruction, make_domain
from ledger.journal import Receipt
from ledger.model import Account, Batch, Lot, Participant, Role, SigningKey
from ledger.modules import OperationSet
from ledger.store.queries import Holding, JournalEntry
from pledge.model import Pledge, Repo
from pledge.queries import PledgeHistory, RepoHistory
from projects.model import Methodology, Project
from projects.queries import ProjectRecord, RetirementRecord

if TYPE_CHECKING:
    from anchoring.auditor.verify import Verified
    from anchoring.operator.checkpoints import StoredCheckpoint

Signed = SignedInstruction | Mapping[str, Any]
"""A signed instruction, or its JSON form (as `SignedInstruction.as_json()` writes it)."""


class Client:
    """Builds, signs, co-signs and submits instructions and runs the ledger's queries,
    through `transport` (in process or over HTTP)."""

    def __init__(self, transport: Transport, *, validity_s: int = DEFAULT_VALIDITY_S) -> None:
        self.transport = transport
        self.validity_s = validity_s  # how long an instruction made here may wait
        self._clock_skew_s: float | None = None  # the ledger's clock minus ours, once measured
        self._logged_in: tuple[str, str] | None = None  # (address, participant) reading

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    @property
    def operations(self) -> OperationSet:
        return self.transport.operations

    # --- keys and nonces --------------------------------------------------------------------

    @cached_property
    def chain_id(self) -> int:
        """The EIP-712 chain id every signature of this ledger is bound to: its genesis's."""
        return self.transport.chain_id()

    def login(self, wallet: Wallet) -> str:
        """Read from now on as the participant whose registered key `wallet` holds (its
        name is returned). Over HTTP the wallet signs a login challenge for a token, sent with
        every request and renewed once it expires: reads are then that participant's (its
        accounts, those under its agreements; everything for the registry and auditors). In
        process, reads are the operator's, every one of them, with or without a login."""
        key = self.key(wallet.address)
        if key is None or key.revoked:
            raise ClientError(f"{wallet.address} is not an active registered key: log in with "
                              "a key the registry registered for your participant")
        self.transport.login(key.participant,
                             lambda digest: unsafe_sign_digest(wallet.private_key, digest))
        self._logged_in = (wallet.address, key.participant)
        return key.participant

    @property
    def domain(self) -> Domain:
        return make_domain(self.chain_id)

    def wallet(self, private_key: bytes) -> Wallet:
        """A wallet signing for this ledger's chain id."""
        return Wallet(private_key, self.domain)

    def next_nonce(self, address: str) -> int:
        """The nonce `address`'s next signature takes, by the ledger: its last one plus one."""
        return self.transport.last_nonce(address) + 1

    # --- instructions -----------------------------------------------------------------------

    def instruction(self, op: str, *, deadline: int | None = None,
                    valid_for_s: int | None = None, **fields: Any) -> Instruction:
        """A new instruction of `op` with a fresh id, valid for `valid_for_s` seconds (default
        the client's `validity_s`) unless a `deadline` (Unix seconds) is given; range fields
        default to 'by quantity'. `Rejected` if a field is not valid.

        The ledger checks deadlines against its own clock, which a demo or test deployment
        may have moved days away from ours (`carbonledger clock`): the default deadline
        counts from the ledger's time, by the difference between its clock and ours, measured
        once per client on first use. After the ledger's clock was moved, `refresh_clock()`."""
        if deadline is None:
            deadline = int(time.time() + self._skew_s()) + (
                valid_for_s if valid_for_s is not None else self.validity_s)
        return self.operations.instruction(op, deadline=deadline, **fields)

    def refresh_clock(self) -> float:
        """Measure again how far the ledger's clock is from ours (seconds, ahead if positive),
        for the deadlines of the instructions made from now on."""
        self._clock_skew_s = self.transport.now().timestamp() - time.time()
        return self._clock_skew_s

    def _skew_s(self) -> float:
        return self.refresh_clock() if self._clock_skew_s is None else self._clock_skew_s

    def sign(self, instruction: Instruction, wallet: Wallet) -> SignedInstruction:
        """The first approval of `instruction`, by `wallet`, with the next nonce."""
        self._take_next_nonce(wallet)
        return wallet.sign(instruction)

    def cosign(self, signed: Signed, wallet: Wallet) -> SignedInstruction:
        """`signed` with `wallet`'s approval added (each party signs the same body)."""
        signed = self.read_signed(signed)
        if wallet.address in signed.signers:
            raise Rejected(Reason.duplicate_signer, f"{wallet.address} has signed it already")
        self._take_next_nonce(wallet)
        return wallet.cosign(signed)

    def read_signed(self, signed: Signed) -> SignedInstruction:
        """A signed instruction from its JSON form, checked without the ledger's state."""
        if isinstance(signed, SignedInstruction):
            return signed
        return self.operations.parse_signed(signed)

    def _take_next_nonce(self, wallet: Wallet) -> None:
        if wallet.domain != self.domain:
            raise ClientError(f"the wallet signs for chain id {wallet.domain.chain_id}, the "
                              f"ledger's is {self.chain_id}: make it with Client.wallet")
        # Wallet.sign counts up from here: the next nonce is above both
        wallet.nonce = max(wallet.nonce, self.transport.last_nonce(wallet.address))

    # --- commands ---------------------------------------------------------------------------

    def submit(self, signed: Signed) -> Receipt:
        """Apply one signed instruction: its receipt, or `Rejected` with the ledger's reason.
        Submitting the same signed instruction again returns its first receipt."""
        return self.transport.submit(_document(signed))

    def submit_many(self, signed: Sequence[Signed]) -> list[Result]:
        """Apply signed instructions in one transaction, in order: a receipt or a refusal
        each; a refused one refuses nothing else."""
        return self.transport.submit_many([_document(s) for s in signed])

    def proof(self, kind: str, *subject: Any, checkpoint: int | None = None) -> Bundle:
        """A proof bundle of `kind` (entry SEQ, lot ID, holding ACCOUNT BATCH, account ID,
        consistency FIRST SECOND, pledge ID) at `checkpoint` (default: the latest)."""
        return self.transport.prove(kind, *subject, checkpoint=checkpoint)

    def verify(self, bundle: Any, trusted_operator: str) -> Verified:
        """Check a bundle here, offline, against the operator key the caller trusts (never
        one the server names); `VerificationFailed` if it does not hold."""
        from anchoring.auditor.verify import verify_bundle

        return verify_bundle(bundle, trusted_operator,
                             tuple(self.operations.bundle_kinds.values()))

    # --- queries ----------------------------------------------------------------------------

    def head(self) -> int:
        return self.transport.head()

    def participants(self) -> list[Participant]:
        return self.transport.participants()

    def keys(self, participant: str | None = None) -> list[SigningKey]:
        return self.transport.keys(participant)

    def key(self, address: str) -> SigningKey | None:
        """The registered key `address` (its participant, its last nonce), if it is one."""
        registered = self.transport.keys()
        return next((k for k in registered if k.address == address), None)

    def accounts(self, participant: str | None = None) -> list[Account]:
        return self.transport.accounts(participant)

    def batches(self, scheme: str | None = None) -> list[Batch]:
        return self.transport.batches(scheme)

    def holdings(self, account: str | None = None, batch: str | None = None) -> list[Holding]:
        return self.transport.holdings(account, batch)

    def lots(self, batch: str | None = None, account: str | None = None) -> list[Lot]:
        return self.transport.lots(batch, account)

    def journal(self, start: int, stop: int) -> list[JournalEntry]:
        return self.transport.journal(start, stop)

    def checkpoints(self) -> list[StoredCheckpoint]:
        return self.transport.checkpoints()

    def pledges(self, account: str | None = None) -> list[Pledge]:
        return self.transport.pledges(account)

    def pledge(self, pledge_id: str) -> PledgeHistory | None:
        return self.transport.pledge(pledge_id)

    def repos(self, account: str | None = None) -> list[Repo]:
        return self.transport.repos(account)

    def repo(self, repo_id: str) -> RepoHistory | None:
        return self.transport.repo(repo_id)

    # --- the project cycle (projects/queries.py): public -----------------------------------

    def methodologies(self) -> list[Methodology]:
        """Every published methodology, superseded and withdrawn ones too."""
        return self.transport.methodologies()

    def methodology(self, methodology_id: str) -> Methodology | None:
        return self.transport.methodology(methodology_id)

    def projects(self, owner: str | None = None,
                 methodology: str | None = None) -> list[Project]:
        """Projects in every status (of `owner`, under `methodology`, when given)."""
        return self.transport.projects(owner, methodology)

    def project(self, project_id: str) -> ProjectRecord | None:
        """A project with its public comments and monitoring periods, each naming the
        journal entries behind it."""
        return self.transport.project(project_id)

    def claim_retirements(self, account: str | None = None) -> list[RetirementRecord]:
        """Retirements for offsetting claims (from `account`, when given), in order."""
        return self.transport.claim_retirements(account)

    def claim_retirement(self, retirement_id: str) -> RetirementRecord | None:
        return self.transport.claim_retirement(retirement_id)

    # --- quota allocation (allocation/views.py) -------------------------------------------

    def allocation_plan(self, scheme: str, year: int) -> PlanView | None:
        """A scheme's plan for a year: cap, counters, sectors and what each received. Public."""
        return self.transport.allocation_plan(scheme, year)

    def allocation_plans(self, scheme: str | None = None) -> list[PlanView]:
        return self.transport.allocation_plans(scheme)

    def plan_amendments(self, scheme: str, year: int) -> list[Amendment]:
        return self.transport.plan_amendments(scheme, year)

    def reserve_movements(self, scheme: str, year: int) -> list[ReserveMovement]:
        """Every movement of a plan's reserve (release, absorb, new entrant). Public."""
        return self.transport.reserve_movements(scheme, year)

    def market_figures(self, scheme: str | None = None) -> list[MarketFigures]:
        return self.transport.market_figures(scheme)

    def installation_allocations(self, installation: str) -> list[AllocationView]:
        """What an installation received, year by year, each figure with its inputs (over
        HTTP: its emitter, the registry and auditors may read them; `ServerFailed` 403 for
        anyone else)."""
        return self.transport.installation_allocations(installation)

    def year_allocations(self, scheme: str, year: int) -> list[AllocationView]:
        """Every installation's allocation for a scheme's year (over HTTP: those of the
        login's own installations; all for the registry and auditors)."""
        return self.transport.year_allocations(scheme, year)

    def auctions(self, scheme: str | None = None, year: int | None = None) -> list[Auction]:
        """Every auction (of a scheme, of a year): terms, phase, results once cleared."""
        return self.transport.auctions(scheme, year)

    def auction(self, auction_id: str) -> Auction | None:
        return self.transport.auction(auction_id)

    def auction_bids(self, auction_id: str) -> list[Bid]:
        """An auction's bids, with their fills once cleared. Sealed until then: over HTTP a
        bidder reads only its own (logged in), the registry and auditors all; in process,
        all."""
        return self.transport.auction_bids(auction_id)

    # --- confidential documents (compliance/sealing.py, compliance/documents.py) ------------

    def publish_document_key(self, wallet: Wallet) -> Receipt:
        """Publish the public key of `wallet`'s registered key, so that documents can be
        sealed for its participant."""
        participant = self._participant_of(wallet)
        public_key = coincurve.PrivateKey(wallet.private_key).public_key.format(compressed=True)
        return self.submit(self.sign(self.instruction(
            "document_key_publish", participant=participant, publicKey="0x" + public_key.hex()),
            wallet))

    def upload_document(self, data: bytes, media_type: str, wallet: Wallet) -> str:
        """Seal `data` here for its owner (`wallet`'s participant) and the registry, by their
        published keys, and store it: its SHA-256 (0x-hex), what an instruction journals.
        The plaintext never leaves this process."""
        from compliance.sealing import seal

        owner = self._reading_as(wallet)
        own = self.transport.document_keys(owner)
        if not any(k.address == wallet.address for k in own):
            raise ClientError(f"{owner} has published no document key of {wallet.address}: "
                              "publish it first (Client.publish_document_key)")
        registries = {p.id for p in self.transport.participants() if p.role == Role.registry}
        readers = own + [k for k in self.transport.document_keys() if k.participant in registries]
        sealed = seal(data, [bytes.fromhex(k.public_key[2:]) for k in readers])
        return self.transport.store_document(owner, sealed, media_type).sha256

    def read_document(self, sha256: str, wallet: Wallet) -> bytes:
        """A stored document, opened here with `wallet`'s key and checked against `sha256`
        (`SealError` if it is not exactly that document)."""
        from compliance.sealing import SealError, SealFailure, open_sealed

        sealed = self.transport.sealed_document(sha256, self._reading_as(wallet))
        if sealed.sha256 != sha256:
            raise SealError(SealFailure.hash_mismatch, f"asked for {sha256}, got {sealed.sha256}")
        return open_sealed(sealed, wallet.private_key)

    def share_document(self, sha256: str, wallet: Wallet, reader: str) -> int:
        """Share a document with `reader` (its owner or the registry does): its key is
        unwrapped here with `wallet`'s and wrapped for each of `reader`'s published keys.
        How many keys were new."""
        from compliance.sealing import wrap_for

        by = self._reading_as(wallet)
        keys = self.transport.document_keys(reader)
        if not keys:
            raise ClientError(f"{reader} has published no document key: it publishes one "
                              "first (Client.publish_document_key)")
        sealed = self.transport.sealed_document(sha256, by)
        wrapped = [wrap_for(sealed, wallet.private_key, bytes.fromhex(k.public_key[2:]))
                   for k in keys]
        return self.transport.share_document(sha256, by, reader, wrapped)

    # --- public documents of the project cycle (projects/public_documents.py) ---------------

    def upload_public_document(self, data: bytes, media_type: str, wallet: Wallet) -> str:
        """Store `data` as it is, as a public document (a project design document) stored by
        `wallet`'s participant (logged in as it): its SHA-256 (0x-hex), what an instruction
        journals. Storing the same bytes again changes nothing."""
        from projects.public_documents import (
            PublicDocumentError,
            PublicDocumentFailure,
            sha256_of,
        )

        sha256 = self.transport.store_public_document(self._reading_as(wallet), data,
                                                      media_type)
        if sha256 != sha256_of(data):
            raise PublicDocumentError(PublicDocumentFailure.hash_mismatch,
                                      f"stored {sha256_of(data)}, the server named {sha256}")
        return sha256

    def public_document(self, sha256: str) -> bytes:
        """A public document's bytes, checked here against `sha256` before they are returned
        (`PublicDocumentError` hash_mismatch if they are not exactly that document)."""
        from projects.public_documents import checked

        return checked(sha256, self.transport.public_document(sha256))

    def _participant_of(self, wallet: Wallet) -> str:
        key = self.key(wallet.address)
        if key is None or key.revoked:
            raise ClientError(f"{wallet.address} is not an active registered key")
        return key.participant

    def _reading_as(self, wallet: Wallet) -> str:
        """`wallet`'s participant, logged in as it (over HTTP, the server reads the token)."""
        if self._logged_in is None or self._logged_in[0] != wallet.address:
            self.login(wallet)
        assert self._logged_in is not None
        return self._logged_in[1]

    def compliance_status(self, year: int) -> list[Status]:
        """Each emitter's compliance status for `year` (over HTTP: those the login may read)."""
        return self.transport.compliance_status(year)

    def compliance_risk(self, year: int) -> list[RiskWarning]:
        """The emitters at risk of falling short for `year`, largest shortfall first (over
        HTTP: those the login may read)."""
        return self.transport.compliance_risk(year)

    def credit_record(self, entity: str) -> CreditRecord:
        """What the journal holds against `entity` (over HTTP: only the entity itself, the
        registry and auditors may read it; `ServerFailed` 403 for anyone else)."""
        return self.transport.credit_record(entity)

    def monthly_submissions(self, emitter: str, year: int) -> list[MonthlySubmission]:
        """`emitter`'s monthly submissions of `year`, superseded ones too (over HTTP: the
        emitter itself, the registry and auditors may read them)."""
        return self.transport.monthly_submissions(emitter, year)

    def disclosure(self, year: int, scheme: str | None = None) -> Disclosure:
        """The public disclosure of `scheme`'s year (default: the only compliance scheme)."""
        return self.transport.disclosure(year, scheme)


def _document(signed: Signed) -> Mapping[str, Any]:
    return signed.as_json() if isinstance(signed, SignedInstruction) else signed
