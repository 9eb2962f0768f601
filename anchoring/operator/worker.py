"""The anchoring worker: anchors the stored checkpoints on chain, in order, and records where.

    worker = AnchoringWorker(store, lambda: chain, AnchorTarget.of(ChainRecord.load(data_dir)))
    worker.anchor_pending()          # one pass: reconcile, then anchor what is stored and not
    worker.run()                     # a loop: poll, anchor, retry with backoff; wake() after a
                                     # cut, stop() from another thread

For each checkpoint after the chain's latest, one at a time:

1. the proofs: the RFC 9162 consistency proof from the previous checkpoint's log and the
   marker proof (anchoring.operator.contract.anchor_proof over the SQL-backed MerkleLog);
2. the transaction, simulated first (a refusal costs no gas and names its reason), then signed
   here with a fixed gas limit (ANCHOR_GAS_LIMIT: py-evm's estimates are loose) and sent raw;
3. the receipt, then the block's time; all three are recorded in the checkpoint's row
   (anchoring.operator.checkpoints.record_anchor).

A registry deployed with witnesses (k > 0) accepts a checkpoint only with k of their
attestations. The worker sends those the operator keeps (`carbonledger cosignature add`,
anchoring.operator.cosignatures) by the registry's current witnesses; while fewer than k are
kept it waits, as for a slow chain: nothing is sent, `waiting_for_witnesses` says which
checkpoint waits, and the next pass looks again.

The ledger never waits for any of this: it appends and cuts checkpoints in its own
transactions, and the worker reads them from the store. While the chain is slow or down the
checkpoints simply queue in the table; the worker retries with exponential backoff and, after
any failure, reconciles with the contract again before it sends anything (the node may have
come back reset).

Nothing is lost or anchored twice. The contract accepts checkpoint k + 1 only after k, so a
second anchor of the same checkpoint is refused on chain whatever happens here; a transaction
sent but not yet seen mined is remembered with its nonce and waited for, never sent again
beside it; and an anchor mined but not recorded (the worker stopped in between) is found at the
next start in the contract's events and recorded then.

Reconciliation, at start and after every failure, compares the chain with the ledger and stops
anchoring with a named `AnchoringStopped` error, rather than papering over it, when

- the node is on another chain, or the registry is gone from it (a reset node);
- the registry's anchorer is not the key the worker signs with;
- the chain holds a checkpoint the ledger does not recognise (`UnknownCheckpointOnChain`);
- an anchor the ledger recorded is no longer on chain (`AnchorVanished`: a reorganisation, a
  node reset or restored from an older state) or was recorded on another registry
  (`AnchoredElsewhere`). An operator who has looked may pass ``reanchor=True`` to anchor those
  checkpoints again on this registry (their records are replaced);
- the contract refuses a checkpoint for good (`AnchorRefused`: e.g. a rewritten history).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import (
    BadFunctionCallOutput,
    BlockNotFound,
    ProviderConnectionError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)

from anchoring.auditor.note import NoteError, open_note
from anchoring.operator.chain import Chain, ChainRecord, ChainUnavailable
from anchoring.operator.checkpoints import (
    Anchor,
    StoredCheckpoint,
    anchored_elsewhere,
    anchored_on,
    checkpoint_at,
    latest_number,
    record_anchor,
)
from anchoring.operator.contract import (
    ANCHOR_GAS_LIMIT,
    AnchoredCheckpoint,
    AnchorProof,
    AnchorRegistryClient,
    AnchorRejected,
    AnchorRejection,
    anchor_proof,
    checkpoint_commitment,
    rejection_from_exception,
)
from anchoring.operator.cosignatures import attestations_at
from anchoring.operator.errors import OperatorError, OperatorFailure
from anchoring.operator.log_store import open_log
from ledger.store.database import Store

__all__ = [
    "AnchorRefused",
    "AnchorResult",
    "AnchorTarget",
    "AnchorVanished",
    "AnchoredElsewhere",
    "AnchorerMismatch",
    "AnchoringError",
    "AnchoringStopped",
    "AnchoringWorker",
    "Backoff",
    "CheckpointNotSigned",
    "Reconciliation",
    "ReconciliationFailed",
    "RegistryMissing",
    "UnknownCheckpointOnChain",
    "WrongChain",
]

log = logging.getLogger("carbonledger.anchoring")

# What a node that is down, slow or restarting makes web3 raise (requests' errors are
# OSErrors). Anything else is a bug or a refusal and is not retried blindly.
_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError, ProviderConnectionError, TimeExhausted, Web3RPCError, BlockNotFound,
    TransactionNotFound, BadFunctionCallOutput)


# ---------------------------------------------------------------------------------------------
# Errors


class AnchoringError(OperatorError, RuntimeError):
    """Root of the anchoring worker's errors."""


