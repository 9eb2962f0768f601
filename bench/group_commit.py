"""Single transfers from 16 threads: through the group committer, and straight to the service.

    python bench/group_commit.py                         # SQLite, and PostgreSQL if reachable
    python bench/group_commit.py --transfers 8000 --threads 16 --only sqlite

Each thread submits its share of pre-signed single transfers (their JSON form, as a client
hands them in) one at a time, waiting for each answer, as a client of the HTTP service does;
a thread signs as its own holders, so each signer's nonces arrive in order. Two ways are
measured on the same ledger, in turn, on instructions signed before the clock starts:

- `service.submit` called by every thread: one transaction per transfer, the threads
  contending for the journal head;
- `GroupCommitter.submit`: one writer gathers whatever is queued into one transaction.

Printed: transfers per second, the latency of one submission (p50, p99), and for the
committer how many transactions carried them. Target (issue 14, over HTTP): >= 1,500
transfers/s on SQLite with one worker, p99 <= 50 ms at half that rate; the committer is what
must carry a stream of single requests towards the batched rate.

PostgreSQL runs in a database of this benchmark's own (CARBONLEDGER_BENCH_GROUP_COMMIT_DB,
default carbonledger_bench_group_commit), dropped and recreated for the run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger_throughput import (  # bench/ is on sys.path when a script in it runs
    DOMAIN,
    HOLDERS,
    OPERATIONS,
    holder_key,
    postgres_url,
    reset_postgres,
    setup,
)

from api.group_commit import GroupCommitter
from api.service import LedgerService, Parts
from ledger.client import Wallet
from ledger.engine import Ledger
from ledger.journal import Receipt
from ledger.store.database import Store, sqlite_url

DATABASE = os.environ.get("CARBONLEDGER_BENCH_GROUP_COMMIT_DB", "carbonledger_bench_group_commit")


@dataclass(frozen=True)
class Run:
    transfers: int
    elapsed_s: float
    latencies_s: list[float]

    @property
    def rate(self) -> float:
        return self.transfers / self.elapsed_s

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies_s)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def line(self, label: str) -> str:
        return (f"   {label}: {self.rate:,.0f} transfers/s, latency p50 "
                f"{self.percentile_ms(0.50):.1f} ms, p99 {self.percentile_ms(0.99):.1f} ms")


def _sign_share(job: tuple[list[int], int, int, int]) -> list[dict[str, Any]]:
    """One thread's transfers, signed in a worker process: its holders send in turn, 10 t
    each time, to any other holder; each holder's nonces increase from `nonce_base` + 1."""
    holders, count, seed, nonce_base = job
    rng = random.Random(seed)
    wallets = {holder: Wallet(holder_key(holder), DOMAIN, nonce=nonce_base)
               for holder in holders}
    documents = []
    for n in range(count):
        source = holders[n % len(holders)]
        destination = (source + 1 + rng.randrange(HOLDERS - 1)) % HOLDERS
        instruction = OPERATIONS.instruction(
            "transfer", fromAccount=f"a{source}", toAccount=f"a{destination}",
            batch=f"b{source}", quantity=10, deadline=4_000_000_000)
        documents.append(wallets[source].sign(instruction).as_json())
    return documents


def signed_shares(threads: int, per_thread: int, seed: int = 14,
                  nonce_base: int = 0) -> list[list[dict[str, Any]]]:
    """`per_thread` signed transfers for each of `threads` threads, as JSON documents: each
    thread signs as holders of its own (bench/ledger_throughput.py's: accounts a<i>, batches
    b<i>), so every signer's nonces reach the ledger in order, and every thread has the same
    work. A later call's `nonce_base` must be above every nonce signed before."""
    if not 1 <= threads <= HOLDERS:
        raise SystemExit(f"--threads must be 1 to {HOLDERS}")
    own = HOLDERS // threads
    jobs = [(list(range(t * own, (t + 1) * own)), per_thread, seed * 1000 + t, nonce_base)
            for t in range(threads)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(_sign_share, jobs))


def from_threads(submit: Callable[[dict[str, Any]], Any],
                 split: list[list[dict[str, Any]]]) -> Run:
    """Every thread submits its share one by one; the clock runs from the common start to
    the last answer."""
    latencies: list[list[float]] = [[] for _ in split]
    failures: list[BaseException] = []
    start = threading.Barrier(len(split) + 1)

    def client(i: int) -> None:
        start.wait()
        try:
            for document in split[i]:
                began = time.perf_counter()
                result = submit(document)
                latencies[i].append(time.perf_counter() - began)
                if not isinstance(result, Receipt):
                    raise RuntimeError(f"bench transfer refused: {result}")
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(len(split))]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed_s = time.perf_counter() - began
    if failures:
        raise failures[0]
    return Run(sum(len(s) for s in split), elapsed_s, [x for each in latencies for x in each])


def run(name: str, url: str, args: argparse.Namespace) -> None:
    store = Store(url)
    store.upgrade(OPERATIONS)
    setup(store)
    service = LedgerService(Parts(ledger=Ledger(store, OPERATIONS)))
    print(f"== {name}: {args.transfers:,} single transfers from {args.threads} threads, "
          "each way")
    per_thread = args.transfers // args.threads
    started = time.perf_counter()
    signed = signed_shares(args.threads, 2 * per_thread)
    print(f"   (signed in {time.perf_counter() - started:.1f} s)")
    direct = [share[:per_thread] for share in signed]  # then each signer's later nonces:
    gathered = [share[per_thread:] for share in signed]

    print(from_threads(service.submit, direct).line("service.submit, one transaction each"))
    with GroupCommitter(service, max_batch=args.max_batch) as committer:
        result = from_threads(committer.submit, gathered)
        counted = committer.statistics
    print(result.line("group committer                     "))
    print(f"   the committer's transactions: {counted.transactions:,} for "
          f"{counted.instructions:,} transfers ({counted.instructions / counted.transactions:.1f}"
          f" a transaction on average, {counted.largest} at most)")
    if args.check:
        report = service.replay_check()
        problems = service.check_invariants()
        print(f"   replay {'passed' if report.ok else 'FAILED'}; invariants "
              f"{'hold' if not problems else 'BROKEN: ' + '; '.join(problems)}")
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transfers", type=int, default=4000, help="transfers each way")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--max-batch", type=int, default=500)
    parser.add_argument("--check", action="store_true",
                        help="replay the journal and check the invariants afterwards")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite (WAL, synchronous=NORMAL)", sqlite_url(Path(tmp) / "bench.db"), args)
    if args.only in (None, "postgresql"):
        url = postgres_url(DATABASE)
        if url is None:
            print("== PostgreSQL: not reachable, skipped")
            return
        reset_postgres(url)
        run("PostgreSQL", url, args)
        reset_postgres(url)


if __name__ == "__main__":
    main()
