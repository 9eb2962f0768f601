"""Signed transfers per second, signature verification included, on SQLite and PostgreSQL.

    python bench/ledger_throughput.py                      # SQLite, and PostgreSQL if reachable
    python bench/ledger_throughput.py --lots 1000000       # also with 1,000,000 lots in store
    python bench/ledger_throughput.py --replay 100000      # replay --check of 100,000 entries
    python bench/ledger_throughput.py --only replay --replay 1000000   # that alone

Targets (issue 2): one operation per transaction >= 1,000/s SQLite, >= 500/s PostgreSQL;
submissions of 100 (`Ledger.submit_many`, one transaction each) >= 3,000/s SQLite, >= 2,000/s
PostgreSQL; with 1,000,000 lots within 20% of empty; replay --check of 100,000 entries <= 60 s.
Issue 18: submissions of 100 with their signatures checked in a pool of processes beside the
writer (`LedgerService.submit_stream`, ledger/parallel_signatures.py) >= 6,000/s SQLite,
>= 4,500/s PostgreSQL; two client processes on one SQLite file >= 1.6 times one.

The pool's figures are of documents (the JSON form a file or a request brings), which the
writer parses; beside them, the same documents submitted without the pool (the writer parses
and recovers). The pool is started, and its processes have built their operation sets, before
the clock starts, as in a writer that runs for hours. `--pool-sizes 1,4,16,100` measures the
pool (used at every size) against no pool at each submission size (where the hop starts to
pay: POOL_FROM_DOCUMENTS in api/service.py). The client processes' figure is one process,
then `--clients` processes at once, on the same store, run for run in turn.

Instructions are signed before the clock starts (signing is the client's work); the ledger's
work — parsing is skipped, but signature recovery, authorization, validation, the database
transaction and the journal entry are all inside the measured time. With --lots a second
store is preloaded through real signed instructions (transfers that split lots), never by
writing rows directly; both stores are left to come to rest (their logs copied into their
files, the OS's writes done), and then the full and the empty store are measured in turn, run
for run, on the same signed instructions, so that the machine's drift over minutes falls on
both alike. Each figure is the median of three runs.
The default runs are short (a few seconds each); `--single 6000 --many 20000` runs long
enough for the disk's share of a large store's writes to show.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.bootstrap import operation_set
from api.service import LedgerService, Parts
from ledger.client import Wallet
from ledger.engine import Ledger, Result
from ledger.instructions import SignedInstruction, make_domain
from ledger.replay import replay_check
from ledger.schemes import load_rules_dir, rules_document
from ledger.store.database import Store, sqlite_url

OPERATIONS = operation_set()  # the composition root's, as every part is handed

CHAIN_ID = 31337
HOLDERS = 50
BATCH_SIZE_T = 1_000_000_000
DOMAIN = make_domain(CHAIN_ID)


def holder_key(i: int) -> bytes:
    return (1000 + i).to_bytes(32, "big")


REGISTRY_KEY = (7).to_bytes(32, "big")


def setup(store: Store) -> None:
    ledger = Ledger(store, OPERATIONS)
    registry = Wallet(REGISTRY_KEY, DOMAIN)
    ops = [registry.sign(OPERATIONS.instruction(
        "genesis", registry="registry", registryName="Registry", registryKey=registry.address,
        chainId=CHAIN_ID, rules=rules_document(load_rules_dir())))]
    for i in range(HOLDERS):
        wallet = Wallet(holder_key(i), DOMAIN)
        ops += [
            registry.sign(OPERATIONS.instruction("register_participant", participant=f"e{i}",
                                          name=f"Emitter {i}", role="emitter")),
            registry.sign(OPERATIONS.instruction("register_key", participant=f"e{i}",
                                          key=wallet.address)),
            registry.sign(OPERATIONS.instruction("open_account", account=f"a{i}",
                                                 participant=f"e{i}",
                                          accountType="compliance")),
            registry.sign(OPERATIONS.instruction("issue_batch", batch=f"b{i}", scheme="CN-ETS",
                                          kind="allowance", vintage=2025,
                                          issuance="free_allocation", quantity=BATCH_SIZE_T,
                                          account=f"a{i}")),
        ]
    for result in ledger.submit_many(ops):
        assert not isinstance(result, Exception), result


def _sign_chunk(args: tuple[int, int, int, str, int]) -> list[dict]:
    """Sign `count` transfers in a worker process; returns JSON documents."""
    seed, count, nonce_base, mode, range_base = args
    rng = random.Random(seed)
    wallets = [Wallet(holder_key(i), DOMAIN, nonce=nonce_base) for i in range(HOLDERS)]
    documents = []
    for n in range(count):
        source = rng.randrange(HOLDERS)
        destination = (source + 1 + rng.randrange(HOLDERS - 1)) % HOLDERS
        if mode == "split":
            # a 1-unit range deep inside the batch: splits a lot into three (+2 lots)
            serial = range_base + 2 * (n * HOLDERS + source) + 1
            fields: dict[str, Any] = dict(quantity=1, serialFirst=serial, serialLast=serial)
        else:
            fields = dict(quantity=10)
        instruction = OPERATIONS.instruction("transfer", fromAccount=f"a{source}",
                                      toAccount=f"a{destination}", batch=f"b{source}",
                                      deadline=4_000_000_000, **fields)
        documents.append(wallets[source].sign(instruction).as_json())
    return documents


def signed_transfers(count: int, seed: int, nonce_base: int, mode: str = "quantity",
                     range_base: int = BATCH_SIZE_T // 2) -> list[SignedInstruction]:
    """Nonces: each chunk gets its own disjoint, increasing nonce range per wallet."""

    chunk = 5000
    jobs = []
    for k, start in enumerate(range(0, count, chunk)):
        jobs.append((seed * 1000 + k, min(chunk, count - start), nonce_base + k * chunk,
                     mode, range_base + start * 2 * HOLDERS))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        chunks = list(pool.map(_sign_chunk, jobs))
    return [OPERATIONS.parse_signed(d) for documents in chunks for d in documents]


def timed(ledger: Ledger, signed: list[SignedInstruction], per_transaction: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(signed), per_transaction):
        results = ledger.submit_many(signed[start:start + per_transaction])
        for result in results:
            assert not isinstance(result, Exception), result
    return len(signed) / (time.perf_counter() - started)


def timed_documents(service: LedgerService, documents: list[dict], per_transaction: int,
                    pool: Any = None, pool_from: int | None = None) -> float:
    """Rate of submitting `documents` in submissions of `per_transaction`, one transaction
    each, in order: through `submit_stream` with `pool`, or `submit_many` one by one."""
    submissions = [documents[start:start + per_transaction]
                   for start in range(0, len(documents), per_transaction)]
    started = time.perf_counter()
    answers: Iterable[list[Result]]
    if pool is None:
        answers = (service.submit_many(submission) for submission in submissions)
    else:
        answers = (service.submit_stream(submissions, pool) if pool_from is None else
                   service.submit_stream(submissions, pool, pool_from=pool_from))
    for results in answers:
        for result in results:
            assert not isinstance(result, Exception), result
    return len(documents) / (time.perf_counter() - started)


def started_pool(ledger: Ledger, processes: int) -> Any:
    """A signature pool on `ledger`'s domain whose processes are ready (None: this version of
    the ledger has none)."""
    try:
        from ledger.parallel_signatures import SignaturePool
    except ImportError:
        return None
    pool = SignaturePool(ledger.domain, operation_set, processes=processes)
    pool.wait_ready()
    return pool


def measured_pool(ledger: Ledger, count: int, per_transaction: int, seed: int, nonce: int,
                  processes: int, pool_from: int | None = None
                  ) -> tuple[float, float | None, int]:
    """Medians of REPEATS runs of `count` transfers as documents in submissions of
    `per_transaction`: without the pool and with it, run for run in turn. Returns both
    (None: no pool in this version) and the next free nonce."""
    signed = signed_transfers(count * REPEATS * 2, seed=seed, nonce_base=nonce)
    documents = [one.as_json() for one in signed]
    service = LedgerService(Parts(ledger))
    pool = started_pool(ledger, processes)
    plain: list[float] = []
    pooled: list[float] = []
    try:
        for k in range(REPEATS):
            for turn in range(2):  # neither always first; the documents' nonces in order
                chunk = documents[(2 * k + turn) * count:(2 * k + turn + 1) * count]
                if (k + turn) % 2 == 0:
                    plain.append(timed_documents(service, chunk, per_transaction))
                elif pool is not None and hasattr(service, "submit_stream"):
                    pooled.append(timed_documents(service, chunk, per_transaction, pool,
                                                  pool_from))
                else:
                    timed_documents(service, chunk, per_transaction)  # the nonces must follow
    finally:
        if pool is not None:
            pool.close()
    return (statistics.median(plain), statistics.median(pooled) if pooled else None,
            nonce + count * REPEATS * 2 + 10_000)


def _client(url: str, documents: list[dict], barrier: Any, results: Any) -> None:
    """One client process: submits its instructions one per transaction."""

    store = Store(url)
    ledger = Ledger(store, OPERATIONS)
    signed = [OPERATIONS.parse_signed(d) for d in documents]
    ledger.domain  # noqa: B018 - read the genesis before the clock starts
    barrier.wait()  # every client imported, connected and ready
    started = time.perf_counter()
    for one in signed:
        result = ledger.submit_many([one])[0]
        assert not isinstance(result, Exception), result
    results.put((started, time.perf_counter()))
    store.dispose()


def timed_clients(url: str, signed: list[SignedInstruction], clients: int) -> float:
    """Aggregate rate of `clients` processes each submitting one operation per transaction."""
    import multiprocessing

    # each signer's instructions stay in one process, in order: its nonces must increase
    signers = sorted({s.signers[0] for s in signed})
    client_of = {signer: i % clients for i, signer in enumerate(signers)}
    shares: list[list[dict]] = [[] for _ in range(clients)]
    for one in signed:
        shares[client_of[one.signers[0]]].append(one.as_json())
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(clients), context.Queue()
    processes = [context.Process(target=_client, args=(url, share, barrier, results))
                 for share in shares]
    for process in processes:
        process.start()
    spans = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
        assert process.exitcode == 0, f"a client failed (exit {process.exitcode})"
    # perf_counter is system-wide (CLOCK_MONOTONIC) on Linux: spans compare across processes
    return len(signed) / (max(end for _, end in spans) - min(start for start, _ in spans))


def compare_clients(url: str, args: argparse.Namespace,
                    nonce: int) -> tuple[float, float, int]:
    """One client process against `args.clients` at once, run for run in turn on the same
    store: the medians of REPEATS runs each, and the next free nonce."""
    rates: dict[int, list[float]] = {1: [], args.clients: []}
    for k in range(REPEATS):
        order = (1, args.clients) if k % 2 == 0 else (args.clients, 1)
        for clients in order:
            signed = signed_transfers(args.single, seed=60 + 2 * k + (clients > 1),
                                      nonce_base=nonce)
            nonce += args.single + 10_000
            rates[clients].append(timed_clients(url, signed, clients))
    return (statistics.median(rates[1]), statistics.median(rates[args.clients]), nonce)


def lot_count(store: Store) -> int:
    with store.read() as tx:
        return int(tx.one("SELECT COUNT(*) FROM lots")[0])


def preload_lots(store: Store, target: int, nonce_base: int) -> int:
    """Grow the store to `target` live lots with real signed transfers, 1,000 per transaction."""
    ledger = Ledger(store, OPERATIONS)
    missing = target - lot_count(store)
    if missing <= 0:
        return nonce_base
    ops = (missing + 1) // 2
    started = time.perf_counter()
    signed = signed_transfers(ops, seed=99, nonce_base=nonce_base, mode="split")
    print(f"   signed {ops:,} preload transfers in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    rate = timed(ledger, signed, 1000)
    print(f"   applied them at {rate:,.0f}/s ({time.perf_counter() - started:.0f} s); "
          f"{lot_count(store):,} lots in store")
    return nonce_base + ops + 10_000


REPEATS = 3  # each figure is the median of this many consecutive runs


def measured(ledger: Ledger, count: int, per_transaction: int, seed: int,
             nonce: int) -> tuple[float, int]:
    """Median rate of REPEATS runs of `count` transfers; returns it and the next free nonce."""
    signed = signed_transfers(count * REPEATS, seed=seed, nonce_base=nonce)
    rates = [timed(ledger, signed[k * count:(k + 1) * count], per_transaction)
             for k in range(REPEATS)]
    return statistics.median(rates), nonce + count * REPEATS + 10_000


def settle(store: Store) -> Store:
    """Let a store that was just loaded come to rest before it is measured: the database has
    copied its log into its files and the OS has written them, as a store that has held its
    lots for a while would be. Returns the store, reopened."""
    url = store.url
    if store.dialect == "postgresql":
        with _connect(url) as conn:
            conn.execute("CHECKPOINT")
    store.dispose()  # SQLite: the last WAL copy-back, and the log folded into the file
    os.sync()
    return Store(url)


def run(name: str, url: str, full_url: str, args: argparse.Namespace) -> None:
    os.sync()  # start at rest: no earlier run's writes still going to disk
    store = Store(url)
    store.upgrade(OPERATIONS)
    setup(store)
    ledger = Ledger(store, OPERATIONS)
    nonce = 1
    print(f"== {name}")
    rate_single, nonce = measured(ledger, args.single, 1, seed=1, nonce=nonce)
    rate_many, nonce = measured(ledger, args.many, 100, seed=2, nonce=nonce)
    print(f"   empty store ({lot_count(store):,} lots): one per transaction {rate_single:,.0f}/s, "
          f"submissions of 100 {rate_many:,.0f}/s (medians of {REPEATS} runs)")
    if args.pool:
        plain, pooled, nonce = measured_pool(ledger, args.many, 100, seed=7, nonce=nonce,
                                             processes=args.pool)
        through_pool = (f"{pooled:,.0f}/s with signatures checked in a pool of {args.pool} "
                        f"processes" if pooled is not None else "no signature pool here")
        print(f"   submissions of 100 as documents: {through_pool}, {plain:,.0f}/s without "
              f"(medians of {REPEATS} runs, in turn)")
    for size in args.pool_sizes:
        count = max(size * 20, min(args.many, size * 200))
        plain, pooled, nonce = measured_pool(ledger, count, size, seed=8 + size, nonce=nonce,
                                             processes=args.pool or 2, pool_from=1)
        print(f"   submissions of {size} as documents: "
              f"{'-' if pooled is None else f'{pooled:,.0f}'}/s with the pool, "
              f"{plain:,.0f}/s without")
    if args.clients > 1:
        one, several, nonce = compare_clients(url, args, nonce)
        print(f"   one per transaction from client processes on one store, in turn: one "
              f"{one:,.0f}/s, {args.clients} at once {several:,.0f}/s in all "
              f"({several / one:.2f}x; medians of {REPEATS} runs)")
    if args.lots:
        full = Store(full_url)
        full.upgrade(OPERATIONS)
        setup(full)
        nonce = preload_lots(full, args.lots, nonce)
        store, full = settle(store), settle(full)
        compare_with_empty(Ledger(store, OPERATIONS), Ledger(full, OPERATIONS), args, nonce)
        full.dispose()
    store.dispose()


def compare_with_empty(empty: Ledger, full: Ledger, args: argparse.Namespace,
                       nonce: int) -> None:
    """The full store against the empty one, run for run in turn on the same signed
    instructions (both stores have the same participants, keys and batches). This machine's
    speed drifts by 10-15% over minutes; measured minutes apart, the two figures would
    compare the machine's moments as much as the stores."""
    ledgers = {"empty": empty, "full": full}
    for label, count, per_transaction, seed in (
            ("one per transaction", args.single, 1, 3),
            ("submissions of 100", args.many, 100, 4)):
        lots = {which: lot_count(ledger.store) for which, ledger in ledgers.items()}
        signed = signed_transfers(count * REPEATS, seed=seed, nonce_base=nonce)
        nonce += count * REPEATS + 10_000
        rates: dict[str, list[float]] = {which: [] for which in ledgers}
        for k in range(REPEATS):
            chunk = signed[k * count:(k + 1) * count]
            order = ("empty", "full") if k % 2 == 0 else ("full", "empty")  # neither always first
            for which in order:
                rates[which].append(timed(ledgers[which], chunk, per_transaction))
        empty_rate, full_rate = (statistics.median(rates[w]) for w in ("empty", "full"))
        print(f"   {lots['full']:,} lots, {label}: {full_rate:,.0f}/s, against "
              f"{empty_rate:,.0f}/s on the empty store ({lots['empty']:,} lots) in turn: "
              f"{full_rate / empty_rate - 1:+.0%}")


