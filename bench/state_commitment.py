"""Benchmark the state commitment (anchoring/auditor/smt.py) at ledger scale.

Prints: the bulk build of N leaves (time, memory), batches of changes at N leaves (updates,
inserts and deletes mixed), the cost of one full garbage collection with the tree alive, proof
generation and verification times, and proof sizes. Keys are SHA-256 hashes of typed lot ids and
values ~130-byte records, as the ledger feeds them. Times are wall-clock with, for the long
steps, the process's CPU time beside them: on a shared machine the two differ.

    .venv/bin/python bench/state_commitment.py                 # 1,000,000 leaves, ~1 minute
    .venv/bin/python bench/state_commitment.py --leaves 20000  # a quick run
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from hashlib import sha256
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from anchoring.auditor.smt import Proof, SparseMerkleTree, verify

STATES = ("tradable", "pledged", "retired", "surrendered", "cancelled")


def lot_key(number: int) -> bytes:
    return sha256(b"lot:" + number.to_bytes(8, "big")).digest()


def lot_value(number: int, version: int = 0) -> bytes:
    first = number * 1000 + 1
    return (
        f'{{"account":"acct-{number % 50_000:06d}","batch":"CN-ETS-2025-{number % 997:04d}",'
        f'"first":{first},"last":{first + 999},"lien":null,"state":"{STATES[version % 5]}"}}'
    ).encode()


def rss_mb() -> float:
    """Current resident memory, from /proc (Linux); the peak from getrusage elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return peak_rss_mb()
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Clock:
    """Wall and CPU time of one step."""

    def __enter__(self) -> Clock:
        self.wall_s = -time.perf_counter()
        self.cpu_s = -time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall_s += time.perf_counter()
        self.cpu_s += time.process_time()


def timed_ns(action: Callable[..., object], *args: object) -> int:
    start = time.perf_counter_ns()
    action(*args)
    return time.perf_counter_ns() - start


def median_us(samples_ns: list[int]) -> float:
    return statistics.median(samples_ns) / 1000


def calibrate() -> None:
    """One figure to compare machines by; STACK.md measured ~0.4 µs on the project's machines."""
    block = bytes(64)
    rounds = 100_000
    best_s = min(
        timeit.timeit(lambda: sha256(block).digest(), number=rounds) for _ in range(5)
    )
    print(f"calibration     SHA-256 of 64 bytes, digest included: {best_s / rounds * 1e9:.0f} ns "
          "(best of 5 × 100,000)")


def bench_build(leaves: int) -> SparseMerkleTree:
    gc.collect()
    before_mb = rss_mb()
    items = {lot_key(n): lot_value(n) for n in range(leaves)}
    inputs_mb = rss_mb() - before_mb
    with Clock() as clock:
        tree = SparseMerkleTree.from_items(items)
    peak_mb = peak_rss_mb()
    del items  # the tree keeps its own references to the keys and values
    gc.collect()
    tree_mb = rss_mb() - before_mb
    print(f"bulk build      {leaves:,} leaves: {clock.wall_s:.2f} s ({clock.cpu_s:.2f} s CPU), "
          f"{leaves / clock.wall_s:,.0f} leaves/s")
    print(f"memory          tree {tree_mb:,.0f} MB resident, keys and values included "
          f"({tree_mb * 2**20 / max(leaves, 1):,.0f} B/leaf); input dict {inputs_mb:,.0f} MB; "
          f"process peak {peak_mb:,.0f} MB")
    return tree


def make_batch(rng: random.Random, live: list[int], next_number: int, size: int,
               version: int) -> tuple[dict[bytes, bytes | None], list[int], int]:
    """60% updates, 20% inserts, 20% deletes; returns the changes, the deleted lot numbers and
    the next unused lot number."""
    updates = size * 6 // 10
    deletes = size // 5
    inserts = size - updates - deletes
    chosen = rng.sample(range(len(live)), updates + deletes)
    changes: dict[bytes, bytes | None] = {}
    for index in chosen[:updates]:
        changes[lot_key(live[index])] = lot_value(live[index], version)
    deleted = [live[index] for index in chosen[updates:]]
    for number in deleted:
        changes[lot_key(number)] = None
    for number in range(next_number, next_number + inserts):
        changes[lot_key(number)] = lot_value(number)
    return changes, deleted, next_number + inserts


