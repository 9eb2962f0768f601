"""Proofs from C2SP tlog-tiles (anchoring.auditor.tiles) against the log's own proofs: the RFC
9162 vectors, random sizes under Hypothesis up to the third tile level, the C2SP layout's
worked examples, the tile fetch bound, and altered or missing tiles refused by name."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchoring.auditor.errors import VerifyFailure
from anchoring.auditor.merkle import (
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog
from anchoring.auditor.tiles import (
    TILE_HEIGHT,
    TILE_PATH,
    DirectoryTiles,
    TileError,
    TileFailure,
    TileReader,
    decode_entry_bundle,
    encode_entry_bundle,
    entry_bundle_path,
    tile_path,
)
from anchoring.operator.tiles import _plan
from tests.anchoring.merkle_strategies import flip_bit
from tests.anchoring.test_merkle_vectors import (
    HAPPY_CONSISTENCY,
    HAPPY_INCLUSION,
    RFC6962_ENTRIES,
    RFC6962_LEAF_HASHES,
    _b64,
    _proof,
    _vector_id,
)
from tests.anchoring.tile_sets import LogTiles, log_of, write_reference_tiles

# The C2SP spec's own example size: full and partial tiles on three tile levels.
BIG_SIZE = 70_000


@cache
def big_log() -> tuple[MerkleLog, MemoryNodeStore]:
    return log_of([leaf_hash(i.to_bytes(4, "big")) for i in range(BIG_SIZE)])


def _tiles(size: int) -> LogTiles:
    log, store = big_log()
    return LogTiles(log, store, size)


def _level_groups(size: int) -> int:
    return max(1, -(-(size - 1).bit_length() // TILE_HEIGHT))


# --- paths and encodings ---------------------------------------------------------------------

@pytest.mark.parametrize(("level", "index", "width", "path"), [
    (0, 0, 256, "tile/0/000"),
    (0, 1234067, 256, "tile/0/x001/x234/067"),
    (1, 999, 256, "tile/1/999"),
    (2, 1000, 17, "tile/2/x001/000.p/17"),
    (63, 0, 1, "tile/63/000.p/1"),
])
def test_tile_paths_follow_the_c2sp_layout(level: int, index: int, width: int,
                                           path: str) -> None:
    assert tile_path(level, index, width) == path
    assert TILE_PATH.fullmatch(path)


def test_only_the_layouts_paths_match() -> None:
    assert TILE_PATH.fullmatch(entry_bundle_path(5, 3)) and TILE_PATH.fullmatch("checkpoint")
    for path in ("tile/64/000", "tile/0/1", "tile/0/000.p/256", "tile/0/000.p/0",
                 "tile/0/000.p/07", "tile/0/001/000", "tile/01/000", "../config.json",
                 "tile/0/x00/000", "tile/entries/000/"):
        assert not TILE_PATH.fullmatch(path), path


def test_the_c2sp_example_of_70000_entries() -> None:
    """273 full level 0 tiles, a partial of 112, one full level 1 tile, a partial of 17 and a
    partial level 2 tile of 1 (the spec's example), and 256 entries: one full tile and a level
    1 partial of 1."""
    planned = [(t.level, t.index, t.width) for t in _plan(0, 70_000)]
    assert [t for t in planned if t[0] == 0 and t[2] == 256] == [(0, n, 256) for n in range(273)]
    assert [t for t in planned if t[2] != 256] == [(0, 273, 112), (1, 1, 17), (2, 0, 1)]
    assert (1, 0, 256) in planned and len(planned) == 273 + 1 + 1 + 1 + 1
    assert [(t.level, t.index, t.width) for t in _plan(0, 256)] == [(0, 0, 256), (1, 0, 1)]


def test_only_changed_tiles_are_planned() -> None:
    assert _plan(1000, 1000) == []
    assert [(t.level, t.index, t.width) for t in _plan(1000, 1100)] == \
        [(0, 3, 256), (0, 4, 76), (1, 0, 4)]  # 1000 = 3·256 + 232, 1100 = 4·256 + 76
    assert [(t.level, t.index, t.width) for t in _plan(1100, 1200)] == [(0, 4, 176)]
    assert [(t.level, t.index, t.width) for t in _plan(1000, 1024)] == [(0, 3, 256), (1, 0, 4)]


def test_entry_bundles_are_uint16_length_prefixed() -> None:
    entries = [b"", b"a", b"x" * 300]
    data = encode_entry_bundle(entries)
    assert data == b"\x00\x00" + b"\x00\x01a" + b"\x01\x2c" + b"x" * 300
    assert decode_entry_bundle(data) == entries
    with pytest.raises(ValueError, match="does not fit"):
        encode_entry_bundle([b"x" * 65536])
    with pytest.raises(TileError) as cut:
        decode_entry_bundle(data[:-1])
    assert cut.value.failure is TileFailure.tile_malformed


# --- proofs from tiles equal the log's -------------------------------------------------------

@pytest.mark.parametrize("path", HAPPY_INCLUSION, ids=_vector_id)
def test_inclusion_from_tiles_matches_the_rfc9162_vector(path: Path, tmp_path: Path) -> None:
    probe = json.loads(path.read_text())
    write_reference_tiles(tmp_path, RFC6962_LEAF_HASHES[:probe["treeSize"]])
    reader = TileReader(DirectoryTiles(tmp_path), probe["treeSize"])
    assert reader.inclusion_proof(probe["leafIdx"]) == _proof(probe)
    assert reader.root() == _b64(probe["root"])


@pytest.mark.parametrize("path", HAPPY_CONSISTENCY, ids=_vector_id)
def test_consistency_from_tiles_matches_the_rfc9162_vector(path: Path, tmp_path: Path) -> None:
    probe = json.loads(path.read_text())
    write_reference_tiles(tmp_path, RFC6962_LEAF_HASHES[:probe["size2"]])
    reader = TileReader(DirectoryTiles(tmp_path), probe["size2"])
    assert reader.consistency_proof(probe["size1"]) == _proof(probe)
    assert reader.root() == _b64(probe["root2"])


def test_the_reference_tiles_are_the_logs_tiles(tmp_path: Path) -> None:
    """The slow definition and the log's stored subtrees give the same files."""
    size = 256 * 3 + 7
    write_reference_tiles(tmp_path, [leaf_hash(i.to_bytes(4, "big")) for i in range(size)])
    tiles = _tiles(size)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p for p in tiles._files)
    for path in written:
        assert (tmp_path / path).read_bytes() == tiles.read(path), path


