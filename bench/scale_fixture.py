"""Builds, and resumes building, a benchmark store of N live lots made by real signed
operations (issue 18), kept outside the repository for bench/scale.py to measure.

    .venv/bin/python bench/scale_fixture.py                      # 10,000,000 lots
    .venv/bin/python bench/scale_fixture.py --lots 100000 --minutes 1

Each run works for at most --minutes, commits, prints how far the fixture is and exits; run
it again (under the shared CPU lock) until it says "complete". The fixture directory (default
~/.cache/carbonledger/scale-<N>/) holds the SQLite store `ledger.db` and `manifest.json`
(lots, entries, checkpoints, the code revisions that built it, seconds spent).

How the lots multiply. The store starts as bench/ledger_throughput.py's: a registry and
HOLDERS emitters, each issued one batch of 10^9 t into its own account. Then every operation
is a signed transfer of ONE unit, by serial range, from the inside of the sender's remaining
lot of its own batch: the lot is closed and three are made (the units before, the unit moved,
the units after), so each transfer adds exactly two live lots; no operation of the ledger
adds more per signature. Serials 1..KEPT_SERIALS of each batch are never touched, so that a
transfer by quantity measured later on this store splits a large lot as it does on an empty
store. Transfer n is fully determined by n (sender n % HOLDERS, that sender's k-th, its nonce
k + 1), so a run resumes from the lot count alone. An odd remainder is made by a last
transfer of a batch's final unit (one lot becomes two).

Instructions are signed in worker processes (a few hundred microseconds each), and their
signatures checked there by the ledger's stateless check (ledger/signature_check.py, as the
service's HTTP workers do for its writer), while the main process submits the previous ones,
1,000 per submission (`Ledger.submit_documents` with those verdicts, one transaction).
A checkpoint is cut every --checkpoint-every entries and when the fixture is complete, by
the ledger's own Checkpointer. It cuts without re-executing the entries (the transition check,
docs/adr/0008): every entry was checked as it was applied, and the check would double the
build's cost (`--check-transitions` to run it anyway). Today the checkpointer holds the whole
state tree in memory, so the first cut of each run rebuilds it from the stored leaf versions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, as when a script runs
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_throughput import (
    BATCH_SIZE_T,
    DOMAIN,
    HOLDERS,
    OPERATIONS,
    holder_key,
    setup,
)

from anchoring.operator.checkpoints import Checkpointer, latest_checkpoint
from ledger.client import Wallet
from ledger.engine import Ledger
from ledger.errors import Rejected
from ledger.signature_check import SignatureVerdict, verdicts_of
from ledger.store.database import Store, sqlite_url

DEFAULT_LOTS = 10_000_000
OPERATOR_KEY = (0x5CA1E).to_bytes(32, "big")  # signs the fixture's checkpoints
KEPT_SERIALS = 1_000_000  # each batch's serials 1..this stay one lot (see the docstring)
DEADLINE = 4_000_000_000  # every instruction's deadline (2096): the fixture never expires
SUBMISSION = 1000  # operations per submission (one transaction)
CHUNK = 10_000  # transfers a worker signs at a time
DATABASE = "ledger.db"
MANIFEST = "manifest.json"


class FixtureError(Exception):
    """The fixture directory holds something this builder cannot continue."""


def default_directory(lots: int) -> Path:
    return Path.home() / ".cache" / "carbonledger" / f"scale-{lots}"


def store_url(directory: Path) -> str:
    return sqlite_url(directory / DATABASE)


# --- the transfers -------------------------------------------------------------------------

def transfers_needed(lots: int) -> int:
    """Transfers that take the store from HOLDERS lots to `lots`: two lots each, the last
    one lot if the difference is odd."""
    if lots < HOLDERS:
        raise FixtureError(f"--lots must be at least {HOLDERS} (the lots of the issued batches)")
    return (lots - HOLDERS + 1) // 2


def transfers_done(lots_now: int, lots_target: int) -> int:
    """How many of the fixture's transfers the store holds, from its live lot count."""
    if lots_now == lots_target:
        return transfers_needed(lots_target)
    grown = lots_now - HOLDERS
    if grown < 0 or grown % 2 or lots_now > lots_target:
        raise FixtureError(f"the store holds {lots_now:,} lots, which no run of this builder "
                           f"towards {lots_target:,} lots leaves: build it in a new directory")
    return grown // 2


