"""Publishing the journal's Merkle log as C2SP tlog-tiles: static files for mirrors and CDNs.

`write_tiles(store, directory)` writes the latest checkpoint's log under `directory` in the
layout anchoring.auditor.tiles reads: the hash tiles, the entry bundles and, last, the signed
checkpoint. It reads what it writes from the store: level 0 is the journal's leaf_hash
column (and its entries' bytes for the bundles), the tile levels above are the log_nodes rows
at heights 8, 16, ... (anchoring.operator.log_store), which every cut stores.

Only new or changed files are written: the checkpoint already published there (if it is one
of this ledger's stored checkpoints) says which tiles are in place, and a full tile, once
written, never changes. Every file is written to a temporary name, flushed to disk and renamed,
so a mirror never reads half a tile; the checkpoint is renamed last, so every tile it needs is
in place first. A partial tile is removed once the full tile that supersedes it is written
(C2SP allows it; a reader falls back to the full tile). A run that dies half-way leaves the
previous checkpoint and files it does not need: the next run writes everything since that
checkpoint again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from anchoring.auditor.merkle import HASH_SIZE_BYTES
from anchoring.auditor.note import NoteError
from anchoring.auditor.tiles import (
    CHECKPOINT_PATH,
    MAX_ENTRY_BYTES,
    TILE_HEIGHT,
    TILE_WIDTH,
    encode_entry_bundle,
    entry_bundle_path,
    tile_path,
    unsigned_checkpoint,
)
from anchoring.operator.checkpoints import StoredCheckpoint, checkpoint_at, latest_checkpoint
from anchoring.operator.errors import NotCheckpointed, StoreInconsistent, TilesNotWritten
from anchoring.operator.log_store import nodes_at
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction

DEFAULT_TILES_DIR = "tiles"  # under the data directory


@dataclass(frozen=True)
class TilesWritten:
    """What one `write_tiles` did."""

    checkpoint: int  # the checkpoint now published
    size: int  # its log size
    since_size: int  # the size published before (0: written from scratch)
    files: int  # tiles, entry bundles and the checkpoint written
    removed: int  # partial tiles removed as superseded


def write_tiles(store: Store, directory: Path, *, from_scratch: bool = False) -> TilesWritten:
    """Publish the latest checkpoint's log as tiles under `directory` (see the module); with
    `from_scratch`, every file again, whatever the directory holds."""
    with store.read() as tx:
        checkpoint = latest_checkpoint(tx)
        if checkpoint is None:
            raise NotCheckpointed("there is no checkpoint to publish as tiles yet: cut one "
                                  "(`carbonledger checkpoint`)")
        since = 0 if from_scratch else _published_size(tx, directory, checkpoint)
        plan = _plan(since, checkpoint.log_size)
        contents = _read_contents(tx, plan, checkpoint.log_size)
    try:
        written = _write_files(directory, contents)
        if since != checkpoint.log_size or _published_note(directory) != checkpoint.note:
            _write_atomically(directory, CHECKPOINT_PATH, checkpoint.note.encode("utf-8"))
            written += 1
        removed = _remove_superseded(directory, plan)
    except OSError as exc:
        raise TilesNotWritten(f"the tiles of checkpoint {checkpoint.number} could not be "
                              f"written to {directory}: {exc}") from exc
    return TilesWritten(checkpoint.number, checkpoint.log_size, since, written, removed)


# --- what is published already -------------------------------------------------------------

def _published_note(directory: Path) -> str | None:
    try:
        return (directory / CHECKPOINT_PATH).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _published_size(tx: SqlTransaction, directory: Path, latest: StoredCheckpoint) -> int:
    """The log size whose tiles `directory` holds: that of its checkpoint if it is one this
    ledger stored (the same note), else 0, and everything is written again."""
    note = _published_note(directory)
    if note is None:
        return 0
    try:
        published = unsigned_checkpoint(note)
    except NoteError:
        return 0
    if published.number > latest.number:
        return 0
    stored = checkpoint_at(tx, published.number)
    if stored is None or stored.note.split("\n\n")[0] != note.split("\n\n")[0]:
        return 0  # another ledger's, or an altered copy: its tiles are not trusted
    return stored.log_size


# --- which tiles change ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Tile:
    level: int  # tile level; the hashes are the log's nodes at height 8 * level
    index: int
    width: int  # hashes at the new size: 256 for a full tile


def _plan(since: int, size: int) -> list[_Tile]:
    """Every tile whose contents differ between the trees of `since` and `size` leaves:
    at each level, those from the one `since` leaves partial (or the next) to the last."""
    tiles = []
    level = 0
    while size >> (TILE_HEIGHT * level):
        old = since >> (TILE_HEIGHT * level)
        new = size >> (TILE_HEIGHT * level)
        for index in range(old // TILE_WIDTH, -(-new // TILE_WIDTH)):
            width = min(TILE_WIDTH, new - index * TILE_WIDTH)
            old_width = min(TILE_WIDTH, max(0, old - index * TILE_WIDTH))
            if width != old_width:
                tiles.append(_Tile(level, index, width))
        level += 1
    return tiles


def _read_contents(tx: SqlTransaction, plan: list[_Tile], size: int) -> dict[str, bytes]:
    """Path -> bytes of every planned tile, and of the entry bundle beside each level 0 one."""
    contents: dict[str, bytes] = {}
    for tile in plan:
        first = tile.index * TILE_WIDTH
        if tile.level == 0:
            rows = tx.journal_rows(first, first + tile.width)
            if [row.seq for row in rows] != list(range(first, first + tile.width)):
                raise StoreInconsistent(f"entries {first}..{first + tile.width - 1} are not "
                                        "all in the journal; run `carbonledger audit`")
            hashes = [row.leaf_hash for row in rows]
            for row in rows:
                if len(row.entry) > MAX_ENTRY_BYTES:
                    raise TilesNotWritten(f"entry {row.seq} is {len(row.entry)} bytes, more "
                                          f"than an entry bundle's {MAX_ENTRY_BYTES}")
            contents[entry_bundle_path(tile.index, tile.width)] = \
                encode_entry_bundle([row.entry for row in rows])
        else:
            hashes = nodes_at(tx, TILE_HEIGHT * tile.level, first, first + tile.width)
            if len(hashes) != tile.width:
                raise StoreInconsistent(f"the log of {size} entries lacks nodes at height "
                                        f"{TILE_HEIGHT * tile.level} ({len(hashes)} of "
                                        f"{tile.width} from index {first}): the table "
                                        "log_nodes was changed; run `carbonledger audit`")
        if any(len(node) != HASH_SIZE_BYTES for node in hashes):
            raise StoreInconsistent(f"a stored hash of tile {tile_path(tile.level, tile.index)} "
                                    "is not 32 bytes; run `carbonledger audit`")
        contents[tile_path(tile.level, tile.index, tile.width)] = b"".join(hashes)
    return contents


# --- writing ---------------------------------------------------------------------------------

def _write_files(directory: Path, contents: dict[str, bytes]) -> int:
    for path, data in contents.items():
        _write_atomically(directory, path, data)
    return len(contents)


def _write_atomically(directory: Path, path: str, data: bytes) -> None:
    """Write to a temporary file beside the target, flush it to disk, rename it into place:
    a reader sees the old file or the new one, never part of one, and a crash leaves no
    renamed file with lost contents."""
    target = directory / path
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_superseded(directory: Path, plan: list[_Tile]) -> int:
    """Remove the partial tiles (and entry bundles) of every tile now full."""
    removed = 0
    for tile in plan:
        if tile.width != TILE_WIDTH:
            continue
        partials = [directory / (tile_path(tile.level, tile.index) + ".p")]
        if tile.level == 0:
            partials.append(directory / (entry_bundle_path(tile.index) + ".p"))
        for folder in partials:
            if folder.is_dir():
                removed += sum(1 for _ in folder.iterdir())
                shutil.rmtree(folder)
    return removed


__all__ = ["DEFAULT_TILES_DIR", "TilesWritten", "write_tiles"]
