"""Allocation at scale: free allocation for every installation of a large market, and an
auction of 10,000 sealed bids cleared, on SQLite.

    python bench/allocation.py                        # 10,000 installations and bids
    python bench/allocation.py --installations 1000   # a quick run

Targets (issue 16): pre-allocation for 10,000 installations (instructions of 1,000 targets
each) <= 5 s for all of them; an auction of 10,000 bids cleared (the auction_clear
instruction alone: reading every bid, the clearing, one batch with a lot per winner, each
bid's fill) <= 1 s.

Everything is built through real signed instructions, applied with `Ledger.submit_many`: the
registry moves CN-ETS under allocation control and onboards N emitters (one compliance
account and one power installation each); a verifier signs each installation's output of the
year before; the registry sets the year's plan. Timed: the pre-allocation, instruction by
instruction (each in its own transaction, as a registry submits it); then the registry
announces an auction, each emitter bids once (the bids' rate is shown), the clock is moved
past the window, and the clearing is timed. Instructions are signed before the clock starts,
in worker processes (signing is the clients' work).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from allocation import auction_queries, queries
from allocation.fields import MAX_TARGETS
from api.bootstrap import operation_set
from ledger.client import Wallet
from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.instructions import SignedInstruction, make_domain
from ledger.schemes import load_rules_dir, rules_document
from ledger.store.database import Store, sqlite_url

OPERATIONS = operation_set()
CHAIN_ID = 31337
DOMAIN = make_domain(CHAIN_ID)
DEADLINE = 4_000_000_000
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
YEAR = 2026
REGISTRY_KEY = (7).to_bytes(32, "big")
VERIFIER_KEY = (8).to_bytes(32, "big")
CHUNK = 1_000  # instructions signed per worker job
OFFER_T = 1_000_000
BIDDER_LIMIT_BP = 10  # 1,000 t of the offer per bidder
SECTORS = json.dumps([{"sector": "power", "free_cap": 50_000_000, "benchmark": "0.8218",
                       "output_unit": "MWh", "factors": {"load": "1.012"}}])


def emitter_key(i: int) -> bytes:
    return (100_000 + i).to_bytes(32, "big")


def output_mwh(i: int) -> str:
    """Installation i's output of the year before: 1,000.0 to 1,490.9 MWh."""
    return f"{1_000 + (i % 50) * 10}.{i % 10}"


def bid(i: int) -> tuple[int, int]:
    """Emitter i's bid: 100 to 999 t at CNY 50.00 to 99.99, so the 10,000 bids ask for
    about five times the offer and many tie at a price."""
    return 100 + (i * 37) % 900, 5_000 + (i * 7_919) % 5_000


def _sign(wallet: Wallet, op: str, **fields: Any) -> dict[str, Any]:
    return wallet.sign(OPERATIONS.instruction(op, deadline=DEADLINE, **fields)).as_json()


def _onboarding_job(args: tuple[int, int, int]) -> list[dict[str, Any]]:
    """Emitters first..last-1 onboarded, the registry's nonces from `nonce`."""
    first, last, nonce = args
    registry = Wallet(REGISTRY_KEY, DOMAIN, nonce=nonce)
    documents = []
    for i in range(first, last):
        documents += [
            _sign(registry, "register_participant", participant=f"e{i}", name=f"Emitter {i}",
                  role="emitter"),
            _sign(registry, "register_key", participant=f"e{i}",
                  key=Wallet(emitter_key(i), DOMAIN).address),
            _sign(registry, "open_account", account=f"c{i}", participant=f"e{i}",
                  accountType="compliance"),
            _sign(registry, "installation_register", installation=f"i{i}", emitter=f"e{i}",
                  scheme="CN-ETS", sector="power", name=f"Unit {i}"),
        ]
    return documents


def _output_job(args: tuple[int, int]) -> list[dict[str, Any]]:
    """The verifier's signed outputs of installations first..last-1 (its nonces from first)."""
    first, last = args
    verifier = Wallet(VERIFIER_KEY, DOMAIN, nonce=first)
    return [_sign(verifier, "output_verify", verifier="v", installation=f"i{i}",
                  year=YEAR - 1, output=output_mwh(i), unit="MWh") for i in range(first, last)]


def _bid_job(args: tuple[int, int]) -> list[dict[str, Any]]:
    """Emitters first..last-1 bid once each (their first nonce)."""
    first, last = args
    documents = []
    for i in range(first, last):
        quantity, price = bid(i)
        documents.append(_sign(Wallet(emitter_key(i), DOMAIN), "auction_bid", auction="AU-1",
                               bid=f"b{i}", bidder=f"e{i}", account=f"c{i}",
                               quantity=quantity, price=price))
    return documents


def _chunks(count: int, size: int = CHUNK) -> list[tuple[int, int]]:
    return [(start, min(count, start + size)) for start in range(0, count, size)]


