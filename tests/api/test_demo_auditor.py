"""The demo's auditor story, on anvil when it is installed and on the embedded chain otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchoring.operator.anvil import ANVIL_BINARY_VARIABLE, AnvilNode, AnvilNotInstalled, find_anvil
from examples.in_process import run_demo


def _demo(tmp_path: Path) -> str:
    told: list[str] = []
    run_demo(tmp_path / "demo", told.append)
    output = "\n".join(told)
    assert "VERIFIED, lot" in output and "VERIFIED, journal entry" in output
    assert "VERIFIED, checkpoint 2 (log of" in output
    assert "NOT VERIFIED (untrusted_registry)" in output
    assert "the registry holds both exactly as recomputed" in output
    assert "audit FAILED: entry " in output
    assert "stored entry differs from its replay (differs in accepted_at)" in output
    for name in ("holding-lot.json", "retirement-entry.json", "consistency.json"):
        assert (tmp_path / "demo" / "bundles" / name).is_file()
    return output


def test_the_auditor_story_on_anvil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    try:
        find_anvil()
    except AnvilNotInstalled as missing:
        pytest.skip(f"{missing}")
    output = _demo(tmp_path)
    assert "on a local anvil node at http://127.0.0.1:" in output
    assert "anvil stopped; its chain is saved" in output
    assert AnvilNode(tmp_path / "demo" / "chain").running() is None  # stopped, not leaked
    assert (tmp_path / "demo" / "chain.json").is_file()


def test_the_auditor_story_falls_back_to_the_embedded_chain(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.setenv(ANVIL_BINARY_VARIABLE, str(tmp_path / "no-anvil-here"))
    output = _demo(tmp_path)
    assert "on the embedded py-evm chain in this process" in output
    assert "EPHEMERAL" in output
    assert not (tmp_path / "demo" / "chain.json").exists()
