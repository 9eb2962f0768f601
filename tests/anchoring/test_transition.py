"""Transition-checked checkpoints (anchoring/operator/transition.py): before checkpoint K is
signed, the entries since K-1 are re-executed against K-1's committed state, and the cut is
refused, naming the first entry, when an entry or the state it leaves differs from the journal
and the tables. Nothing is written then: not the checkpoint, not even its marker.

The insider of issue 13 (finding 12) holds the database and the operator's key: they change a
lot's holder with SQL and have the wrongful holder transfer the units. Without the check the
checkpointer signs the forged state and a proof of the lot verifies; with it, the cut names
the transfer. Honest histories (tests/anchoring/ledger_history.py, the pledge lifecycle, many
lots in one holding, mixed submissions) are cut without a false alarm, by the process that
holds the tree and by one that loads it (the CLI)."""

from __future__ import annotations

from typing import Any

import pytest

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer, latest_checkpoint
from anchoring.operator.errors import StoreInconsistent, TransitionDiffers
from anchoring.operator.lot_index import LotIndex
from ledger.clock import FixedClock
from ledger.store.database import Store
from ledger.store.errors import StoreError, StoreFailure
from tests.anchoring.ledger_history import OPERATOR_KEY, History, build_history
from tests.anchoring.test_leaf_kinds import TallyLedger
from tests.pledge.conftest import populate
from tests.pledge.helpers import by, register
from tests.world import World


def _sql(store: Store, *statements: tuple[str, dict[str, Any]]) -> None:
    """An insider's edits, behind the ledger's back (in one transaction, on either database)."""
    with store.write() as tx:
        for statement, params in statements:
            tx.execute(statement, params)


def _signed_count(store: Store) -> tuple[int, int]:
    """(checkpoints stored, journal head): what a refused cut must leave as it was."""
    with store.read() as tx:
        latest = latest_checkpoint(tx)
        return (latest.number if latest else 0), tx.head


@pytest.fixture
def history(any_store: Store, clock: FixedClock) -> History:
    """Checkpoints 1-3 of the shared history; entry 18 (HN sends GW 1 t of A1) pending."""
    return build_history(any_store, clock)


def _lot_of(store: Store, account: str, batch: str) -> tuple[str, int, int]:
    with store.read() as tx:
        row = tx.one("SELECT id, serial_first, serial_last FROM lots WHERE account = :a AND "
                     "batch = :b AND state = 'tradable' ORDER BY serial_first LIMIT 1",
                     {"a": account, "b": batch})
    return row[0], int(row[1]), int(row[2])


# --- the insider: a lot's holder changed with SQL ---------------------------------------------

def _steal_with_the_holdings(history: History) -> tuple[str, int, int]:
    """HN's lowest A1 lot moves to GW in the lots table, and its units with it in the holdings
    table, so that the two tables agree with each other (not with the journal)."""
    lot_id, first, last = _lot_of(history.store, "HN", "A1")
    quantity = last - first + 1
    _sql(history.store,
         ("UPDATE lots SET account = 'GW' WHERE id = :id", {"id": lot_id}),
         ("UPDATE holdings SET tradable = tradable - :q WHERE account = 'HN' AND batch = 'A1'",
          {"q": quantity}),
         ("UPDATE holdings SET tradable = tradable + :q WHERE account = 'GW' AND batch = 'A1'",
          {"q": quantity}))
    return lot_id, first, last


def test_without_the_check_the_forgery_is_signed_and_proven(history: History) -> None:
    """The failure of finding 12, kept reproducible: the checkpointer that trusts the tables
    signs the stolen units, and a proof bundle of them verifies."""
    _, first, last = _steal_with_the_holdings(history)
    history.world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1",
                     quantity=last - first + 1, serialFirst=first, serialLast=last)
    trusting = Checkpointer(history.world.ledger, OPERATOR_KEY, check_transitions=False)
    trusting.cut()
    stolen = _lot_of(history.store, "HN", "A1")[0]
    verified = verify_bundle(Prover(history.store).lot(stolen), history.operator)
    assert "held by account HN" in verified.statement