def transfer_fields(n: int, lots_target: int) -> tuple[int, dict[str, Any]]:
    """Transfer n of the fixture: its sender's index and the instruction's fields."""
    sender, k = n % HOLDERS, n // HOLDERS
    receiver = (sender + 1 + k % (HOLDERS - 1)) % HOLDERS
    last_and_odd = (lots_target - HOLDERS) % 2 == 1 and n == transfers_needed(lots_target) - 1
    serial = BATCH_SIZE_T if last_and_odd else KEPT_SERIALS + 2 * k + 1
    return sender, {"fromAccount": f"a{sender}", "toAccount": f"a{receiver}",
                    "batch": f"b{sender}", "quantity": 1, "serialFirst": serial,
                    "serialLast": serial, "deadline": DEADLINE}


_wallets: list[Wallet] = []  # a worker's, made once


Signed = tuple[list[dict[str, Any]], list[SignatureVerdict]]


def sign_transfers(job: tuple[int, int, int]) -> Signed:
    """Sign transfers first..first+count-1 and check their signatures (in a worker process):
    their JSON documents and verdicts."""
    first, count, lots_target = job
    if not _wallets:
        _wallets.extend(Wallet(holder_key(i), DOMAIN) for i in range(HOLDERS))
    documents = []
    for n in range(first, first + count):
        sender, fields = transfer_fields(n, lots_target)
        wallet = _wallets[sender]
        wallet.nonce = n // HOLDERS  # signs with nonce k + 1: the sender's k-th transfer
        documents.append(wallet.sign(OPERATIONS.instruction("transfer", **fields)).as_json())
    return documents, verdicts_of(documents, OPERATIONS.parse_signed, DOMAIN)


# --- the store and its manifest ------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    lots: int
    entries: int
    checkpoints: int
    checkpoint_size: int  # the log size of the latest checkpoint


def live_lots(store: Store) -> int:
    with store.read() as tx:
        return int(tx.one("SELECT COUNT(*) FROM lots")[0])


def progress(store: Store) -> Progress:
    with store.read() as tx:
        head = tx.head
        latest = latest_checkpoint(tx)
    return Progress(live_lots(store), head + 1, latest.number if latest else 0,
                    latest.log_size if latest else 0)


def code_revision() -> str:
    """The commit of the code running: `git rev-parse HEAD`, or, in an exported tree (`git
    archive`, see docs/scale.md), the file REVISION at its root."""
    root = Path(__file__).resolve().parent.parent
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=root).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        exported = root / "REVISION"
        return exported.read_text().strip() if exported.exists() else "unknown"


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    return dict(json.loads(path.read_text())) if path.exists() else {}


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    path = directory / MANIFEST
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    temporary.replace(path)  # a run killed while writing leaves the previous manifest


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --- one run -------------------------------------------------------------------------------

@dataclass
class RunReport:
    transfers: int = 0
    submit_s: float = 0.0
    cuts: list[dict[str, Any]] = field(default_factory=list)


def build(directory: Path, lots_target: int, minutes: float, checkpoint_every: int,
          workers: int, check_transitions: bool = False, max_transfers: int | None = None,
          say: Any = print) -> dict[str, Any]:
    """One run: at most `minutes` of work (and `max_transfers` transfers) towards
    `lots_target` lots; returns the manifest."""
    started = time.monotonic()
    stop_at = started + minutes * 60
    directory.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(directory)
    if manifest.get("target_lots", lots_target) != lots_target:
        raise FixtureError(f"{directory} is a fixture of {manifest['target_lots']:,} lots, "
                           f"not {lots_target:,}")
    store = Store(store_url(directory))
    try:
        store.upgrade(OPERATIONS)
        with store.read() as tx:
            fresh = tx.head < 0
        if fresh:
            setup(store)
        ledger = Ledger(store, OPERATIONS)
        checkpointer = Checkpointer(ledger, OPERATOR_KEY, check_transitions=check_transitions)
        report = RunReport()
        needed = transfers_needed(lots_target)
        done = transfers_done(live_lots(store), lots_target)
        say(f"fixture {directory}: {done:,} of {needed:,} transfers done; "
            f"working for at most {minutes:g} minutes")
        state = progress(store)
        this_run = needed if max_transfers is None else min(needed, done + max_transfers)
        if done < this_run:
            done = _submit_until(ledger, checkpointer, report, done, this_run, lots_target,
                                 stop_at, checkpoint_every, workers, state, say)
        state = progress(store)
        if done == needed and state.checkpoint_size < state.entries:
            _cut(checkpointer, report, say)  # the fixture ends at a checkpoint
            state = progress(store)
    finally:
        store.dispose()
    seconds = time.monotonic() - started
    complete = state.lots == lots_target and state.checkpoint_size == state.entries
    runs = list(manifest.get("runs", []))
    runs.append({"at": datetime.now(UTC).isoformat(timespec="seconds"),
                 "revision": code_revision(), "seconds": round(seconds, 1),
                 "transfers": report.transfers,
                 "submit_s": round(report.submit_s, 1), "max_rss_mb": round(max_rss_mb()),
                 "cuts": report.cuts})
    manifest.update({
        "target_lots": lots_target, "lots": state.lots, "entries": state.entries,
        "checkpoints": state.checkpoints, "complete": complete, "database": DATABASE,
        "revision": runs[0]["revision"], "seconds": round(sum(r["seconds"] for r in runs), 1),
        "runs": runs,
    })
    write_manifest(directory, manifest)
    rate = report.transfers / report.submit_s if report.submit_s else 0.0
    say(f"{'complete' if complete else 'not complete'}: {state.lots:,} of {lots_target:,} lots, "
        f"{state.entries:,} entries, {state.checkpoints} checkpoints; this run "
        f"{report.transfers:,} transfers ({rate:,.0f}/s while submitting) in {seconds:.0f} s, "
        f"max RSS {max_rss_mb():,.0f} MB" + ("" if complete else "; run again to continue"))
    return manifest


