"""Proof bundles of lots over HTTP from 16 concurrent clients, against `carbonledger serve`.

    python bench/api_proofs.py                        # SQLite, and PostgreSQL if reachable
    python bench/api_proofs.py --lots 4000 --requests 16000 --only sqlite

A ledger is made as bench/api_load.py makes it (`init`, 50 holders with a batch each), then
`--lots` transfers carve as many lots, and a checkpoint is cut. `carbonledger serve` (one
worker) serves it on a free localhost port; the clients log in as the registry (which may
read every lot) when the server has logins, and each keeps one connection and asks for
`GET /v1/proofs/lot?subject=ID`, one request at a time, waiting for each answer (a 200 with a
bundle, or the run fails). Two measurements:

- every lot once, in a shuffled order: no bundle has been asked for before;
- `--requests` requests for lots drawn at random: a lot is asked for again and again, as an
  auditor's or a holder's client asks for what it saw before.

Printed with each: bundles per second, latency p50/p99, the CPU seconds used by this load
generator (bench/_http_load.py) and by the server per second of the run, and the server's CPU
per bundle. Some answers are checked afterwards as an auditor checks them
(anchoring.auditor.verify.verify_bundle against the operator key). Target (issue 14): >= 1,000
proof bundle requests per second for lots, each lot asked for once.

What a bundle costs the server (docs/DESIGN.md, "The HTTP service"): every bundle handed out
is checked against the operator key, but a checkpoint's signature is recovered once (the
verifier remembers the notes it opened, by their exact text and key), and the proof route
runs on threads of its own that take its requests in batches (api/http/proof_thread.py).
On a machine of two cores the server is one process, and what is left per request is mostly
the framework's (routing, parameters, the response): a bundle asked for again comes from
api/bundle_cache.py, and costs the server little more than a request for the head.
PostgreSQL runs in a database of this benchmark's own (CARBONLEDGER_BENCH_API_PROOFS_DB,
default carbonledger_bench_api_proofs), dropped and recreated for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger_throughput import DOMAIN, HOLDERS, OPERATIONS, holder_key

from anchoring.auditor.verify import verify_bundle
from api.bootstrap import build, registry_wallet
from api.client import Client, HttpTransport
from api.config import load_config
from bench._http_load import load, request_bytes
from bench.api_load import PASSWORD, free_port, head, make_ledger, on_each_store, served
from ledger.client import Wallet
from ledger.journal import Receipt

DATABASE = os.environ.get("CARBONLEDGER_BENCH_API_PROOFS_DB", "carbonledger_bench_api_proofs")
TARGET_RATE = 1000  # lot bundles/s (issue 14)
CHECKED = 50  # answers verified offline after the run


def carve_lots(data_dir: Path, lots: int) -> tuple[list[str], str]:
    """`lots` transfers (10 t each, between random holders), then a checkpoint: the live
    lots' ids and the operator's address."""
    rng = random.Random(7)
    wallets = [Wallet(holder_key(i), DOMAIN, nonce=0) for i in range(HOLDERS)]
    documents = []
    for _ in range(lots):
        source = rng.randrange(HOLDERS)
        destination = (source + 1 + rng.randrange(HOLDERS - 1)) % HOLDERS
        instruction = OPERATIONS.instruction(
            "transfer", fromAccount=f"a{source}", toAccount=f"a{destination}",
            batch=f"b{source}", quantity=10, deadline=4_000_000_000)
        documents.append(wallets[source].sign(instruction).as_json())
    with build(load_config(data_dir), data_dir, password=lambda: PASSWORD) as app:
        for start in range(0, len(documents), 500):
            results = app.service.submit_many(documents[start:start + 500])
            assert all(isinstance(r, Receipt) for r in results), results
        app.service.cut_checkpoint()
        operator = app.service.operator
        assert operator is not None
        return [lot.id for lot in app.service.lots()], operator


def registry_token(base_url: str, data_dir: Path) -> str:
    """A bearer token of the registry, which may read every lot: the client's login."""
    transport = HttpTransport(base_url)
    with Client(transport) as client:
        client.login(registry_wallet(load_config(data_dir), data_dir, PASSWORD))
        token = transport.token
    assert token is not None, "a login leaves a token"
    return token


class Bundles:
    """Checks each answer (a 200 with a bundle) and keeps a few to verify afterwards."""

    def __init__(self) -> None:
        self.kept: list[bytes] = []

    def __call__(self, status: int, body: bytes) -> None:
        if status != 200 or not body.startswith(b'{"format":'):
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        if len(self.kept) < CHECKED:
            self.kept.append(body)

    def verify(self, operator: str) -> None:
        kinds = tuple(OPERATIONS.bundle_kinds.values())
        for body in self.kept:
            bundle: dict[str, Any] = json.loads(body)
            verify_bundle(bundle, operator, kinds)


def requests_for(port: int, lots: list[list[str]], token: str) -> list[list[bytes]]:
    headers = [("authorization", f"Bearer {token}")]
    return [[request_bytes("GET", f"/v1/proofs/lot?subject={lot}", port, headers=headers)
             for lot in share] for share in lots]


def run(name: str, data_dir: Path, store_url: str | None, args: argparse.Namespace) -> None:
    make_ledger(data_dir, store_url)
    lot_ids, operator = carve_lots(data_dir, args.lots)
    threads = args.threads
    workers = f"{args.workers} workers" if args.workers > 1 else "one worker"
    print(f"== {name}: `carbonledger serve`, {workers}; {len(lot_ids):,} lots; "
          f"{threads} HTTP clients")
    rng = random.Random(11)
    once = rng.sample(lot_ids, len(lot_ids))
    drawn = [rng.choice(lot_ids) for _ in range(args.requests)]
    port = free_port()
    with served(data_dir, port, args.workers) as (base_url, pid):
        checkpoint = head(base_url)
        token = registry_token(base_url, data_dir)
        for label, lots in (("every lot once", once), ("lots drawn at random", drawn)):
            shares = [lots[t::threads] for t in range(threads)]
            bundles = Bundles()
            measured = load(port, pid, requests_for(port, shares, token), bundles)
            bundles.verify(operator)
            print(measured.line(label, "bundles"))
            print(f"   {'':<22}  server CPU per bundle "
                  f"{1e6 * measured.server_cpu_s / measured.requests:,.0f} µs")
        assert head(base_url) == checkpoint, "proving wrote nothing"
    print(f"   {CHECKED} answers of each run verified against the operator key {operator}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lots", type=int, default=4000, help="transfers carving lots")
    parser.add_argument("--requests", type=int, default=16000,
                        help="requests for lots drawn at random")
    parser.add_argument("--threads", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--workers", type=int, default=1,
                        help="`serve --workers N` (several need PostgreSQL)")
    args = parser.parse_args()
    print(f"target (issue 14): >= {TARGET_RATE:,} lot bundles/s")
    on_each_store(run, args, DATABASE)


if __name__ == "__main__":
    main()
