"""Benchmark of the log published as C2SP tlog-tiles (anchoring/operator/tiles.py,
anchoring/auditor/tiles.py).

Prints, against their targets (issue 18):

1. a checkpoint of 1,000 new entries written as tiles (target <= 100 ms): `write_tiles` on a
   real ledger (SQLite) after each cut of 999 signed transfers and the marker — reading the
   new leaf hashes, entries and log nodes, writing the changed tiles and entry bundles (each
   to a temporary file, flushed to disk, renamed) and then the checkpoint;
2. an inclusion proof built from tiles at 10,000,000 entries, with its tile fetch count
   against C2SP's bound of 3 fetches per level group (8 levels), from a directory and from a
   mirror over HTTP (a local http.server), and a consistency proof likewise.

The 10,000,000-entry tile set of (2) is SYNTHETIC: hashes only, no ledger. Its leaf hashes
are RFC 9162 leaf hashes of 8-byte counters; its tiles are written from them by this script
(straight from C2SP's definition of a tile), not by `write_tiles`, which reads a ledger. That
measures what a proof from tiles costs a reader, which is what the target is about.

    .venv/bin/python bench/tiles.py                          # ~1-2 minutes
    .venv/bin/python bench/tiles.py --entries 1000000        # a quicker synthetic set
"""

from __future__ import annotations

import argparse
import functools
import http.server
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _ledger import OPERATIONS, BenchLedger  # bench/ is on sys.path when a script in it runs

from anchoring.auditor.merkle import (
    NODE_PREFIX,
    fold_subtree_hashes,
    leaf_hash,
    perfect_subtrees,
    verify_consistency,
    verify_inclusion,
)
from anchoring.auditor.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    DirectoryTiles,
    HttpTiles,
    TileReader,
    TileSource,
    tile_path,
)
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.tiles import write_tiles
from ledger.store.database import Store, sqlite_url

WRITE_TARGET_MS = 100.0
FETCHES_PER_GROUP = 3  # C2SP's bound for the layout
NEW_ENTRIES = 1000
OPERATOR_KEY = (0x711E5).to_bytes(32, "big")
CHAIN_ID = 31337


# --- 1. writing a checkpoint's tiles ------------------------------------------------------------

def checkpoint_write(directory: Path, rounds: int) -> None:
    store = Store(sqlite_url(directory / "ledger.db"))
    try:
        store.upgrade(OPERATIONS)
        bench = BenchLedger(store, CHAIN_ID)
        checkpointer = Checkpointer(bench.ledger, OPERATOR_KEY)
        rng = random.Random(2026)
        tiles = directory / "tiles"
        checkpointer.cut()
        write_tiles(store, tiles)
        samples = []
        for _ in range(rounds):
            bench.transfers(rng, NEW_ENTRIES - 1)
            cut = checkpointer.cut()
            started = time.perf_counter()
            written = write_tiles(store, tiles)
            samples.append((time.perf_counter() - started) * 1000)
            assert written.size - written.since_size == NEW_ENTRIES and cut.log_size == \
                written.size
            print(f"  checkpoint {written.checkpoint}: log size {written.size:,}, "
                  f"{written.files} files written, {written.removed} partial tiles removed, "
                  f"{samples[-1]:.1f} ms")
    finally:
        store.dispose()
    median, worst = statistics.median(samples), max(samples)
    print(f"1. a checkpoint of {NEW_ENTRIES:,} new entries written as tiles: median "
          f"{median:.1f} ms, worst {worst:.1f} ms of {rounds} (target <= "
          f"{WRITE_TARGET_MS:.0f} ms): {'MET' if worst <= WRITE_TARGET_MS else 'MISSED'}")


# --- 2. proofs from a synthetic tile set of N entries ------------------------------------------