class AnchoringStopped(AnchoringError):
    """Anchoring cannot go on until an operator acts: retrying would not help, or would paper
    over a disagreement between the chain and the ledger."""


class ReconciliationFailed(AnchoringStopped):
    """The chain and the ledger disagree."""


class WrongChain(ReconciliationFailed):
    """The node answers for another chain than the registry's."""

    code = OperatorFailure.wrong_chain


class RegistryMissing(ReconciliationFailed):
    """No contract at the registry's address: the node was reset or lost its state."""

    code = OperatorFailure.registry_missing


class AnchorerMismatch(ReconciliationFailed):
    """The registry accepts anchors from another key than the one the worker signs with."""

    code = OperatorFailure.anchorer_mismatch


class UnknownCheckpointOnChain(ReconciliationFailed):
    """The registry holds a checkpoint that is not this ledger's (another ledger anchors on
    it, or this ledger was restored from an older backup)."""

    code = OperatorFailure.unknown_checkpoint_on_chain


class AnchorVanished(ReconciliationFailed):
    """Anchors the ledger recorded are no longer on chain. ``numbers`` are their checkpoints."""

    code = OperatorFailure.anchor_vanished

    def __init__(self, message: str, numbers: list[int]) -> None:
        super().__init__(message)
        self.numbers = numbers


class AnchoredElsewhere(ReconciliationFailed):
    """Checkpoints are recorded as anchored on another registry or chain than the target."""

    code = OperatorFailure.anchored_elsewhere


class AnchorRefused(AnchoringStopped):
    """The contract refuses the checkpoint, and would refuse it again. ``rejection`` holds the
    contract's error."""

    code = OperatorFailure.anchor_refused

    def __init__(self, message: str, rejection: AnchorRejected) -> None:
        super().__init__(message)
        self.rejection = rejection


class CheckpointNotSigned(AnchoringStopped):
    """A stored checkpoint's note does not verify against the operator key, or disagrees
    with its row: the table was changed outside the checkpointer."""

    code = OperatorFailure.stored_checkpoint_not_signed


class _ChainMoved(Exception):
    """The chain is not where the last reconciliation left it: reconcile again."""


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class AnchorTarget:
    """The registry the worker anchors on: its chain, its address and the block it was
    deployed in (no event of it is older, so event reads start there)."""

    chain_id: int
    registry: str
    deployment_block: int = 0

    @classmethod
    def of(cls, record: ChainRecord) -> AnchorTarget:
        return cls(record.chain_id, to_checksum_address(record.registry),
                   record.deployment_block)


@dataclass(frozen=True)
class Backoff:
    """Delays between failed attempts: first_s, doubling up to max_s, each varied by up to
    ``jitter`` of itself so that several workers do not retry in step."""

    first_s: float = 0.5
    factor: float = 2.0
    max_s: float = 60.0
    jitter: float = 0.2

    def delay_s(self, failures: int) -> float:
        base = min(self.max_s, self.first_s * self.factor ** max(0, failures - 1))
        return base * (1 + random.uniform(-self.jitter, self.jitter))


@dataclass(frozen=True)
class Reconciliation:
    chain_latest: int
    """The latest checkpoint number on chain."""
    ledger_latest: int
    """The latest checkpoint number the ledger stored."""
    adopted: tuple[int, ...]
    """Checkpoints anchored on chain that the ledger had not recorded: recorded now."""

    @property
    def pending(self) -> int:
        return self.ledger_latest - self.chain_latest


