"""The offline verifier is as strict as docs/proof-format.md: what the format forbids or never
mentions is refused, each with its own code.

Each case of tests/conformance/cases.py is a golden bundle with one defect, signed again where
its proofs would otherwise fail first (tests/conformance/forge.py), so that only the rule
under test can refuse it: a number that is not a safe integer, a duplicate key, a value of
the wrong type, a record outside its kind's rules, an impossible time, an origin of the wrong
shape or of another genesis, a log that does not end with its marker, "consistency" between
checkpoints of one size, a pack whose pledgor is its pledgee. Before this verifier, each of
them verified or was refused with a vaguer code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from anchoring.auditor import jcs
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody, NoteError, open_note, sign_note
from anchoring.auditor.records import ACCOUNT_TYPES, LOT_STATES
from anchoring.auditor.verify import read_bundle, verify_bundle, verify_bundle_text
from api.cli import main
from ledger.canonical import NotCanonicalizable, canonical_json, parse_canonical
from ledger.model import AccountType, LotState
from tests.conformance.cases import CASES, VERIFIED, Case
from tests.conformance.forge import golden, note, operator_key

OPERATOR = golden("bundle-lot")[1]


def _outcome(text: str) -> str:
    try:
        verify_bundle_text(text, OPERATOR)
    except VerificationFailed as failure:
        return failure.code.name
    return VERIFIED


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_defect_is_refused_with_its_code(case: Case) -> None:
    assert _outcome(case.make()) == case.expect, case.description


def test_a_parsed_bundle_is_held_to_the_same_numbers_and_types() -> None:
    """verify_bundle, handed an object rather than text, refuses what JSON text would."""
    bundle, _ = golden("bundle-lot")
    for value, code in ((1.0, "bad_number"), (True, "wrong_type"), (2**53, "bad_number")):
        with pytest.raises(VerificationFailed) as refused:
            verify_bundle({**bundle, "version": value}, OPERATOR)
        assert refused.value.code.name == code


def test_duplicate_keys_are_refused_where_a_plain_reader_takes_the_last() -> None:
    text = '{"format":"carbonledger/proof-bundle","format":"x"}'
    assert json.loads(text)["format"] == "x"
    with pytest.raises(VerificationFailed) as refused:
        read_bundle(text)
    assert refused.value.code is VerifyFailure.duplicate_key


@pytest.mark.parametrize("text", ["[" * 100 + "]" * 100, "{", "", "NaN", "\"\\ud800\""])
def test_a_file_that_is_no_bundle_is_refused_with_a_code(text: str) -> None:
    with pytest.raises(VerificationFailed) as refused:
        verify_bundle_text(text, OPERATOR)
    assert refused.value.code in (VerifyFailure.not_a_bundle, VerifyFailure.bad_number,
                                  VerifyFailure.malformed_bundle)


# --- RFC 8785 ---------------------------------------------------------------------------------

_KEYS = st.text(st.characters(codec="utf-8"), max_size=4)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-jcs.MAX_SAFE_INTEGER, jcs.MAX_SAFE_INTEGER)
    | st.text(st.characters(codec="utf-8"), max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(_VALUES)
def test_canonical_text_is_rfc8785_and_parses_back(value: Any) -> None:
    """The reference implementation agrees on every document of the subset, non-BMP keys
    included (keys by UTF-16 code unit), and what it writes the strict parser accepts."""
    reference = rfc8785.dumps(value).decode("utf-8")
    assert jcs.canonical_text(value) == reference
    assert jcs.parse_canonical(reference, "a document") == value


def test_code_point_order_is_refused_where_it_differs_from_utf16_order() -> None:
    value = {"\uff61": 1, "\U0001f600": 2}
    rfc = rfc8785.dumps(value).decode("utf-8")
    assert rfc.index("\U0001f600") < rfc.index("\uff61")
    assert jcs.parse_canonical(rfc, "a document") == value
    by_code_point = json.dumps(value, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)
    with pytest.raises(VerificationFailed) as refused:
        jcs.parse_canonical(by_code_point, "a document")
    assert refused.value.code is VerifyFailure.not_canonical


@pytest.mark.parametrize(("text", "code"), [
    ('{"a":1e-07}', "bad_number"), ('{"a":1.0}', "bad_number"),
    ('{"a":9007199254740992}', "bad_number"), ('{"a":-9007199254740992}', "bad_number"),
    ('{"a":-0}', "not_canonical"), ('{"a":Infinity}', "bad_number"),
    ('{"a":1,"a":1}', "duplicate_key"), ('{"b":1,"a":2}', "not_canonical"),
    ('{"a":"\\u0041"}', "not_canonical"), ('{"a":"\\ud800"}', "malformed_bundle"),
])
def test_the_strict_parser_refuses_what_rfc8785_does_not_write(text: str, code: str) -> None:
    with pytest.raises(VerificationFailed) as refused:
        jcs.parse_canonical(text, "a document")
    assert refused.value.code.name == code


def test_the_ledgers_parser_reads_back_what_its_writer_writes_and_nothing_else() -> None:
    document = {"seq": 7, "b": [True, None, "x\u00e9\n\u2028"], "a": {"z": -5}}
    data = canonical_json(document)
    assert parse_canonical(data) == document
    for bad in (data.replace(b":", b": ", 1), b'{"a":1,"a":1}', b'{"a":1.5}', b"\xff"):
        with pytest.raises(NotCanonicalizable):
            parse_canonical(bad)


def test_the_auditors_enumerations_are_the_ledgers() -> None:
    # anchoring.auditor imports nothing of the ledger, so it keeps its own copy
    assert {state.value for state in LotState} == LOT_STATES
    assert {kind.value for kind in AccountType} == ACCOUNT_TYPES


# --- the signed checkpoint ----------------------------------------------------------------------

BODY = CheckpointBody("carbonledger/registry/00112233aabbccdd", 12, bytes(32), 2, bytes(32),
                      "2026-06-01T09:00:00.000Z")


@pytest.mark.parametrize(("changes", "code"), [
    ({"time": "2026-02-30T09:00:00.000Z"}, VerifyFailure.bad_time),
    ({"time": "2026-06-01T09:00:60.000Z"}, VerifyFailure.bad_time),
    ({"time": "\u0662026-06-01T09:00:00.000Z"}, VerifyFailure.bad_time),  # an Arabic-Indic 2
    ({"origin": "registry"}, VerifyFailure.malformed_checkpoint),
    ({"origin": "carbonledger/registry/00112233aabbccd"}, VerifyFailure.malformed_checkpoint),
    ({"origin": "carbonledger/../00112233aabbccdd"}, VerifyFailure.malformed_checkpoint),
])
def test_a_signed_note_with_an_impossible_time_or_a_bad_origin_is_refused(
        changes: dict[str, str], code: VerifyFailure) -> None:
    body = CheckpointBody(**{**BODY.__dict__, **changes})
    with pytest.raises(NoteError) as refused:
        open_note(note(body), OPERATOR)
    assert refused.value.code is code
    with pytest.raises(NoteError):  # and the ledger's signer never signs it
        sign_note(body, operator_key())


# --- the command line ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bundle-lot@key-duplicated", "bundle-lot@state-bogus"])
def test_carbonledger_verify_refuses_with_the_code(tmp_path: Path, name: str) -> None:
    case = next(case for case in CASES if case.name == name)
    path = tmp_path / "bundle.json"
    path.write_text(case.make(), encoding="utf-8")
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "verify", str(path),
                                       "--operator-key", OPERATOR])
    assert result.exit_code == 1, result.output
    assert f"NOT VERIFIED: ({case.expect})" in result.output
    assert "Traceback" not in result.output
