"""The journal's Merkle log read as C2SP tlog-tiles (c2sp.org/tlog-tiles): static files from
which anyone builds RFC 9162 inclusion and consistency proofs, from a mirror or a CDN.

Pure: the standard library only (urllib for a mirror over HTTP), so an auditor reads tiles
without the ledger or a database.

The layout, under a base (a directory, or a URL prefix):

- ``checkpoint``: the latest signed checkpoint (anchoring.auditor.note);
- ``tile/<L>/<N>``: a *full* tile, 256 hashes of 32 bytes. At level 0 they are leaf hashes;
  hash ``i`` of tile ``N`` at level ``L`` is the root of leaves
  ``[(256·N + i)·256^L, (256·N + i + 1)·256^L)``, i.e. the log's perfect subtree at height
  ``8·L`` with index ``256·N + i`` (anchoring.auditor.merkle_log's ``(level, index)`` rows);
- ``tile/<L>/<N>.p/<W>``: a *partial* tile, the first W (1..255) hashes of a tile the tree
  does not fill yet; the one for a tree of size s has ``floor(s / 256^L) mod 256`` hashes;
- ``tile/entries/<N>[.p/<W>]``: an *entry bundle*, the entries' bytes whose leaf hashes a
  level 0 tile holds, each prefixed by its length as a big-endian uint16.

``<N>`` is written in 3-digit groups, all but the last prefixed with ``x``: 1234067 is
``x001/x234/067``.

A `TileReader` fetches what a proof needs for a tree size the checkpoint names, and counts
its fetches: a node at height h lies in the tile level ``h // 8``, and one tile answers every
node of its 8 levels, so a proof needs a few tiles per 8 levels (the level group).
"""

from __future__ import annotations

import enum
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from anchoring.auditor.errors import VerifyError, VerifyFailure
from anchoring.auditor.merkle import (
    HASH_SIZE_BYTES,
    NodeKey,
    ProofError,
    consistency_proof_ranges,
    fold_subtree_hashes,
    inclusion_proof_ranges,
    leaf_hash,
    perfect_subtrees,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from anchoring.auditor.note import CheckpointBody, NoteError, open_note, parse_text, split_note

__all__ = [
    "CHECKPOINT_PATH",
    "MAX_ENTRY_BYTES",
    "TILE_HEIGHT",
    "TILE_PATH",
    "TILE_WIDTH",
    "DirectoryTiles",
    "HttpTiles",
    "TileError",
    "TileFailure",
    "TileReader",
    "TileSource",
    "TiledConsistency",
    "TiledInclusion",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "entry_bundle_path",
    "published_checkpoint",
    "tile_path",
    "unsigned_checkpoint",
    "verify_consistency_from_tiles",
    "verify_entry_from_tiles",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # hashes in a full tile
MAX_ENTRY_BYTES = 0xFFFF  # an entry bundle's length prefix is a uint16
CHECKPOINT_PATH = "checkpoint"
FETCH_TIMEOUT_S = 30.0
MAX_FETCH_BYTES = 16 * 1024 * 1024  # a full entry bundle is at most 256 · 64 KiB
# What a tiles base may hold, and nothing else (a server checks a request path against it).
TILE_PATH = re.compile(
    r"(?:checkpoint"
    r"|tile/(?:[0-9]|[1-5][0-9]|6[0-3]|entries)/(?:x[0-9]{3}/)*[0-9]{3}"
    r"(?:\.p/(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))?)")


class TileFailure(enum.Enum):
    """Why tiles do not give a proof: a closed list, so that a script can branch on it."""

    tile_missing = "tile_missing"
    """The base holds no such tile, entry bundle or checkpoint."""
    tile_unreachable = "tile_unreachable"
    """The mirror could not be asked (network, refused access): no verdict either way."""
    tile_malformed = "tile_malformed"
    """A tile is not a whole number of hashes of the width its path names, or an entry
    bundle does not decode into the entries its tile covers."""
    tiles_disagree_with_checkpoint = "tiles_disagree_with_checkpoint"
    """A proof built from the tiles does not lead to the signed root: a tile was altered, or
    belongs to another log."""
    entry_disagrees_with_tile = "entry_disagrees_with_tile"
    """An entry of an entry bundle does not hash to its leaf in the level 0 tile."""
    not_in_checkpoint = "not_in_checkpoint"
    """The entry or the earlier checkpoint asked about lies beyond the published checkpoint,
    or belongs to another log."""

    @property
    def final(self) -> bool:
        """Whether the same fetch gives the same verdict: an absent or unreachable tile is a
        mirror's state, not evidence against the log."""
        return self not in (TileFailure.tile_missing, TileFailure.tile_unreachable)


class TileError(VerifyError):
    """Tiles did not give a proof. `failure` names why; `code` is `log_proof_failed` when the
    tiles contradict the signed checkpoint and `incomplete_evidence` when some are missing or
    out of reach, so a retry (another mirror, later) may succeed only then."""

    code = VerifyFailure.log_proof_failed

    def __init__(self, failure: TileFailure, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason
        if not failure.final:
            self.code = VerifyFailure.incomplete_evidence

    def __reduce__(self) -> tuple[type[TileError], tuple[TileFailure, str]]:
        return (TileError, (self.failure, self.reason))


# ---------------------------------------------------------------------------------------------
# Paths and the entry bundle encoding


def _index_path(index: int) -> str:
    """C2SP's <N>: 3-digit groups, every group but the last prefixed with x."""
    if index < 0:
        raise ValueError(f"a tile index is not negative, got {index}")
    digits = f"{index:d}"
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + group for group in groups[:-1]), groups[-1]])


