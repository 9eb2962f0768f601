"""Benchmark of a witness (anchoring/witness/): how fast it replays and cosigns, run after run.

    .venv/bin/python bench/witness.py                    # 10 checkpoints of 1,000 transfers
    .venv/bin/python bench/witness.py --checkpoints 3 --per-checkpoint 500

On a real ledger (SQLite, BenchLedger's 20 emitters sending random transfers) cut every
--per-checkpoint operations, it prints:

1. the first run: a new witness replays the whole journal and cosigns every checkpoint
   (entries per second, and per checkpoint);
2. a steady run: one more checkpoint of --per-checkpoint operations, the witness started
   afresh (as a cron job would), which replays only the new entries: the run's total time,
   and the part of it that is the restart (rebuilding the log and the state tree from its
   replica);
3. one cosignature's verification (`require_cosigned`, one witness) for scale.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _ledger import OPERATIONS, BenchLedger  # bench/ is on sys.path when a script in it runs

from anchoring.auditor.cosignature import parse_vkey, require_cosigned
from anchoring.operator.checkpoints import Checkpointer
from anchoring.witness.identity import create_witness, load_keys, load_witness
from anchoring.witness.replica import Replica
from anchoring.witness.source import StoreSource
from anchoring.witness.witness import REPLICA_FILE, Witness
from custody.signatures import address_of
from ledger.store.database import Store, sqlite_url

OPERATOR_KEY = (0x0DE7A70B).to_bytes(32, "big")
PASSWORD = "bench"


def _witness(directory: Path) -> Witness:
    config = load_witness(directory)
    return Witness(directory, config, load_keys(directory, config, PASSWORD), OPERATIONS,
                   clock=lambda: int(time.time()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument("--per-checkpoint", type=int, default=1_000)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = Store(sqlite_url(root / "operator.db"))
        store.upgrade(OPERATIONS)
        bench = BenchLedger(store)
        checkpointer = Checkpointer(bench.ledger, OPERATOR_KEY)
        for _ in range(args.checkpoints):
            bench.transfers(rng, args.per_checkpoint)
            checkpointer.cut()
        source = StoreSource(store, "the operator's store")
        directory = root / "witness"
        create_witness(directory, "bench.example/w1", address_of(OPERATOR_KEY), PASSWORD,
                       scrypt_n=2)

        started = time.perf_counter()
        first = _witness(directory).run(source)
        first_s = time.perf_counter() - started
        print(f"first run: {first.entries:,} entries replayed, {len(first.cosigned)} "
              f"checkpoints cosigned in {first_s:.2f} s ({first.entries / first_s:,.0f} "
              f"entries/s; {first_s / len(first.cosigned):.2f} s per checkpoint of "
              f"{args.per_checkpoint:,} operations)")

        bench.transfers(rng, args.per_checkpoint)
        checkpointer.cut()
        started = time.perf_counter()
        steady = _witness(directory).run(source)
        steady_s = time.perf_counter() - started
        started = time.perf_counter()
        Replica.open(directory / REPLICA_FILE, OPERATIONS).close()
        restart_s = time.perf_counter() - started
        print(f"steady run: {steady.entries:,} new entries, checkpoint "
              f"{steady.cosigned[0].number} cosigned in {steady_s:.2f} s, of which "
              f"{restart_s:.2f} s rebuilding the log and the state tree from the replica")

        note = steady.cosigned[0].note_file.read_text()
        vkey = parse_vkey(load_witness(directory).vkey)
        started = time.perf_counter()
        for _ in range(100):
            require_cosigned(note, [vkey])
        print(f"one cosignature verified in {(time.perf_counter() - started) * 10:.2f} ms")
        store.dispose()


if __name__ == "__main__":
    main()