def run_replay(entries: int, directory: Path) -> None:
    store = Store(sqlite_url(directory / "replay-source.db"))
    store.upgrade(OPERATIONS)
    setup(store)
    signed = signed_transfers(entries, seed=5, nonce_base=1)
    timed(Ledger(store, OPERATIONS), signed, 1000)
    with store.read() as tx:
        head = tx.head
    os.sync()  # at rest: the build's writes are not still going to disk
    # as `carbonledger replay --check` runs it (LedgerService._replay_pool): one pool process
    # fewer than the cores, then without a pool, on the same journal
    processes = max(1, (os.cpu_count() or 1) - 1)
    from ledger.parallel_signatures import SignaturePool

    with SignaturePool(Ledger(store, OPERATIONS).domain, operation_set,
                       processes=processes) as pool:
        pool.wait_ready()
        pooled = replay_check(store, OPERATIONS, pool=pool)
    alone = replay_check(store, OPERATIONS)
    for report, how in ((pooled, f"signatures recovered in a pool of {processes} beside it"),
                        (alone, "signatures recovered in process")):
        print(f"== replay --check of {head + 1:,} entries (SQLite), {how}: "
              f"{report.elapsed_s:.1f} s, {(head + 1) / report.elapsed_s:,.0f} entries/s, "
              f"{'passed' if report.ok else 'FAILED: ' + str(report.first_difference)}")
    store.dispose()


