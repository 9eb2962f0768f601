"""The committed artifacts are what the pinned compiler makes of the sources, byte for byte."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
ARTIFACTS = ["AnchorRegistry.json", "test/MinimalToken.json", "test/RFC9162Harness.json"]


def _missing_toolchain() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are not installed"
    if not (CONTRACTS / "node_modules" / "solc" / "package.json").is_file():
        return "contracts/node_modules is not installed (npm ci --prefix contracts)"
    return None


@pytest.mark.skipif(_missing_toolchain() is not None, reason=str(_missing_toolchain()))
def test_a_rebuild_matches_the_committed_artifacts(tmp_path: Path) -> None:
    subprocess.run(
        ["node", str(CONTRACTS / "build.mjs"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for name in ARTIFACTS:
        rebuilt = (tmp_path / name).read_bytes()
        committed = (CONTRACTS / name).read_bytes()
        assert rebuilt == committed, f"contracts/{name} is stale: run `make contracts`"
