"""Benchmark of the journal's Merkle log (anchoring.auditor.merkle, anchoring.auditor.merkle_log).

Appends N leaves and takes the root, generates and verifies inclusion and consistency proofs
at size N, and runs the same leaves and queries through pymerkle 7.0.0's InmemoryTree for
comparison. Prints one table. Totals and rates are CPU time of this process, so that other
load on a shared machine does not count against the code; medians are wall-clock per call.

    .venv/bin/python bench/merkle.py              # 1,000,000 leaves
    .venv/bin/python bench/merkle.py --leaves 50000
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

# Runnable as a script from a checkout: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anchoring.auditor.merkle import leaf_hash, verify_consistency, verify_inclusion
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog

APPEND_TARGET_S = 2.0
PROOF_TARGET_US = 1000.0
VERIFY_TARGET_US = 100.0
EXTEND_BATCH_LEAVES = 1000

T = TypeVar("T")


@dataclass
class Latency:
    """Per-call timings of one operation."""

    median_us: float
    per_second: float


@dataclass
class Duration:
    """A run's wall-clock time, and the CPU time this process spent (others' load excluded)."""

    wall_s: float
    cpu_s: float

    def __str__(self) -> str:
        return f"{self.cpu_s:.2f} s (wall {self.wall_s:.2f} s)"


@dataclass
class OurFigures:
    root: bytes
    leaf_hashing: Duration
    append: Duration
    extend: Duration
    entry_appends_per_s: float
    inclusion: Latency
    consistency: Latency
    verify_inclusion: Latency
    verify_consistency: Latency
    sample_inclusion_proof: list[bytes]


@dataclass
class TheirFigures:
    version: str
    root: bytes
    entry_appends_per_s: float
    inclusion: Latency
    consistency: Latency
    sample_inclusion_proof: list[bytes]


def measure(calls: Sequence[Callable[[], object]]) -> Latency:
    """Median wall-clock time per call, and throughput from the CPU time of the whole run."""
    timings_ns = []
    cpu_start_s = time.process_time()
    for call in calls:
        start_ns = time.perf_counter_ns()
        call()
        timings_ns.append(time.perf_counter_ns() - start_ns)
    cpu_s = time.process_time() - cpu_start_s
    return Latency(statistics.median(timings_ns) / 1e3, len(timings_ns) / cpu_s)


def timed(work: Callable[[], T]) -> tuple[Duration, T]:
    wall_start_s, cpu_start_s = time.perf_counter(), time.process_time()
    result = work()
    duration = Duration(time.perf_counter() - wall_start_s, time.process_time() - cpu_start_s)
    return duration, result


def entries_of(count: int) -> list[bytes]:
    # Journal entries are a few hundred bytes of canonical JSON; 64 bytes keeps the data
    # generation out of the way while hashing a realistic block per leaf.
    return [i.to_bytes(8, "big") * 8 for i in range(count)]


def ours(entries: list[bytes], indices: list[int], sizes1: list[int]) -> OurFigures:
    size = len(entries)
    leaf_hashing, leaf_hashes = timed(lambda: [leaf_hash(entry) for entry in entries])

    def append_all() -> bytes:
        log = MerkleLog(MemoryNodeStore())
        for value in leaf_hashes:
            log.append(value)
        return log.root()

    def extend_in_batches() -> bytes:
        log = MerkleLog(MemoryNodeStore())
        for start in range(0, size, EXTEND_BATCH_LEAVES):
            log.extend(leaf_hashes[start : start + EXTEND_BATCH_LEAVES])
        return log.root()

    append, root = timed(append_all)
    extend, root_by_extend = timed(extend_in_batches)
    assert root == root_by_extend

    log = MerkleLog(MemoryNodeStore())

    def hash_and_append_all() -> None:
        for entry in entries:
            log.append(leaf_hash(entry))

    entry_append, _ = timed(hash_and_append_all)
    root1s = {size1: log.root(size1) for size1 in sizes1}
    inclusion = measure([partial(log.inclusion_proof, i, size) for i in indices])
    consistency = measure([partial(log.consistency_proof, s, size) for s in sizes1])
    inclusion_proofs = [log.inclusion_proof(i, size) for i in indices]
    consistency_proofs = [log.consistency_proof(s, size) for s in sizes1]
    verify_incl = measure(
        [
            partial(verify_inclusion, leaf_hashes[i], i, size, p, root)
            for i, p in zip(indices, inclusion_proofs, strict=True)
        ]
    )
    verify_cons = measure(
        [
            partial(verify_consistency, s, size, p, root1s[s], root)
            for s, p in zip(sizes1, consistency_proofs, strict=True)
        ]
    )
    return OurFigures(
        root=root,
        leaf_hashing=leaf_hashing,
        append=append,
        extend=extend,
        entry_appends_per_s=size / entry_append.cpu_s,
        inclusion=inclusion,
        consistency=consistency,
        verify_inclusion=verify_incl,
        verify_consistency=verify_cons,
        sample_inclusion_proof=inclusion_proofs[0],
    )


def theirs(entries: list[bytes], indices: list[int], sizes1: list[int]) -> TheirFigures:
    import pymerkle

    size = len(entries)
    tree = pymerkle.InmemoryTree(algorithm="sha256")  # RFC 9162 prefixes are its default

    def append_all() -> None:
        for entry in entries:
            tree.append_entry(entry)

    append, _ = timed(append_all)
    # pymerkle counts leaves from 1.
    inclusion = measure([partial(tree.prove_inclusion, i + 1, size) for i in indices])
    consistency = measure([partial(tree.prove_consistency, s, size) for s in sizes1])
    return TheirFigures(
        version=pymerkle.__version__,
        root=tree.get_root(),
        entry_appends_per_s=size / append.cpu_s,
        inclusion=inclusion,
        consistency=consistency,
        # Its inclusion path starts with the leaf itself; RFC 9162's does not.
        sample_inclusion_proof=list(tree.prove_inclusion(indices[0] + 1, size).path[1:]),
    )


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def append_target(duration: Duration, size: int) -> str:
    """Judged on CPU seconds per million leaves, so --leaves runs face the same target."""
    cpu_s_per_million = duration.cpu_s * 1_000_000 / size
    return f"<= {APPEND_TARGET_S:.0f} s/1M {verdict(cpu_s_per_million, APPEND_TARGET_S)}"


def ratio(mine: float, other: float) -> str:
    return f"{mine / other:.1f}x"


def faster(mine: float, other: float) -> str:
    return "> 1x " + ("ok" if mine > other else "MISSED")


def print_table(size: int, samples: int, mine: OurFigures, other: TheirFigures) -> None:
    rows = [
        ("operation", "ours", "pymerkle", "ours/pymerkle", "target"),
        (
            f"leaf-hash {size:,} entries",
            str(mine.leaf_hashing),
            "",
            "",
            "",
        ),
        (
            f"append {size:,} leaf hashes + root",
            str(mine.append),
            "",
            "",
            append_target(mine.append, size),
        ),
        (
            f"extend in batches of {EXTEND_BATCH_LEAVES:,} + root",
            str(mine.extend),
            "",
            "",
            append_target(mine.extend, size),
        ),
        (
            "appends/s (entry -> leaf hash -> log)",
            f"{mine.entry_appends_per_s:,.0f}",
            f"{other.entry_appends_per_s:,.0f}",
            ratio(mine.entry_appends_per_s, other.entry_appends_per_s),
            faster(mine.entry_appends_per_s, other.entry_appends_per_s),
        ),
    ]
    for label, mine_latency, other_latency in (
        ("inclusion proof", mine.inclusion, other.inclusion),
        ("consistency proof", mine.consistency, other.consistency),
    ):
        rows.append(
            (
                f"{label} at {size:,}, median",
                f"{mine_latency.median_us:,.1f} us",
                f"{other_latency.median_us:,.1f} us",
                "",
                f"<= {PROOF_TARGET_US:,.0f} us {verdict(mine_latency.median_us, PROOF_TARGET_US)}",
            )
        )
        rows.append(
            (
                f"{label}s/s",
                f"{mine_latency.per_second:,.0f}",
                f"{other_latency.per_second:,.0f}",
                ratio(mine_latency.per_second, other_latency.per_second),
                faster(mine_latency.per_second, other_latency.per_second),
            )
        )
    for label, latency in (
        ("verify inclusion, median", mine.verify_inclusion),
        ("verify consistency, median", mine.verify_consistency),
    ):
        rows.append(
            (
                label,
                f"{latency.median_us:,.1f} us",
                "",
                "",
                f"<= {VERIFY_TARGET_US:.0f} us {verdict(latency.median_us, VERIFY_TARGET_US)}",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    print(
        f"Merkle log benchmark: {size:,} leaves, {samples:,} proof samples, "
        f"Python {platform.python_version()}, pymerkle {other.version}\n"
        "Totals and per-second rates use this process's CPU time (wall-clock in brackets "
        "includes other load); medians are wall-clock per call."
    )
    for position, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
        if position == 0:
            print("  ".join("-" * width for width in widths))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--leaves", type=int, default=1_000_000, help="log size (default 1e6)")
    parser.add_argument("--samples", type=int, default=2000, help="proofs timed per operation")
    parser.add_argument("--seed", type=int, default=9162, help="seed for the queried indices")
    args = parser.parse_args(argv)
    if args.leaves < 2:
        parser.error("--leaves must be at least 2")

    rng = random.Random(args.seed)
    entries = entries_of(args.leaves)
    indices = [rng.randrange(args.leaves) for _ in range(args.samples)]
    sizes1 = [rng.randrange(1, args.leaves) for _ in range(args.samples)]

    mine = ours(entries, indices, sizes1)
    other = theirs(entries, indices, sizes1)
    # Both implement RFC 9162, so the same leaves must give the same root and proofs.
    assert mine.root == other.root, "roots differ from pymerkle's"
    assert mine.sample_inclusion_proof == other.sample_inclusion_proof, "proofs differ"
    print_table(args.leaves, args.samples, mine, other)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
