"""The application service: the one way in for every interface.

The CLI, the HTTP service, the Python client and the demo stories call these commands and
queries and nothing else; none of them opens a store, reads a table or wires a part. Commands
change the ledger or produce evidence (submit, submit many, cut a checkpoint, anchor, prove,
verify, audit, replay); queries read it, as typed values.

Failures keep their own named types: a refusal is `ledger.errors.Rejected` (a reason of the
ledger or of a module), a store failure `ledger.store.errors.StoreError` (with whether the
outcome is known), and the anchoring and verification errors of anchoring/. An adapter maps
their codes; it never parses a message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocation import views as allocation_views
from allocation.views import (
    AllocationView,
    Amendment,
    Auction,
    Bid,
    MarketFigures,
    PlanView,
    ReserveMovement,
)
from api.bundle_cache import BundleCache
from compliance import queries as compliance
from compliance.model import MonthlySubmission
from compliance.queries import CreditRecord, Disclosure, RiskWarning, Status
from ledger.clock import parse_time
from ledger.engine import Ledger, Result
from ledger.errors import Rejected
from ledger.journal import Receipt
from ledger.model import Account, Batch, Lot, Participant, SigningKey
from ledger.modules import OperationSet
from ledger.parallel_signatures import PendingVerdicts, SignaturePool, SignaturePoolError
from ledger.replay import Progress, ReplayReport
from ledger.signature_check import SignatureVerdict, verdicts_of
from ledger.store import queries
from ledger.store.database import Store
from ledger.store.queries import Holding, JournalEntry
from pledge import queries as agreements
from pledge.model import Pledge, Repo
from pledge.queries import PledgeHistory, RepoHistory
from projects import queries as project_cycle
from projects.model import Methodology, Project
from projects.queries import ProjectRecord, RetirementRecord

if TYPE_CHECKING:
    # The chain stack (web3) costs a command ~0.3 s to import: it is imported by the commands
    # that reach a chain, when they run, not by every command that starts.
    from anchoring.audit import AuditReport
    from anchoring.auditor.cosignature import WitnessKey
    from anchoring.auditor.verify import Verified
    from anchoring.operator.bundles import Prover
    from anchoring.operator.checkpoints import Checkpointer, StoredCheckpoint
    from anchoring.operator.tiles import TilesWritten
    from anchoring.operator.worker import AnchoringWorker, AnchorResult
    from compliance.document_store import PublishedKey, StoredDocument
    from compliance.sealing import Sealed, WrappedKey
    from custody.eip712 import Domain
    from projects.public_document_store import StoredPublicDocument
    from projects.public_documents import PublicDocument

Bundle = dict[str, Any]

POOL_FROM_DOCUMENTS = 8
"""A submission of fewer documents has its signatures checked by the writer itself, even when
a signature pool is at hand: the hop costs the writer a fixed ~50 µs a submission (measured:
53 µs a document for submissions of one, 19 µs at 10, 5.6 µs at 100) against ~90 µs of
recovery saved a document, and a small submission is answered sooner in process.
`bench/ledger_throughput.py --pool-sizes` measures the pool at each size."""


POOL_FROM_REPLAY = 20_000
"""A replay of a journal of this many entries or more recovers signatures in a pool of
processes beside it (ledger/replay.py): below it, starting the processes (seconds of CPU
each) costs more than they save."""


def _proof(kind: str, operations: OperationSet) -> tuple[tuple[str, ...], Any]:
    """What a proof of `kind` names, and how the operator's prover makes it. The kinds are
    the ledger's modules' (`Module.bundle_kinds`); their provers are the operator's part's."""
    from anchoring.operator.allocation_evidence import prove_allocation, prove_auction
    from anchoring.operator.compliance_evidence import (
        prove_disclosure,
        prove_emissions,
        prove_obligation,
    )
    from anchoring.operator.pledge_evidence import prove_pledge
    from anchoring.operator.project_evidence import prove_retirement
    from anchoring.operator.provenance_evidence import prove_provenance

    proofs: dict[str, tuple[tuple[str, ...], Any]] = {
        "entry": (("seq",), lambda p, s, n: p.entry(_number(s[0]), n)),
        "lot": (("lot id",), lambda p, s, n: p.lot(str(s[0]), n)),
        "holding": (("account", "batch"), lambda p, s, n: p.holding(str(s[0]), str(s[1]), n)),
        "account": (("account",), lambda p, s, n: p.account(str(s[0]), n)),
        "consistency": (("first checkpoint", "second checkpoint"),
                        lambda p, s, _n: p.consistency(_number(s[0]), _number(s[1]))),
        "pledge": (("pledge id",), lambda p, s, n: prove_pledge(p, str(s[0]), n)),
        "emissions": (("submission",), lambda p, s, n: prove_emissions(p, str(s[0]), n)),
        "obligation": (("emitter", "year"),
                       lambda p, s, n: prove_obligation(p, str(s[0]), _year(s[1]), n)),
        "disclosure": (("year",), lambda p, s, n: prove_disclosure(p, _year(s[0]), n)),
        "retirement": (("retirement id",),
                       lambda p, s, n: prove_retirement(p, str(s[0]), n)),
        "provenance": (("batch", "serial"),
                       lambda p, s, n: prove_provenance(p, str(s[0]), _serial(s[1]), n)),
        "auction": (("auction id",), lambda p, s, n: prove_auction(p, str(s[0]), n)),
        "allocation": (("scheme", "year", "installation"),
                       lambda p, s, n: prove_allocation(
                           p, str(s[0]), _year(s[1]), n,
                           installation=str(s[2]) if len(s) > 2 else None)),
    }
    if kind not in operations.bundle_kinds or kind not in proofs:
        known = [k for k in operations.bundle_kinds if k in proofs]
        raise ValueError(f"no proof of kind {kind!r}: one of {', '.join(known)}")
    return proofs[kind]


def _number(text: Any) -> int:
    """A sequence or checkpoint number of a proof's subject; ValueError (the subject does not
    fit) past the stores' 64-bit integers, which a driver would refuse with a failure."""
    number = int(text)
    if not 0 <= number < 2**63:
        raise ValueError(f"{number} is not a sequence or checkpoint number (0 to 2**63 - 1)")
    return number


