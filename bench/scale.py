"""Today's code at scale (issue 18): measured on a fixture of bench/scale_fixture.py.

    .venv/bin/python bench/scale.py                   # the 10,000,000-lot fixture
    .venv/bin/python bench/scale.py --lots 100000     # builds that small fixture if missing
    .venv/bin/python bench/scale.py --dir ~/.cache/carbonledger/scale-10000000

Prints, with the issue's targets at 10,000,000 lots:

1. the fixture: live lots, journal entries, checkpoints;
2. a checkpointer starting in a new process: the time to sync its state
   (StateCommitment.sync: today it rebuilds the whole tree from the stored leaf versions),
   then two rounds of 1,000 transfers each followed by a cut (with the transition check); the
   time to the state root after 1,000 changes (StateCommitment.advance inside the cut, less
   the transition check it calls: read the touched leaves, update the tree, take the root,
   record the versions; target <= 300 ms)
   and the whole cut; its peak resident memory (target <= 1 GB);
3. a lot proof from a cold process (a new interpreter: open the store, Prover.lot, as the
   service's `prove` and `carbonledger proof lot` do, and the bundle's check against the
   operator key): the proof alone and the whole process (target <= 50 ms);
4. signed transfers per second on the fixture against an empty store of the same setup, one
   per transaction and in submissions of 100, run for run in turn on the same signed
   instructions (bench/ledger_throughput.py's comparison; target: within 20% of empty).

Every measurement that writes runs on a copy of the fixture's database in a temporary
directory (--tmp), so the fixture stays as it was built. At 10,000,000 lots each part takes
minutes: run them as separate commands on one kept copy, e.g.

    bench/scale.py --copy /tmp/scale.db --skip proof --skip throughput
    bench/scale.py --copy /tmp/scale.db --skip checkpointer --skip throughput --proofs 1
    bench/scale.py --copy /tmp/scale.db --skip checkpointer --skip proof
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, as when a script runs
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ledger_throughput

from bench import scale_fixture
from ledger.store.database import Store, sqlite_url

TRANSFERS_PER_CUT = 1000
RSS_TARGET_MB = 1024
PROOF_TARGET_MS = 50.0
STATE_ROOT_TARGET_MS = 300.0
THROUGHPUT_TARGET = -0.20
NONCE_BASE = 10**8  # above every nonce the fixture's transfers used


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    return 0.0


def _rss_now_mb() -> float:
    return _status_mb("VmRSS")


def _rss_peak_mb() -> float:
    """This process's peak resident memory since it started its program. (Not getrusage's
    ru_maxrss: Linux carries that over from the parent process through fork and exec.)"""
    return _status_mb("VmHWM")


# --- 2. the checkpointer, in a process of its own ----------------------------------------------

def child_cut(database: Path, rounds: int) -> dict[str, Any]:
    """A checkpointer starting up: sync, then `rounds` of 1,000 transfers and a cut."""
    from anchoring.operator.checkpoints import Checkpointer, latest_checkpoint
    from ledger.engine import Ledger
    from ledger.errors import Rejected

    store = Store(sqlite_url(database))
    ledger = Ledger(store, scale_fixture.OPERATIONS)
    checkpointer = Checkpointer(ledger, scale_fixture.OPERATOR_KEY)  # the transition check on
    state = checkpointer.state
    advance_s: list[float] = []  # StateCommitment.advance, less the transition check in it
    advance = state.advance

    def timed_advance(*args: Any, **kwargs: Any) -> Any:
        checking_s = [0.0]

        def timed_check(check: Any) -> Any:
            def timed(*inner: Any) -> Any:
                started = time.perf_counter()
                try:
                    return check(*inner)
                finally:
                    checking_s[0] += time.perf_counter() - started
            return timed

        arguments = list(args)
        if len(arguments) >= 5 and callable(arguments[4]):
            arguments[4] = timed_check(arguments[4])
        if callable(kwargs.get("check")):
            kwargs["check"] = timed_check(kwargs["check"])
        started = time.perf_counter()
        try:
            return advance(*arguments, **kwargs)
        finally:
            advance_s.append(time.perf_counter() - started - checking_s[0])

    state.advance = timed_advance  # type: ignore[method-assign]  # timing only
    rss_start = _rss_now_mb()
    with store.read() as tx:
        latest = latest_checkpoint(tx)
        assert latest is not None, "the fixture has a checkpoint"
        started = time.perf_counter()
        state.sync(tx, latest.number, latest.state_root)
        sync_s = time.perf_counter() - started
    leaves, rss_synced = len(state.leaves), _rss_now_mb()
    lots = scale_fixture.live_lots(store)
    first = scale_fixture.transfers_needed(lots) + 1  # past every transfer the store holds
    cuts: list[float] = []
    for k in range(rounds):
        documents, verdicts = scale_fixture.sign_transfers(
            (first + k * TRANSFERS_PER_CUT, TRANSFERS_PER_CUT, 2**62))
        for result in ledger.submit_documents(documents, verdicts):
            assert not isinstance(result, Rejected), result
        started = time.perf_counter()
        checkpointer.cut()
        cuts.append(time.perf_counter() - started)
    store.dispose()
    return {"leaves": leaves, "sync_s": sync_s, "rss_start_mb": rss_start,
            "rss_synced_mb": rss_synced, "rss_end_mb": _rss_now_mb(),
            "rss_peak_mb": _rss_peak_mb(), "cut_s": cuts, "advance_s": advance_s}


# --- 3. a lot proof, in a cold process ---------------------------------------------------------

def child_prove(database: Path, lot_id: str) -> dict[str, Any]:
    from anchoring.auditor.verify import verify_bundle
    from anchoring.operator.bundles import Prover
    from custody.signatures import address_of

    started = time.perf_counter()
    store = Store(sqlite_url(database))
    bundle = Prover(store).lot(lot_id)
    proved_s = time.perf_counter() - started
    text = json.dumps(bundle)
    verify_bundle(json.loads(text), address_of(scale_fixture.OPERATOR_KEY))
    checked_s = time.perf_counter() - started
    store.dispose()
    return {"prove_s": proved_s, "prove_and_check_s": checked_s, "bytes": len(text),
            "rss_peak_mb": _rss_peak_mb()}


def run_child(*args: str) -> tuple[dict[str, Any], float]:
    """This script in a new interpreter with `args`; its JSON answer and its wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    wall_s = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the measuring process {args[:2]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall_s


def some_lot(database: Path, rng: random.Random) -> str:
    """A live lot of the store (every live lot is in its latest checkpoint once it is cut)."""
    store = Store(sqlite_url(database))
    with store.read() as tx:
        head = tx.head
        row = tx.one("SELECT id FROM lots WHERE id >= :prefix ORDER BY id LIMIT 1",
                     {"prefix": f"{rng.randrange(head // 2, head)}."})
    store.dispose()
    assert row is not None
    return str(row[0])


# --- the parent ----------------------------------------------------------------------------

def upgrade(database: Path) -> None:
    """Bring the copy to the running code's schema (a later revision's migrations, if any):
    the fixture stays as today's code built it."""
    store = Store(sqlite_url(database))
    store.upgrade(scale_fixture.OPERATIONS)
    store.dispose()


def fixture_figures(database: Path) -> tuple[int, int, int]:
    store = Store(sqlite_url(database))
    state = scale_fixture.progress(store)
    store.dispose()
    return state.lots, state.entries, state.checkpoints


def throughput(full_db: Path, empty_db: Path, single: int, many: int) -> None:
    empty = Store(sqlite_url(empty_db))
    empty.upgrade(scale_fixture.OPERATIONS)
    ledger_throughput.setup(empty)
    full = Store(sqlite_url(full_db))
    empty, full = ledger_throughput.settle(empty), ledger_throughput.settle(full)
    from ledger.engine import Ledger

    ledger_throughput.compare_with_empty(
        Ledger(empty, scale_fixture.OPERATIONS), Ledger(full, scale_fixture.OPERATIONS),
        argparse.Namespace(single=single, many=many), NONCE_BASE)
    print(f"   (target: within {-THROUGHPUT_TARGET:.0%} of the empty store; "
          f"load {os.getloadavg()[0]:.2f})")
    empty.dispose()
    full.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=scale_fixture.DEFAULT_LOTS)
    parser.add_argument("--dir", type=Path, default=None, help="the fixture's directory "
                        "(default ~/.cache/carbonledger/scale-<lots>)")
    parser.add_argument("--tmp", type=Path, default=None, help="where the copy goes")
    parser.add_argument("--copy", type=Path, default=None,
                        help="keep the measured copy in this file (made if missing), so that "
                             "the measurements can run as separate commands (--skip)")
    parser.add_argument("--single", type=int, default=3000,
                        help="transfers one per transaction, per run")
    parser.add_argument("--many", type=int, default=10000,
                        help="transfers in submissions of 100, per run")
    parser.add_argument("--rounds", type=int, default=2, help="cuts after 1,000 transfers")
    parser.add_argument("--proofs", type=int, default=3, help="cold lot proofs")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["throughput", "checkpointer", "proof"])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, database = args.child[0], Path(args.child[1])
        answer = (child_cut(database, int(args.child[2])) if kind == "cut"
                  else child_prove(database, args.child[2]))
        print(json.dumps(answer))
        return

    directory = args.dir or scale_fixture.default_directory(args.lots)
    manifest = scale_fixture.read_manifest(directory)
    if not manifest.get("complete"):
        if args.dir is None and args.lots <= 200_000:
            print(f"building the {args.lots:,}-lot fixture in {directory}")
            needed = scale_fixture.transfers_needed(args.lots)
            scale_fixture.build(directory, args.lots, 60, max(1000, needed // 20),
                                os.cpu_count() or 2)
            manifest = scale_fixture.read_manifest(directory)
        else:
            print(f"warning: the fixture in {directory} is not complete "
                  f"({manifest.get('lots', 0):,} of {manifest.get('target_lots', '?')} lots): "
                  "measuring what it holds")
    source = directory / scale_fixture.DATABASE
    if not source.exists():
        raise SystemExit(f"no fixture in {directory}: build it with bench/scale_fixture.py")
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        copy = args.copy or Path(tmp) / "full.db"
        started = time.perf_counter()
        copied = not copy.exists()
        if copied:
            shutil.copyfile(source, copy)
            for suffix in ("-wal", "-shm"):  # a fixture whose last run was killed
                if Path(f"{source}{suffix}").exists():
                    shutil.copyfile(f"{source}{suffix}", f"{copy}{suffix}")
        upgrade(copy)
        lots, entries, checkpoints = fixture_figures(copy)
        print(f"fixture {directory}: {lots:,} live lots, {entries:,} entries, {checkpoints} "
              f"checkpoints; {source.stat().st_size / 2**30:.2f} GiB "
              + (f"(copied in {time.perf_counter() - started:.0f} s)" if copied
                 else f"(measured on the kept copy {copy})")
              + f"; built by "
              f"{manifest.get('revision', '?')[:12]}, measured at {_revision()[:12]}; "
              f"load {os.getloadavg()[0]:.2f}")

        if "checkpointer" not in args.skip:
            cut, wall_s = run_child("--child", "cut", str(copy), str(args.rounds))
            advance_ms = [s * 1000 for s in cut["advance_s"]]
            print(f"== a checkpointer starting in a new process ({cut['leaves']:,} state leaves;"
                  f" load {os.getloadavg()[0]:.2f})")
            print(f"   sync (StateCommitment.sync, the tree rebuilt from the stored versions): "
                  f"{cut['sync_s']:.1f} s; RSS {cut['rss_start_mb']:,.0f} MB before, "
                  f"{cut['rss_synced_mb']:,.0f} MB after")
            root_ok = statistics.median(advance_ms) <= STATE_ROOT_TARGET_MS
            print(f"   state root after {TRANSFERS_PER_CUT:,} transfers (StateCommitment.advance"
                  f" in the cut, less the transition check): "
                  f"{', '.join(f'{ms:,.0f}' for ms in advance_ms)} ms — target "
                  f"<= {STATE_ROOT_TARGET_MS:.0f} ms: "
                  f"{'OK' if root_ok else 'OVER TARGET'}")
            print(f"   whole cut with the transition check: "
                  f"{', '.join(f'{s * 1000:,.0f}' for s in cut['cut_s'])} ms")
            peak = cut["rss_peak_mb"]
            print(f"   peak RSS of the process {peak:,.0f} MB (at the end {cut['rss_end_mb']:,.0f}"
                  f" MB) — target <= {RSS_TARGET_MB:,} MB: "
                  f"{'OK' if peak <= RSS_TARGET_MB else 'OVER TARGET'}; the process took "
                  f"{wall_s:.0f} s")

        if "proof" not in args.skip and args.proofs > 0:
            rng = random.Random(18)
            proofs = [run_child("--child", "prove", str(copy), some_lot(copy, rng))
                      for _ in range(args.proofs)]
            prove_ms = [p["prove_s"] * 1000 for p, _ in proofs]
            print(f"== a lot proof from a cold process ({args.proofs} such "
                  f"process{'es' if args.proofs > 1 else ''}, random lots; "
                  f"load {os.getloadavg()[0]:.2f})")
            print(f"   open the store + Prover.lot: median {statistics.median(prove_ms):,.0f} ms"
                  f" ({', '.join(f'{ms:,.0f}' for ms in prove_ms)}); with the bundle's check "
                  f"{statistics.median(p['prove_and_check_s'] for p, _ in proofs) * 1000:,.0f}"
                  f" ms; the whole process (interpreter, imports) "
                  f"{statistics.median(w for _, w in proofs) * 1000:,.0f} ms; peak RSS "
                  f"{max(p['rss_peak_mb'] for p, _ in proofs):,.0f} MB; bundle "
                  f"{proofs[0][0]['bytes']:,} B — target <= {PROOF_TARGET_MS:.0f} ms: "
                  f"{'OK' if statistics.median(prove_ms) <= PROOF_TARGET_MS else 'OVER TARGET'}")


        if "throughput" not in args.skip:
            print("== signed transfers per second, fixture against an empty store, in turn "
                  "(SQLite)")
            throughput(copy, Path(tmp) / "empty.db", args.single, args.many)

def _revision() -> str:
    return scale_fixture.code_revision()


if __name__ == "__main__":
    main()