def _width_suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"a tile holds 1 to {TILE_WIDTH} hashes, not {width}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """Path of tile `index` at tile level `level` holding `width` hashes (256: a full tile)."""
    if not 0 <= level <= 63:
        raise ValueError(f"a tile level is 0 to 63, not {level}")
    return f"tile/{level}/{_index_path(index)}{_width_suffix(width)}"


def entry_bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    """Path of entry bundle `index` holding `width` entries (256: a full bundle)."""
    return f"tile/entries/{_index_path(index)}{_width_suffix(width)}"


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries, each prefixed with its length as a big-endian uint16."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit an entry bundle "
                             f"(at most {MAX_ENTRY_BYTES})")
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
    return b"".join(parts)


def decode_entry_bundle(data: bytes, path: str = "the entry bundle") -> list[bytes]:
    """The entries of an entry bundle; `tile_malformed` if the lengths do not add up."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TileError(TileFailure.tile_malformed,
                            f"{path} ends inside a length prefix at byte {offset}")
        length = int.from_bytes(data[offset:offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise TileError(TileFailure.tile_malformed,
                            f"{path}: entry {len(entries)} claims {length} bytes, but only "
                            f"{len(data) - offset} follow")
        entries.append(bytes(data[offset:offset + length]))
        offset += length
    return entries


# ---------------------------------------------------------------------------------------------
# Where tiles come from


class TileSource(Protocol):
    """A tiles base: `read` gives a file's bytes, or None when the base does not hold it."""

    def read(self, path: str) -> bytes | None:
        ...

    def describe(self) -> str:
        """The base, for messages: a directory or a URL."""
        ...


class DirectoryTiles:
    """Tiles in a local directory (a copy, or the operator's own)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def read(self, path: str) -> bytes | None:
        try:
            return (self.directory / path).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TileError(TileFailure.tile_unreachable,
                            f"{self.directory / path} cannot be read: {exc}") from exc

    def describe(self) -> str:
        return str(self.directory)


class HttpTiles:
    """Tiles under an http(s) URL prefix: a mirror, a CDN or the ledger's own service.
    `headers` go with every request (an `authorization` for entry bundles a service guards).
    A 404 or 410 is an absent file; any other failure is `tile_unreachable`."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, *,
                 timeout_s: float = FETCH_TIMEOUT_S) -> None:
        scheme = urllib.parse.urlsplit(base_url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"a tiles URL is http:// or https://, got {base_url!r:.80}")
        self.base_url = base_url.rstrip("/") + "/"
        self._headers = dict(headers or {})
        self._timeout_s = timeout_s

    def read(self, path: str) -> bytes | None:
        url = self.base_url + path
        request = urllib.request.Request(url, headers=self._headers)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as answer:
                data: bytes = answer.read(MAX_FETCH_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                return None
            raise TileError(TileFailure.tile_unreachable,
                            f"{url} answered HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TileError(TileFailure.tile_unreachable, f"{url} cannot be reached: {exc}") \
                from exc
        if len(data) > MAX_FETCH_BYTES:
            raise TileError(TileFailure.tile_malformed,
                            f"{url} is over {MAX_FETCH_BYTES} bytes: not a tile")
        return data

    def describe(self) -> str:
        return self.base_url


# ---------------------------------------------------------------------------------------------
# Reading tiles for one tree size


class TileReader:
    """Hashes, roots and proofs of the tree of `size` leaves, from a tiles base.

    Each tile is fetched once (`fetches` counts them). A partial tile that the base no longer
    holds is read from the full tile that superseded it: its first hashes are the same, which
    C2SP allows a log to rely on once the full tile exists.
    """

    def __init__(self, source: TileSource, size: int) -> None:
        if size < 0:
            raise ValueError(f"a tree size is not negative, got {size}")
        self.source = source
        self.size = size
        self.fetches = 0
        self._tiles: dict[tuple[int, int], list[bytes]] = {}

    def node_hashes(self, keys: Sequence[NodeKey]) -> list[bytes]:
        """Hashes of perfect subtrees `(height, index)` complete in the tree of `size`."""
        return [self._node(height, index) for height, index in keys]

    def root(self) -> bytes:
        """RFC 9162 root of the tree, from its right edge's tiles."""
        if self.size == 0:
            return root_from_leaf_hashes([])
        return fold_subtree_hashes(self.node_hashes(perfect_subtrees(0, self.size)))

    def inclusion_proof(self, index: int) -> list[bytes]:
        return self._range_hashes(inclusion_proof_ranges(index, self.size))

    def consistency_proof(self, old_size: int) -> list[bytes]:
        return self._range_hashes(consistency_proof_ranges(old_size, self.size))

    def leaf(self, index: int) -> bytes:
        return self._node(0, index)

    def entry(self, index: int) -> bytes:
        """Entry `index`'s bytes, from its entry bundle, checked against its level 0 tile."""
        if not 0 <= index < self.size:
            raise TileError(TileFailure.not_in_checkpoint,
                            f"entry {index} is not in a log of {self.size} entries")
        tile = index // TILE_WIDTH
        width = min(TILE_WIDTH, self.size - tile * TILE_WIDTH)
        path, data = self._fetch_either(entry_bundle_path(tile, width), entry_bundle_path(tile))
        entries = decode_entry_bundle(data, path)
        if len(entries) < width:
            raise TileError(TileFailure.tile_malformed,
                            f"{path} holds {len(entries)} entries, want {width}")
        entry = entries[index - tile * TILE_WIDTH]
        expected = self.leaf(index)
        if leaf_hash(entry) != expected:
            raise TileError(TileFailure.entry_disagrees_with_tile,
                            f"entry {index} in {path} hashes to {leaf_hash(entry).hex()}, but "
                            f"its leaf in {tile_path(0, tile, width)} is {expected.hex()}: the "
                            "entry bundle or the tile was altered")
        return entry

    def _range_hashes(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        return [fold_subtree_hashes(self.node_hashes(perfect_subtrees(begin, end)))
                for begin, end in ranges]

    def _node(self, height: int, index: int) -> bytes:
        level, below = divmod(height, TILE_HEIGHT)
        first = index << below  # the node's first hash at its tile level
        if (index + 1) << height > self.size:
            raise ValueError(f"subtree ({height}, {index}) is not complete in a tree of "
                             f"{self.size} leaves")
        tile, offset = divmod(first, TILE_WIDTH)
        hashes = self._tile(level, tile)
        covered = hashes[offset:offset + (1 << below)]
        return covered[0] if below == 0 else root_from_leaf_hashes(covered)

    def _tile(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        if key not in self._tiles:
            width = min(TILE_WIDTH, (self.size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH)
            path, data = self._fetch_either(tile_path(level, index, width),
                                            tile_path(level, index))
            whole = TILE_WIDTH if path == tile_path(level, index) else width
            if len(data) != whole * HASH_SIZE_BYTES:
                raise TileError(TileFailure.tile_malformed,
                                f"{path} has {len(data)} bytes, want {whole} hashes of "
                                f"{HASH_SIZE_BYTES} ({whole * HASH_SIZE_BYTES} bytes)")
            self._tiles[key] = [data[i:i + HASH_SIZE_BYTES]
                                for i in range(0, width * HASH_SIZE_BYTES, HASH_SIZE_BYTES)]
        return self._tiles[key]

    def _fetch_either(self, path: str, full_path: str) -> tuple[str, bytes]:
        """`path`, or for a partial one that is gone, the full file that superseded it."""
        for candidate in dict.fromkeys((path, full_path)):
            self.fetches += 1
            data = self.source.read(candidate)
            if data is not None:
                return candidate, data
        raise TileError(TileFailure.tile_missing,
                        f"{self.source.describe()} holds neither {path} nor {full_path}")


# ---------------------------------------------------------------------------------------------
# Proofs from tiles alone, checked against a signed checkpoint


@dataclass(frozen=True)
class TiledInclusion:
    """Entry `index` is in the log of the checkpoint, proven from tiles alone."""

    checkpoint: CheckpointBody
    index: int
    entry: bytes
    proof: list[bytes]
    fetches: int  # tiles and entry bundles fetched for the proof (not the checkpoint)


@dataclass(frozen=True)
class TiledConsistency:
    """The checkpoint's log extends the earlier checkpoint's, proven from tiles alone."""

    earlier: CheckpointBody
    checkpoint: CheckpointBody
    proof: list[bytes]
    fetches: int


def published_checkpoint(source: TileSource, trusted: str) -> tuple[str, CheckpointBody]:
    """The base's checkpoint, opened with the operator key `trusted` (a NoteError if it is
    not signed by it)."""
    data = source.read(CHECKPOINT_PATH)
    if data is None:
        raise TileError(TileFailure.tile_missing,
                        f"{source.describe()} holds no {CHECKPOINT_PATH}")
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"{source.describe()}{CHECKPOINT_PATH} is not UTF-8 text") from exc
    return note, open_note(note, trusted)


def unsigned_checkpoint(note: str) -> CheckpointBody:
    """What a checkpoint note says, without checking who signed it: for the operator's own
    copy, never for evidence."""
    text, _ = split_note(note)
    return parse_text(text)


def verify_entry_from_tiles(source: TileSource, trusted: str, index: int) -> TiledInclusion:
    """Entry `index` and its inclusion proof, from the base's tiles, checked against the base's
    checkpoint signed by `trusted`."""
    _, checkpoint = published_checkpoint(source, trusted)
    reader = TileReader(source, checkpoint.size)
    entry = reader.entry(index)
    proof = reader.inclusion_proof(index)
    try:
        verify_inclusion(leaf_hash(entry), index, checkpoint.size, proof, checkpoint.log_root)
    except ProofError as exc:
        raise _disagree(source, f"the inclusion proof of entry {index}", exc) from exc
    return TiledInclusion(checkpoint, index, entry, proof, reader.fetches)


def verify_consistency_from_tiles(source: TileSource, trusted: str,
                                  earlier_note: str) -> TiledConsistency:
    """That the base's checkpoint extends `earlier_note` (a checkpoint the auditor kept), both
    signed by `trusted`, with a consistency proof built from the base's tiles."""
    _, checkpoint = published_checkpoint(source, trusted)
    earlier = open_note(earlier_note, trusted)
    if earlier.origin != checkpoint.origin:
        raise TileError(TileFailure.not_in_checkpoint,
                        f"the earlier checkpoint is of the log {earlier.origin}, the tiles' of "
                        f"{checkpoint.origin}")
    if earlier.size > checkpoint.size:
        raise TileError(TileFailure.not_in_checkpoint,
                        f"the earlier checkpoint {earlier.number} (size {earlier.size}) is "
                        f"beyond the published checkpoint {checkpoint.number} (size "
                        f"{checkpoint.size}): the mirror is behind")
    reader = TileReader(source, checkpoint.size)
    proof = [] if earlier.size == checkpoint.size else reader.consistency_proof(earlier.size)
    try:
        verify_consistency(earlier.size, checkpoint.size, proof, earlier.log_root,
                           checkpoint.log_root)
    except ProofError as exc:
        raise _disagree(source, f"the consistency proof from size {earlier.size}", exc) \
            from exc
    return TiledConsistency(earlier, checkpoint, proof, reader.fetches)


def _disagree(source: TileSource, what: str, error: ProofError) -> TileError:
    return TileError(TileFailure.tiles_disagree_with_checkpoint,
                     f"{what}, built from the tiles of {source.describe()}, does not hold: "
                     f"{error.reason}; a tile was altered, or is another log's")
