"""Fuzzing the offline verifier: mutated proof bundles and checkpoint notes, fed to its entry
point and to `carbonledger verify`.

Each example takes a golden bundle (tests/vectors/formats/) and applies one mutation — a
flipped character or number, a dropped or duplicated member, a value of another type, keys or
items reordered, the text truncated, nesting deepened, odd Unicode inserted. Whatever comes
out, the verifier either refuses it with a code of its closed list or verifies exactly what
the original proves: never another exception, never a traceback.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchoring.auditor.errors import VerifyError, VerifyFailure
from anchoring.auditor.note import CheckpointBody, NoteError, open_note
from anchoring.auditor.verify import Verified, verify_bundle_text
from api.cli import main
from tests.conformance.cases import GOLDEN_VALID
from tests.conformance.forge import golden

BUNDLES = {name: golden(name) for name in GOLDEN_VALID}
ORIGINALS = {name: verify_bundle_text(json.dumps(bundle), operator)
             for name, (bundle, operator) in BUNDLES.items()}
ODD_TEXT = ["\u202e", "\x00", "\ud800", "\U0001f600", "\ufeff", "\u2028", "e\u0301", "\x1b[2J",
            "\u0662", "\\", "\"", "\n"]
OTHER_VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.5, 1e-07, 2**53, 2**64, "", "1", "x",
                           [], {}, [None], {"": None}]
Path_ = tuple[str | int, ...]


def _paths(value: Any, at: Path_ = ()) -> list[Path_]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*at, index))
    return found


def _get(value: Any, at: Path_) -> Any:
    for part in at:
        value = value[part]
    return value


def _set(root: Any, at: Path_, new: Any) -> Any:
    if not at:
        return new
    _get(root, at[:-1])[at[-1]] = new
    return root


def _flip(value: Any, position: int) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + (1 if position % 2 else -1)
    if isinstance(value, str) and value:
        at = position % len(value)
        return value[:at] + chr(ord(value[at]) ^ (1 << (position % 7))) + value[at + 1:]
    return 0


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, bool]:
    """(the golden bundle it came from, the mutated file's text, whether it is pure ASCII)."""
    name = draw(st.sampled_from(sorted(BUNDLES)))
    bundle = copy.deepcopy(BUNDLES[name][0])
    at = draw(st.sampled_from(_paths(bundle)))
    target = _get(bundle, at)
    how = draw(st.sampled_from(["flip", "drop", "duplicate", "retype", "reorder", "deepen",
                                "unicode", "truncate", "duplicate-key", "text-flip"]))
    position = draw(st.integers(0, 10_000))
    ascii_only = draw(st.booleans())
    if how == "flip":
        bundle = _set(bundle, at, _flip(target, position))
    elif how == "drop" and at:
        del _get(bundle, at[:-1])[at[-1]]
    elif how == "duplicate" and at and isinstance(_get(bundle, at[:-1]), list):
        _get(bundle, at[:-1]).insert(int(at[-1]), copy.deepcopy(target))
    elif how == "retype":
        bundle = _set(bundle, at, copy.deepcopy(draw(st.sampled_from(OTHER_VALUES))))
    elif how == "reorder" and isinstance(target, dict):
        bundle = _set(bundle, at, dict(reversed(list(target.items()))))
    elif how == "reorder" and isinstance(target, list):
        bundle = _set(bundle, at, target[::-1])
    elif how == "deepen":
        depth = draw(st.integers(1, 200))
        bundle = _set(bundle, at, json.loads("[" * depth + json.dumps(target) + "]" * depth))
    elif how == "unicode" and isinstance(target, str):
        cut = position % (len(target) + 1)
        bundle = _set(bundle, at, target[:cut] + draw(st.sampled_from(ODD_TEXT)) + target[cut:])
    text = json.dumps(bundle, ensure_ascii=ascii_only, indent=draw(st.sampled_from([None, 1])))
    if how == "truncate":
        text = text[:position % len(text)]
    elif how == "duplicate-key":
        text = text.replace("{", '{"kind": "lot", ', 1)
    elif how == "text-flip":
        at_char = position % len(text)
        text = text[:at_char] + chr(ord(text[at_char]) ^ 1) + text[at_char + 1:]
    return name, text, ascii_only


def _same(verified: Verified, original: Verified) -> bool:
    return (verified.kind, verified.statement, verified.checkpoint, verified.anchors) == \
        (original.kind, original.statement, original.checkpoint, original.anchors)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_bundle_is_refused_with_a_code_or_proves_the_same(
        example: tuple[str, str, bool]) -> None:
    name, text, _ = example
    try:
        verified = verify_bundle_text(text, BUNDLES[name][1])
    except VerifyError as failure:
        assert failure.code in VerifyFailure
        return
    assert _same(verified, ORIGINALS[name]) or _amendments_left_out(name, text), text[:300]


def _amendments_left_out(name: str, text: str) -> bool:
    """The one change a pledge pack cannot show (docs/proof-format.md, "pledge"): the state
    commitment holds no agreement records, so a pack without some of its amendments verifies,
    stating the terms of the amendments it carries. Everything else about it must be as
    before."""
    if name != "bundle-pledge":
        return False
    mutated, original = json.loads(text), BUNDLES[name][0]
    kept = [e for e in original["entries"] if '"op":"pledge_amend"' not in e["entry"]]
    return (len(mutated["entries"]) < len(original["entries"])
            and all(e in original["entries"] for e in mutated["entries"])
            and all(e in mutated["entries"] for e in kept)
            and {k: v for k, v in mutated.items() if k != "entries"}
            == {k: v for k, v in original.items() if k != "entries"})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutated())
