"""An auction of 10,000 bids cleared, on SQLite (and on PostgreSQL with --pg URL).

    python bench/auction.py                 # 10,000 bids
    python bench/auction.py --bids 1000     # a quick run

Target (issue 16): auction_clear over 10,000 bids in well under 1 s — the whole operation,
signature to commit: every bid read in one prefix read, the clearing, a lot per winner and
each bid's fill written back.

Everything is built through real signed instructions: the registry sets the 2026 plan of
CN-ETS (under allocation control) and announces an auction of 1,000,000 t; 50 emitters place
the bids (random quantities of 1..200 t at random prices, in transactions of 500); then the
clock passes the window and the registry clears it, timed alone. Last, the auction's book and
results are recomputed as a bundle's verifier does (allocation.clearing), also timed.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from allocation.clearing import Bid, bids_digest, clear
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
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BIDDERS = 50
OFFER = 1_000_000


def wallet(n: int) -> Wallet:
    return Wallet((0xB1D0000 + n).to_bytes(32, "big"), DOMAIN)


def signed(who: Wallet, op: str, **fields: Any) -> SignedInstruction:
    return who.sign(OPERATIONS.instruction(op, deadline=DEADLINE, **fields))


def submit(ledger: Ledger, instructions: list[SignedInstruction], chunk: int = 500) -> None:
    for start in range(0, len(instructions), chunk):
        for result in ledger.submit_many(instructions[start:start + chunk]):
            if not hasattr(result, "seq"):
                raise SystemExit(f"refused: {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bids", type=int, default=10_000)
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL (an empty database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(args.pg or sqlite_url(Path(scratch) / "ledger.db"))
        store.upgrade(OPERATIONS)
        clock = FixedClock(NOW)
        ledger = Ledger(store, OPERATIONS, clock)
        run(ledger, clock, args.bids)
        store.dispose()


def run(ledger: Ledger, clock: FixedClock, count: int) -> None:
    registry = wallet(0)
    rules = load_rules_dir()
    rules["CN-ETS"] = dataclasses.replace(rules["CN-ETS"], issue_operation="allocation")
    setup = [signed(registry, "genesis", registry="registry", registryName="Registry",
                    registryKey=registry.address, chainId=CHAIN_ID,
                    rules=rules_document(rules))]
    emitters = [wallet(n) for n in range(1, BIDDERS + 1)]
    for n, emitter in enumerate(emitters):
        setup += [signed(registry, "register_participant", participant=f"e{n}",
                         name=f"Emitter {n}", role="emitter"),
                  signed(registry, "register_key", participant=f"e{n}", key=emitter.address),
                  signed(registry, "open_account", account=f"E{n}", participant=f"e{n}",
                         accountType="compliance")]
    sectors = [{"sector": "power", "free_cap": 1_000_000, "benchmark": "0.8",
                "output_unit": "MWh", "factors": {}}]
    setup += [signed(registry, "allocation_plan_set", scheme="CN-ETS", year=2026,
                     cap=3_000_000, reserve=0, auction=OFFER, sectors=json.dumps(sectors)),
              signed(registry, "auction_announce", auction="AU", scheme="CN-ETS", year=2026,
                     quantity=OFFER, reservePrice=1_000, opens="2026-03-02T00:00:00Z",
                     closes="2026-03-02T06:00:00Z", bidderLimitBp=10_000, batch="AU-2026")]
    submit(ledger, setup)
    rng = random.Random(16)
    bids = [signed(emitters[i % BIDDERS], "auction_bid", auction="AU", bid=f"b{i}",
                   bidder=f"e{i % BIDDERS}", account=f"E{i % BIDDERS}",
                   quantity=rng.randint(1, 200), price=rng.randint(1_000, 9_000))
            for i in range(count)]
    started = time.perf_counter()
    submit(ledger, bids)
    placed = time.perf_counter() - started
    del bids  # placed long before the clearing: a service holds none of them by then
    gc.collect()
    clock.moment = NOW + timedelta(hours=6)
    clearing = signed(registry, "auction_clear", auction="AU")
    started, cpu = time.perf_counter(), time.process_time()
    receipt = ledger.submit(clearing)
    cleared, cleared_cpu = time.perf_counter() - started, time.process_time() - cpu
    with ledger.store.read() as tx:
        book = [Bid(b, p, a, int(q), int(pr), int(s)) for b, p, a, q, pr, s in tx.all(
            "SELECT bid, bidder, account, quantity, price, seq FROM auction_bids "
            "WHERE auction = 'AU' ORDER BY seq")]
        sold, lots = tx.one("SELECT sold, (SELECT count(*) FROM lots WHERE batch = 'AU-2026') "
                            "FROM auctions WHERE id = 'AU'")
    started = time.perf_counter()
    bids_digest(book)
    result = clear(OFFER, 1_000, book)
    recomputed = time.perf_counter() - started
    assert result.sold == sold
    print(f"{count} bids placed in {placed:.1f} s ({count / placed:.0f}/s)")
    print(f"auction_clear (entry {receipt.seq}): {cleared * 1000:.0f} ms for {count} bids "
          f"({cleared_cpu * 1000:.0f} ms of this process's CPU), {sold} t sold in {lots} lots "
          f"at {result.price}  (target <= 1000 ms)")
    print(f"a verifier's digest and clearing of the book: {recomputed * 1000:.0f} ms")


if __name__ == "__main__":
    main()