@dataclass(frozen=True)
class AnchorResult:
    number: int
    anchor: Anchor
    gas_used: int


@dataclass
class _InFlight:
    """A transaction sent and not yet seen mined."""

    number: int
    tx_hash: bytes


# ---------------------------------------------------------------------------------------------
# The worker


class AnchoringWorker:
    """Anchors one ledger's checkpoints on one registry. One worker per registry at a time is
    the intended setup; a second one is harmless (the contract refuses its duplicates and
    reconciliation records the other's anchors) but wastes transactions.

    ``connect`` returns the chain; it is called again after a failure, so that a managed anvil
    that came back on another port is found (anchoring.operator.anvil.connect_anvil).
    ``operator``, if given, is the key every checkpoint's signed note must verify against before
    it is anchored.
    """

    def __init__(self, store: Store, connect: Callable[[], Chain], target: AnchorTarget, *,
                 operator: str | None = None, reanchor: bool = False,
                 backoff: Backoff | None = None, receipt_timeout_s: float = 120.0,
                 poll_latency_s: float = 0.02) -> None:
        self.store = store
        self.target = target
        self.operator = operator
        self.reanchor = reanchor
        self.backoff = backoff or Backoff()
        self.receipt_timeout_s = receipt_timeout_s
        self.poll_latency_s = poll_latency_s
        self._connect = connect
        self._chain: Chain | None = None
        self._client: AnchorRegistryClient | None = None
        self._chain_latest: int | None = None  # None: reconcile before anchoring
        self._in_flight: _InFlight | None = None
        self._threshold: int | None = None  # the registry's witness threshold, once read
        self.waiting_for_witnesses: tuple[int, int, int] | None = None
        """(checkpoint, attestations kept, attestations required) while a checkpoint waits
        for its witnesses; None otherwise."""
        self._wake = threading.Event()
        self._stopping = threading.Event()

    # -- the loop ------------------------------------------------------------------------------

    def run(self, *, poll_s: float = 1.0,
            on_anchor: Callable[[AnchorResult], None] | None = None) -> None:
        """Anchor until `stop` is called: a pass every ``poll_s`` (at once after `wake`), a
        chain that fails retried with backoff. Raises `AnchoringStopped` when an operator
        must act."""
        self._stopping.clear()
        failures = 0
        while not self._stopping.is_set():
            try:
                for result in self._anchor_all():
                    if on_anchor is not None:
                        on_anchor(result)
            except AnchoringStopped as error:
                log.error("anchoring stopped: %s", error)
                raise
            except ChainUnavailable as error:
                failures += 1
                delay_s = self.backoff.delay_s(failures)
                log.warning("chain unavailable (attempt %d), retrying in %.2f s: %s",
                            failures, delay_s, error)
                # A wake (a new checkpoint) does not cut the backoff short: the chain is what
                # failed, and new work does not bring it back.
                self._stopping.wait(delay_s)
                continue
            failures = 0
            self._wake.wait(poll_s)
            self._wake.clear()

    def wake(self) -> None:
        """Make a running `run` look for checkpoints now (call after cutting one)."""
        self._wake.set()

    def stop(self) -> None:
        """Make `run` return (from another thread); a transaction in flight is waited for."""
        self._stopping.set()
        self._wake.set()

    def anchor_pending(self) -> list[AnchorResult]:
        """One pass: reconcile if needed, then anchor every stored checkpoint not on chain.
        Raises `ChainUnavailable` if the node fails (nothing is lost: call again)."""
        return list(self._anchor_all())

    def _anchor_all(self) -> Iterator[AnchorResult]:
        moved = 0
        # A connection kept from an earlier pass may point at a node that has since restarted
        # elsewhere (anvil takes a new port each start): if it fails, connect afresh once.
        stale = self._chain is not None
        # Every pass first asks the registry where it is (one view call), so that a chain that
        # lost anchors or was reset while there was nothing to anchor is noticed at once.
        position_checked = False
        while True:
            try:
                if self._chain_latest is None:
                    self.reconcile()
                    position_checked = True
                elif not position_checked:
                    self._check_position()
                    position_checked = True
                    continue
                result = self.anchor_next()
            except _ChainMoved:
                moved += 1
                if moved > 3:
                    raise ChainUnavailable("the registry keeps moving under this worker: is "
                                           "another worker anchoring on it?") from None
                self._chain_latest = None
                continue
            except ChainUnavailable:
                if not stale:
                    raise
                stale = False
                continue
            if result is None:
                return
            stale = False
            yield result

    # -- reconciliation ------------------------------------------------------------------------

    def _check_position(self) -> None:
        """Reconcile again if the registry is not at the checkpoint this worker left it at."""
        with self._chain_calls():
            _, client = self._connected()
            latest = client.latest_number()
        if latest != self._chain_latest:
            log.warning("the registry is at checkpoint %d, not %s as last seen: reconciling",
                        latest, self._chain_latest)
            self._chain_latest = None

    def reconcile(self) -> Reconciliation:
        """Compare the chain with the ledger; record anchors found on chain and not recorded.
        Raises a `ReconciliationFailed` when they disagree (see the module's docstring)."""
        self._chain_latest = None
        with self._chain_calls():
            chain, client = self._connected()
            if chain.chain_id != self.target.chain_id:
                raise WrongChain(
                    f"the node is on chain {chain.chain_id}, the registry {self.target.registry} "
                    f"was deployed on chain {self.target.chain_id} ({chain.description}): "
                    "point the worker at the right node")
            if not chain.w3.eth.get_code(client.address):
                raise RegistryMissing(
                    f"there is no contract at {client.address} on the {chain.description}, "
                    f"where the registry was deployed in block {self.target.deployment_block}: "
                    "the node was reset or lost its state. Restore the node's state, or deploy "
                    "a new registry (`carbonledger chain deploy --replace`) and anchor again "
                    "with --reanchor")
            anchorer = client.anchorer()
            if anchorer != chain.sender.address:
                raise AnchorerMismatch(
                    f"the registry's anchorer is {anchorer}, but this worker signs as "
                    f"{chain.sender.address}: use the anchorer's key, or have the owner rotate "
                    "the anchorer to this one")
            chain_latest = client.latest_number()

        with self.store.read() as tx:
            ledger_latest = latest_number(tx)
            ours = checkpoint_at(tx, chain_latest) if 0 < chain_latest <= ledger_latest else None
            here = anchored_on(tx, self.target.chain_id, self.target.registry)
            elsewhere = anchored_elsewhere(tx, self.target.chain_id, self.target.registry)

        if chain_latest > ledger_latest:
            raise UnknownCheckpointOnChain(
                f"the registry holds checkpoint {chain_latest}, but this ledger's latest is "
                f"{ledger_latest}: the ledger was restored from an older backup, or another "
                "ledger anchors on this registry. Anchoring stopped")
        if ours is not None:
            with self._chain_calls():
                on_chain = client.commitment_of(chain_latest)
            if on_chain != checkpoint_commitment(_anchored(ours)):
                raise UnknownCheckpointOnChain(
                    f"the registry's checkpoint {chain_latest} is not this ledger's checkpoint "
                    f"{chain_latest} (commitment 0x{on_chain.hex()}): another ledger anchors on "
                    "this registry, or this ledger's checkpoints were changed. Anchoring stopped")
        vanished = [number for number in here if number > chain_latest]
        if vanished and not self.reanchor:
            raise AnchorVanished(
                f"checkpoints {_ranges(vanished)} are recorded as anchored on "
                f"{self.target.registry}, but the registry's latest checkpoint is "
                f"{chain_latest}: the chain lost them (a reorganisation, or a node reset or "
                "restored from an older state). Find out why; then `carbonledger chain anchor "
                "--reanchor` anchors them again and replaces their records", vanished)
        if elsewhere and not self.reanchor:
            raise AnchoredElsewhere(
                f"checkpoints {_ranges(sorted(elsewhere))} are recorded as anchored on another "
                f"registry or chain ({_describe(elsewhere)}), not on {self.target.registry} "
                f"(chain {self.target.chain_id}) as chain.json says. Restore chain.json to "
                "that registry, or anchor them again on this one with --reanchor")
        self._check_latest_record(here, chain_latest)
        missing = [number for number in range(1, chain_latest + 1) if number not in here]
        adopted = self._adopt(missing, here)
        self._chain_latest = chain_latest
        reconciliation = Reconciliation(chain_latest, ledger_latest, tuple(adopted))
        log.info("reconciled with %s: chain at checkpoint %d, ledger at %d, %d adopted",
                 self.target.registry, chain_latest, ledger_latest, len(adopted))
        return reconciliation

    def _check_latest_record(self, here: dict[int, tuple[bytes, int]], chain_latest: int) -> None:
        """The newest recorded anchor still on chain must still be in the block recorded: a
        reorganisation can drop or move the transaction while the registry, re-anchored by
        someone, looks the same. Older ones are covered by the contract's append-only check."""
        kept = [number for number in here if number <= chain_latest]
        if not kept:
            return
        number = max(kept)
        tx_hash, block_number = here[number]
        with self._chain_calls():
            chain, _ = self._connected()
            try:
                receipt = chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                receipt = None
        if receipt is None or int(receipt["blockNumber"]) != block_number:
            where = "is gone" if receipt is None else f"is now in block {receipt['blockNumber']}"
            if not self.reanchor:
                raise AnchorVanished(
                    f"checkpoint {number}'s anchor transaction 0x{tx_hash.hex()}, recorded in "
                    f"block {block_number}, {where}: the chain was reorganised or reset. Find "
                    "out why; --reanchor records where the registry now holds it", [number])
            here.pop(number)  # adopted again below, from the registry's events

    def _adopt(self, numbers: list[int], here: dict[int, tuple[bytes, int]]) -> list[int]:
        """Record anchors that are on chain but not recorded here (a worker stopped between a
        receipt and its record, or --reanchor), from the registry's CheckpointAnchored events.

        Events are read from the newest recorded anchor's block below the first missing one
        (or the deployment block): the range stays short, which matters on eth-tester, whose
        log scans are quadratic in the chain's length."""
        if not numbers:
            return []
        below = [here[n][1] for n in here if n < numbers[0]]
        from_block = max(below) if below else self.target.deployment_block
        with self._chain_calls():
            chain, client = self._connected()
            events = client.contract.events.CheckpointAnchored.get_logs(from_block=from_block)
        found: dict[int, Any] = {}
        for event in events:
            found.setdefault(int(event["args"]["number"]), event)
        with self.store.read() as tx:
            stored = {n: checkpoint_at(tx, n) for n in numbers}
        anchors: list[tuple[int, Anchor]] = []
        for number in numbers:
            event, checkpoint = found.get(number), stored[number]
            if event is None:
                raise UnknownCheckpointOnChain(
                    f"the registry holds checkpoint {number} but no CheckpointAnchored event "
                    f"for it since block {from_block}: the node's history is incomplete "
                    "(pruned?). Anchoring stopped")
            args = event["args"]
            on_chain = AnchoredCheckpoint(int(args["number"]), int(args["size"]),
                                          bytes(args["logRoot"]), bytes(args["stateRoot"]))
            if checkpoint is None or _anchored(checkpoint) != on_chain:
                raise UnknownCheckpointOnChain(
                    f"the registry's checkpoint {number} (log size {on_chain.size}, log root "
                    f"0x{on_chain.log_root.hex()}) is not this ledger's. Anchoring stopped")
            with self._chain_calls():
                block = chain.w3.eth.get_block(event["blockNumber"])
            anchors.append((number, Anchor(self.target.chain_id, self.target.registry,
                                           bytes(event["transactionHash"]),
                                           int(event["blockNumber"]), int(block["timestamp"]))))
        with self.store.write() as tx:
            for number, anchor in anchors:
                record_anchor(tx, number, anchor)
        for number, anchor in anchors:
            log.warning("checkpoint %d was anchored in block %d but not recorded: recorded now",
                        number, anchor.block_number)
        return [number for number, _ in anchors]

    # -- anchoring -----------------------------------------------------------------------------

    def anchor_next(self) -> AnchorResult | None:
        """Anchor the checkpoint after the chain's latest, if the ledger has stored it."""
        if self._chain_latest is None:
            self.reconcile()
        assert self._chain_latest is not None
        number = self._chain_latest + 1
        with self.store.read() as tx:
            checkpoint = checkpoint_at(tx, number)
            if checkpoint is None:
                return None
            previous = checkpoint_at(tx, number - 1) if number > 1 else None
            proof = anchor_proof(open_log(tx, checkpoint.log_size),
                                 previous.log_size if previous else 0, checkpoint.log_size)
        self._check_signed(checkpoint)
        if previous is not None:
            self._check_signed(previous)
        ready, attestations = self._attestations(number)
        if not ready:
            return None  # waits for its witnesses
        receipt = self._send(_anchored(checkpoint), proof,
                             _anchored(previous) if previous else None, attestations)
        with self._chain_calls():
            chain, _ = self._connected()
            block = chain.w3.eth.get_block(receipt["blockNumber"])
        anchor = Anchor(self.target.chain_id, self.target.registry,
                        bytes(receipt["transactionHash"]), int(receipt["blockNumber"]),
                        int(block["timestamp"]))
        with self.store.write() as tx:
            record_anchor(tx, number, anchor)
        self._chain_latest = number
        log.info("checkpoint %d anchored: transaction 0x%s, block %d", number,
                 anchor.tx_hash.hex(), anchor.block_number)
        return AnchorResult(number, anchor, int(receipt["gasUsed"]))

    def _attestations(self, number: int) -> tuple[bool, dict[str, bytes] | None]:
        """Whether checkpoint `number` can be anchored now, and with which attestations: the
        kept ones by the registry's witnesses when it requires them (None: it does not).
        Not ready while fewer are kept than it requires."""
        with self._chain_calls():
            _, client = self._connected()
            if self._threshold is None:
                self._threshold = client.witness_threshold()
            threshold = self._threshold
            if threshold == 0:
                self.waiting_for_witnesses = None
                return True, None
            with self.store.read() as tx:
                kept = attestations_at(tx, number, self.target.chain_id, self.target.registry)
            usable = {a: s for a, s in kept.items() if client.is_witness(a)}
        if len(usable) < threshold:
            if self.waiting_for_witnesses != (number, len(usable), threshold):
                log.info("checkpoint %d waits for its witnesses: %d of the %d attestations the "
                         "registry requires are kept", number, len(usable), threshold)
            self.waiting_for_witnesses = (number, len(usable), threshold)
            return False, None
        self.waiting_for_witnesses = None
        return True, usable

    def _send(self, checkpoint: AnchoredCheckpoint, proof: AnchorProof,
              previous: AnchoredCheckpoint | None,
              attestations: dict[str, bytes] | None = None) -> Any:
        with self._chain_calls():
            chain, client = self._connected()
            sender = chain.sender
            if self._in_flight is not None and self._in_flight.number == checkpoint.number:
                receipt = self._await_in_flight(chain)
                if receipt is not None:
                    return self._checked(receipt)
            call = client.anchor_call(checkpoint, proof, previous, attestations)
            try:
                call.call({"from": sender.address})
            except Exception as error:
                refusal = self._refusal(error, checkpoint)
                if refusal is None:
                    raise  # the node failed, not the checkpoint: _chain_calls retries it
                raise refusal from error
            nonce = chain.w3.eth.get_transaction_count(sender.address, "pending")
            tx = call.build_transaction({"from": sender.address, "gas": ANCHOR_GAS_LIMIT,
                                         "nonce": nonce})
            signed = sender.sign_transaction(cast(dict[str, Any], tx))
            # Remembered before it is sent: if the send or the wait fails, the next attempt
            # looks for this transaction instead of sending a second one beside it.
            self._in_flight = _InFlight(checkpoint.number, bytes(signed.hash))
            try:
                chain.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Web3RPCError as error:
                if "already known" not in str(error).lower():
                    raise
            receipt = chain.w3.eth.wait_for_transaction_receipt(
                signed.hash, timeout=self.receipt_timeout_s, poll_latency=self.poll_latency_s)
        return self._checked(receipt)

    def _await_in_flight(self, chain: Chain) -> Any | None:
        """The receipt of the transaction sent before, waiting while the node still holds it;
        None if the node no longer knows it (restarted without it): send again."""
        assert self._in_flight is not None
        tx_hash = HexBytes(self._in_flight.tx_hash)
        try:
            chain.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            self._in_flight = None
            return None
        return chain.w3.eth.wait_for_transaction_receipt(
            tx_hash, timeout=self.receipt_timeout_s, poll_latency=self.poll_latency_s)

    def _checked(self, receipt: Any) -> Any:
        self._in_flight = None
        if receipt["status"] != 1:
            # It simulated fine just before: the chain moved (another worker), or it ran out
            # of gas. Reconciliation tells which.
            log.warning("anchor transaction 0x%s failed in block %d after %d gas",
                        bytes(receipt["transactionHash"]).hex(), receipt["blockNumber"],
                        receipt["gasUsed"])
            raise _ChainMoved()
        return receipt

    def _refusal(self, error: Exception, checkpoint: AnchoredCheckpoint) -> Exception | None:
        """What a failed simulation means: None if the node failed (retry), else the reason
        the registry gives for refusing the checkpoint."""
        rejection = rejection_from_exception(error)
        if rejection is None:
            if isinstance(error, _TRANSIENT):
                return None
            return AnchoringStopped(
                f"simulating the anchor of checkpoint {checkpoint.number} failed without a "
                f"registry error ({type(error).__name__}: {error}): a panic or an exhausted "
                "gas allowance on the node. Anchoring stopped")
        if rejection.reason is AnchorRejection.WRONG_CHECKPOINT_NUMBER:
            return _ChainMoved()
        return AnchorRefused(
            f"the registry refuses checkpoint {checkpoint.number} (log size {checkpoint.size}): "
            f"{rejection}. Anchoring stopped: the stored checkpoints or the journal's log are "
            "not what was anchored before; run `carbonledger audit`", rejection)

    def _check_signed(self, checkpoint: StoredCheckpoint) -> None:
        if self.operator is None:
            return
        try:
            body = open_note(checkpoint.note, self.operator)
        except NoteError as error:
            raise CheckpointNotSigned(
                f"checkpoint {checkpoint.number}'s note does not verify against the operator "
                f"key {self.operator}: {error}. Not anchored; run `carbonledger audit`") \
                from error
        if body != checkpoint.body:
            raise CheckpointNotSigned(
                f"checkpoint {checkpoint.number}'s row differs from its signed note. Not "
                "anchored; run `carbonledger audit`")

    # -- connection ----------------------------------------------------------------------------

    def _connected(self) -> tuple[Chain, AnchorRegistryClient]:
        if self._chain is None or self._client is None:
            chain = self._connect()
            self._client = AnchorRegistryClient(chain.w3, self.target.registry)
            self._chain = chain
        return self._chain, self._client

    @contextmanager
    def _chain_calls(self) -> Iterator[None]:
        """Turn what a down or slow node raises into `ChainUnavailable`, and forget the
        connection and the reconciliation: the next attempt reconnects and reconciles first,
        since the node may come back reset."""
        try:
            yield
        except ChainUnavailable:
            self._forget()
            raise
        except _TRANSIENT as error:
            description = self._chain.description if self._chain else "chain"
            self._forget()
            raise ChainUnavailable(f"the {description} failed: {type(error).__name__}: "
                                   f"{error}") from error

    def _forget(self) -> None:
        self._chain = None
        self._client = None
        self._threshold = None
        self._chain_latest = None


def _anchored(checkpoint: StoredCheckpoint) -> AnchoredCheckpoint:
    return AnchoredCheckpoint(checkpoint.number, checkpoint.log_size, checkpoint.log_root,
                              checkpoint.state_root)


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> "1-3, 5"."""
    parts: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ", ".join(parts)


def _describe(elsewhere: dict[int, tuple[int, str]]) -> str:
    places = sorted(set(elsewhere.values()))
    return "; ".join(f"chain {chain_id} registry {contract}" for chain_id, contract in places)
