"""Benchmark the persisted state tree (anchoring/operator/state_tree) at ledger scale, beside
today's in-memory path (a rebuild of the tree from the leaf versions).

Prints, at N leaves in a SQLite file:
  - a proof from a cold process: a new store object and an empty node cache for each of 100
    random keys (members and non-members), value and proof as a bundle needs them; median;
  - the state root after 1,000 random changes (updates, inserts, deletes), written as a cut
    writes them, with the checkpointer's warm cache and with a cold one; median of the rounds;
  - the node table's size per leaf, and the process's resident memory;
  - where N allows (--compare, default up to 2,000,000 leaves): a starting checkpointer's sync
    (which loads and checks the leaves, rebuilding no tree), and today's path: rebuild_at's time
    and the memory a tree built by from_items holds.

The build (leaf versions, then the tree's nodes) is kept in --db and resumed: each step does a
bounded piece and says so, so a 10,000,000-leaf run can be split into runs of a few minutes
(`--step leaves` until done, then `--step nodes`, then `--step measure`).

    .venv/bin/python bench/state_tree.py                       # 1,000,000 leaves
    .venv/bin/python bench/state_tree.py --leaves 20000        # a quick run
    .venv/bin/python bench/state_tree.py --leaves 10000000 --db /tmp/tree10m.db --step leaves
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from hashlib import sha256
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from anchoring.auditor.smt import verify
from anchoring.operator.state_commitment import StateCommitment, StateReader, rebuild_at
from anchoring.operator.state_tree import TreeStore
from anchoring.operator.state_versions import record_versions
from ledger.store.database import Store, sqlite_url
from tests.world import OPERATIONS

PROOF_TARGET_MS = 50.0
ROOT_TARGET_MS = 300.0
CHANGES = 1_000
LEAF_CHUNK = 200_000  # leaf versions per transaction while loading
STATES = ("tradable", "pledged", "retired", "surrendered", "cancelled")


def lot_key(number: int) -> bytes:
    return sha256(b"lot:" + number.to_bytes(8, "big")).digest()


def lot_value(number: int, version: int = 0) -> bytes:
    """A ~130-byte lot record, as the ledger commits them; another at each version."""
    first = number * 1000 + 1
    lien = "null" if version == 0 else f'"L-{version}"'
    return (f'{{"account":"acct-{number % 50_000:06d}","batch":"CN-ETS-2025-{number % 997:04d}",'
            f'"first":{first},"last":{first + 999},"lien":{lien},'
            f'"state":"{STATES[version % 5]}"}}').encode()


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def raw(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """A bench-only look at the file, outside the ledger's store (sizes, progress)."""
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def stored_leaves(db: Path) -> int:
    return int(raw(db, "SELECT COUNT(*) FROM state_leaves")[0][0])


def latest_version(db: Path) -> int:
    rows = raw(db, "SELECT MAX(version) FROM state_tree_nodes WHERE path = x''")
    return int(rows[0][0] or 0)


def step_leaves(store: Store, db: Path, leaves: int, budget_s: float) -> bool:
    """Load the leaf versions of checkpoint 1, a chunk per transaction, for at most
    `budget_s`; True when all are in."""
    started = time.perf_counter()
    done = stored_leaves(db)
    while done < leaves and time.perf_counter() - started < budget_s:
        stop = min(leaves, done + LEAF_CHUNK)
        with store.write() as tx:
            record_versions(tx, 1, {lot_key(n): lot_value(n) for n in range(done, stop)})
            tx.commit()
        done = stop
    print(f"leaf versions: {done:,} of {leaves:,} stored "
          f"({time.perf_counter() - started:.1f} s this run)")
    return done >= leaves