def test_the_cut_names_the_transfer_of_stolen_units(history: History) -> None:
    _, first, last = _steal_with_the_holdings(history)
    receipt = history.world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1",
                               quantity=last - first + 1, serialFirst=first, serialLast=last)
    before = _signed_count(history.store)

    with pytest.raises(TransitionDiffers) as refused:
        history.checkpointer.cut()
    assert str(refused.value).startswith(
        f"entry {receipt.seq}: refused when re-executed against checkpoint 3's state: "
        "serials_not_held"), refused.value
    assert isinstance(refused.value, StoreInconsistent)
    assert _signed_count(history.store) == before  # no checkpoint, no marker
    # a process that loads the tree from the database refuses it too, and so does a retry
    with pytest.raises(TransitionDiffers, match=f"^entry {receipt.seq}: refused"):
        Checkpointer(history.world.ledger, OPERATOR_KEY).cut()
    with pytest.raises(TransitionDiffers, match=f"^entry {receipt.seq}: refused"):
        history.checkpointer.cut()
    assert _signed_count(history.store) == before


def test_the_engine_refuses_to_spend_a_lot_its_holding_does_not_count(history: History) -> None:
    """The insider's edit of the lots table alone: GW's A1 holding (70 t at most) does not
    count the 930 t lot now in its name, and spending it would take the holding below zero."""
    lot_id, first, last = _lot_of(history.store, "HN", "A1")
    _sql(history.store, ("UPDATE lots SET account = 'GW' WHERE id = :id", {"id": lot_id}))
    head = history.world.head()
    holding = history.world.holding("GW", "A1")

    for how in ({"quantity": last - first + 1, "serialFirst": first, "serialLast": last},
                {"quantity": last - first + 1}):
        with pytest.raises(StoreError) as refused:
            history.world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1",
                             **how)
        assert refused.value.code is StoreFailure.store_inconsistent
        assert "holding (GW, A1)" in refused.value.detail
        assert "run `carbonledger audit`" in str(refused.value)
        assert history.world.head() == head
        assert history.world.holding("GW", "A1") == holding  # nothing written
        assert history.world.holding("GW", "A1")["tradable"] >= 0


# --- other edits behind the ledger's back -----------------------------------------------------

def test_an_entry_whose_effects_were_rewritten_is_named(history: History) -> None:
    """The pending entry's effects changed and its leaf hash recomputed: the log check passes,
    the re-execution does not."""
    with history.store.write() as tx:
        entry = bytes(tx.one("SELECT entry FROM journal WHERE seq = 18")[0])
        forged = entry.replace(b'"account":"GW"', b'"account":"HN"', 1)
        assert forged != entry
        tx.execute("UPDATE journal SET entry = :entry, leaf_hash = :hash WHERE seq = 18",
                   {"entry": forged, "hash": leaf_hash(forged)})
    with pytest.raises(TransitionDiffers, match=r"^entry 18: re-executed against checkpoint 3's "
                                                r"state it differs in its effects \(created"):
        history.checkpointer.cut()


def test_an_inserted_entry_is_named(history: History) -> None:
    """An insider appends an entry of their own making: a copy of entry 18 with a larger
    quantity, its hash recomputed. Nobody signed it."""
    with history.store.write() as tx:
        row = tx.one("SELECT instruction_id, body_hash, op, entry, accepted_at FROM journal "
                     "WHERE seq = 18")
        forged = bytes(row[3]).replace(b'"seq":18', b'"seq":19', 1).replace(
            b'"quantity":1', b'"quantity":2', 1)
        instruction_id = bytes(row[0])
        tx.execute("INSERT INTO journal (seq, instruction_id, body_hash, op, entry, leaf_hash, "
                   "accepted_at) VALUES (19, :id, :body, :op, :entry, :hash, :at)",
                   {"id": bytes([instruction_id[0] ^ 1]) + instruction_id[1:],
                    "body": bytes(row[1]), "op": row[2], "entry": forged,
                    "hash": leaf_hash(forged), "at": row[4]})
        tx.execute("UPDATE journal_head SET seq = 19")
    with pytest.raises(TransitionDiffers, match=r"^entry 19: refused when re-executed against "
                                                r"checkpoint 3's state: bad_signature"):
        history.checkpointer.cut()


