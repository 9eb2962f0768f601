"""The demo's bank story: each step is told, and the evidence pack it leaves behind verifies
with `carbonledger verify` inside the demo's data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from examples.in_process import run_demo


def test_the_bank_story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    runner = CliRunner()
    told: list[str] = []
    run_demo(tmp_path / "demo", told.append)
    output = "\n".join(told)
    story = output[output.index("The bank's story"):]
    for words in ("Huaneng and ICBC both sign pledge ICBC-P1",
                  "serials 15001..45000",
                  "Huaneng tries to sell pledged serials 15001..16000 to Baowu: refused, "
                  "lot_under_lien",
                  "ICBC releases 10,000 t",
                  "in repo ICBC-R1", "Baowu repurchases them",
                  "the loan matured unpaid. ICBC enforces 15,000 t",
                  "The operator cuts checkpoint 3",
                  "VERIFIED: pledge ICBC-P1: huaneng (account HN-C) pledged 30000 t"):
        assert words in story, story

    demo = tmp_path / "demo"
    pack = demo / "evidence-ICBC-P1.json"
    assert json.loads(pack.read_text())["kind"] == "pledge"
    result = runner.invoke(main, ["--data-dir", str(demo), "verify", str(pack)])
    assert result.exit_code == 0, result.output
    assert "5000 t of batch HN01 are still pledged under its lien: serials 40001..45000" in \
        result.output
