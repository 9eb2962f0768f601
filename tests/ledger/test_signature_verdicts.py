"""Signatures checked beside the writer (ledger/signature_check.py): what a stage of the service
finds checking a document's signatures, handed to the engine with it.

What the operator relies on: a submission with the verdicts gives exactly the results and the
journal of the same submission checked by the engine itself, refusals included; a document
refused by its verdict is refused alone; and were a stage ever to vouch for a forged signature,
the checkpointer, which re-executes every entry with its signatures, refuses to sign the
checkpoint and names the entry.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.transition import TransitionDiffers
from api.service import LedgerService, Parts
from ledger.clock import FixedClock
from ledger.errors import Reason, Rejected
from ledger.journal import Receipt
from ledger.signature_check import CHECKED, UNCHECKED, verdicts_of
from ledger.store.database import Store, sqlite_url
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.ledger.signed_documents import forged, journal, outcome, transfer, two_emitters
from tests.world import DOMAIN, OPERATIONS, World, WorldTemplate, fresh_wallet


@pytest.fixture
def template(migrated_template: Path, tmp_path: Path, clock: FixedClock) -> WorldTemplate:
    """Two emitters, HN and DT, each with an account holding 100 t of its own batch."""
    return two_emitters(migrated_template, tmp_path / "template.db", clock.moment, 100)


def _mixed(world: World) -> list[Any]:
    """A submission a busy server sees: good transfers both ways, a forged one, one signed by
    a key the ledger does not know, one more than is held, text that is not an instruction,
    and a second signature of one signer."""
    good = transfer(world, "hn", "HN", "DT", "A1", 10)
    stranger = fresh_wallet().sign(world.instruction(
        "transfer", fromAccount="HN", toAccount="DT", batch="A1", quantity=1)).as_json()
    twice = transfer(world, "dt", "DT", "HN", "A2", 2)
    twice = {**twice, "approvals": twice["approvals"] * 2}
    return [good, forged(transfer(world, "hn", "HN", "DT", "A1", 5)), stranger,
            transfer(world, "dt", "DT", "HN", "A2", 500), {"op": "transfer"}, twice,
            transfer(world, "dt", "DT", "HN", "A2", 7)]


def test_verdicts_name_each_documents_signatures(template: WorldTemplate,
                                                 tmp_path: Path) -> None:
    world = template.copy_into(tmp_path)
    verdicts = verdicts_of(_mixed(world), OPERATIONS.parse_signed, DOMAIN)
    assert verdicts[0] is CHECKED and verdicts[2] is CHECKED  # a stranger's key: the state's
    assert verdicts[3] is CHECKED and verdicts[6] is CHECKED  # too much: the state's to say
    reasons = {i: v.reason for i, v in enumerate(verdicts) if isinstance(v, Rejected)}
    assert reasons == {1: Reason.bad_signature, 4: Reason.malformed_instruction,
                       5: Reason.duplicate_signer}
    # a ledger without a genesis has no domain yet: nothing is checked beside the writer
    assert verdicts_of(_mixed(world), OPERATIONS.parse_signed, None) == [UNCHECKED] * 7


def test_a_submission_with_verdicts_journals_what_the_engine_alone_would(
        template: WorldTemplate, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    alone, beside = template.copy_into(tmp_path / "a"), template.copy_into(tmp_path / "b")
    documents = _mixed(alone)
    by_engine = alone.ledger.submit_documents(documents)
    service = LedgerService(Parts(ledger=beside.ledger))
    with_verdicts = service.submit_many(documents, service.check_signatures(documents))
    assert outcome(with_verdicts) == outcome(by_engine)
    assert [o.split()[0] for o in outcome(by_engine)] == [
        "receipt", "refused", "refused", "refused", "refused", "refused", "receipt"]
    assert journal(beside.store) == journal(alone.store)
    assert beside.holding("DT", "A1") == alone.holding("DT", "A1") == {
        "tradable": 10, "pledged": 0, "retired": 0, "surrendered": 0, "cancelled": 0}
    beside.assert_invariants()


def test_a_verdict_refusal_refuses_that_document_alone(template: WorldTemplate,
                                                       tmp_path: Path) -> None:
    world = template.copy_into(tmp_path)
    first, second = (transfer(world, "hn", "HN", "DT", "A1", q) for q in (3, 4))
    refusal = Rejected(Reason.bad_signature, "checked by a worker")
    head = world.head()
    results = world.ledger.submit_documents([first, second], [refusal, CHECKED])
    assert isinstance(results[0], Rejected) and results[0].reason is Reason.bad_signature
    assert isinstance(results[1], Receipt) and results[1].seq == head + 1
    assert world.holding("DT", "A1")["tradable"] == 4


def test_verdicts_must_match_the_documents_one_for_one(template: WorldTemplate,
                                                      tmp_path: Path) -> None:
    world = template.copy_into(tmp_path)
    head = world.head()
    with pytest.raises(ValueError, match="1 verdicts for 2 documents"):
        world.ledger.submit_documents([transfer(world, "hn", "HN", "DT", "A1", 1)] * 2,
                                      [CHECKED])
    assert world.head() == head


def test_a_genesis_is_always_checked_by_the_engine(migrated_template: Path, tmp_path: Path,
                                                   clock: FixedClock) -> None:
    """A verdict cannot vouch for a genesis: its domain is its own, and the engine checks it."""
    from ledger.engine import Ledger

    registry, impostor = fresh_wallet(), fresh_wallet()
    genesis = impostor.sign(OPERATIONS.instruction(
        "genesis", registry="registry", registryName="Test registry",
        registryKey=registry.address, chainId=31337, rules="",
        deadline=int(clock().timestamp()) + 60))
    document = genesis.as_json()
    document["approvals"][0]["signer"] = registry.address  # claims the registry signed it
    shutil.copy(migrated_template, tmp_path / "new.db")
    ledger = Ledger(Store(sqlite_url(tmp_path / "new.db")), OPERATIONS, clock)
    (result,) = ledger.submit_documents([document], [CHECKED])
    assert isinstance(result, Rejected) and result.reason is Reason.bad_signature


def test_a_forgery_vouched_for_is_caught_before_any_checkpoint_is_signed(
        template: WorldTemplate, tmp_path: Path) -> None:
    """The trust boundary: a stage that vouched for a forged signature gets it journaled, and
    the checkpointer, re-executing the entry, refuses to sign and names it."""
    world = template.copy_into(tmp_path)
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    forgery = forged(transfer(world, "hn", "HN", "DT", "A1", 5))
    (receipt,) = world.ledger.submit_documents([forgery], [CHECKED])
    assert isinstance(receipt, Receipt)
    with pytest.raises(TransitionDiffers, match=rf"^entry {receipt.seq}: refused when "
                                                r"re-executed .*bad_signature"):
        checkpointer.cut()
