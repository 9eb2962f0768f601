"""The ledger: authorize, validate, apply, journal — one database transaction per submission.

    ledger = Ledger(Store(url), operations, clock)   # operations: api.bootstrap builds them
    receipt = ledger.submit(signed)              # one operation, one transaction
    results = ledger.submit_many([s1, s2, ...])  # many operations, one transaction

A *submission* is what one call hands in: one instruction, or several applied in one
transaction. Signatures are recovered before the transaction (they need no state and are the
costliest step); everything that reads the state happens under the journal head lock. In a
submission of several each operation is still its own journal entry, and a refused one refuses
nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from custody.eip712 import Domain
from ledger.clock import Clock, format_time, parse_time, utc_now
from ledger.effects import Changes, LotIds
from ledger.errors import Reason, Rejected, require
from ledger.formats import current_form, strict_admission
from ledger.instructions import (
    MAX_NONCE_STEP,
    Instruction,
    SignedInstruction,
    make_domain,
    parse_approvals,
)
from ledger.journal import Receipt, body_hash, make_entry, make_marker, receipt_of
from ledger.model import LotState, SigningKey
from ledger.modules import OperationSet
from ledger.ops import Context, Signer
from ledger.signature_check import CHECKED, UNCHECKED, SignatureVerdict, check_signatures
from ledger.state import ReadAhead, WorkingSet
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction

Result = Receipt | Rejected


class Ledger:
    def __init__(self, store: Store, operations: OperationSet, clock: Clock = utc_now) -> None:
        self.store = store
        self.operations = operations  # what this ledger can apply (ledger/modules.py)
        self.clock = clock
        self._domain: Domain | None = None

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain of this ledger, fixed by its genesis entry."""
        if self._domain is None:
            with self.store.read() as tx:
                genesis = tx.journal_row(0)
            if genesis is None:
                raise Rejected(Reason.ledger_not_initialized)
            fields = json.loads(genesis.entry)["instruction"]["fields"]
            self._domain = make_domain(fields["chainId"])
        return self._domain

    def submit(self, signed: SignedInstruction) -> Receipt:
        """Apply one instruction in its own transaction; raise `Rejected` if refused."""
        (result,) = self.submit_many([signed])
        if isinstance(result, Rejected):
            raise result
        return result

    def submit_many(self, submission: Sequence[SignedInstruction]) -> list[Result]:
        """Apply many instructions in one transaction, in order; a receipt or a rejection each."""
        return self._submit([self._admit(signed) for signed in submission])

    def submit_documents(self, documents: Sequence[Any],
                         verdicts: Sequence[SignatureVerdict] | None = None, *,
                         durable: bool = True) -> list[Result]:
        """`submit_many` of signed instructions in their JSON form (a file's, a request's),
        parsed here once: the same one way in, without building them twice.

        `verdicts`, one per document, come from a stage of this service that has already
        checked the signatures (ledger/signature_check.py): a document CHECKED is not
        recovered again, one refused there is refused as it was, one UNCHECKED is checked
        here. Only the operator's own stages pass them.

        With `durable=False` the results come back once the transaction has committed but
        perhaps before it is on disk: the caller must `store.wait_durable()` before it hands
        them to anyone (the group committer does, once for several transactions)."""
        if verdicts is not None and len(verdicts) != len(documents):
            raise ValueError(f"{len(verdicts)} verdicts for {len(documents)} documents")
        return self._submit([self._parse(document) for document in documents], verdicts,
                            durable=durable)

    def _submit(self, admitted: Sequence[SignedInstruction | Rejected],
                verdicts: Sequence[SignatureVerdict] | None = None, *,
                durable: bool = True) -> list[Result]:
        domain = self._domain_for([s for s in admitted if not isinstance(s, Rejected)])
        checked = [self._checked(signed, domain, verdicts[i] if verdicts else UNCHECKED)
                   for i, signed in enumerate(admitted)]
        reads = _read_ahead([s for s in checked if not isinstance(s, Rejected)],
                            self.operations)
        with self.store.write(reads) as tx:
            ws = WorkingSet(tx, tx.head, tx.checkpoint)
            ws.absorb(reads, tx.read_ahead)
            results: list[Result] = []
            for signed in checked:
                if isinstance(signed, Rejected):
                    results.append(signed)
                    continue
                try:
                    results.append(self._apply(ws, tx, signed))
                except Rejected as rejected:
                    results.append(rejected)
            tx.commit(ws, durable=durable)
        return results

    def append_checkpoint_marker(self, tx: SqlTransaction | None = None) -> tuple[int, int]:
        """Close the next checkpoint: append its marker entry as the log's last leaf.

        Returns (checkpoint number, log size). Checkpoints are numbered from 1; the log root
        of a checkpoint is the RFC 9162 root of the first `size` entries, marker included.
        Pass `tx`, a write transaction the caller holds, to append inside it: the checkpointer
        does, so that nothing moves between the marker and the roots it computes.
        """
        if tx is None:
            with self.store.write() as own:
                return self.append_checkpoint_marker(own)
        if tx.head < 0:
            raise Rejected(Reason.ledger_not_initialized)
        ws = WorkingSet(tx, tx.head, tx.checkpoint)
        number, seq = ws.checkpoint + 1, ws.head + 1
        ws.checkpoint = number
        marker = make_marker(seq, number, format_time(self._now(tx.head_time)))
        ws.append(marker)
        tx.flush(ws)
        tx.head, tx.checkpoint, tx.head_time = seq, number, marker.accepted_at
        return number, seq + 1

    def _now(self, latest: str | None) -> datetime:
        """The time to accept the next entry at: the clock's, but never before the entry at
        the head (format 2 on). Writers in several processes or on several hosts read clocks
        that disagree by milliseconds, or more; a journal's times must still never go
        backwards, or a checkpoint's time would precede what it covers. Format 1 entries took
        the clock as it was, and replay rebuilds them so."""
        now = self.clock()
        if latest is not None and strict_admission():
            head_time = _moment(latest)
            if now < head_time:
                return head_time
        return now

    def reexecute(self, ws: WorkingSet, tx: SqlTransaction, signed: SignedInstruction,
                  domain: Domain) -> Receipt:
        """Verify `signed`'s signatures and apply it in `ws` at this ledger's clock, as a
        submission would; raise `Rejected` if refused. The checkpointer re-executes the
        journal's entries this way against the previous checkpoint's state
        (anchoring.operator.transition): the same code paths, not a second copy of the rules."""
        refused = check_signatures(signed, domain)
        if refused is not None:
            raise refused
        return self._apply(ws, tx, signed)

    # --- the stages -------------------------------------------------------------------------

    def _admit(self, signed: SignedInstruction) -> SignedInstruction | Rejected:
        """One way in: every instruction passes the same stateless validation, however it was
        built. The engine parses its JSON form again with this ledger's operation set, so an
        `Instruction` made by hand (or changed with dataclasses.replace) is held to the same
        rules as one read from a file — and what the engine journals, its replay accepts."""
        try:
            document = signed.as_json()
        except (AttributeError, TypeError, ValueError) as exc:
            return Rejected(Reason.malformed_instruction,
                            f"not a signed instruction ({type(exc).__name__}: {exc})")
        instruction = signed.instruction
        if self.operations.parsed(instruction) and instruction.parsed_under == current_form():
            # made by this ledger's own parser, its fields read-only: only the approvals a
            # wallet added since are parsed (the costly part, twice, was the instruction)
            return self._parse_approvals(instruction, document["approvals"])
        return self._parse(document)

    def _parse_approvals(self, instruction: Instruction,
                         approvals: Any) -> SignedInstruction | Rejected:
        try:
            return SignedInstruction(instruction, parse_approvals(approvals))
        except Rejected as refused:
            return refused

    def _parse(self, document: Any) -> SignedInstruction | Rejected:
        try:
            return self.operations.parse_signed(document)
        except Rejected as refused:
            return refused

    def _domain_for(self, submission: Sequence[SignedInstruction]) -> Domain | Rejected:
        """The ledger's domain; for a submission that starts a ledger, the one its genesis
        names."""
        try:
            return self.domain
        except Rejected as not_initialized:
            for signed in submission:
                if signed.instruction.op == "genesis":
                    return make_domain(signed.instruction.fields["chainId"])
            return not_initialized

    @staticmethod
    def _checked(signed: SignedInstruction | Rejected, domain: Domain | Rejected,
                 verdict: SignatureVerdict) -> SignedInstruction | Rejected:
        """`signed` if its signatures hold (by `verdict`, or checked here), else why not."""
        if isinstance(signed, Rejected):
            return signed
        if isinstance(verdict, Rejected):
            return verdict
        if verdict is CHECKED and signed.instruction.op != "genesis":
            return signed
        return check_signatures(signed, domain) or signed

    def _apply(self, ws: WorkingSet, tx: SqlTransaction, signed: SignedInstruction) -> Receipt:
        ins = signed.instruction
        record = ws.record(ins.id)
        if record is not None:
            require(record.body_hash == body_hash(ins), Reason.instruction_id_reused,
                    f"first used at entry {record.seq}")
            row = next((e for e in ws.entries if e.seq == record.seq), None) or \
                tx.journal_row(record.seq)
            assert row is not None
            return receipt_of(row, duplicate=True)
        now = self._now(ws.entries[-1].accepted_at if ws.entries else tx.head_time)
        require(now.timestamp() <= ins.deadline, Reason.deadline_expired,
                f"deadline {ins.deadline}, now {int(now.timestamp())}")
        seq = ws.head + 1
        signers, keys = _authorize(ws, signed, seq)
        operation = self.operations.operation(ins.op)
        context = Context(ins.op, operation.roles, ws, seq, now, signers, LotIds(seq),
                          self.operations.check_rules)
        changes = operation.handler(ins.payload, context)
        changes.keys = _bump_nonces(changes.keys, keys, signed)
        effects = changes.lots.as_json()
        row = make_entry(seq, signed, format_time(now), effects)
        ws.apply(changes, seq)
        ws.append(row)
        return receipt_of(row, effects=effects)