def test_an_edited_holding_is_named(history: History) -> None:
    """GW's A1 holding, which pending entry 18 credits, is given 5 t more."""
    _sql(history.store, ("UPDATE holdings SET tradable = tradable + 5 WHERE account = 'GW' "
                         "AND batch = 'A1'", {}))
    with pytest.raises(TransitionDiffers) as refused:
        history.checkpointer.cut()
    message = str(refused.value)
    assert message.startswith('entry 18: re-executed it gives {"account":"GW","batch":"A1",')
    assert '"tradable":1}, the tables hold {"account":"GW","batch":"A1",' in message
    assert '"tradable":6}' in message


def test_an_edited_lot_row_of_an_entry_is_named(history: History) -> None:
    """The lot entry 18 gave GW is put in another account after the fact."""
    _sql(history.store, ("UPDATE lots SET account = 'HN' WHERE created_seq = 18 AND "
                         "account = 'GW'", {}))
    with pytest.raises(TransitionDiffers, match='^entry 18: re-executed it gives '
                                                r'{"account":"GW"'):
        history.checkpointer.cut()


def test_a_pledge_row_edited_after_its_entry_is_named(world: World) -> None:
    market = populate(world)
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    register(market)
    checkpointer.cut()
    released = by(market, ("icbc",), "pledge_release", pledge="P1", quantity=100)
    _sql(market.store, ("UPDATE pledges SET released = 300 WHERE id = 'P1'", {}))
    with pytest.raises(TransitionDiffers) as refused:
        checkpointer.cut()
    assert str(refused.value).startswith(
        f"entry {released.seq}: its row ['P1'] of table pledges re-executes as"), refused.value
    assert "'released': 100" in str(refused.value) and "'released': 300" in str(refused.value)
    _sql(market.store, ("UPDATE pledges SET released = 100 WHERE id = 'P1'", {}))
    checkpointer.cut()  # put back, the same entries are cut


# --- honest histories: no false alarm ---------------------------------------------------------

def test_an_honest_pledge_lifecycle_is_cut_by_a_held_and_a_fresh_process(world: World) -> None:
    """Pledge rows change in place; the re-execution reads each as it was at the previous
    checkpoint (row_undo), so a release, an amendment and an enforcement after a
    checkpoint re-execute as they were accepted."""
    market = populate(world)
    held = Checkpointer(market.ledger, OPERATOR_KEY)
    register(market)
    held.cut()
    by(market, ("icbc",), "pledge_release", pledge="P1", quantity=100)
    by(market, ("icbc",), "pledge_release", pledge="P1", quantity=50)
    held.cut()
    by(market, ("icbc",), "pledge_release", pledge="P1", quantity=10)
    Checkpointer(market.ledger, OPERATOR_KEY).cut()  # the CLI: loads the tree
    by(market, ("icbc",), "pledge_release", pledge="P1", quantity=10)
    last = held.cut()  # finds a newer checkpoint than its own, rebuilds, checks
    # what the next re-execution needs starts after the last checkpoint: nothing older is kept
    with market.store.read() as tx:
        kept = tx.all("SELECT seq FROM row_undo")
    assert kept == [] and last.log_size > 0
    by(market, ("icbc",), "pledge_release", pledge="P1", quantity=10)
    with market.store.read() as tx:
        assert {row[0] for row in tx.all("SELECT seq FROM row_undo")} == {last.log_size}
    held.cut()


