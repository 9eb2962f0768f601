"""A checkpoint opened once is remembered (anchoring.auditor.note.open_note), and that lets
nothing else through: a note that differs in one character, the same note under another key,
or another bundle on the same checkpoint is checked, and refused, as if the first had never
passed."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody, NoteError, open_note, sign_note
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from custody.signatures import address_of
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.anchoring.ledger_history import OPERATOR_KEY, OTHER_KEY, History, build_history

BODY = CheckpointBody("carbonledger/registry/00112233aabbccdd", 1234, bytes(range(32)), 9,
                      bytes(range(32, 64)), "2026-06-01T09:00:00.000Z")
OPERATOR = address_of(OPERATOR_KEY)


@pytest.mark.parametrize("change", [
    lambda n: n.replace("checkpoint 9", "checkpoint 8"),
    lambda n: n.replace("\n1234\n", "\n1235\n"),
    lambda n: n.replace("time 2026-06-01T09", "time 2026-06-01T08"),
])
def test_a_note_changed_after_its_original_opened_is_refused(change: Any) -> None:
    note = sign_note(BODY, OPERATOR_KEY)
    assert open_note(note, OPERATOR) == BODY
    assert open_note(note, OPERATOR) == BODY  # remembered: the same answer
    changed = change(note)
    assert changed != note
    for _ in range(2):  # a refusal is not remembered as anything
        with pytest.raises(NoteError, match="not signed by") as refused:
            open_note(changed, OPERATOR)
        assert refused.value.code is VerifyFailure.checkpoint_not_signed
    assert open_note(note, OPERATOR) == BODY


def test_a_note_opened_under_one_key_is_refused_under_another() -> None:
    note = sign_note(BODY, OPERATOR_KEY)
    assert open_note(note, OPERATOR) == BODY
    with pytest.raises(NoteError, match="no signature by the trusted operator key"):
        open_note(note, address_of(OTHER_KEY))
    assert open_note(note, OPERATOR.lower()) == BODY  # the same key, spelt in lowercase


@pytest.fixture
def history(sqlite_store: Store, clock: FixedClock) -> History:
    return build_history(sqlite_store, clock)


def _lot_bundle(history: History) -> dict[str, Any]:
    with history.store.read() as tx:
        lot = str(tx.one("SELECT id FROM lots WHERE account = 'GW' ORDER BY id")[0])
    return Prover(history.store).lot(lot)


def _change_state_value(bundle: dict[str, Any]) -> None:
    record = json.loads(bundle["state"]["value"])
    record["last"] += 1
    bundle["state"]["value"] = json.dumps(record, separators=(",", ":"), sort_keys=True)


def _change_proof_hash(bundle: dict[str, Any]) -> None:
    siblings = bundle["state"]["proof"]["siblings"]
    siblings[0] = ("0" if siblings[0][0] != "0" else "1") + siblings[0][1:]


def _change_checkpoint_number(bundle: dict[str, Any]) -> None:
    bundle["checkpoint"] = bundle["checkpoint"].replace("checkpoint 3", "checkpoint 4")


@pytest.mark.parametrize(("change", "failure"), [
    (_change_state_value, VerifyFailure.state_proof_failed),
    (_change_proof_hash, VerifyFailure.state_proof_failed),
    (_change_checkpoint_number, VerifyFailure.checkpoint_not_signed),
])
def test_a_bundle_on_a_checkpoint_that_passed_is_still_checked_whole(
        history: History, change: Any, failure: VerifyFailure) -> None:
    bundle = _lot_bundle(history)
    assert "lot" in verify_bundle(bundle, history.operator).statement  # its note remembered
    tampered = copy.deepcopy(bundle)
    change(tampered)
    with pytest.raises(VerificationFailed) as refused:
        verify_bundle(tampered, history.operator)
    assert refused.value.code is failure
    assert "lot" in verify_bundle(bundle, history.operator).statement