def _year(text: Any) -> int:
    """A compliance year of a proof's subject; ValueError if it is not one."""
    year = int(text)
    if not 1990 <= year <= 2200:
        raise ValueError(f"{year} is not a compliance year (1990 to 2200)")
    return year


def _serial(text: Any) -> int:
    """A unit's serial number of a proof's subject; ValueError if it is not one (serials run
    from 1, and a bundle's integers stop at 2**53 - 1)."""
    serial = int(text)
    if not 1 <= serial < 2**53:
        raise ValueError(f"{serial} is not a serial number (1 to 2**53 - 1)")
    return serial


# Kinds whose last subject may be left out: a year's plan alone, or with one installation's
# allocation.
_OPTIONAL_LAST = frozenset({"allocation"})

# Kinds whose bundle at a checkpoint is a function of the subject and the checkpoint's state
# (anchoring.operator.bundles.CheckpointState). A consistency bundle carries a second
# checkpoint, and a pledge's pack is its module's: both are built each time.
_KEPT_KINDS = frozenset({"entry", "lot", "holding", "account"})


class ServiceUnavailable(RuntimeError):
    """The service was built without the part a command needs (no operator key to sign
    checkpoints with, no chain to anchor on): the message says how to provide it."""


@dataclass(frozen=True)
class Parts:
    """What the composition root (api.bootstrap.build) hands the service. The checkpointer and
    the anchoring worker are made on first use: they need keys a query never does."""

    ledger: Ledger
    operator: str | None = None  # the address whose checkpoints this ledger trusts
    checkpointer: Callable[[], Checkpointer] | None = None
    anchoring: Callable[[], AnchoringWorker] | None = None
    # the ledger's operation set as a function importable by name, for processes that check
    # signatures beside a replay (None: a replay checks them alone)
    operations: Callable[[], OperationSet] | None = None