def step_nodes(store: Store, db: Path, leaves: int, budget_s: float) -> bool:
    """Build checkpoint 1's tree from its leaf versions, as a ledger cut before the tree was
    persisted does once (build_from_leaves), here in parts of 16 key groups a transaction for
    at most `budget_s`; True when the tree is whole."""
    if latest_version(db) >= 1:
        print("nodes: built already")
        return True
    if stored_leaves(db) < leaves:
        print("nodes: the leaf versions are not all stored yet: run --step leaves first")
        return False
    built = {bytes(path)[0] * 16 + bytes(path)[1] for (path,) in raw(
        db, "SELECT path FROM state_tree_nodes WHERE version = 1 AND length(path) = 2")}
    todo = [byte for byte in range(256) if byte not in built]
    tree = TreeStore()
    started, cpu = time.perf_counter(), time.process_time()
    while todo and time.perf_counter() - started < budget_s:
        with store.write() as tx:
            tree.build_groups(tx, 1, todo[:16])
            tx.commit()
        todo = todo[16:]
    if not todo:
        with store.write() as tx:
            tree.build_top(tx, 1)
            tx.commit()
    print(f"nodes: {256 - len(todo)} of 256 key groups of checkpoint 1's tree built "
          f"({time.perf_counter() - started:.1f} s this run, {time.process_time() - cpu:.1f} s "
          f"CPU; peak RSS {peak_rss_mb():,.0f} MiB)")
    return not todo


def table_bytes(db: Path, table: str) -> int | None:
    try:
        rows = raw(db, f"SELECT SUM(pgsize) FROM dbstat WHERE name = '{table}'")
    except sqlite3.OperationalError:
        return None  # a SQLite built without the dbstat table
    return int(rows[0][0] or 0)


def cold_proofs(url: str, keys: list[bytes], version: int) -> None:
    samples_ms, open_ms = [], []
    for key in keys:
        started = time.perf_counter()
        store = Store(url)  # a new process's store object...
        reader = StateReader(TreeStore())  # ...and its empty cache
        with store.read() as tx:
            opened = time.perf_counter()
            value, proof = reader.value_and_proof(tx, key, version)
            root = reader.tree.root_at(tx, version)
        done = time.perf_counter()
        store.dispose()
        verify(root, key, value, proof)
        samples_ms.append((done - opened) * 1000)
        open_ms.append((opened - started) * 1000)
    median = statistics.median(samples_ms)
    verdict = "OK" if median <= PROOF_TARGET_MS else "OVER TARGET"
    print(f"cold proof (new store object, empty cache, value + proof + root, {len(keys)} keys "
          f"half members): median {median:.2f} ms, max {max(samples_ms):.2f} ms, plus "
          f"{statistics.median(open_ms):.1f} ms to open the store and its first transaction "
          f"— target <= {PROOF_TARGET_MS:.0f} ms: {verdict}")


def random_changes(rng: random.Random, leaves: int, deleted: set[int], version: int,
                   fresh: list[int]) -> dict[bytes, bytes | None]:
    """1,000 changes: 80% updates, 10% inserts, 10% deletes of present lots (lots 0..leaves-1
    not `deleted`, and the `fresh` ones: no set of every lot, which would outweigh the tree)."""
    changes: dict[bytes, bytes | None] = {}
    while len(changes) < CHANGES:
        pick = rng.random()
        if pick < 0.1:
            number = leaves + len(fresh)
            fresh.append(number)
            changes[lot_key(number)] = lot_value(number, version)
        else:
            number = rng.randrange(leaves)
            if number in deleted:
                continue
            if pick < 0.2:
                deleted.add(number)
                changes[lot_key(number)] = None
            else:
                changes[lot_key(number)] = lot_value(number, version)
    return changes