def bench_batches(tree: SparseMerkleTree, leaves: int, batches: int, size: int,
                  rng: random.Random) -> None:
    live = list(range(leaves))
    next_number = leaves
    wall_ms, cpu_ms = [], []
    for version in range(1, batches + 1):
        changes, deleted, new_next = make_batch(rng, live, next_number, size, version)
        with Clock() as clock:
            tree.update(changes)
        wall_ms.append(clock.wall_s * 1000)
        cpu_ms.append(clock.cpu_s * 1000)
        gone = set(deleted)
        live = [n for n in live if n not in gone] + list(range(next_number, new_next))
        next_number = new_next
        assert len(tree) == len(live)
    print(f"update          {batches} batches of {size:,} changes (60% update, 20% insert, "
          f"20% delete) at {leaves:,} leaves: median {statistics.median(wall_ms):.1f} ms "
          f"({statistics.median(cpu_ms):.1f} ms CPU), min {min(wall_ms):.1f}, "
          f"max {max(wall_ms):.1f}")
    snapshot_ns = [timed_ns(tree.snapshot) for _ in range(1000)]
    print(f"snapshot        median {median_us(snapshot_ns):.2f} µs")
    with Clock() as clock:
        gc.collect()
    gc.freeze()  # what a long-running ledger process can do once its tree is loaded
    with Clock() as frozen:
        gc.collect()
    gc.unfreeze()
    print(f"gc.collect()    with the tree alive: {clock.wall_s * 1000:.0f} ms "
          f"({clock.cpu_s * 1000:.0f} ms CPU); after gc.freeze(): {frozen.wall_s * 1000:.0f} ms")


def proof_document(tree: SparseMerkleTree, key: bytes) -> str:
    """What a proof bundle carries for one key: the proof as JSON."""
    return json.dumps(tree.prove(key).to_dict())


def verify_document(root: bytes, key: bytes, value: bytes | None, document: str) -> None:
    """What an auditor does with it, offline."""
    verify(root, key, value, Proof.from_dict(json.loads(document)))


def bench_proofs(tree: SparseMerkleTree, proofs: int, rng: random.Random) -> None:
    present = [key for key, _ in tree.items()]
    members = rng.sample(present, min(proofs, len(present)))
    absent = [sha256(b"absent:" + n.to_bytes(8, "big")).digest() for n in range(proofs)]
    root = tree.root
    for kind, keys in (("membership", members), ("non-membership", absent)):
        prove_ns, bundle_ns, verify_ns, parse_verify_ns = [], [], [], []
        siblings, raw_sizes, json_sizes = [], [], []
        for key in keys:
            value = tree.get(key)
            prove_ns.append(timed_ns(tree.prove, key))
            bundle_ns.append(timed_ns(proof_document, tree, key))
            proof = tree.prove(key)
            verify_ns.append(timed_ns(verify, root, key, value, proof))
            document = proof_document(tree, key)
            parse_verify_ns.append(timed_ns(verify_document, root, key, value, document))
            siblings.append(len(proof.siblings))
            raw_sizes.append(32 * len(proof.siblings) + (64 if proof.leaf else 0))
            json_sizes.append(len(document))
        print(f"{kind} proofs ({len(keys):,} keys): prove median {median_us(prove_ns):.1f} µs, "
              f"prove+JSON {median_us(bundle_ns):.1f} µs; verify median "
              f"{median_us(verify_ns):.1f} µs, "
              f"JSON parse+verify {median_us(parse_verify_ns):.1f} µs")
        print(f"    size: siblings median {statistics.median(siblings):.0f} max {max(siblings)}; "
              f"binary median {statistics.median(raw_sizes):.0f} B max {max(raw_sizes)} B; "
              f"JSON median {statistics.median(json_sizes):.0f} B max {max(json_sizes)} B")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=9)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--proofs", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"Python {sys.version.split()[0]}, {sys.platform}")
    calibrate()
    tree = bench_build(args.leaves)
    bench_batches(tree, args.leaves, args.batches, args.batch_size, rng)
    bench_proofs(tree, args.proofs, rng)


if __name__ == "__main__":
    main()