@lru_cache(maxsize=256)
def _moment(accepted_at: str) -> datetime:
    # the head entry's time, asked for before every entry: most entries of a transaction share
    # one millisecond, and strptime costs more than the rest of the check
    return parse_time(accepted_at)


def _authorize(ws: WorkingSet, signed: SignedInstruction,
               seq: int) -> tuple[tuple[Signer, ...], list[SigningKey]]:
    """Each signer's key is registered, not revoked, and its nonce is fresh."""
    ins = signed.instruction
    if ins.op == "genesis":
        require(seq == 0, Reason.ledger_already_initialized)
        require(signed.signers == (ins.fields["registryKey"],), Reason.bad_signature,
                "the genesis is signed by exactly the registry key it names")
        return (), []
    require(seq > 0, Reason.ledger_not_initialized)
    signers, keys = [], []
    for approval in signed.approvals:
        key = ws.keys.get(approval.signer)
        require(key is not None, Reason.unregistered_key, approval.signer)
        assert key is not None
        require(not key.revoked, Reason.key_revoked, approval.signer)
        require(approval.nonce > key.last_nonce, Reason.stale_nonce,
                f"{approval.signer} used nonce {key.last_nonce}, got {approval.nonce}")
        # one instruction must not use up a key's nonces (format 2 on)
        require(approval.nonce - key.last_nonce <= MAX_NONCE_STEP or not strict_admission(),
                Reason.nonce_out_of_range,
                f"{approval.signer} used nonce {key.last_nonce}, got {approval.nonce}")
        participant = ws.participants.get(key.participant)
        assert participant is not None, "a key belongs to a registered participant"
        signers.append(Signer(approval.signer, participant))
        keys.append(key)
    return tuple(signers), keys