def synthetic_tiles(directory: Path, size: int) -> bytes:
    """Write every tile of a synthetic tree of `size` leaf hashes; return its root."""
    level_hashes: list[bytes] = []  # the tile level above, filled as full tiles complete
    roots: list[bytes] = []  # the perfect subtrees of the size, for the root
    tile_count = -(-size // TILE_WIDTH)
    for index in range(tile_count):
        first = index * TILE_WIDTH
        hashes = [leaf_hash(n.to_bytes(8, "big")) for n in range(first, min(size,
                                                                         first + TILE_WIDTH))]
        _write(directory, tile_path(0, index, len(hashes)), hashes)
        if len(hashes) == TILE_WIDTH:
            level_hashes.append(_tile_root(hashes))
    level = 1
    while level_hashes:
        above: list[bytes] = []
        for index in range(-(-len(level_hashes) // TILE_WIDTH)):
            hashes = level_hashes[index * TILE_WIDTH:(index + 1) * TILE_WIDTH]
            _write(directory, tile_path(level, index, len(hashes)), hashes)
            if len(hashes) == TILE_WIDTH:
                above.append(_tile_root(hashes))
        level_hashes = above
        level += 1
    # the root, from the tiles just written, by a path other than TileReader's
    for height, index in perfect_subtrees(0, size):
        tile_level, below = divmod(height, TILE_HEIGHT)
        first = index << below
        data = _read_tile(directory, tile_level, first // TILE_WIDTH, size)
        offset = first % TILE_WIDTH
        roots.append(_tile_root(data[offset:offset + (1 << below)]))
    return fold_subtree_hashes(roots)


def _tile_root(hashes: list[bytes]) -> bytes:
    from hashlib import sha256

    row = hashes
    while len(row) > 1:
        row = [sha256(NODE_PREFIX + row[i] + row[i + 1]).digest() for i in range(0, len(row), 2)]
    return row[0]


def _write(directory: Path, path: str, hashes: list[bytes]) -> None:
    target = directory / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"".join(hashes))


def _read_tile(directory: Path, level: int, index: int, size: int) -> list[bytes]:
    width = min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH)
    data = (directory / tile_path(level, index, width)).read_bytes()
    return [data[i:i + 32] for i in range(0, len(data), 32)]


def publish_partials(directory: Path, old: int, size: int) -> None:
    """The partial tiles a log publishing a checkpoint at size `old` would have written (the
    prefixes of the tiles at `size`): what a reader of that checkpoint's root needs."""
    level = 0
    while old >> (TILE_HEIGHT * level):
        count = old >> (TILE_HEIGHT * level)
        index, width = divmod(count, TILE_WIDTH)
        if width:
            hashes = _read_tile(directory, level, index, size)[:width]
            _write(directory, tile_path(level, index, width), hashes)
        level += 1


def proofs(source: TileSource, where: str, size: int, root: bytes, samples: int) -> None:
    groups = -(-(size - 1).bit_length() // TILE_HEIGHT)
    bound = FETCHES_PER_GROUP * groups
    rng = random.Random(18)
    fetches: list[int] = []
    times_ms: list[float] = []
    for _ in range(samples):
        index = rng.randrange(size)
        started = time.perf_counter()
        reader = TileReader(source, size)
        proof = reader.inclusion_proof(index)
        leaf = reader.leaf(index)
        times_ms.append((time.perf_counter() - started) * 1000)
        verify_inclusion(leaf, index, size, proof, root)
        assert leaf == leaf_hash(index.to_bytes(8, "big"))
        fetches.append(reader.fetches)
    print(f"2. an inclusion proof from tiles at {size:,} entries ({where}): at most "
          f"{max(fetches)} tile fetches (mean {statistics.mean(fetches):.1f}) for {groups} level "
          f"groups, bound {bound} ({FETCHES_PER_GROUP} per group): "
          f"{'MET' if max(fetches) <= bound else 'MISSED'}; median "
          f"{statistics.median(times_ms):.2f} ms per proof over {samples} random entries")
    old_sizes = [random.Random(size + n).randrange(1, size) for n in range(samples)]
    fetches = []
    for old in old_sizes:
        reader = TileReader(source, size)
        proof = reader.consistency_proof(old)
        fetches.append(reader.fetches)
    old_roots = {old: TileReader(source, old).root() for old in old_sizes[:5]}  # see below
    for old, old_root in old_roots.items():
        verify_consistency(old, size, TileReader(source, size).consistency_proof(old), old_root,
                           root)
    print(f"   a consistency proof from tiles at {size:,} entries ({where}): at most "
          f"{max(fetches)} tile fetches (mean {statistics.mean(fetches):.1f}), bound {bound}: "
          f"{'MET' if max(fetches) <= bound else 'MISSED'}")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def synthetic_proofs(directory: Path, size: int, samples: int) -> None:
    started = time.perf_counter()
    root = synthetic_tiles(directory, size)
    files = sum(1 for p in directory.rglob("*") if p.is_file())
    print(f"(SYNTHETIC tile set: {size:,} leaf hashes only, no ledger; {files:,} tile files "
          f"written in {time.perf_counter() - started:.1f} s, not a target)")
    for n in range(5):  # the earlier checkpoints whose roots the consistency proofs check
        publish_partials(directory, random.Random(size + n).randrange(1, size), size)
    proofs(DirectoryTiles(directory), "a directory", size, root, samples)
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        proofs(HttpTiles(url), "a mirror over HTTP on localhost", size, root, samples)
    finally:
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--proofs", type=int, default=200)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint_write(Path(tmp), args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        synthetic_proofs(Path(tmp), args.entries, args.proofs)


if __name__ == "__main__":
    main()
