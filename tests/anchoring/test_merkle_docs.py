"""The auditor's example in docs/merkle-log.md runs as printed."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "merkle-log.md"


def test_runnable_example_in_the_merkle_log_doc() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    runnable = [block for block in blocks if "assert root8.hex()" in block]
    assert len(runnable) == 1
    exec(compile(runnable[0], str(DOC), "exec"), {})
