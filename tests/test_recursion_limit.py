"""No dependency leaves the process at a recursion limit where a deeply nested JSON document
overflows the C stack: each of our entry points, imported in a fresh process, parses a document
nested 200,000 deep into a RecursionError (refused by our readers), never a crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_graph import REPO_ROOT

PROBE = """
import json, sys
import {module}
import eth  # py-evm, imported last as the in-process chain does
limit = sys.getrecursionlimit()
try:
    json.loads("[" * 200_000 + "]" * 200_000)
except RecursionError:
    print("refused", limit)
"""


@pytest.mark.parametrize("module", ["api.cli", "anchoring.auditor.verify", "ledger.replay",
                                    "anchoring.audit", "api.bootstrap"])
def test_deep_json_is_a_recursion_error_not_a_crash(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE.format(module=module)],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-500:]}"
    verdict, limit = result.stdout.split()
    assert verdict == "refused" and int(limit) <= 12_288


def test_a_deeply_nested_config_file_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from api.cli import main

    data = tmp_path / "ledger"
    data.mkdir()
    (data / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    result = CliRunner().invoke(main, ["--data-dir", str(data), "replay", "--check"])
    assert result.exit_code == 3, result.output  # environment: a broken file it needs
    assert isinstance(result.exception, SystemExit)
    assert len(result.output.strip().splitlines()) == 1, result.output