def _bump_nonces(changed: list[SigningKey], signer_keys: list[SigningKey],
                 signed: SignedInstruction) -> list[SigningKey]:
    """Record each signer's nonce, on top of any change the operation made to the same key."""
    by_address = {key.address: key for key in signer_keys}
    by_address.update({key.address: key for key in changed})
    for approval in signed.approvals:
        by_address[approval.signer] = replace(by_address[approval.signer],
                                              last_nonce=approval.nonce)
    return list(by_address.values())


def _read_ahead(submission: Sequence[SignedInstruction],
                operations: OperationSet) -> ReadAhead:
    """What a submission will read first, asked for with the head lock rather than one by one:
    what each operation's footprint names (ledger.modules.Footprint)."""
    accounts: set[str] = set()
    batches: set[str] = set()
    sources: set[tuple[str, str]] = set()  # (account, batch) whose units an operation spends
    for signed in submission:
        if signed.instruction.op not in operations:
            continue  # refused by name when it is applied (unknown_operation)
        fields = signed.instruction.fields
        footprint = operations.operation(signed.instruction.op).footprint
        accounts.update(footprint.accounts_in(fields))
        if footprint.batch is not None:
            batches.add(fields[footprint.batch])
            # by quantity (no serial range, or serials 0..0): the lowest serials it holds
            if footprint.spends_from is not None and fields.get("serialFirst", 0) == 0:
                sources.add((fields[footprint.spends_from], fields[footprint.batch]))
    return ReadAhead(
        instruction_ids=list(dict.fromkeys(s.instruction.id for s in submission)),
        signers=sorted({a.signer for s in submission for a in s.approvals}),
        accounts=sorted(accounts), batches=sorted(batches), held=sorted(sources),
        held_state=LotState.tradable)


__all__ = ["Changes", "Ledger", "Result"]