class LedgerService:
    """The commands and queries of one ledger (see the module's docstring)."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts
        self._checkpointer: Checkpointer | None = None
        self._prover: Prover | None = None
        self._bundles = BundleCache()
        self.waiting_for_witnesses: tuple[int, int, int] | None = None
        """After `anchor`: (checkpoint, attestations kept, attestations the registry requires)
        when the next checkpoint waits for its witnesses; None when nothing waits for them."""

    @property
    def ledger(self) -> Ledger:
        return self._parts.ledger

    @property
    def store(self) -> Store:
        return self.ledger.store

    @property
    def operations(self) -> OperationSet:
        return self.ledger.operations

    @property
    def operator(self) -> str | None:
        return self._parts.operator

    # --- commands -----------------------------------------------------------------------

    def submit(self, document: Mapping[str, Any]) -> Receipt:
        """Apply one signed instruction (its JSON form); raise `Rejected` if refused."""
        (result,) = self.ledger.submit_documents([document])
        if isinstance(result, Rejected):
            raise result
        return result

    def submit_many(self, documents: Sequence[Mapping[str, Any]],
                    verdicts: Sequence[SignatureVerdict] | None = None, *,
                    durable: bool = True) -> list[Result]:
        """Apply signed instructions in one transaction, in order: a receipt or a refusal
        each. A document that does not parse is refused alone; the others still apply.
        `verdicts`: what `check_signatures` found for these very documents, in a stage of
        this service that runs beside the writer (the engine then does not check again).
        `durable=False`: committed, perhaps not yet on disk; the caller calls
        `wait_durable` before it answers anyone (Ledger.submit_documents)."""
        return self.ledger.submit_documents(documents, verdicts, durable=durable)

    def wait_durable(self) -> None:
        """Return once every write committed so far is on disk (Store.wait_durable)."""
        self.ledger.store.wait_durable()

    @property
    def durability_is_awaited_apart(self) -> bool:
        """Does a commit reach the disk only with a wait of its own (PostgreSQL), which a
        writer can then await once for several transactions (`wait_durable`)? On SQLite a
        commit is in the write-ahead log when it returns."""
        return self.ledger.store.dialect == "postgresql"

    def submit_stream(self, submissions: Iterable[Sequence[Mapping[str, Any]]],
                      pool: SignaturePool | None = None, *,
                      pool_from: int = POOL_FROM_DOCUMENTS) -> Iterator[list[Result]]:
        """Apply `submissions` in order, each in its own transaction as `submit_many` does,
        yielding each one's results once it has committed.

        With `pool` (ledger/parallel_signatures.py, on this ledger's domain), the writer does
        not recover signatures: while it applies one submission, the pool checks the next
        one's, and the writer hands the engine their verdicts. The results and the journal
        are those of `submit_many` called on each submission in turn. A submission of fewer
        than `pool_from` documents, or one that comes while the pool's processes are still
        starting, is checked by the writer itself.

        What fails a submission's transaction is raised, as it is, when that submission's
        turn comes: every submission before it has committed, and none after it is applied.
        So is `SignatureWorkerDied`, when a process of the pool dies while it checks a
        submission: that submission is not applied, and the pool starts fresh processes for
        the next one."""
        if pool is not None and pool.domain != self.ledger.domain:
            raise ValueError("the signature pool checks against another domain than this "
                             "ledger's")
        upcoming = iter(submissions)
        current = self._check_beside(next(upcoming, None), pool, pool_from)
        while current is not None:
            documents, pending = current
            verdicts = pending.verdicts() if pending is not None else None
            current = self._check_beside(next(upcoming, None), pool, pool_from)
            yield self.submit_many(documents, verdicts)

    @staticmethod
    def _check_beside(documents: Sequence[Mapping[str, Any]] | None,
                      pool: SignaturePool | None, pool_from: int
                      ) -> tuple[list[Mapping[str, Any]], PendingVerdicts | None] | None:
        """The next submission, and its verdicts being computed in `pool` when it is worth
        it (None: the writer checks it)."""
        if documents is None:
            return None
        documents = list(documents)
        if pool is None or len(documents) < pool_from:
            return documents, None
        try:
            if not pool.ready():
                return documents, None
        except SignaturePoolError as failure:  # a process died starting: this one's failure
            return documents, PendingVerdicts.failed(pool, failure)
        return documents, pool.check(documents)

    def check_signatures(self, documents: Sequence[Mapping[str, Any]]
                         ) -> list[SignatureVerdict]:
        """The stateless part of admitting `documents`, done here rather than by the
        writer: each one parsed and its signatures recovered (ledger/signature_check.py)."""
        try:
            domain = self.ledger.domain
        except Rejected:
            domain = None  # no genesis yet: the writer checks them itself
        return verdicts_of(documents, self.ledger.operations.parse_signed, domain)

    def cut_checkpoint(self, *, if_due: bool = False) -> StoredCheckpoint | None:
        """Cut and sign a checkpoint (with `if_due`, only if the policy says one is due)."""
        checkpointer = self._checkpointer_or_fail()
        return checkpointer.maybe_cut() if if_due else checkpointer.cut()

    def publish_tiles(self, directory: Path, *, from_scratch: bool = False) -> TilesWritten:
        """Write the latest checkpoint's log as C2SP tlog-tiles under `directory`: the tiles
        and entry bundles new since the checkpoint published there (with `from_scratch`, all
        of them), then the checkpoint (anchoring/operator/tiles.py)."""
        from anchoring.operator.tiles import write_tiles

        return write_tiles(self.store, directory, from_scratch=from_scratch)

    def anchor(self) -> list[AnchorResult]:
        """Anchor every checkpoint not anchored yet, in order."""
        if self._parts.anchoring is None:
            raise ServiceUnavailable("no chain is configured to anchor on: deploy a registry "
                                     "with `carbonledger chain deploy`")
        worker = self._parts.anchoring()
        anchored = worker.anchor_pending()
        self.waiting_for_witnesses = worker.waiting_for_witnesses
        return anchored

    def prove(self, kind: str, *subject: Any, checkpoint: int | None = None) -> Bundle:
        """A proof bundle (docs/proof-format.md) of `kind`: entry SEQ, lot ID, holding ACCOUNT
        BATCH, account ID, consistency FIRST SECOND, pledge ID, emissions SUBMISSION, obligation
        EMITTER YEAR, disclosure YEAR, auction ID, allocation SCHEME YEAR [INSTALLATION].
        Checked against the trusted operator key, with the bundle kinds of this ledger's
        modules, before it is handed out, when there is one.

        A bundle so checked of an entry, a lot, a holding or an account is kept
        (api/bundle_cache.py) under its kind, its subject and its checkpoint's number, anchor
        and cosignatures, which are read first: asked for again while they are unchanged,
        it is handed out without being built and checked again."""
        from anchoring.auditor.verify import verify_bundle
        from anchoring.operator.bundles import Prover

        names, make = _proof(kind, self.operations)
        if len(subject) != len(names) and not (
                kind in _OPTIONAL_LAST and len(subject) == len(names) - 1):
            optional = " (optional)" if kind in _OPTIONAL_LAST else ""
            raise ValueError(f"a {kind} proof names {' and '.join(names)}{optional}")
        prover = self._prover or Prover(self.store)
        self._prover = prover
        key = None
        if self.operator is not None and kind in _KEPT_KINDS:
            # the state and then the bundle, in one snapshot: the bundle is of that state
            with prover.one_snapshot() as snapshot:
                state = snapshot.state_at(checkpoint)  # None: no such checkpoint, said below
                if state is not None:
                    key = (kind, tuple(str(s) for s in subject), state)
                    kept = self._bundles.get(key)
                    if kept is not None:
                        return kept
                    checkpoint = state.number
                bundle = make(snapshot, subject, checkpoint)
        else:
            bundle = make(prover, subject, checkpoint)
        if self.operator is not None:  # raises VerificationFailed
            verify_bundle(bundle, self.operator, tuple(self.operations.bundle_kinds.values()))
        if key is not None:
            self._bundles.put(key, bundle)
        return bundle

    def verify(self, bundle: Any, trusted_operator: str | None = None) -> Verified:
        """Check a bundle offline against `trusted_operator` (default: this ledger's)."""
        operator = trusted_operator or self.operator
        if operator is None:
            raise ServiceUnavailable("no trusted operator key: name the key whose checkpoints "
                                     "you trust")
        from anchoring.auditor.verify import verify_bundle

        return verify_bundle(bundle, operator, tuple(self.operations.bundle_kinds.values()))

    def audit(self, trusted_operator: str | None = None, progress: Progress | None = None,
              *, chain: Any = None, expect_checkpoint: int | None = None) -> AuditReport:
        """Replay the whole journal and recompute every signed checkpoint (and compare each
        with its anchor when `chain` reads the registry); with `expect_checkpoint`, a journal
        whose markers stop before that checkpoint fails."""
        operator = trusted_operator or self.operator
        if operator is None:
            raise ServiceUnavailable("no trusted operator key: name the key whose checkpoints "
                                     "you trust")
        from anchoring.audit import audit

        with self._replay_pool() as pool:
            return audit(self.store, self.operations, operator, progress, chain=chain,
                         expect_checkpoint=expect_checkpoint, pool=pool)

    def add_cosignatures(self, note: str, witnesses: Sequence[WitnessKey]) -> list[Any]:
        """Keep the cosignatures by `witnesses` on a checkpoint note a witness handed back,
        once the note is shown to be this ledger's signed checkpoint and each cosignature
        verifies (anchoring.operator.cosignatures); the new ones are returned. Bundles carry
        them from then on."""
        from anchoring.operator.cosignatures import accept_cosigned_note

        operator = self.operator
        if operator is None:
            raise ServiceUnavailable("no operator key is configured: the checkpoints a "
                                     "cosignature is for cannot be checked")
        with self.store.write() as tx:
            return accept_cosigned_note(tx, note, witnesses, operator)

    def add_attestation(self, document: Any) -> tuple[int, str, bool]:
        """Keep a witness's on-chain attestation of a checkpoint, once its signature is
        checked: (checkpoint, attester, whether it was new). The anchoring worker hands the
        registry those it requires."""
        from anchoring.operator.cosignatures import accept_attestation

        with self.store.write() as tx:
            return accept_attestation(tx, document)

    def check_invariants(self) -> list[str]:
        """What must always hold, of the core and of every module: each violation found, in
        words (supply per batch, the lot partition, each account against the journal, each
        pledge and repo against the lots under its lien)."""
        return self.operations.check_invariants(self.store)

    def replay_check(self, progress: Progress | None = None) -> ReplayReport:
        """Rebuild every projection from the journal in a scratch store and compare; and hold
        every signed checkpoint stored to the journal (ledger.replay composed with
        anchoring.audit.replay_against_checkpoints: the ledger imports nothing of anchoring)."""
        from anchoring.audit import replay_against_checkpoints

        if self.operator is None and self.checkpoints():
            raise ServiceUnavailable("no operator key is configured to check the signed "
                                     "checkpoints against: restore operator.json, or run "
                                     "`carbonledger audit --operator-key ADDRESS`")
        with self._replay_pool() as pool:
            return replay_against_checkpoints(self.store, self.operations, self.operator,
                                              progress, pool)

    @contextmanager
    def _replay_pool(self) -> Iterator[SignaturePool | None]:
        """Processes recovering a replay's signatures beside it, for a journal of
        `POOL_FROM_REPLAY` entries or more on a machine with a core to spare: one fewer than
        the cores, since the replay itself takes one. None: the replay checks them alone."""
        operation_set = self._parts.operations
        processes = (os.cpu_count() or 1) - 1
        domain = (self._domain_of_a_long_journal() if processes and operation_set is not None
                  else None)
        if domain is None or operation_set is None:
            yield None
            return
        with SignaturePool(domain, operation_set, processes=processes) as pool:
            # a second or two, against the minutes of such a replay: from its first group on
            try:
                pool.wait_ready()
                started: SignaturePool | None = pool
            except SignaturePoolError:  # a process died starting: the replay checks alone
                started = None
            yield started

    def _domain_of_a_long_journal(self) -> Domain | None:
        """The ledger's domain if its journal holds `POOL_FROM_REPLAY` entries or more (None:
        shorter, or not a ledger yet, which the replay then says)."""
        with self.store.read() as tx:
            if tx.head + 1 < POOL_FROM_REPLAY:
                return None
        try:
            return self.ledger.domain
        except Rejected:
            return None

    # --- queries ------------------------------------------------------------------------

    def participants(self) -> list[Participant]:
        with self.store.read() as tx:
            return queries.participants(tx)

    def keys(self, participant: str | None = None) -> list[SigningKey]:
        """Signing keys with their last used nonce (a wallet signs with any higher one)."""
        with self.store.read() as tx:
            return queries.keys(tx, participant)

    def signer(self, address: str) -> tuple[SigningKey, Participant] | None:
        """A registered key (revoked or not) and the participant it signs for."""
        with self.store.read() as tx:
            found = tx.signers([address], last=True)  # a token's check: every guarded read
        return found[0] if found else None

    def account(self, account_id: str) -> Account | None:
        with self.store.read() as tx:
            return tx.accounts([account_id]).get(account_id)

    def last_nonce(self, address: str) -> int:
        """The last nonce `address` signed with; 0 for a key that has not signed yet or is
        not registered."""
        with self.store.read() as tx:
            key = queries.key(tx, address)
        return key.last_nonce if key else 0

    def accounts(self, participant: str | None = None) -> list[Account]:
        with self.store.read() as tx:
            return queries.accounts(tx, participant)

    def batches(self, scheme: str | None = None) -> list[Batch]:
        with self.store.read() as tx:
            return queries.batches(tx, scheme=scheme)

    def holdings(self, account: str | None = None, batch: str | None = None) -> list[Holding]:
        with self.store.read() as tx:
            return queries.holdings(tx, account=account, batch=batch)

    def lots(self, batch: str | None = None, account: str | None = None) -> list[Lot]:
        with self.store.read() as tx:
            return queries.lots(tx, batch=batch, account=account)

    def journal(self, start: int, stop: int) -> list[JournalEntry]:
        with self.store.read() as tx:
            return queries.journal(tx, start, stop)

    def head(self) -> int:
        """The sequence number of the last journal entry (-1: an empty journal)."""
        with self.store.read() as tx:
            return tx.head

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every signed checkpoint, with where it is anchored (if it is)."""
        from anchoring.operator.checkpoints import stored_checkpoints

        with self.store.read() as tx:
            return stored_checkpoints(tx)

    def pledges(self, account: str | None = None) -> list[Pledge]:
        return agreements.pledges(self.store, account=account)

    def pledge(self, pledge_id: str) -> PledgeHistory | None:
        return agreements.pledge_history(self.store, pledge_id)

    def repos(self, account: str | None = None) -> list[Repo]:
        return agreements.repos(self.store, account=account)

    def repo(self, repo_id: str) -> RepoHistory | None:
        return agreements.repo_history(self.store, repo_id)

    # --- confidential documents (compliance/documents.py: who may read and share) ---------

    def document_keys(self, participant: str | None = None, *,
                      registry: bool = False) -> list[PublishedKey]:
        """The public keys documents are sealed for (of one participant; `registry`: of the
        registry's participants, for whom every document is sealed)."""
        from compliance import documents

        if registry:
            return documents.registry_keys(self.store)
        return documents.document_keys(self.store, participant)

    def store_sealed(self, owner: str, sealed: Sealed,
                     media_type: str) -> tuple[StoredDocument, bool]:
        """Keep `owner`'s sealed document (idempotent): it, and whether it is new."""
        from compliance import documents

        return documents.store_sealed(self.store, owner, sealed, media_type,
                                      self.ledger.clock())

    def sealed_document(self, sha256: str, reader: str) -> tuple[StoredDocument, Sealed]:
        """A sealed document with the keys wrapped for `reader`'s keys; `DocumentError` if
        there is none or `reader` is not one of its readers."""
        from compliance import documents

        return documents.sealed_for(self.store, sha256, reader)

    def share_document(self, sha256: str, by: str, reader: str,
                       keys: Sequence[WrappedKey]) -> int:
        """`by` (the owner or the registry) adds `reader`'s wrapped keys: how many were new."""
        from compliance import documents

        return documents.share(self.store, sha256, by, reader, keys)

    # --- public documents of the project cycle (projects/public_documents.py) ---------------

    def store_public_document(self, owner: str, data: bytes,
                              media_type: str) -> tuple[StoredPublicDocument, bool]:
        """Keep a public document stored by `owner` (idempotent: the same bytes again change
        nothing): it, and whether it is new."""
        from projects import public_documents

        return public_documents.store_described(self.store, owner, data, media_type,
                                                self.ledger.clock())

    def public_document(self, sha256: str) -> PublicDocument:
        """A public document and its bytes; `PublicDocumentError` if there is none."""
        from projects import public_documents

        return public_documents.fetch(self.store, sha256)

    def compliance_status(self, year: int) -> list[Status]:
        """Every emitter's compliance status for `year`, on the ledger's market day now."""
        return compliance.compliance_status(self.store, year, self._now())

    def compliance_risk(self, year: int) -> list[RiskWarning]:
        """The emitters whose freely available units fall short of what they owe for
        `year`, largest shortfall first."""
        return compliance.compliance_risk(self.store, year, self._now())

    def credit_record(self, entity: str) -> CreditRecord:
        return compliance.credit_record(self.store, entity, self._now())

    def monthly_submissions(self, emitter: str, year: int) -> list[MonthlySubmission]:
        """`emitter`'s monthly submissions of `year`, superseded ones too."""
        return compliance.monthly_submissions(self.store, emitter, year)

    def disclosure(self, year: int, scheme: str | None = None) -> Disclosure:
        """`scheme`'s disclosure of `year` (default: the only compliance scheme); ValueError
        if `scheme` sets no obligations."""
        return compliance.disclosure(self.store, year, self._now(), scheme)

    # --- the project cycle (projects/queries.py): public ---------------------------------

    def methodologies(self) -> list[Methodology]:
        return project_cycle.methodologies(self.store)

    def methodology(self, methodology_id: str) -> Methodology | None:
        return project_cycle.methodology(self.store, methodology_id)

    def projects(self, owner: str | None = None,
                 methodology: str | None = None) -> list[Project]:
        return project_cycle.projects(self.store, owner, methodology)

    def project(self, project_id: str) -> ProjectRecord | None:
        """A project with its public comments and monitoring periods."""
        return project_cycle.project_record(self.store, project_id)

    def claim_retirements(self, account: str | None = None) -> list[RetirementRecord]:
        return project_cycle.retirements(self.store, account)

    def claim_retirement(self, retirement_id: str) -> RetirementRecord | None:
        return project_cycle.retirement(self.store, retirement_id)

    # --- quota allocation (allocation/views.py): who reads which is the HTTP service's ----

    def allocation_plan(self, scheme: str, year: int) -> PlanView | None:
        """A scheme's plan for a year: its cap and counters, its sectors and what each
        received."""
        return allocation_views.plan(self.store, scheme, year)

    def allocation_plans(self, scheme: str | None = None) -> list[PlanView]:
        return allocation_views.plans(self.store, scheme)

    def plan_amendments(self, scheme: str, year: int) -> list[Amendment]:
        return allocation_views.amendments(self.store, scheme, year)

    def reserve_movements(self, scheme: str, year: int) -> list[ReserveMovement]:
        return allocation_views.reserve_movements(self.store, scheme, year)

    def market_figures(self, scheme: str | None = None) -> list[MarketFigures]:
        return allocation_views.market_figures(self.store, scheme)

    def installation_allocations(self, installation: str) -> list[AllocationView]:
        """What an installation received, year by year, each figure with its inputs (output,
        benchmark, factors, share, debts): recomputable by whoever reads it."""
        return allocation_views.installation_allocations(self.store, installation)

    def year_allocations(self, scheme: str, year: int) -> list[AllocationView]:
        return allocation_views.year_allocations(self.store, scheme, year)

    def auctions(self, scheme: str | None = None, year: int | None = None) -> list[Auction]:
        """Every auction (of a scheme, of a year) and where it stands now, in the order
        announced."""
        return allocation_views.auctions(self.store, self._now(), scheme, year)

    def auction(self, auction_id: str) -> Auction | None:
        return allocation_views.auction(self.store, auction_id, self._now())

    def auction_bids(self, auction_id: str, bidder: str | None = None) -> list[Bid]:
        """An auction's bids (or one bidder's), sealed or not: in process, reads are the
        operator's; the HTTP service shows a bidder only its own until clearing."""
        return allocation_views.auction_bids(self.store, auction_id, bidder)

    def _now(self) -> datetime:
        """The ledger's time now, as api.ledger_clock.ledger_time reads it: its clock's, never
        before the last entry's (the journal never goes back)."""
        now = self.ledger.clock()
        with self.store.read() as tx:
            last = tx.head_time
        return now if last is None else max(now, parse_time(last))

    # --- parts --------------------------------------------------------------------------

    def _checkpointer_or_fail(self) -> Checkpointer:
        if self._checkpointer is None:
            if self._parts.checkpointer is None:
                raise ServiceUnavailable("no operator key to sign checkpoints with: create "
                                         "one with `carbonledger operator-key --create`")
            self._checkpointer = self._parts.checkpointer()
        return self._checkpointer

    def close(self) -> None:
        self.store.dispose()


__all__ = ["POOL_FROM_DOCUMENTS", "POOL_FROM_REPLAY", "Bundle", "LedgerService", "Parts",
           "ServiceUnavailable"]