sizes = st.integers(1, BIG_SIZE)


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_inclusion_proofs_from_tiles_equal_the_logs(size: int, data: st.DataObject) -> None:
    log, _ = big_log()
    index = data.draw(st.integers(0, size - 1), label="index")
    reader = TileReader(_tiles(size), size)
    proof = reader.inclusion_proof(index)
    assert proof == log.inclusion_proof(index, size)
    assert reader.root() == log.root(size)
    verify_inclusion(reader.leaf(index), index, size, proof, log.root(size))


@settings(max_examples=150, deadline=None)
@given(size2=sizes, data=st.data())
def test_consistency_proofs_from_tiles_equal_the_logs(size2: int, data: st.DataObject) -> None:
    log, _ = big_log()
    size1 = data.draw(st.integers(1, size2), label="size1")
    reader = TileReader(_tiles(size2), size2)
    proof = reader.consistency_proof(size1)
    assert proof == log.consistency_proof(size1, size2)
    if size1 < size2:
        verify_consistency(size1, size2, proof, log.root(size1),
                           log.root(size2))


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_a_proof_fetches_at_most_three_tiles_per_level_group(size: int,
                                                              data: st.DataObject) -> None:
    """C2SP's bound for the layout: a tile answers 8 levels of the path."""
    index = data.draw(st.integers(0, size - 1), label="index")
    reader = TileReader(_tiles(size), size)
    reader.inclusion_proof(index)
    assert reader.fetches <= 3 * _level_groups(size)
    old = data.draw(st.integers(1, size), label="old size")
    reader = TileReader(_tiles(size), size)
    reader.consistency_proof(old)
    assert reader.fetches <= 3 * _level_groups(size)


# --- superseded, missing and altered tiles ---------------------------------------------------

def test_a_partial_tile_gone_is_read_from_the_full_tile_that_superseded_it() -> None:
    log, _ = big_log()
    published_later = _tiles(600)  # tile 1 of level 0 is full there; 300's partial is gone
    kept = published_later.read("tile/1/000.p/2")  # level 1's partials stay until it is full
    assert kept is not None
    published_later.altered["tile/1/000.p/1"] = kept[:32]
    reader = TileReader(published_later, 300)
    assert reader.inclusion_proof(299) == log.inclusion_proof(299, 300)
    assert "tile/0/001.p/44" in published_later.asked and "tile/0/001" in published_later.asked


def test_a_missing_tile_is_named_and_not_a_verdict() -> None:
    tiles = _tiles(1000)
    tiles.altered["tile/0/002"] = None
    with pytest.raises(TileError) as missing:
        TileReader(tiles, 1000).inclusion_proof(600)
    assert missing.value.failure is TileFailure.tile_missing
    assert missing.value.code is VerifyFailure.incomplete_evidence
    assert "tile/0/002" in missing.value.reason


def test_a_tile_of_the_wrong_length_is_malformed() -> None:
    tiles = _tiles(1000)
    tiles.altered["tile/0/003.p/232"] = b"\x00" * (32 * 231)
    with pytest.raises(TileError) as short:
        TileReader(tiles, 1000).inclusion_proof(999)
    assert short.value.failure is TileFailure.tile_malformed
    assert short.value.code is VerifyFailure.log_proof_failed


def test_an_altered_hash_in_a_tile_breaks_the_proof() -> None:
    log, _ = big_log()
    tiles = _tiles(BIG_SIZE)
    original = tiles.read("tile/1/000")
    assert original is not None
    tiles.altered["tile/1/000"] = original[:32] + flip_bit(original[32:64], 3) + original[64:]
    proof = TileReader(tiles, BIG_SIZE).inclusion_proof(5)  # leaf 5's path uses hash 1
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash((5).to_bytes(4, "big")), 5, BIG_SIZE, proof,
                         log.root(BIG_SIZE))


def test_entries_come_from_their_bundle_and_must_hash_to_their_leaf() -> None:
    entries = [f"entry {i}".encode() for i in range(300)]
    log, store = log_of([leaf_hash(e) for e in entries])
    tiles = LogTiles(log, store, 300, entries)
    reader = TileReader(tiles, 300)
    assert reader.entry(0) == b"entry 0" and reader.entry(299) == b"entry 299"
    altered = list(entries)
    altered[260] = b"entry 2600"
    tiles = LogTiles(log, store, 300, entries)
    tiles.altered[entry_bundle_path(1, 44)] = encode_entry_bundle(altered[256:])
    with pytest.raises(TileError) as changed:
        TileReader(tiles, 300).entry(260)
    assert changed.value.failure is TileFailure.entry_disagrees_with_tile
    with pytest.raises(TileError) as beyond:
        TileReader(tiles, 300).entry(300)
    assert beyond.value.failure is TileFailure.not_in_checkpoint


def test_the_rfc6962_entries_round_trip_through_an_entry_bundle() -> None:
    assert decode_entry_bundle(encode_entry_bundle(RFC6962_ENTRIES)) == RFC6962_ENTRIES
