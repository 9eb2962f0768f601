"""bench/scale_fixture.py at a small size: a run stopped part way, then resumed, reaches
exactly the lots asked for, through signed transfers, and ends at a signed checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import scale_fixture
from ledger.replay import replay_check
from ledger.store.database import Store

LOTS = 2001  # odd past the 50 issued lots: the last transfer makes one lot, not two


def test_a_stopped_build_resumes_to_the_exact_lot_count(tmp_path: Path) -> None:
    directory = tmp_path / "scale"
    needed = scale_fixture.transfers_needed(LOTS)
    assert needed == 976

    first = scale_fixture.build(directory, LOTS, minutes=5, checkpoint_every=300, workers=1,
                                max_transfers=400, say=lambda _: None)
    assert first["lots"] == scale_fixture.HOLDERS + 2 * 400
    assert not first["complete"]
    assert first["checkpoints"] == 1  # cut at 300 transfers; the last 100 wait for the next run

    second = scale_fixture.build(directory, LOTS, minutes=5, checkpoint_every=300, workers=1,
                                 say=lambda _: None)
    assert second["complete"]
    assert second["lots"] == LOTS
    assert [run["transfers"] for run in second["runs"]] == [400, needed - 400]

    store = Store(scale_fixture.store_url(directory))
    try:
        state = scale_fixture.progress(store)
        assert (state.lots, state.entries) == (LOTS, second["entries"])
        assert state.checkpoint_size == state.entries  # every lot is in the last checkpoint
        assert replay_check(store, scale_fixture.OPERATIONS).ok
    finally:
        store.dispose()

    third = scale_fixture.build(directory, LOTS, minutes=5, checkpoint_every=300, workers=1,
                                say=lambda _: None)
    assert third["complete"] and third["runs"][-1]["transfers"] == 0  # nothing left to do


def test_a_directory_of_another_size_is_refused(tmp_path: Path) -> None:
    scale_fixture.build(tmp_path, 60, minutes=1, checkpoint_every=1000, workers=1,
                        say=lambda _: None)
    with pytest.raises(scale_fixture.FixtureError, match="60 lots, not 70"):
        scale_fixture.build(tmp_path, 70, minutes=1, checkpoint_every=1000, workers=1,
                            say=lambda _: None)
    manifest = scale_fixture.read_manifest(tmp_path)
    assert (manifest["lots"], len(manifest["runs"])) == (60, 1)  # left as it was
