"""Pre-signed single transfers over HTTP from 16 concurrent clients, against `carbonledger serve`.

    python bench/api_load.py                          # SQLite, and PostgreSQL if reachable
    python bench/api_load.py --transfers 12000 --only sqlite --check
    python bench/api_load.py --only postgresql --workers 2

A ledger is made in a scratch data directory (`init`, then 50 holders with a batch each) and
served by `carbonledger serve` on a free localhost port: one worker, whose group committer
applies its writes, or `--workers N` on PostgreSQL, which hand theirs to one writer process
(api/writer/). Each client thread keeps one HTTP connection and
POSTs its share of transfers, signed and built into whole HTTP requests before the clock
starts, one at a time to /v1/instructions, waiting for each answer (a 200 with a receipt, or
the run fails). The clients are bench/_http_load.py's: raw keep-alive HTTP/1.1, a few tens of
microseconds of CPU a request, where an HTTP library in threads (httpx) spent more than the
server's route did. Two measurements:

- as fast as it goes: transfers per second, latency p50/p99;
- paced: the clients send on a fixed schedule at `--paced-rate` (default 750/s, half the
  target) and, when it differs, at half the rate just measured; latency is counted from when
  each request was due, so a client that falls behind sees it in its figures.

Printed with each: the CPU seconds used by this load generator (every client thread) and by
the server (with its workers), per second of the run: on a machine of few cores the load
generator takes its share, and the figures are read with it.

Where the server's time goes (measured on a 2-core machine, per transfer, SQLite): the
engine's transaction in the group committer's writer thread (parsing the instruction, EIP-712
hashing, ecrecover, SQLite) ~300 us; the event loop (uvicorn and httptools, the route,
api.inputs.parse_document at ~25 us, the answer) ~150 us. One worker's Python runs under one
GIL, so these add up: about 450 us of CPU a transfer, some 2,000 transfers/s when the server
has a core to itself.

Target (issue 14): >= 1,500 transfers/s on SQLite with one worker; p99 <= 50 ms at half that
rate. PostgreSQL runs in a database of this benchmark's own (CARBONLEDGER_BENCH_API_LOAD_DB,
default carbonledger_bench_api_load), dropped and recreated for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from ledger_throughput import (  # bench/ is on sys.path when a script in it runs
    BATCH_SIZE_T,
    CHAIN_ID,
    DOMAIN,
    HOLDERS,
    OPERATIONS,
    holder_key,
    postgres_url,
    reset_postgres,
)

from api.bootstrap import build, init_ledger, registry_wallet
from api.config import load_config
from bench._http_load import evenly, load, request_bytes
from bench.group_commit import signed_shares
from ledger.client import Wallet
from ledger.journal import Receipt

DATABASE = os.environ.get("CARBONLEDGER_BENCH_API_LOAD_DB", "carbonledger_bench_api_load")
PASSWORD = "bench"
TARGET_RATE = 1500  # transfers/s, SQLite, one worker (issue 14)
NONCES_PER_PHASE = 10_000_000  # each phase signs above every nonce of the phases before


def make_ledger(data_dir: Path, store_url: str | None) -> None:
    """`carbonledger init`'s ledger, with bench/ledger_throughput.py's holders: participant
    e<i>, key holder_key(i), account a<i> holding all of batch b<i>."""
    init_ledger(data_dir, registry="registry", registry_name="Bench registry",
                password=PASSWORD, chain_id=CHAIN_ID, store_url=store_url, scrypt_n=2**4)
    config = load_config(data_dir)
    registry = registry_wallet(config, data_dir, PASSWORD)
    setup: list[tuple[str, dict[str, Any]]] = []
    for i in range(HOLDERS):
        setup += [
            ("register_participant", {"participant": f"e{i}", "name": f"Emitter {i}",
                                      "role": "emitter"}),
            ("register_key", {"participant": f"e{i}",
                              "key": Wallet(holder_key(i), DOMAIN).address}),
            ("open_account", {"account": f"a{i}", "participant": f"e{i}",
                              "accountType": "compliance"}),
            ("issue_batch", {"batch": f"b{i}", "scheme": "CN-ETS", "kind": "allowance",
                             "vintage": 2025, "issuance": "free_allocation",
                             "quantity": BATCH_SIZE_T, "account": f"a{i}"}),
        ]
    with build(config, data_dir) as app:
        results = app.service.submit_many([registry.sign(OPERATIONS.instruction(op, **f))
                                           .as_json() for op, f in setup])
    refused = [r for r in results if not isinstance(r, Receipt)]
    assert not refused, refused


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(data_dir: Path, port: int, workers: int = 1) -> list[str]:
    installed = Path(sys.executable).with_name("carbonledger")
    program = [str(installed)] if installed.exists() else [
        sys.executable, "-c", "from api.cli import main; main()"]
    several = ["--workers", str(workers)] if workers > 1 else []
    return [*program, "--data-dir", str(data_dir), "serve", "--port", str(port),
            "--log-level", "warning", *several]


def listening_sockets(port: int) -> int:
    """How many TCP sockets listen on `port` (Linux's /proc/net/tcp; 1 where it is absent)."""
    try:
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return 1
    # local address "0100007F:1F90", state "0A" (listening)
    return sum(1 for line in table
               if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A")


@contextmanager
def served(data_dir: Path, port: int, workers: int = 1) -> Iterator[tuple[str, int]]:
    """`carbonledger serve` on `port`, until the block ends: (base URL, its pid)."""
    process = subprocess.Popen(server_command(data_dir, port, workers),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped (exit {process.returncode}): "
                                   f"{process.stderr.read() if process.stderr else ''}")
            try:
                if httpx.get(f"{base_url}/v1/head", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer within 60 s")
            time.sleep(0.1)
        # every worker listening (each on a socket of its own: api/worker_sockets.py), or the
        # clients connecting now would all be handed to the first one up
        while listening_sockets(port) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} workers did not all listen within 60 s")
            time.sleep(0.1)
        yield base_url, process.pid
    finally:
        process.send_signal(signal.SIGINT)  # finishes the requests under way, then stops
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def requests_of(port: int, threads: int, per_thread: int, phase: int) -> list[list[bytes]]:
    """Signed transfers, each a whole HTTP request as a client sends it: per thread, its own
    signers'."""
    shares = signed_shares(threads, per_thread, seed=20 + phase,
                           nonce_base=phase * NONCES_PER_PHASE)
    return [[request_bytes("POST", "/v1/instructions", port, json.dumps(document).encode())
             for document in share] for share in shares]


def receipt(status: int, body: bytes) -> None:
    """A 200 with a receipt, or the run fails."""
    if status != 200 or not body.startswith(b'{"receipt":'):
        raise RuntimeError(f"HTTP {status}: {body[:300]!r}")


def head(base_url: str) -> int:
    return int(httpx.get(f"{base_url}/v1/head").json()["head"])


def run(name: str, data_dir: Path, store_url: str | None, args: argparse.Namespace) -> None:
    make_ledger(data_dir, store_url)
    threads = args.threads
    workers = f"{args.workers} workers" if args.workers > 1 else "one worker"
    print(f"== {name}: `carbonledger serve`, {workers}; {threads} HTTP clients")
    port = free_port()
    flat_out = requests_of(port, threads, args.transfers // threads, phase=1)
    with served(data_dir, port, args.workers) as (base_url, pid):
        first = head(base_url)
        fastest = load(port, pid, flat_out, receipt)
        print(fastest.line("as fast as it goes", "transfers"))
        sent = fastest.requests
        rates = [args.paced_rate]
        if abs(fastest.rate / 2 - args.paced_rate) > 0.1 * args.paced_rate:
            rates.append(round(fastest.rate / 2))
        for phase, rate in enumerate(rates, start=2):
            per_thread = max(1, round(rate * args.paced_seconds / threads))
            paced_requests = requests_of(port, threads, per_thread, phase=phase)
            paced = load(port, pid, paced_requests, receipt, due=evenly(rate, threads))
            print(paced.line(f"paced at {rate:,}/s", "transfers"))
            sent += paced.requests
        assert head(base_url) == first + sent, "every receipt's entry is in the journal"
    if args.check:
        with build(load_config(data_dir), data_dir) as app:
            report = app.service.replay_check()
            problems = app.service.check_invariants()
        print(f"   replay {'passed' if report.ok else 'FAILED'}; invariants "
              f"{'hold' if not problems else 'BROKEN: ' + '; '.join(problems)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transfers", type=int, default=8000,
                        help="transfers sent as fast as they go")
    parser.add_argument("--threads", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--paced-rate", type=int, default=TARGET_RATE // 2,
                        help="transfers/s of the paced run")
    parser.add_argument("--paced-seconds", type=float, default=6.0)
    parser.add_argument("--check", action="store_true",
                        help="replay the journal and check the invariants afterwards")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes of the server (more than one: PostgreSQL only)")
    args = parser.parse_args()
    if args.workers > 1 and args.only != "postgresql":
        parser.error("--workers above 1 needs --only postgresql: SQLite is served by one")
    print(f"target (issue 14): >= {TARGET_RATE:,} transfers/s on SQLite with one worker "
          "and on PostgreSQL with two; "
          f"p99 <= 50 ms at {TARGET_RATE // 2:,}/s")
    on_each_store(run, args, DATABASE)


Run = Callable[[str, Path, str | None, argparse.Namespace], None]


def on_each_store(run: Run, args: argparse.Namespace, database: str) -> None:
    """`run` on a scratch SQLite ledger, then on PostgreSQL in `database` (dropped and made
    again around the run) when it is reachable; `args.only` picks one."""
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite (WAL, synchronous=NORMAL)", Path(tmp) / "ledger", None, args)
    if args.only in (None, "postgresql"):
        url = postgres_url(database)
        if url is None:
            print("== PostgreSQL: not reachable, skipped")
            return
        reset_postgres(url)
        with tempfile.TemporaryDirectory() as tmp:
            run("PostgreSQL", Path(tmp) / "ledger", url, args)
        reset_postgres(url)


if __name__ == "__main__":
    main()
