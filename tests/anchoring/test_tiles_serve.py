"""Tiles where checkpoints are cut: the checkpoint duty publishes each cut's log as tiles, the
`carbonledger tiles write` command catches a directory up, and `carbonledger serve` writes
and serves them (a real process), which `verify --tiles` checks over HTTP."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from anchoring.auditor.tiles import DirectoryTiles, TileReader, unsigned_checkpoint
from anchoring.operator.checkpoints import CheckpointPolicy
from api.bootstrap import build, load_operator
from api.cli import main
from api.config import load_config
from api.duty import CheckpointDuty
from tests.api.test_serve_workers import (
    CLI,
    PASSWORD,
    Server,
    _market,
    _serve,
    _until,
)

pytestmark = pytest.mark.slow


def test_the_duty_publishes_each_cut_as_tiles_and_the_command_catches_up(
        tmp_path: Path) -> None:
    market = _market(tmp_path / "ledger", None, 2)
    tiles = tmp_path / "published"
    config = load_config(market.data_dir)
    with build(config, market.data_dir, password=lambda: PASSWORD,
               policy=CheckpointPolicy(every_s=0.2)) as app:
        duty = CheckpointDuty(app.service, every_s=0.2, anchors=False, retry_s=0.1,
                              tiles_dir=tiles)
        duty.start()
        try:
            _until(lambda: (tiles / "checkpoint").is_file(), "no tiles were published")
            app.service.submit(market.transfer("e0", "e1"))
            _until(lambda: len(app.service.checkpoints()) == 2, "no second checkpoint")
            _until(lambda: (tiles / "checkpoint").read_text()
                   == app.service.checkpoints()[-1].note, "the second cut was not published")
        finally:
            duty.stop()
        latest = app.service.checkpoints()[-1]
        assert TileReader(DirectoryTiles(tiles), latest.log_size).root() == latest.log_root
        app.service.submit(market.transfer("e1", "e0"))
        app.service.cut_checkpoint()  # cut by hand: the tiles lag until written

    runner = CliRunner(env={"CARBONLEDGER_PASSWORD": PASSWORD})
    result = runner.invoke(main, ["--data-dir", str(market.data_dir), "tiles", "write",
                                  "--dir", str(tiles)])
    assert result.exit_code == 0, result.output
    assert "checkpoint 3 " in result.output and f"since size {latest.log_size}" in result.output
    assert unsigned_checkpoint((tiles / "checkpoint").read_text()).number == 3
    again = runner.invoke(main, ["--data-dir", str(market.data_dir), "tiles", "write",
                                 "--dir", str(tiles)])
    assert again.exit_code == 0 and ": 0 files written" in again.output
    for tile in tiles.rglob("tile/**/*"):
        if tile.is_file():
            tile.write_bytes(b"")  # damaged in place: only --all writes them again
    everything = runner.invoke(main, ["--data-dir", str(market.data_dir), "tiles", "write",
                                      "--dir", str(tiles), "--all"])
    assert everything.exit_code == 0 and "from scratch" in everything.output
    published = unsigned_checkpoint((tiles / "checkpoint").read_text())
    assert TileReader(DirectoryTiles(tiles), published.size).root() == published.log_root


def test_serve_writes_and_serves_tiles_that_verify_checks(tmp_path: Path) -> None:
    market = _market(tmp_path / "ledger", None, 2)
    operator = load_operator(market.data_dir)
    assert operator is not None
    server: Server = _serve(market.data_dir, tmp_path / "serve.log", "--checkpoint-every",
                            "0.3")
    try:
        base = f"{server.url}/tiles"

        def published() -> str | None:
            answer = httpx.get(f"{base}/checkpoint")
            return answer.text if answer.status_code == 200 else None

        first = _until(published, "serve published no checkpoint")
        kept = tmp_path / "kept.note"
        kept.write_text(first)
        with httpx.Client() as http:
            http.post(f"{server.url}/v1/instructions", json=market.transfer("e0", "e1"))
        _until(lambda: published() not in (None, first), "serve published no later checkpoint")
        done = subprocess.run([str(CLI), "verify", "--tiles", base, "--operator-key",
                               operator.address, "--since", str(kept)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "VERIFIED: the log of checkpoint" in done.stdout
    finally:
        server.stop()
    assert (market.data_dir / "tiles" / "checkpoint").is_file()