def roots_after_changes(store: Store, db: Path, leaves: int, rounds: int) -> None:
    """What a cut does with its changes: the tree's nodes and the leaf versions, committed."""
    rng = random.Random(2026)
    deleted: set[int] = set()
    fresh: list[int] = []
    version = latest_version(db)
    for label, warm in (("warm cache (the checkpointer's)", True), ("cold cache", False)):
        tree = TreeStore()
        samples_ms, tree_ms = [], []
        for round_ in range(rounds + (1 if warm else 0)):
            version += 1
            changes = random_changes(rng, leaves, deleted, version, fresh)
            if not warm:
                tree = TreeStore()
            started = time.perf_counter()
            with store.write() as tx:
                tree.apply(tx, version, changes)
                applied = time.perf_counter()
                record_versions(tx, version, changes)
                tx.commit()
            tree.committed()
            done = time.perf_counter()
            if warm and round_ == 0:
                continue  # the first round fills the cache
            samples_ms.append((done - started) * 1000)
            tree_ms.append((applied - started) * 1000)
        median = statistics.median(samples_ms)
        verdict = "OK" if median <= ROOT_TARGET_MS else "OVER TARGET"
        print(f"state root after {CHANGES:,} changes, {label}: median {median:.0f} ms with the "
              f"leaf versions and the commit ({statistics.median(tree_ms):.0f} ms the tree "
              f"alone), max {max(samples_ms):.0f} ms over {rounds} rounds — target <= "
              f"{ROOT_TARGET_MS:.0f} ms: {verdict}; {tree.cached_nodes:,} nodes cached "
              f"({tree.cached_bytes / 2**20:,.0f} MiB), RSS {rss_mb():,.0f} MiB")


def checkpointer_start(store: Store, db: Path) -> None:
    """What a starting checkpointer does (StateCommitment.sync): the persisted root checked,
    the latest leaves loaded (the dict it keeps for now) and checked against the tree."""
    gc.collect()
    before = rss_mb()
    version = latest_version(db)
    state = StateCommitment(store)
    started = time.perf_counter()
    with store.read() as tx:
        state.sync(tx, version, TreeStore().root_at(tx, version))
    seconds = time.perf_counter() - started
    print(f"a starting checkpointer's sync (no tree rebuilt; leaves loaded and checked against "
          f"the tree): {seconds:.1f} s, {len(state.leaves):,} leaves; the leaves' dict holds "
          f"{rss_mb() - before:,.0f} MiB (RSS {rss_mb():,.0f} MiB)")
    state.discard()


def in_memory_path(store: Store) -> None:
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    with store.read() as tx:
        snapshot = rebuild_at(tx, 1)
    seconds = time.perf_counter() - started
    gc.collect()
    print(f"today's path: rebuild_at(1) in {seconds:.1f} s ({len(snapshot):,} leaves); the "
          f"tree holds {rss_mb() - before:,.0f} MiB (RSS {rss_mb():,.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="the SQLite file to build in and keep "
                                                "(default: a temporary one)")
    parser.add_argument("--step", choices=("all", "leaves", "nodes", "measure"), default="all")
    parser.add_argument("--budget-s", type=float, default=300.0,
                        help="--step leaves or nodes stops after this long (run it again)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", action=argparse.BooleanOptionalAction, default=None,
                        help="also time a checkpointer's start and today's rebuild (default: "
                             "up to 2,000,000 leaves)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "tree.db"
        url = sqlite_url(db)
        store = Store(url)
        store.upgrade(OPERATIONS)
        print(f"Python {sys.version.split()[0]}; {args.leaves:,} leaves in {db}")
        if args.step in ("all", "leaves") and not step_leaves(store, db, args.leaves,
                                                              args.budget_s):
            return
        if args.step in ("all", "nodes") and not step_nodes(store, db, args.leaves, args.budget_s):
            return
        if args.step not in ("all", "measure"):
            return
        nodes = table_bytes(db, "state_tree_nodes")
        if nodes is not None:
            print(f"table state_tree_nodes: {nodes / 2**20:,.0f} MiB, "
                  f"{nodes / args.leaves:.0f} bytes per leaf (state_leaves: "
                  f"{(table_bytes(db, 'state_leaves') or 0) / args.leaves:.0f} bytes per leaf)")
        rng = random.Random(7)
        keys = [lot_key(rng.randrange(args.leaves)) for _ in range(50)]
        keys += [sha256(b"absent %d" % n).digest() for n in range(50)]
        rng.shuffle(keys)
        cold_proofs(url, keys, 1)
        roots_after_changes(store, db, args.leaves, args.rounds)
        print(f"RSS now {rss_mb():,.0f} MiB, peak {peak_rss_mb():,.0f} MiB")
        compare = args.compare if args.compare is not None else args.leaves <= 2_000_000
        if compare:
            checkpointer_start(store, db)
            in_memory_path(store)
        store.dispose()


if __name__ == "__main__":
    main()