def _parallel(job: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return [d for chunk in pool.map(job, jobs) for d in chunk]


class Took(NamedTuple):
    wall_s: float
    cpu_s: float  # this process's CPU time: what the machine's other load does not inflate

    def __str__(self) -> str:
        return f"{self.wall_s:.2f} s ({self.cpu_s:.2f} s of CPU)"


def apply(ledger: Ledger, documents: Sequence[dict[str, Any]], per_transaction: int) -> Took:
    """Parse, then apply in transactions of `per_transaction`; how long applying took."""
    signed: list[SignedInstruction] = [OPERATIONS.parse_signed(d) for d in documents]
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(signed), per_transaction):
        for result in ledger.submit_many(signed[start:start + per_transaction]):
            assert not isinstance(result, Exception), result
    return Took(time.perf_counter() - started, time.process_time() - cpu)


def run(store: Store, n: int) -> None:
    clock = FixedClock(NOW)
    ledger = Ledger(store, OPERATIONS, clock)
    registry = Wallet(REGISTRY_KEY, DOMAIN)
    rules = load_rules_dir()
    rules["CN-ETS"] = dataclasses.replace(rules["CN-ETS"], issue_operation="allocation")
    opening = [registry.sign(OPERATIONS.instruction(
        "genesis", registry="registry", registryName="Registry", registryKey=registry.address,
        chainId=CHAIN_ID, rules=rules_document(rules))).as_json()]
    opening += [_sign(registry, "register_participant", participant="v", name="Verifier",
                      role="verifier"),
                _sign(registry, "register_key", participant="v",
                      key=Wallet(VERIFIER_KEY, DOMAIN).address),
                _sign(registry, "verifier_qualify", verifier="v", sector="power",
                      action="grant", reason="accredited")]
    started = time.perf_counter()
    apply(ledger, opening, 100)
    onboarding = _parallel(_onboarding_job, [(first, last, registry.nonce + first * 4)
                                             for first, last in _chunks(n)])
    registry.nonce += 4 * n
    outputs = _parallel(_output_job, _chunks(n))
    bids = _parallel(_bid_job, _chunks(n))
    plan = [_sign(registry, "allocation_plan_set", scheme="CN-ETS", year=YEAR,
                  cap=60_000_000, reserve=1_000_000, auction=5_000_000, sectors=SECTORS)]
    preallocations = [_sign(registry, "allocation_preallocate", scheme="CN-ETS", year=YEAR,
                            batch=f"FA-{first}", targets=json.dumps(
                                [[f"i{i}", f"c{i}"] for i in range(first, last)]))
                      for first, last in _chunks(n, MAX_TARGETS)]
    opens = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    closes = (NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    announce = [_sign(registry, "auction_announce", auction="AU-1", scheme="CN-ETS",
                      year=YEAR, quantity=OFFER_T, reservePrice=5_000, opens=opens,
                      closes=closes, bidderLimitBp=BIDDER_LIMIT_BP, batch="AU-1")]
    clear = [_sign(registry, "auction_clear", auction="AU-1")]
    print(f"   signed {len(onboarding) + len(outputs) + len(bids) + 4:,} instructions in "
          f"{time.perf_counter() - started:.0f} s")

    started = time.perf_counter()
    apply(ledger, onboarding, 1000)
    apply(ledger, outputs, 1000)
    apply(ledger, plan, 1)
    print(f"   setup: {n:,} emitters and installations onboarded, their outputs verified and "
          f"the plan set in {time.perf_counter() - started:.1f} s")

    elapsed = apply(ledger, preallocations, 1)
    found = queries.plan(store, "CN-ETS", YEAR)
    assert found is not None and found.sectors[0].allocated == found.issued > 0, found
    print(f"   pre-allocation: {n:,} installations in {len(preallocations)} instructions of up "
          f"to {MAX_TARGETS:,} targets, {found.issued:,} t issued, in {elapsed} "
          "(target <= 5 s)")

    apply(ledger, announce, 1)
    elapsed = apply(ledger, bids, 1000)
    print(f"   auction: {n:,} sealed bids placed at {n / elapsed.wall_s:,.0f} bids/s")
    clock.moment = NOW + timedelta(days=4)
    elapsed = apply(ledger, clear, 1)
    status = auction_queries.auction_status(store, "AU-1", clock.moment)
    assert status is not None and status.terms.status == "cleared", status
    book = auction_queries.auction_book(store, "AU-1")
    assert book is not None
    winners = len(book.winners)
    print(f"   auction_clear: {n:,} bids cleared at {status.terms.clearing_price:,} fen/t, "
          f"{status.terms.sold:,} t to {winners:,} winners, in {elapsed} "
          "(target <= 1 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--installations", type=int, default=10_000,
                        help="emitters, one installation and one bid each (default 10,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(sqlite_url(Path(scratch) / "allocation.db"))
        store.upgrade(OPERATIONS)
        print(f"== SQLite, {args.installations:,} installations and bidders")
        run(store, args.installations)
        store.dispose()


if __name__ == "__main__":
    main()
