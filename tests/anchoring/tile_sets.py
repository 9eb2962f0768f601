"""Tile sets for the tile tests, made independently of the operator's writer: from a MerkleLog
in memory (for Hypothesis) and, to write a directory, straight from the C2SP definition
(hash i of tile n at level l is the MTH of leaves [(256n + i)·256^l, (256n + i + 1)·256^l))."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from anchoring.auditor.merkle import root_from_leaf_hashes
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog
from anchoring.auditor.tiles import (
    CHECKPOINT_PATH,
    TILE_HEIGHT,
    TILE_WIDTH,
    encode_entry_bundle,
    entry_bundle_path,
    tile_path,
)


class LogTiles:
    """A tiles base over a MerkleLog in memory, as published at `size`: the full tiles, and
    the partial tiles (and entry bundles) of that size only. `altered` replaces files."""

    def __init__(self, log: MerkleLog, store: MemoryNodeStore, size: int,
                 entries: Sequence[bytes] = (), note: str | None = None) -> None:
        assert size <= log.size
        self._store = store
        self._entries = entries
        self._note = note
        self.size = size
        self.altered: dict[str, bytes | None] = {}
        self.asked: list[str] = []
        self._files = self._paths()

    def _paths(self) -> dict[str, tuple[str, int, int]]:
        files: dict[str, tuple[str, int, int]] = {}
        level = 0
        while self.size >> (TILE_HEIGHT * level):
            count = self.size >> (TILE_HEIGHT * level)
            for index in range(-(-count // TILE_WIDTH)):
                width = min(TILE_WIDTH, count - index * TILE_WIDTH)
                files[tile_path(level, index, width)] = ("tile", level, index)
                if level == 0 and self._entries:
                    files[entry_bundle_path(index, width)] = ("entries", level, index)
            level += 1
        return files

    def read(self, path: str) -> bytes | None:
        self.asked.append(path)
        if path in self.altered:
            return self.altered[path]
        if path == CHECKPOINT_PATH:
            return None if self._note is None else self._note.encode()
        if path not in self._files:
            return None
        kind, level, index = self._files[path]
        count = self.size >> (TILE_HEIGHT * level)
        width = min(TILE_WIDTH, count - index * TILE_WIDTH)
        first = index * TILE_WIDTH
        if kind == "entries":
            return encode_entry_bundle(self._entries[first:first + width])
        keys = [(TILE_HEIGHT * level, first + i) for i in range(width)]
        return b"".join(self._store.get_many(keys))

    def describe(self) -> str:
        return "memory"


def log_of(leaf_hashes: Sequence[bytes]) -> tuple[MerkleLog, MemoryNodeStore]:
    store = MemoryNodeStore()
    log = MerkleLog(store)
    log.extend(leaf_hashes)
    return log, store


def write_reference_tiles(directory: Path, leaf_hashes: Sequence[bytes]) -> None:
    """Every tile of the tree of `leaf_hashes`, from the definition, slowly."""
    size = len(leaf_hashes)
    level = 0
    while size >> (TILE_HEIGHT * level):
        span = TILE_WIDTH ** level
        count = size // span
        for index in range(-(-count // TILE_WIDTH)):
            width = min(TILE_WIDTH, count - index * TILE_WIDTH)
            hashes = [root_from_leaf_hashes(leaf_hashes[(index * TILE_WIDTH + i) * span:
                                                         (index * TILE_WIDTH + i + 1) * span])
                      for i in range(width)]
            target = directory / tile_path(level, index, width)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"".join(hashes))
        level += 1
