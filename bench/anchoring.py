"""Anchoring: gas per anchor and per ledger operation, and latencies on a real node (anvil).

Prints, against their targets:

1. gas per anchor for logs of 1,000 and 1,000,000 entries (target <= 80,000): the first anchor
   of a log of that size and the next checkpoint 1,000 entries on, with the proofs built by
   anchoring.operator.contract.anchor_proof over anchoring.auditor.merkle_log.MerkleLog, as the
   worker builds them (the worker's log is the SQL-backed one; gas depends on the proofs' shape,
   not on where the nodes are stored). The 1,000,000-entry log is hashed in full, marker leaves in
   place, in memory;
2. gas per ledger operation at 1,000 operations per checkpoint, on a real SQLite ledger whose
   checkpoints the AnchoringWorker anchors, and its ratio to an ERC-20-style transfer
   (contracts/test/MinimalToken);
3. on anvil (when installed: `npm ci --prefix chain`): from a checkpoint's cut to its anchor
   confirmed and recorded, the worker running in its thread and woken by the cut (target
   <= 1 s);
4. verifying a proof bundle against anvil (target <= 50 ms): the offline check of the bundle
   (anchoring.auditor.verify.verify_bundle) and the check of its anchor on chain
   (anchoring.operator.chain.confirm_anchor: the registry's view, the receipt, the block).

Gas is the receipts' gasUsed; py-evm (the embedded chain) and anvil agree to the unit, which
this script also checks when anvil is installed.

    .venv/bin/python bench/anchoring.py            # ~30 s
    .venv/bin/python bench/anchoring.py --quick    # 100,000 entries instead of 1,000,000
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _ledger import OPERATIONS, BenchLedger  # bench/ is on sys.path when a script in it runs
from eth_account import Account

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.anvil import (
    AnvilNode,
    AnvilNotInstalled,
    connect_anvil,
    find_anvil,
    set_balance,
)
from anchoring.operator.bundles import Prover
from anchoring.operator.chain import Chain, EmbeddedChain, confirm_anchor, deploy_registry
from anchoring.operator.checkpoints import Checkpointer, StoredCheckpoint
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    anchor_proof,
    load_artifact,
    marker_leaf_hash,
)
from anchoring.operator.worker import AnchoringWorker, AnchorResult, AnchorTarget
from ledger.store.database import Store, sqlite_url

GAS_TARGET = 80_000
LATENCY_TARGET_S = 1.0
VERIFY_TARGET_MS = 50.0
OPS_PER_CHECKPOINT = 1_000
OPERATOR_KEY = (0xA4C408).to_bytes(32, "big")
CHAIN_ID = 31337  # the ledger's EIP-712 chain id


# --- 1. gas per anchor ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchored:
    label: str
    gas: int
    consistency: int
    marker: int


def log_with_markers(size: int, checkpoints: list[int]) -> MerkleLog:
    """A log of ``size`` entries whose checkpoint k ends at checkpoints[k - 1]: distinct
    entries, and each checkpoint's marker as its last leaf."""
    ends = {end - 1: number for number, end in enumerate(checkpoints, 1)}
    log = MerkleLog(MemoryNodeStore())
    chunk = 100_000
    for start in range(0, size, chunk):
        log.extend(marker_leaf_hash(ends[i], i) if i in ends else
                   leaf_hash(b'{"seq":%d}' % i) for i in range(start, min(size, start + chunk)))
    return log


def gas_per_anchor(chain: Chain, size: int) -> list[Anchored]:
    """Checkpoint 1 at ``size``, checkpoint 2 OPS_PER_CHECKPOINT entries later, on a fresh
    registry."""
    sizes = [size, size + OPS_PER_CHECKPOINT]
    log = log_with_markers(sizes[-1], sizes)
    client, _ = deploy_registry(chain, owner=chain.sender.address)
    previous: AnchoredCheckpoint | None = None
    results = []
    for number, checkpoint_size in enumerate(sizes, 1):
        checkpoint = AnchoredCheckpoint(number, checkpoint_size, log.root(checkpoint_size),
                                        sha256(b"state %d" % number).digest())
        proof = anchor_proof(log, previous.size if previous else 0, checkpoint_size)
        receipt = client.anchor(checkpoint, proof, previous=previous, sender=chain.sender)
        label = (f"{previous.size:,} -> {checkpoint_size:,} entries" if previous else
                 f"first anchor, log of {checkpoint_size:,} entries")
        results.append(Anchored(label, int(receipt["gasUsed"]), len(proof.consistency),
                                len(proof.marker)))
        previous = checkpoint
    return results


def token_transfer_gas(chain: EmbeddedChain) -> tuple[int, int]:
    """MinimalToken.transfer to a new holder, then to the same holder again (sent from one of
    the embedded chain's unlocked accounts: who signs does not change the gas)."""
    token = load_artifact("MinimalToken")
    w3 = chain.w3
    sender = next(iter(w3.eth.accounts))
    factory = w3.eth.contract(abi=token.abi, bytecode=token.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(10**24).transact({"from": sender}))
    address = receipt["contractAddress"]
    assert address is not None
    contract = w3.eth.contract(address=address, abi=token.abi)
    holder = Account.create().address
    gas = []
    for _ in range(2):
        tx_hash = contract.functions.transfer(holder, 10**18).transact({"from": sender})
        gas.append(int(w3.eth.wait_for_transaction_receipt(tx_hash)["gasUsed"]))
    return gas[0], gas[1]


