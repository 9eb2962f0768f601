"""The anchoring worker and a registry that requires its witnesses: it waits, without failing,
while fewer attestations are kept than the registry requires, and anchors with them once they
are; an attestation by someone who is not (or no longer) a witness does not count."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anchoring.operator.chain import EmbeddedChain, deploy_registry
from anchoring.operator.checkpoints import StoredCheckpoint
from anchoring.operator.contract import AnchoredCheckpoint, attestation_digest
from anchoring.operator.cosignatures import accept_attestation
from anchoring.operator.worker import AnchoringWorker, AnchorTarget
from custody.signatures import address_of, unsafe_sign_digest
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.anchoring.test_worker import FAST, LedgerUnderTest, make_ledger

KEYS = [(0xA7 + n).to_bytes(32, "big") for n in range(3)]  # KEYS[2] is no witness


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedChain]:
    yield EmbeddedChain()


def _attest(ledger: LedgerUnderTest, target: AnchorTarget, checkpoint: StoredCheckpoint,
            key: bytes) -> None:
    digest = attestation_digest(target.chain_id, target.registry, AnchoredCheckpoint(
        checkpoint.number, checkpoint.log_size, checkpoint.log_root, checkpoint.state_root))
    with ledger.store.write() as tx:
        accept_attestation(tx, {"checkpoint": checkpoint.number, "chain_id": target.chain_id,
                                "registry": target.registry, "attester": address_of(key),
                                "signature": "0x" + unsafe_sign_digest(key, digest).hex()})


def test_the_worker_waits_for_its_witnesses_then_anchors_with_them(
        embedded: EmbeddedChain, sqlite_store: Store, clock: FixedClock) -> None:
    client, deployment = deploy_registry(
        embedded, owner=list(embedded.w3.eth.accounts)[1],
        witnesses=[address_of(k) for k in KEYS[:2]], witness_threshold=2)
    target = AnchorTarget(deployment.chain_id, deployment.registry, deployment.block_number)
    ledger = make_ledger(sqlite_store, clock)
    ledger.operations(3)
    first = ledger.cut()
    worker = AnchoringWorker(ledger.store, lambda: embedded, target,
                             operator=ledger.checkpointer.operator, backoff=FAST)

    assert worker.anchor_pending() == [] and worker.waiting_for_witnesses == (1, 0, 2)
    _attest(ledger, target, first, KEYS[0])
    _attest(ledger, target, first, KEYS[2])  # a valid signature, but not a witness's
    assert worker.anchor_pending() == [] and worker.waiting_for_witnesses == (1, 1, 2)
    assert client.latest_number() == 0

    _attest(ledger, target, first, KEYS[1])
    anchored = worker.anchor_pending()
    assert [a.number for a in anchored] == [1] and worker.waiting_for_witnesses is None
    assert client.is_anchored(AnchoredCheckpoint(1, first.log_size, first.log_root,
                                                 first.state_root))
    print(f"anchor with 2 witnesses: {anchored[0].gas_used} gas")

    ledger.operations(2)
    second = ledger.cut()
    assert worker.anchor_pending() == [] and worker.waiting_for_witnesses == (2, 0, 2)
    for key in KEYS[:2]:
        _attest(ledger, target, second, key)
    assert [a.number for a in worker.anchor_pending()] == [2]
