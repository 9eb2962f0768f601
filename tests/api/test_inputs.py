"""Documents from outside are bounded before they are parsed: a hostile instruction or bundle
file is refused in one line, and never takes the process down."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from api.inputs import MAX_NESTING, DocumentError, parse_document, read_document
from tests.isolation import REPO_ROOT


def test_a_document_nesting_as_deep_as_allowed_is_read() -> None:
    text = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert parse_document(text) == json.loads(text)


@pytest.mark.parametrize("text", [
    "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1),
    '{"a":' * 100_000 + "1" + "}" * 100_000,
])
def test_deeper_nesting_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(DocumentError, match="nests deeper"):
        parse_document(text)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"note": "[" * 1_000 + '\\" {{{', "ok": [1, 2]})
    assert parse_document(text)["ok"] == [1, 2]


def test_an_oversized_or_broken_document_is_refused() -> None:
    with pytest.raises(DocumentError, match="larger than"):
        read_document(io.StringIO(" " * (8 * 1024 * 1024 + 1)))
    with pytest.raises(DocumentError, match="not JSON"):
        parse_document("[1, 2")


def test_the_cli_refuses_a_deeply_nested_file_in_one_line(tmp_path: Path) -> None:
    """In a process that has imported the chain stack (the CLI's), a deep document would
    overflow the C stack inside the JSON decoder: it must be refused before that."""
    hostile = tmp_path / "deep.json"
    hostile.write_text("[" * 200_000 + "]" * 200_000)
    command = [sys.executable, "-c", "from api.cli import main; main()",
               "--data-dir", str(tmp_path / "none"), "verify", str(hostile),
               "--operator-key", "0x" + "11" * 20]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT,
                            timeout=120)
    assert result.returncode == 2, result.stderr  # a bad input file: usage
    assert "NOT VERIFIED: the bundle cannot be read: the document nests deeper" in result.stderr
    assert "Traceback" not in result.stderr
    submitted = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "none"), "submit",
                                          str(hostile)])
    assert submitted.exit_code == 2
    assert "nests deeper than" in submitted.output