# --- 2-4. a real ledger ---------------------------------------------------------------------------


class AnchoringBench(BenchLedger):
    """The benchmarks' ledger with a checkpointer of its own."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, CHAIN_ID)
        self.checkpointer = Checkpointer(self.ledger, OPERATOR_KEY)


def ledger_anchors(chain: Chain, directory: Path, rng: random.Random,
                   checkpoints: int) -> list[tuple[StoredCheckpoint, AnchorResult]]:
    """``checkpoints`` checkpoints of OPS_PER_CHECKPOINT transfers each (the first also holds
    the setup), anchored by the worker; returns them with their anchors."""
    store = Store(sqlite_url(directory / "gas.db"))
    store.upgrade(OPERATIONS)
    bench = AnchoringBench(store)
    client, deployment = deploy_registry(chain, owner=chain.sender.address)
    worker = AnchoringWorker(store, lambda: chain, AnchorTarget(
        deployment.chain_id, deployment.registry, deployment.block_number))
    done = []
    for _ in range(checkpoints):
        bench.transfers(rng, OPS_PER_CHECKPOINT)
        checkpoint = bench.checkpointer.cut()
        (result,) = worker.anchor_pending()
        assert client.is_anchored(AnchoredCheckpoint(checkpoint.number, checkpoint.log_size,
                                                     checkpoint.log_root, checkpoint.state_root))
        done.append((checkpoint, result))
    store.dispose()
    return done


@dataclass(frozen=True)
class Latency:
    cut_s: float
    anchored_after_cut_s: float


def cut_to_anchor(node_dir: Path, directory: Path, rng: random.Random,
                  rounds: int) -> tuple[list[Latency], Store, AnchoringBench, AnchorRegistryClient]:
    """The worker runs in its thread (as `carbonledger chain anchor --follow` does), a cut
    wakes it; timed from the cut's start to the anchor recorded in the checkpoint's row."""
    anchorer = Account.create()
    chain = connect_anvil(node_dir, anchorer)
    set_balance(chain, anchorer.address, 10**21)
    client, deployment = deploy_registry(chain, owner=anchorer.address)
    store = Store(sqlite_url(directory / "latency.db"))
    store.upgrade(OPERATIONS)
    bench = AnchoringBench(store)
    worker = AnchoringWorker(store, lambda: connect_anvil(node_dir, anchorer), AnchorTarget(
        deployment.chain_id, deployment.registry, deployment.block_number),
        operator=bench.checkpointer.operator)
    anchored = threading.Event()
    thread = threading.Thread(target=lambda: worker.run(poll_s=5.0,
                                                        on_anchor=lambda _: anchored.set()))
    thread.start()
    latencies = []
    try:
        for _ in range(rounds + 1):  # the first warms the worker up: not counted
            bench.transfers(rng, OPS_PER_CHECKPOINT)
            anchored.clear()
            started = time.perf_counter()
            bench.checkpointer.cut()
            cut_done = time.perf_counter()
            worker.wake()
            if not anchored.wait(30):
                raise RuntimeError("the checkpoint was not anchored within 30 s")
            latencies.append(Latency(cut_done - started, time.perf_counter() - cut_done))
    finally:
        worker.stop()
        thread.join(30)
    return latencies[1:], store, bench, client


def verify_against_chain(store: Store, bench: AnchoringBench, node_dir: Path,
                         samples: int, rng: random.Random) -> list[tuple[float, float]]:
    """(offline verification s, on-chain anchor check s) for entry bundles of anchored
    checkpoints, through a fresh HTTP connection to anvil as an auditor would have."""
    prover = Prover(store)
    with store.read() as tx:
        (size,) = tx.one("SELECT MAX(log_size) FROM checkpoints WHERE anchor_tx_hash IS NOT NULL")
    w3 = connect_anvil(node_dir, None).w3
    timings = []
    for _ in range(samples):
        bundle = json.loads(json.dumps(prover.entry(rng.randrange(int(size)))))
        started = time.perf_counter()
        verified = verify_bundle(bundle, bench.checkpointer.operator)
        offline = time.perf_counter()
        body = verified.checkpoint
        assert verified.anchor is not None
        confirm_anchor(w3, verified.anchor, AnchoredCheckpoint(
            body.number, body.size, body.log_root, body.state_root))
        timings.append((offline - started, time.perf_counter() - offline))
    return timings


# --- printing ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER TARGET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="100,000 entries instead of 1,000,000 for the big log")
    parser.add_argument("--rounds", type=int, default=10, help="latency rounds on anvil")
    args = parser.parse_args()
    big = 100_000 if args.quick else 1_000_000
    rng = random.Random(2026)
    try:
        find_anvil()
        have_anvil = True
    except AnvilNotInstalled as missing:
        have_anvil = False
        print(f"(anvil is not installed: parts 3 and 4 are skipped — {missing})")

    embedded = EmbeddedChain()
    print(f"1. gas per anchor (receipts' gasUsed; {embedded.description})")
    anchors: list[Anchored] = []
    for size in (OPS_PER_CHECKPOINT, big):
        started = time.perf_counter()
        measured = gas_per_anchor(EmbeddedChain(), size)
        anchors += measured
        for anchor in measured:
            print(f"   {anchor.label:<44} {anchor.gas:>7,} gas  (consistency proof "
                  f"{anchor.consistency}, marker proof {anchor.marker} hashes) — target <= "
                  f"{GAS_TARGET:,}: {verdict(anchor.gas <= GAS_TARGET)}")
        print(f"   (log of {size + OPS_PER_CHECKPOINT:,} entries hashed and anchored in "
              f"{time.perf_counter() - started:.1f} s)")

    new_holder_gas, existing_holder_gas = token_transfer_gas(embedded)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        real = ledger_anchors(EmbeddedChain(), directory, rng, 3)
        steady = real[1:]  # the first also anchors the setup entries
        per_anchor = statistics.median(result.gas_used for _, result in steady)
        entries = statistics.median(cp.log_size - prev.log_size
                                    for (prev, _), (cp, _) in itertools.pairwise(real))
        per_op = per_anchor / OPS_PER_CHECKPOINT
        print(f"2. a real ledger, {OPS_PER_CHECKPOINT:,} transfers per checkpoint "
              f"({entries:,.0f} entries with the marker), anchored by the worker: "
              f"{per_anchor:,.0f} gas per anchor, {per_op:.1f} gas per ledger operation")
        print(f"   an ERC-20-style transfer (MinimalToken): {new_holder_gas:,} gas to a new "
              f"holder, {existing_holder_gas:,} to an existing one")
        print(f"   one anchor = {per_anchor / new_holder_gas:.2f} transfers to a new holder "
              f"({per_anchor / existing_holder_gas:.2f} to an existing one); one ledger "
              f"operation = 1/{new_holder_gas / per_op:,.0f} of a transfer to a new holder "
              f"(1/{existing_holder_gas / per_op:,.0f} to an existing one)")

        if not have_anvil:
            return
        node = AnvilNode(directory / "chain", state_interval_s=None)
        running = node.start()
        try:
            anvil_chain = connect_anvil(node.directory, Account.create())
            set_balance(anvil_chain, anvil_chain.sender.address, 10**21)
            on_anvil = gas_per_anchor(anvil_chain, OPS_PER_CHECKPOINT)
            same = [a.gas for a in on_anvil] == [a.gas for a in anchors[:2]]
            print(f"   (anvil {running.url}: the same anchors cost "
                  f"{', '.join(f'{a.gas:,}' for a in on_anvil)} gas — "
                  f"{'the same as py-evm' if same else 'DIFFERENT from py-evm'})")

            latencies, store, bench, _ = cut_to_anchor(node.directory, directory, rng,
                                                       args.rounds)
            totals = [lat.cut_s + lat.anchored_after_cut_s for lat in latencies]
            after_cut = [lat.anchored_after_cut_s for lat in latencies]
            print(f"3. anvil, checkpoint cut (after {OPS_PER_CHECKPOINT:,} transfers) to anchor "
                  f"confirmed and recorded, worker woken by the cut, {len(latencies)} rounds: "
                  f"median {statistics.median(totals) * 1000:.0f} ms, max "
                  f"{max(totals) * 1000:.0f} ms — target <= {LATENCY_TARGET_S * 1000:.0f} ms: "
                  f"{verdict(max(totals) <= LATENCY_TARGET_S)}")
            cut_ms = statistics.median(lat.cut_s for lat in latencies) * 1000
            print(f"   of which the cut {cut_ms:.0f} ms and the anchor (proofs, simulation, signed "
                  f"transaction, receipt, block time, record) "
                  f"{statistics.median(after_cut) * 1000:.0f} ms (median)")

            timings = verify_against_chain(store, bench, node.directory, 50, rng)
            total_ms = [(a + b) * 1000 for a, b in timings]
            print(f"4. verifying an entry's proof bundle against anvil, {len(timings)} bundles:"
                  f" median {statistics.median(total_ms):.1f} ms, max {max(total_ms):.1f} ms "
                  f"— target <= {VERIFY_TARGET_MS:.0f} ms: "
                  f"{verdict(statistics.median(total_ms) <= VERIFY_TARGET_MS)}")
            print(f"   of which offline (signed note + inclusion proof) "
                  f"{statistics.median(a for a, _ in timings) * 1000:.1f} ms and the anchor on "
                  f"chain (chain id, registry view, receipt, block, head: 5 RPC calls) "
                  f"{statistics.median(b for _, b in timings) * 1000:.1f} ms (median)")
            store.dispose()
        finally:
            node.stop()


if __name__ == "__main__":
    main()
