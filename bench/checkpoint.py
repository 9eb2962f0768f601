"""Benchmark of checkpoints and proof bundles at 1,000,000 lots, with the state tree persisted.

Prints, against their targets:

1. the state root after 1,000 changed lots at 1,000,000 lots (target <= 200 ms): the state
   commitment's work at a cut, through StateCommitment on a SQLite file, in a write
   transaction as a cut holds it — encode the changed lots and the holdings they move
   (ledger/store/state_leaves.py), keep the leaves that differ from the previous ones, write
   the tree's nodes on their paths (anchoring/operator/state_tree), take the root; beside it,
   the same with the leaf versions recorded and the commit. The cache is the running
   checkpointer's (the first round after the start, which fills it, is printed apart).
   bench/state_tree.py measures the persisted tree alone, up to 10,000,000 leaves;
2. proof bundle generation for a lot at 1,000,000 lots (target <= 5 ms):
   anchoring/operator/bundles.py's Prover reading the persisted tree, the bundle serialised to
   JSON; from a cold prover (a new store object and an empty node cache for each lot, as a
   fresh process such as the CLI has) and from a warm one (through the running checkpointer's
   cache, after it has served as many lots); with the verification time and size;
3. the checkpoint cut time: Checkpointer.cut() on a real ledger (SQLite; PostgreSQL with
   --store-url) after 1,000 transfers, with the 1,000,000-lot state in its commitment
   (marker, log extension, the transition check's re-execution of the 1,000 entries against
   the previous checkpoint's leaves, reading the touched rows, the tree's nodes and the state
   root, the leaf versions, signing, commit), target <= 1 s; and the same without the
   transition check, cut for cut in turn (docs/adr/0008-transition-checked-checkpoints.md).

The 1,000,000-lot state is synthetic: its leaves are built directly with ledger/store/state_leaves
encodings of synthetic lots (and of the holdings and accounts they imply), not by running a
million operations through the ledger. That measures the commitment, which is what the targets
are about. Its leaf versions are stored as checkpoint 1's, and checkpoint 1's tree is built
from them as a ledger cut before the tree was persisted gets it (TreeStore.build_from_leaves,
docs/adr/0010-persisted-state-tree.md). For (3) the synthetic leaves are added to the stored
leaf versions of a real ledger's first checkpoint, whose persisted tree is built anew that way
over the enlarged state and which is re-signed over it; the ledger's own tables do not hold
those lots (an audit of that database would say so), while the 1,000 transfers, the journal
and the cut are real.

    .venv/bin/python bench/checkpoint.py                 # 1,000,000 lots, ~5 minutes
    .venv/bin/python bench/checkpoint.py --lots 100000   # a quick run
    .venv/bin/python bench/checkpoint.py --no-cut        # (1) and (2); then --cut-only: (3)
    .venv/bin/python bench/checkpoint.py --cut-only --store-url postgresql+psycopg://.../db
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _ledger import OPERATIONS, BenchLedger  # bench/ is on sys.path when a script in it runs

from anchoring.auditor.note import CheckpointBody, sign_note
from anchoring.auditor.state_keys import account_key, holding_key, lot_key
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.lot_index import LotIndex
from anchoring.operator.state_commitment import StateCommitment
from anchoring.operator.state_tree import TreeStore
from anchoring.operator.state_versions import opened_at, record_versions
from custody.signatures import address_of
from ledger.clock import format_time
from ledger.store.database import Store, sqlite_url
from ledger.store.sql import SqlTransaction
from ledger.store.state_leaves import account_value, holding_value, lot_value

STATE_ROOT_TARGET_MS = 200.0
BUNDLE_TARGET_MS = 5.0
CUT_TARGET_S = 1.0  # with the transition check (docs/adr/0008)
CHANGED_LOTS = 1000
ACCOUNTS = 10_000
BATCHES = 50
LOT_SIZE_T = 10
OPERATOR_KEY = (0xBE7C4).to_bytes(32, "big")
CHAIN_ID = 31337


# --- the synthetic state ------------------------------------------------------------------------

class SyntheticState:
    """N lots of LOT_SIZE_T t, spread over ACCOUNTS accounts and BATCHES batches, with the
    holdings and accounts they imply; ids chosen not to collide with a real ledger's."""

    def __init__(self, lots: int) -> None:
        self.lots = lots
        self.holder = [n % ACCOUNTS for n in range(lots)]
        self.held: Counter[tuple[int, int]] = Counter()
        for n in range(lots):
            self.held[(self.holder[n], n % BATCHES)] += LOT_SIZE_T

    @staticmethod
    def lot_id(n: int) -> str:
        return f"{10**9 + n}.0"

    @staticmethod
    def account(a: int) -> str:
        return f"SYN-{a:05d}"

    @staticmethod
    def batch(b: int) -> str:
        return f"SYN-B{b:02d}"

    def lot_leaf(self, n: int) -> tuple[bytes, bytes]:
        first = (n // BATCHES) * LOT_SIZE_T + 1
        return lot_key(self.lot_id(n)), lot_value(
            self.lot_id(n), self.batch(n % BATCHES), first, first + LOT_SIZE_T - 1,
            self.account(self.holder[n]), "tradable", None)

    def holding_leaf(self, a: int, b: int) -> tuple[bytes, bytes | None]:
        return holding_key(self.account(a), self.batch(b)), holding_value(
            self.account(a), self.batch(b), (self.held[(a, b)], 0, 0, 0, 0))

    def leaves(self) -> dict[bytes, bytes]:
        leaves = dict(self.lot_leaf(n) for n in range(self.lots))
        for a, b in self.held:
            key, value = self.holding_leaf(a, b)
            assert value is not None
            leaves[key] = value
        for a in range(ACCOUNTS):
            leaves[account_key(self.account(a))] = account_value(
                self.account(a), f"syn-{a}", "trading", False)
        return leaves

    def move(self, rng: random.Random, count: int) -> dict[bytes, bytes | None]:
        """Move `count` random lots to other accounts; the changed leaves, freshly encoded."""
        moved = rng.sample(range(self.lots), count)
        pairs: set[tuple[int, int]] = set()
        for n in moved:
            batch, old = n % BATCHES, self.holder[n]
            new = (old + rng.randrange(1, ACCOUNTS)) % ACCOUNTS
            self.held[(old, batch)] -= LOT_SIZE_T
            self.held[(new, batch)] += LOT_SIZE_T
            self.holder[n] = new
            pairs.update({(old, batch), (new, batch)})
        changes: dict[bytes, bytes | None] = dict(self.lot_leaf(n) for n in moved)
        changes.update(self.holding_leaf(a, b) for a, b in pairs)
        return changes


def store_leaf_versions(tx: SqlTransaction, leaves: dict[bytes, bytes], number: int) -> None:
    """The leaves as versions opened by checkpoint `number`, a chunk per statement."""
    rows = [{"key": k, "n": number, "value": v} for k, v in leaves.items()]
    for start in range(0, len(rows), 50_000):
        tx.executemany("INSERT INTO state_leaves (key, from_checkpoint, value) "
                       "VALUES (:key, :n, :value)", rows[start:start + 50_000])


def persisted_state(store: Store, state: SyntheticState) -> StateCommitment:
    """Checkpoint 1 of the synthetic state in `store`: its leaf versions, its tree built from
    them (as for a ledger cut before the tree was persisted), and a StateCommitment started on
    it as a starting checkpointer starts (the persisted root checked against the signed one,
    the leaves loaded and checked against the tree)."""
    leaves = state.leaves()
    count = len(leaves)
    with store.write() as tx:
        started = time.perf_counter()
        store_leaf_versions(tx, leaves, 1)
        stored = time.perf_counter()
        root = TreeStore().build_from_leaves(tx, 1)
        built = time.perf_counter()
    stored_s, built_s = stored - started, built - stored
    del leaves
    gc.collect()
    commitment = StateCommitment(store)
    started = time.perf_counter()
    with store.read() as tx:
        commitment.sync(tx, 1, root)
    sync_s = time.perf_counter() - started
    print(f"(setup, not a target: {count:,} leaf versions stored in {stored_s:.1f} s, checkpoint "
          f"1's tree built from them in {built_s:.1f} s, a starting checkpointer's sync — leaves "
          f"loaded and checked against the tree — {sync_s:.1f} s)")
    return commitment


def state_root_after_changes(store: Store, commitment: StateCommitment, state: SyntheticState,
                             rng: random.Random, rounds: int) -> None:
    """StateCommitment.apply in a write transaction, what a cut runs once it has read the
    touched rows; then the leaf versions and the commit, as StateCommitment.advance and the
    cut go on. Round 0 fills the node cache and is printed apart."""
    samples_ms, cpu_ms, encode_ms, committed_ms, sizes = [], [], [], [], []
    first_ms = 0.0
    for round_ in range(rounds + 1):
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        fresh = state.move(rng, CHANGED_LOTS)  # encode the changed records
        number = commitment.number + 1
        encoded = time.perf_counter()
        with store.write() as tx:
            changes = commitment.apply(tx, number, fresh)
            commitment.root  # noqa: B018  (the figure is the time to the root)
            applied, applied_cpu = time.perf_counter(), time.process_time()
            record_versions(tx, number, changes)
        commitment.committed()
        done = time.perf_counter()
        if round_ == 0:
            first_ms = (applied - started) * 1000
            continue
        samples_ms.append((applied - started) * 1000)
        cpu_ms.append((applied_cpu - started_cpu) * 1000)
        encode_ms.append((encoded - started) * 1000)
        committed_ms.append((done - started) * 1000)
        sizes.append(len(changes))
    median = statistics.median(samples_ms)
    verdict = "OK" if median <= STATE_ROOT_TARGET_MS else "OVER TARGET"
    print(f"state root after {CHANGED_LOTS:,} changed lots at {state.lots:,} lots "
          f"({statistics.median(sizes):,.0f} changed leaves with the holdings they move; "
          f"persisted tree, SQLite file): median {median:.1f} ms "
          f"({statistics.median(cpu_ms):.1f} ms CPU), max {max(samples_ms):.1f} ms over "
          f"{rounds} rounds — target <= {STATE_ROOT_TARGET_MS:.0f} ms: {verdict}")
    print(f"    of which encoding the changed records: median "
          f"{statistics.median(encode_ms):.1f} ms; with the leaf versions recorded and the "
          f"commit: median {statistics.median(committed_ms):.1f} ms; the first round after the "
          f"start, which fills the node cache: {first_ms:.1f} ms to the root; "
          f"{commitment.tree.cached_nodes:,} nodes cached "
          f"({commitment.tree.cached_bytes / 2**20:,.0f} MiB)")


# --- proof bundles ------------------------------------------------------------------------------

def sign_checkpoint(store: Store, commitment: StateCommitment) -> str:
    """A checkpoint signed over the commitment's latest state: what bundles are checked
    against. Returns the operator's address."""
    number = commitment.number
    body = CheckpointBody("carbonledger/bench/0000000000000000", 1, bytes(32), number,
                          commitment.root, format_time(datetime.now(UTC)))
    operator = address_of(OPERATOR_KEY)
    with store.write() as tx:
        tx.execute("INSERT INTO checkpoints (number, log_size, log_root, state_root, cut_at, "
                   "origin, signer, note) VALUES (:number, 1, :root, :state, :time, :origin, "
                   ":signer, :note)",
                   {"number": number, "root": bytes(32), "state": commitment.root,
                    "time": body.time, "origin": body.origin, "signer": operator,
                    "note": sign_note(body, OPERATOR_KEY)})
    return operator


def bundle_figures(label: str, lots: int, build_ms: list[float], verify_ms: list[float],
                   sizes: list[int], extra: str = "") -> None:
    median = statistics.median(build_ms)
    verdict = "OK" if median <= BUNDLE_TARGET_MS else "OVER TARGET"
    print(f"lot proof bundle at {lots:,} lots, {label} ({len(build_ms):,} random lots): build + "
          f"JSON median {median:.2f} ms, p99 {statistics.quantiles(build_ms, n=100)[98]:.2f} ms"
          f" — target <= {BUNDLE_TARGET_MS:.0f} ms: {verdict}; verify (signature + proof) "
          f"median {statistics.median(verify_ms):.2f} ms; size median "
          f"{statistics.median(sizes):,.0f} B{extra}")


def bundle_generation(store: Store, commitment: StateCommitment, state: SyntheticState,
                      rng: random.Random, samples: int, cold_samples: int) -> None:
    """Lot bundles at the commitment's latest checkpoint, from cold provers and a warm one."""
    operator = sign_checkpoint(store, commitment)

    def timed_bundle(prover: Prover, n: int, build_ms: list[float], verify_ms: list[float],
                     sizes: list[int]) -> None:
        started = time.perf_counter()
        text = json.dumps(prover.lot(state.lot_id(n)))
        build_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        verify_bundle(json.loads(text), operator)
        verify_ms.append((time.perf_counter() - started) * 1000)
        sizes.append(len(text))

    build_ms: list[float] = []
    verify_ms: list[float] = []
    sizes: list[int] = []
    open_ms = []
    for n in rng.sample(range(state.lots), cold_samples):
        started = time.perf_counter()
        fresh_store = Store(store.url)  # a new process's store object...
        prover = Prover(fresh_store)  # ...and its prover, with an empty node cache
        open_ms.append((time.perf_counter() - started) * 1000)
        timed_bundle(prover, n, build_ms, verify_ms, sizes)
        fresh_store.dispose()
    bundle_figures("cold prover (new store object, empty cache; its first transaction "
                   "included)", state.lots, build_ms, verify_ms, sizes,
                   f"; plus {statistics.median(open_ms):.1f} ms to create the store object")

    prover = Prover(store, commitment)  # through the running checkpointer's cache
    for n in rng.sample(range(state.lots), samples):  # serving lots warms it
        prover.lot(state.lot_id(n))
    build_ms, verify_ms, sizes = [], [], []
    for n in rng.sample(range(state.lots), samples):
        timed_bundle(prover, n, build_ms, verify_ms, sizes)
    bundle_figures(f"warm prover (the checkpointer's cache, after {samples:,} lots served: "
                   f"{commitment.tree.cached_nodes:,} nodes, "
                   f"{commitment.tree.cached_bytes / 2**20:,.0f} MiB)",
                   state.lots, build_ms, verify_ms, sizes)


# --- a real cut --------------------------------------------------------------------------------

def timed(action: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def timed_cpu(action: Callable[[], object]) -> tuple[object, float, float]:
    """(result, wall-clock s, this process's CPU s): on a shared machine the two differ."""
    started, started_cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - started, time.process_time() - started_cpu


def enlarge_first_checkpoint(bench: BenchLedger, state: SyntheticState) -> None:
    """Cut checkpoint 1 of the bench ledger, then enlarge its state with the synthetic leaves:
    their versions added to checkpoint 1's, its persisted tree built anew from them as for a
    ledger cut before the tree was persisted (TreeStore.build_from_leaves), and the
    checkpoint re-signed over the enlarged state."""
    store = bench.ledger.store
    first = Checkpointer(bench.ledger, OPERATOR_KEY).cut()
    leaves = state.leaves()
    with store.write() as tx:
        store_leaf_versions(tx, leaves, 1)
        # the tree the cut wrote holds the real leaves only; checkpoint 1 replaced no node
        # (it was built on the empty tree), so its own nodes are all there is to drop
        tx.execute("DELETE FROM state_tree_nodes WHERE version = 1")
        root = TreeStore().build_from_leaves(tx, 1)
        if store.dialect == "postgresql":  # a million rows at once: let the planner know
            tx.execute("ANALYZE state_leaves")
            tx.execute("ANALYZE state_tree_nodes")
    del leaves
    body = CheckpointBody(first.origin, first.log_size, first.log_root, 1, root, first.time)
    with store.write() as tx:
        tx.execute("UPDATE checkpoints SET state_root = :root, note = :note WHERE number = 1",
                   {"root": root, "note": sign_note(body, OPERATOR_KEY)})


def real_cut(state: SyntheticState, store: Store, rng: random.Random, rounds: int) -> None:
    """Cuts of 1,000 transfers each, with and without the transition check in turn, on the
    same process's tree, so that a machine whose speed drifts favours neither."""
    store.upgrade(OPERATIONS)
    bench = BenchLedger(store, CHAIN_ID)
    enlarge_first_checkpoint(bench, state)
    gc.collect()

    checkpointer = Checkpointer(bench.ledger, OPERATOR_KEY)  # a process starting up
    bench.transfers(rng, 10)
    _, startup_s = timed(checkpointer.cut)
    _, index_s = timed(lambda: LotIndex.of(checkpointer.state.leaves.values()))
    checked: list[tuple[float, float]] = []
    trusting: list[tuple[float, float]] = []
    for _ in range(rounds):
        for check, samples in ((True, checked), (False, trusting)):
            bench.transfers(rng, CHANGED_LOTS)
            checkpointer.check_transitions = check
            gc.collect()
            cut, cut_s, cut_cpu_s = timed_cpu(checkpointer.cut)
            assert cut is not None
            samples.append((cut_s, cut_cpu_s))
    checkpointer.check_transitions = True
    with store.read() as tx:
        (leaf_count,) = tx.one("SELECT COUNT(*) FROM state_leaves WHERE to_checkpoint IS NULL")
        written = len(opened_at(tx, 3))
    median = statistics.median(s for s, _ in checked)
    verdict = "OK" if median <= CUT_TARGET_S else "OVER TARGET"
    print(f"checkpoint cut after {CHANGED_LOTS:,} transfers, state of {leaf_count:,} leaves, "
          f"real {store.dialect} ledger ({written:,} leaf versions written), median of "
          f"{rounds} each:")
    print(f"    with the transition check: {median * 1000:.0f} ms "
          f"({statistics.median(c for _, c in checked) * 1000:.0f} ms CPU; max "
          f"{max(s for s, _ in checked) * 1000:.0f} ms) — target <= "
          f"{CUT_TARGET_S * 1000:.0f} ms: {verdict}")
    print(f"    without it (trusting the tables): "
          f"{statistics.median(s for s, _ in trusting) * 1000:.0f} ms "
          f"({statistics.median(c for _, c in trusting) * 1000:.0f} ms CPU)")
    print(f"    (first cut of a new process, which checks the persisted root, loads the leaves "
          f"and checks them against the tree, indexes its lots and re-executes: "
          f"{startup_s:.1f} s; the lot index alone {index_s:.1f} s)")
    _, fresh_s = timed(lambda: Prover(store).lot(state.lot_id(0), 3))
    print(f"    (a lot proof from a fresh prover, e.g. the CLI's, read from checkpoint 3's "
          f"persisted tree with an empty cache: {fresh_s * 1000:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bundles", type=int, default=1000, help="lots proven warm")
    parser.add_argument("--cold-bundles", type=int, default=200, help="lots proven cold")
    parser.add_argument("--cut-only", action="store_true", help="measure the cut (3) only")
    parser.add_argument("--no-cut", action="store_true", help="measure (1) and (2) only")
    parser.add_argument("--store-url", help="for (3): an empty PostgreSQL database of your "
                                            "own (default: a SQLite file)")
    args = parser.parse_args()
    rng = random.Random(2026)
    print(f"Python {sys.version.split()[0]}; {args.lots:,} synthetic lots over {ACCOUNTS:,} "
          f"accounts and {BATCHES} batches")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.cut_only:
            state = SyntheticState(args.lots)
            store = Store(sqlite_url(Path(tmp) / "state.db"))
            store.upgrade(OPERATIONS)
            commitment = persisted_state(store, state)
            state_root_after_changes(store, commitment, state, rng, args.rounds)
            bundle_generation(store, commitment, state, rng, args.bundles, args.cold_bundles)
            commitment.discard()  # free its memory before the next part
            store.dispose()
            del state, commitment
            gc.collect()
        if args.no_cut:
            return
        store = Store(args.store_url or sqlite_url(Path(tmp) / "ledger.db"))
        try:
            real_cut(SyntheticState(args.lots), store, rng, args.rounds)
        finally:
            store.dispose()


if __name__ == "__main__":
    main()
