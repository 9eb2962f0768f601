"""Our verifier over the whole conformance suite (tests/conformance/README.md), and the
suite's files are what its generator writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anchoring.auditor.errors import VerifyFailure
from tests.conformance.cases import VERIFIED
from tests.conformance.generate import HERE, MANIFEST, files, outcome

SUITE: dict[str, Any] = json.loads((HERE / MANIFEST).read_text(encoding="utf-8"))
PROOF_FORMAT = HERE.parent.parent / "docs" / "proof-format.md"


@pytest.mark.parametrize("case", SUITE["cases"], ids=lambda case: case["name"])
def test_our_verifier_reaches_each_cases_outcome(case: dict[str, Any]) -> None:
    text = (HERE / case["file"]).read_text(encoding="utf-8")
    assert outcome(text, case.get("pointer"), SUITE["trusted_operator"]) == case["expect"], \
        case["description"]


def test_the_files_are_what_the_generator_writes() -> None:
    for path, text in files().items():
        assert (HERE / path).read_text(encoding="utf-8") == text, \
            f"{path} differs: run .venv/bin/python -m tests.conformance.generate"
    written = {f"bundles/{p.name}" for p in (HERE / "bundles").glob("*.json")}
    assert written == {path for path in files() if path != MANIFEST}


def test_each_case_is_named_after_its_defect_and_expects_a_documented_code() -> None:
    documented = PROOF_FORMAT.read_text(encoding="utf-8")
    names = {case["name"] for case in SUITE["cases"]}
    assert SUITE["codes"] == [code.name for code in VerifyFailure]
    for case in SUITE["cases"]:
        base, _, defect = case["name"].partition("@")
        assert (case["expect"] == VERIFIED) == (not defect), case["name"]
        if defect:
            assert base in names, f"{case['name']}: a defect of what?"
            assert case["expect"] in VerifyFailure.__members__
    for code in VerifyFailure:
        assert f"`{code.name}`" in documented, f"{code.name} is not in docs/proof-format.md"
    invalid = [case for case in SUITE["cases"] if case["expect"] != VERIFIED]
    assert len(invalid) >= 60 and len(names) == len(SUITE["cases"])
    assert {case["expect"] for case in invalid} >= {
        "duplicate_key", "bad_number", "wrong_type", "malformed_record", "not_canonical",
        "bad_time", "bad_marker", "wrong_ledger", "malformed_checkpoint", "wrong_subject"}


def test_the_files_are_in_place() -> None:
    for case in SUITE["cases"]:
        assert Path(HERE / case["file"]).is_file(), case["file"]
