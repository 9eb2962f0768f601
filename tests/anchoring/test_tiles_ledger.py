"""A real ledger's log published as tiles (anchoring.operator.tiles) and proven from them alone
(anchoring.auditor.tiles): the checkpoint's root, the log's own proofs, incremental writes,
partial tiles superseded, tampering refused by name, and `carbonledger verify --tiles` from a
directory and from a served URL, end to end."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.note import NoteError
from anchoring.auditor.tiles import (
    DirectoryTiles,
    HttpTiles,
    TileError,
    TileFailure,
    TileReader,
    decode_entry_bundle,
    verify_consistency_from_tiles,
    verify_entry_from_tiles,
)
from anchoring.operator.errors import NotCheckpointed
from anchoring.operator.log_store import open_log
from anchoring.operator.tiles import write_tiles
from api.access import login_digest, sessions_for
from api.cli import main
from api.service import LedgerService, Parts
from custody.signatures import unsafe_sign_digest
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.anchoring.ledger_history import History, build_history
from tests.anchoring.merkle_strategies import flip_bit
from tests.api.uvicorn_thread import served_in_thread


@pytest.fixture
def history(sqlite_store: Store, clock: FixedClock) -> History:
    return build_history(sqlite_store, clock)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _grow(history: History, transfers: int) -> None:
    for _ in range(transfers):
        history.world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1",
                         quantity=1)


def test_tiles_reproduce_the_checkpoints_root_entries_and_proofs(any_store: Store,
                                                                   clock: FixedClock,
                                                                   tmp_path: Path) -> None:
    history = build_history(any_store, clock)
    written = write_tiles(history.store, tmp_path)
    latest = history.checkpoints[-1]
    assert (written.checkpoint, written.size, written.since_size) == (3, latest.log_size, 0)
    assert (tmp_path / "checkpoint").read_text() == latest.note
    reader = TileReader(DirectoryTiles(tmp_path), latest.log_size)
    assert reader.root() == latest.log_root
    with history.store.read() as tx:
        rows = tx.journal_rows(0, latest.log_size)
        log = open_log(tx, latest.log_size)
        for index in range(latest.log_size):
            assert reader.inclusion_proof(index) == log.inclusion_proof(index, latest.log_size)
        for earlier in history.checkpoints[:-1]:
            assert reader.consistency_proof(earlier.log_size) == \
                log.consistency_proof(earlier.log_size, latest.log_size)
    assert [reader.entry(row.seq) for row in rows] == [row.entry for row in rows]
    bundle = (tmp_path / f"tile/entries/000.p/{latest.log_size}").read_bytes()
    assert [leaf_hash(e) for e in decode_entry_bundle(bundle)] == [r.leaf_hash for r in rows]
    included = verify_entry_from_tiles(DirectoryTiles(tmp_path), history.operator, 11)
    assert included.entry == rows[11].entry and included.fetches <= 3
    first = history.checkpoints[0]
    consistent = verify_consistency_from_tiles(DirectoryTiles(tmp_path), history.operator,
                                               first.note)
    assert (consistent.earlier.number, consistent.checkpoint.number) == (1, 3)


def test_no_checkpoint_no_tiles(world: object, tmp_path: Path) -> None:
    with pytest.raises(NotCheckpointed):
        write_tiles(world.store, tmp_path)  # type: ignore[attr-defined]
    assert not (tmp_path / "checkpoint").exists()


def test_only_new_tiles_are_written_and_partials_give_way_to_full_tiles(
        history: History, tmp_path: Path) -> None:
    published = tmp_path / "published"
    write_tiles(history.store, published)
    size = history.checkpoints[-1].log_size
    assert (published / f"tile/0/000.p/{size}").is_file()
    again = write_tiles(history.store, published)
    assert (again.files, again.since_size) == (0, size)  # nothing new: nothing written

    _grow(history, 300 - (history.world.head() + 1))
    history.cut()  # 300 entries and the marker: level 0 tile 0 is full
    grown = write_tiles(history.store, published)
    assert grown.since_size == size and grown.size == 301
    assert grown.files == 6  # tiles 0/000, 0/001.p/45, 1/000.p/1, two bundles, checkpoint
    assert grown.removed == 2  # the partial level 0 tile and entry bundle of the old size
    assert (published / "tile/0/000").stat().st_size == 8192
    assert not (published / "tile/0/000.p").exists()
    assert not (published / "tile/entries/000.p").exists()
    assert (published / "tile/0/001.p/45").is_file() and (published / "tile/1/000.p/1").is_file()
    # what was written a little at a time is what one write from scratch gives
    fresh = write_tiles(history.store, tmp_path / "fresh")
    assert fresh.since_size == 0
    assert _files(published) == _files(tmp_path / "fresh")
    assert TileReader(DirectoryTiles(published), 301).root() == history.checkpoints[-1].log_root
    # a reader of the earlier checkpoint finds its partial tile superseded by the full one
    earlier = TileReader(DirectoryTiles(published), size)
    assert earlier.root() == history.checkpoints[-2].log_root


def test_a_directory_holding_another_checkpoint_is_written_again(history: History,
                                                                 tmp_path: Path) -> None:
    write_tiles(history.store, tmp_path)
    note = (tmp_path / "checkpoint").read_text()
    (tmp_path / "checkpoint").write_text(note.replace("\ncheckpoint 3\n", "\ncheckpoint 2\n"))
    rewritten = write_tiles(history.store, tmp_path)
    assert rewritten.since_size == 0
    assert (tmp_path / "checkpoint").read_text() == note


def test_an_altered_tile_or_entry_bundle_fails_by_name(history: History,
                                                       tmp_path: Path) -> None:
    write_tiles(history.store, tmp_path)
    size = history.checkpoints[-1].log_size
    tile = tmp_path / f"tile/0/000.p/{size}"
    original = tile.read_bytes()
    tile.write_bytes(original[:32 * 5] + flip_bit(original[32 * 5:32 * 6], 0)
                     + original[32 * 6:])  # entry 5's leaf hash
    with pytest.raises(TileError) as altered:
        verify_entry_from_tiles(DirectoryTiles(tmp_path), history.operator, 5)
    # entry 5's own leaf no longer matches its bundle's bytes
    assert altered.value.failure is TileFailure.entry_disagrees_with_tile
    with pytest.raises(TileError) as sibling:  # entry 4's proof starts with leaf 5
        verify_entry_from_tiles(DirectoryTiles(tmp_path), history.operator, 4)
    assert sibling.value.failure is TileFailure.tiles_disagree_with_checkpoint
    assert sibling.value.code.name == "log_proof_failed"
    first = history.checkpoints[0]
    with pytest.raises(TileError) as consistency:
        verify_consistency_from_tiles(DirectoryTiles(tmp_path), history.operator, first.note)
    assert consistency.value.failure is TileFailure.tiles_disagree_with_checkpoint
    tile.write_bytes(original[:-1])
    with pytest.raises(TileError) as short:
        verify_entry_from_tiles(DirectoryTiles(tmp_path), history.operator, 6)
    assert short.value.failure is TileFailure.tile_malformed
    tile.write_bytes(original)
    (tmp_path / "checkpoint").write_text(history.checkpoints[-1].note.replace(
        f"\n{size}\n", f"\n{size - 1}\n"))
    with pytest.raises(NoteError) as unsigned:
        verify_entry_from_tiles(DirectoryTiles(tmp_path), history.operator, 6)
    assert unsigned.value.code.name == "checkpoint_not_signed"


def _verify(*arguments: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["verify", *arguments], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_verify_builds_its_proofs_from_a_tiles_directory(history: History,
                                                         tmp_path: Path) -> None:
    tiles = tmp_path / "tiles"
    write_tiles(history.store, tiles)
    kept = tmp_path / "checkpoint-1.note"
    kept.write_text(history.checkpoints[0].note)
    code, out, err = _verify("--tiles", str(tiles), "--operator-key", history.operator,
                             "--entry", "0", "--entry", "11", "--since", str(kept))
    assert code == 0, err
    assert "VERIFIED: entry 11 is in the log of checkpoint 3" in out
    assert "VERIFIED: the log of checkpoint 3 extends that of checkpoint 1" in out
    code, _, err = _verify("--tiles", str(tiles), "--operator-key", history.operator,
                           "--entry", "999")
    assert code == 1 and "(not_in_checkpoint)" in err
    (tiles / f"tile/0/000.p/{history.checkpoints[-1].log_size}").write_bytes(b"\x00" * 32)
    code, _, err = _verify("--tiles", str(tiles), "--operator-key", history.operator,
                           "--entry", "3")
    assert code == 1 and "(tile_malformed)" in err
    code, _, err = _verify("--tiles", str(tmp_path / "elsewhere"), "--operator-key",
                           history.operator)
    assert code == 2 and "neither an http(s) URL nor a directory" in err
    code, _, err = _verify("--operator-key", history.operator, "--entry", "3")
    assert code == 2 and "or the log's tiles with --tiles" in err


def test_verify_builds_its_proofs_from_the_served_tiles(history: History,
                                                        tmp_path: Path) -> None:
    world = history.world
    world.participant("cec", "auditor")
    history.cut()
    tiles = tmp_path / "tiles"
    write_tiles(history.store, tiles)
    kept = tmp_path / "checkpoint-2.note"
    kept.write_text(history.checkpoints[1].note)
    service = LedgerService(Parts(world.ledger))
    sessions = sessions_for(service)
    challenge, expires = sessions.challenge()
    digest = login_digest(sessions.domain, challenge, "cec", expires)
    token, _ = sessions.token(challenge, "cec", expires,
                              unsafe_sign_digest(world.wallets["cec"].private_key, digest))
    with served_in_thread(service, sessions=sessions, tiles_dir=tiles) as url:
        base = f"{url}/tiles"
        with urllib.request.urlopen(f"{base}/checkpoint") as answer:
            assert answer.headers["cache-control"] == "no-cache"
            assert answer.headers["content-type"] == "text/plain; charset=utf-8"
            assert answer.read().decode() == history.checkpoints[-1].note
        size = history.checkpoints[-1].log_size
        with urllib.request.urlopen(f"{base}/tile/0/000.p/{size}") as answer:
            assert "immutable" in answer.headers["cache-control"]
            assert answer.headers["content-type"] == "application/octet-stream"
        for path, status in ((f"tile/entries/000.p/{size}", 401), ("tile/0/001", 404),
                             ("config.json", 404), ("tile/0/..%2F..%2Fconfig.json", 404)):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{base}/{path}")
            assert refused.value.code == status, path

        code, out, err = _verify("--tiles", base, "--operator-key", history.operator,
                                 "--since", str(kept))
        assert code == 0, err
        assert "extends that of checkpoint 2" in out
        code, _, err = _verify("--tiles", base, "--operator-key", history.operator,
                               "--entry", "7")
        assert code == 3 and "(tile_unreachable)" in err and "401" in err  # no token
        code, out, err = _verify("--tiles", base, "--operator-key", history.operator,
                                 "--entry", "7", env={"CARBONLEDGER_TOKEN": token})
        assert code == 0, err
        assert "VERIFIED: entry 7 is in the log of checkpoint 4" in out
        entry = verify_entry_from_tiles(
            HttpTiles(base, {"authorization": f"Bearer {token}"}), history.operator, size - 1)
        assert entry.entry == f'{{"checkpoint":4,"seq":{size - 1}}}'.encode()