BENCH_DATABASE = "carbonledger_bench"
BENCH_FULL_DATABASE = "carbonledger_bench_full"  # the store preloaded with --lots


def postgres_url(database: str = BENCH_DATABASE) -> str | None:
    """A database of the benchmark's own (created if missing), so tests are never disturbed."""
    server = os.environ.get("CARBONLEDGER_BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
    try:
        import psycopg

        with psycopg.connect(f"{server}/postgres", connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (database,)).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {database}")
    except Exception as exc:
        print(f"   (PostgreSQL unreachable: {exc})")
        return None
    return f"{server.replace('postgresql://', 'postgresql+psycopg://')}/{database}"


def _connect(url: str) -> Any:
    """A plain psycopg connection (autocommit) to the database of a SQLAlchemy `url`."""
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)


def reset_postgres(url: str) -> None:
    with _connect(url) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--single", type=int, default=3000, help="transfers, one per transaction")
    parser.add_argument("--many", type=int, default=10000,
                        help="transfers in submissions of 100 (one transaction each)")
    parser.add_argument("--lots", type=int, default=0, help="also measure with this many lots")
    parser.add_argument("--replay", type=int, default=0, help="replay --check of N entries")
    parser.add_argument("--clients", type=int, default=2,
                        help="also measure one-per-transaction from this many processes at "
                             "once, against one (0: not)")
    parser.add_argument("--pool", type=int, default=2,
                        help="also measure submissions of 100 with signatures checked in a "
                             "pool of this many processes (0: not)")
    parser.add_argument("--pool-sizes", type=lambda text: [int(n) for n in text.split(",")],
                        default=[], help="submission sizes to measure the pool at, "
                                         "e.g. 1,4,16,100")
    parser.add_argument("--only", choices=["sqlite", "postgresql", "replay"], default=None,
                        help="one store's measurements, or (replay) only --replay's")
    parser.add_argument("--pg-database", default=BENCH_DATABASE,
                        help="the PostgreSQL database to measure in (made if missing, its "
                             "schema dropped after; --lots uses it suffixed _full)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        if args.only in (None, "sqlite"):
            run("SQLite (WAL, synchronous=NORMAL)", sqlite_url(directory / "bench.db"),
                sqlite_url(directory / "bench-full.db"), args)
        if args.only in (None, "postgresql"):
            full_name = (BENCH_FULL_DATABASE if args.pg_database == BENCH_DATABASE
                         else f"{args.pg_database}_full")
            url, full_url = postgres_url(args.pg_database), postgres_url(full_name)
            if url is None or full_url is None:
                print("== PostgreSQL: not reachable, skipped")
            else:
                for database in (url, full_url):
                    reset_postgres(database)
                run("PostgreSQL", url, full_url, args)
                for database in (url, full_url):
                    reset_postgres(database)
        if args.replay:
            run_replay(args.replay, directory)


if __name__ == "__main__":
    main()
