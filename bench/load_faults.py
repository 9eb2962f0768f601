"""Signed transfers under load and faults on PostgreSQL: figures, and the checks of a ledger that
kept its word.

    python bench/load_faults.py                         # 6 writers, 60 s
    python bench/load_faults.py --writers 4 --seconds 20

Six writer processes submit single transfers and submissions of 2..50, by quantity and by
serial range, opposing one another, with duplicates across processes, while one writer is SIGKILLed
(and restarted) every 5 s and every backend of the database is terminated every 15 s
(tests/ledger/load_faults.py). Printed: operations accepted per second under those faults,
kills, drops, the lost connections the writers were told of, refusals by reason; then the checks:
nothing acknowledged lost, no raw exception, the journal gapless, replay and the audit passing.
It runs in a database of its own (carbonledger_bench_faults), whose backends it terminates.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_throughput import postgres_url, reset_postgres  # bench/ is on sys.path

from anchoring.audit import audit
from anchoring.operator.checkpoints import Checkpointer
from api.bootstrap import operation_set
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.ledger.load_faults import run_load, set_up
from tests.ledger.test_load_faults import assert_ledger_kept_its_word
from tests.world import World

OPERATIONS = operation_set()  # the composition root's, as every part is handed

DATABASE = "carbonledger_bench_faults"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kill-every", type=float, default=5, help="seconds between SIGKILLs")
    parser.add_argument("--drop-every", type=float, default=15,
                        help="seconds between terminations of every backend")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    url = postgres_url(DATABASE)
    if url is None:
        print("load with faults: skipped, PostgreSQL is unreachable")
        return
    reset_postgres(url)
    store = Store(url)
    store.upgrade(OPERATIONS)
    seed = args.seed if args.seed is not None else random.getrandbits(32)
    with tempfile.TemporaryDirectory() as directory:
        world = World.create(store, FixedClock(datetime.now(UTC)))
        setup = set_up(world, Path(directory), args.writers, seed)
        checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
        checkpointer.cut()
        report = run_load(setup, args.seconds, args.kill_every, args.drop_every, seed)
        print(f"load with faults (seed {seed}): {report.summary()}")
        started = time.perf_counter()
        assert_ledger_kept_its_word(world, report)
        checkpointer.cut()
        audited = audit(store, OPERATIONS, checkpointer.operator)
        assert audited.ok, audited.first_discrepancy
        print(f"checks passed: {len(report.acknowledged)} acknowledged receipts all in the "
              f"journal; replay --check and the audit passed over {audited.entries} entries "
              f"({time.perf_counter() - started:.1f} s)")
    store.dispose()


if __name__ == "__main__":
    main()