def _submit_until(ledger: Ledger, checkpointer: Checkpointer, report: RunReport, done: int,
                  needed: int, lots_target: int, stop_at: float, checkpoint_every: int,
                  workers: int, state: Progress, say: Any) -> int:
    """Sign ahead in `workers` processes while submitting transfers up to `needed`; cut when
    due; stop at `stop_at`. Returns the transfers the store then holds."""
    since_cut = state.entries - state.checkpoint_size
    next_job = done
    pending: deque[Future[Signed]] = deque()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        try:
            while done < needed and time.monotonic() < stop_at:
                while next_job < needed and len(pending) < workers + 1:
                    count = min(CHUNK, needed - next_job)
                    pending.append(pool.submit(sign_transfers, (next_job, count, lots_target)))
                    next_job += count
                documents, verdicts = pending.popleft().result()
                for start in range(0, len(documents), SUBMISSION):
                    if time.monotonic() >= stop_at:
                        break
                    part = documents[start:start + SUBMISSION]
                    began = time.monotonic()
                    for result in ledger.submit_documents(
                            part, verdicts[start:start + SUBMISSION]):
                        if isinstance(result, Rejected):
                            raise FixtureError(f"transfer {done} refused: {result}")
                    report.submit_s += time.monotonic() - began
                    done += len(part)
                    report.transfers += len(part)
                    since_cut += len(part)
                    if since_cut >= checkpoint_every and time.monotonic() < stop_at:
                        _cut(checkpointer, report, say)
                        since_cut = 0
                else:
                    continue
                break
        finally:
            for future in pending:
                future.cancel()
    return done


def _cut(checkpointer: Checkpointer, report: RunReport, say: Any) -> None:
    began = time.monotonic()
    first_of_process = checkpointer.state.number < 0  # it rebuilds the tree first
    checkpoint = checkpointer.cut()
    seconds = time.monotonic() - began
    report.cuts.append({"checkpoint": checkpoint.number, "log_size": checkpoint.log_size,
                        "seconds": round(seconds, 1), "rebuilt_tree": first_of_process,
                        "max_rss_mb": round(max_rss_mb())})
    say(f"   checkpoint {checkpoint.number} at {checkpoint.log_size:,} entries in "
        f"{seconds:.1f} s{' (tree rebuilt first)' if first_of_process else ''}; "
        f"max RSS so far {max_rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=DEFAULT_LOTS, help="live lots to reach")
    parser.add_argument("--dir", type=Path, default=None,
                        help="fixture directory (default ~/.cache/carbonledger/scale-<lots>)")
    parser.add_argument("--minutes", type=float, default=5.0, help="work for at most this long")
    parser.add_argument("--checkpoint-every", type=int, default=None,
                        help="entries between checkpoints (default: a twentieth of the "
                             "transfers, at most 250,000)")
    parser.add_argument("--transfers", type=int, default=None,
                        help="do at most this many transfers in this run")
    parser.add_argument("--check-transitions", action="store_true",
                        help="cut with the transition check (re-executes every entry again; "
                             "the build's entries were checked as they were applied)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="signing processes")
    args = parser.parse_args()
    if args.minutes <= 0 or args.workers < 1 or (args.transfers or 1) < 1:
        parser.error("--minutes must be > 0, --workers and --transfers >= 1")
    try:
        needed = transfers_needed(args.lots)
        every = args.checkpoint_every or min(250_000, max(1000, needed // 20))
        if every < 1:
            parser.error("--checkpoint-every must be >= 1")
        build(args.dir or default_directory(args.lots), args.lots, args.minutes, every,
              args.workers, args.check_transitions, args.transfers)
    except FixtureError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