def test_carbonledger_verify_says_one_line_and_never_a_traceback(
        tmp_path: Path, example: tuple[str, str, bool]) -> None:
    name, text, _ = example
    path = tmp_path / "bundle.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "none"), "verify",
                                       str(path), "--operator-key", BUNDLES[name][1]])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert f"VERIFIED: {ORIGINALS[name].statement}." in result.output
    else:
        assert result.exit_code in (1, 2) and "NOT VERIFIED: " in result.output, result.output


NOTE = BUNDLES["bundle-lot"][0]["checkpoint"]
OPERATOR = BUNDLES["bundle-lot"][1]
NOTE_BODY: CheckpointBody = open_note(NOTE, OPERATOR)


@st.composite
def mutated_note(draw: st.DrawFn) -> str:
    lines = NOTE.split("\n")
    how = draw(st.sampled_from(["flip", "drop", "duplicate", "reorder", "truncate", "unicode",
                                "deepen"]))
    line = draw(st.integers(0, len(lines) - 1))
    position = draw(st.integers(0, 10_000))
    if how == "flip":
        lines[line] = _flip(lines[line], position) if lines[line] else " "
    elif how == "drop":
        del lines[line]
    elif how == "duplicate":
        lines.insert(line, lines[line])
    elif how == "reorder":
        other = draw(st.integers(0, len(lines) - 1))
        lines[line], lines[other] = lines[other], lines[line]
    elif how == "unicode":
        cut = position % (len(lines[line]) + 1)
        lines[line] = lines[line][:cut] + draw(st.sampled_from(ODD_TEXT)) + lines[line][cut:]
    elif how == "deepen":
        lines[line] = lines[line] + " " + "x" * position
    text = "\n".join(lines)
    return text[:position % (len(text) + 1)] if how == "truncate" else text


@settings(max_examples=150, deadline=None)
@given(mutated_note())
def test_a_mutated_note_is_refused_with_a_code_or_reads_the_same(note: str) -> None:
    try:
        body = open_note(note, OPERATOR)
    except NoteError as failure:
        assert failure.code in VerifyFailure
        return
    assert body == NOTE_BODY


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_the_originals_verify(name: str) -> None:
    assert ORIGINALS[name].kind == BUNDLES[name][0]["kind"]