def test_many_lots_in_one_holding_and_mixed_submissions(world: World) -> None:
    """A holding of 40 lots (far beyond the first page the engine reads), spent by quantity
    and by range, with issues, transfers, a freeze and retirements in one submission."""
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 10_000)
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    for k in range(40):  # every other 10 t goes to GW: 40 lots there, 41 left in HN
        world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1",
                 quantity=10, serialFirst=20 * k + 1, serialLast=20 * k + 10)
    checkpointer.cut()
    sign = world.wallets
    submission = [
        sign["gw"].sign(world.instruction("transfer", fromAccount="GW", toAccount="HN",
                                          batch="A1", quantity=255)),
        sign["registry"].sign(world.instruction(
            "issue_batch", batch="A2", scheme="CN-ETS", kind="allowance", vintage=2025,
            issuance="free_allocation", quantity=500, account="GW")),
        sign["gw"].sign(world.instruction("transfer", fromAccount="GW", toAccount="HN",
                                          batch="A2", quantity=120)),
        sign["huaneng"].sign(world.instruction("retire", account="HN", batch="A1",
                                               quantity=300, beneficiary="b", reason="r",
                                               claim="c")),
        sign["gw"].sign(world.instruction("transfer", fromAccount="GW", toAccount="HN",
                                          batch="A1", quantity=10, serialFirst=781,
                                          serialLast=790)),
        sign["registry"].sign(world.instruction("freeze_account", account="GW",
                                                reason="audit")),
        sign["gw"].sign(world.instruction("transfer", fromAccount="GW", toAccount="HN",
                                          batch="A1", quantity=1)),  # refused: frozen
    ]
    results = world.ledger.submit_many(submission)
    assert [type(r).__name__ for r in results] == ["Receipt"] * 6 + ["Rejected"]
    Checkpointer(world.ledger, OPERATOR_KEY).cut()  # the CLI: loads the tree
    world.by("registry", "unfreeze_account", account="GW", reason="done")
    world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1", quantity=95)
    checkpointer.cut()  # rebuilds (another process cut), indexes, re-executes, moves on
    _index_matches_a_fresh_one(checkpointer)


def test_the_history_of_the_audit_tests_is_cut_without_a_false_alarm(history: History) -> None:
    assert [c.log_size for c in history.checkpoints] == [10, 14, 18]  # all three were checked
    history.cut()
    _index_matches_a_fresh_one(history.checkpointer)


def _index_matches_a_fresh_one(checkpointer: Checkpointer) -> None:
    """The lot index moved from checkpoint to checkpoint is the one built from the leaves."""
    with checkpointer.ledger.store.read() as tx:
        latest = latest_checkpoint(tx)
        assert latest is not None
        checkpointer.state.sync(tx, latest.number, latest.state_root)
    moved = checkpointer.state.lot_index()
    built = LotIndex.of(checkpointer.state.leaves.values())
    assert moved.leaves == built.leaves
    for lot in map(built.lot, built.leaves):
        assert moved.held(lot.account, lot.batch, lot.state, 10**6, 0) == \
            built.held(lot.account, lot.batch, lot.state, 10**6, 0)
        assert moved.overlapping(lot.batch, lot.first, lot.last) == \
            built.overlapping(lot.batch, lot.first, lot.last)


def test_a_modules_leaf_kind_edited_after_its_entry_is_named(sqlite_store: Store,
                                                             clock: FixedClock) -> None:
    """tests/tally/'s leaf kind: a count the window's entry changed, edited before the cut
    (the pledge module declares no leaf kind of its own: its rows are checked as above)."""
    tally = TallyLedger(sqlite_store, clock)
    tally.add("wells", 5)
    tally.checkpointer.cut()
    tally.add("wells", 1)
    with sqlite_store.read() as tx:
        head = tx.head
    _sql(sqlite_store, ("UPDATE tally_counts SET count = 600 WHERE name = 'wells'", {}))
    with pytest.raises(TransitionDiffers) as refused:
        tally.checkpointer.cut()
    assert str(refused.value).startswith(
        f"entry {head}: its row ['wells'] of table tally_counts re-executes as "
        f"{{'name': 'wells', 'count': 6, 'updated_seq': {head}}}, the table holds "
        f"{{'name': 'wells', 'count': 600,"), refused.value
