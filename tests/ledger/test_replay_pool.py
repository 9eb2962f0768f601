"""replay --check with a signature pool beside it (ledger/replay.py): the signatures of the next
group of entries are recovered in the pool's processes while this group is applied.

What an auditor relies on: the outcome is the replay's without a pool, entry for entry,
tampering included; the pool takes only its own good verdicts, and a pool that cannot help (a
process killed, another ledger's domain) changes nothing but the time.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator

import pytest

import api.service
import ledger.engine
import ledger.replay
from api.bootstrap import operation_set
from api.service import LedgerService, Parts
from ledger.instructions import make_domain
from ledger.parallel_signatures import SignaturePool
from ledger.replay import ReplayReport, replay_check
from tests.world import DOMAIN, OPERATIONS, World

pytestmark = pytest.mark.slow  # the pool's processes take a second or two to start

GROUP = 4  # entries a transaction: small, so that the replay reads ahead many times


@pytest.fixture(scope="module")
def pool() -> Iterator[SignaturePool]:
    with SignaturePool(DOMAIN, operation_set, processes=1) as pool:
        pool.wait_ready()
        yield pool


@pytest.fixture
def history(world: World) -> World:
    """A mix over several groups: onboarding, issuance, transfers both ways, a retirement, a
    freeze and a checkpoint marker between them."""
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 1000)
    world.issue_credits("C1", "GW", 500)
    for n in range(1, 8):
        world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1",
                 quantity=n)
        world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="C1", quantity=n)
    world.ledger.append_checkpoint_marker()
    world.by("gw", "retire", account="GW", batch="C1", quantity=5, beneficiary="b",
             reason="r", claim="c")
    world.by("registry", "freeze_account", account="GW", reason="audit")
    return world


class _Recoveries:
    """Counts the instructions whose signatures the engine recovers itself, from now on."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self.count = 0
        check = ledger.engine.check_signatures

        def counted(*args: object) -> object:
            self.count += 1
            return check(*args)  # type: ignore[arg-type]

        patch.setattr(ledger.engine, "check_signatures", counted)


def _replayed(world: World, pool: SignaturePool | None,
              monkeypatch: pytest.MonkeyPatch) -> tuple[ReplayReport, int]:
    """The report, and how many instructions the replaying engine recovered itself."""
    with monkeypatch.context() as patch:
        recoveries = _Recoveries(patch)
        report = replay_check(world.store, OPERATIONS, group_size=GROUP, pool=pool)
    return report, recoveries.count


def test_the_pool_recovers_the_signatures_and_the_replay_is_the_same(
        history: World, pool: SignaturePool, monkeypatch: pytest.MonkeyPatch) -> None:
    alone, recovered_alone = _replayed(history, None, monkeypatch)
    pooled, recovered_pooled = _replayed(history, pool, monkeypatch)
    assert alone.ok and pooled.ok, (alone.first_difference, pooled.first_difference)
    assert pooled.entries == alone.entries == history.head() + 1
    assert recovered_alone == history.head()  # every instruction but the marker
    # the first group (the genesis among them) goes before the ledger's domain is known
    assert recovered_pooled <= GROUP


def test_a_forged_entry_is_named_as_without_the_pool(
        history: World, pool: SignaturePool, monkeypatch: pytest.MonkeyPatch) -> None:
    db = sqlite3.connect(history.store.url.removeprefix("sqlite:///"))
    with db:
        seq, entry = db.execute("SELECT seq, entry FROM journal "
                                "WHERE op = 'freeze_account'").fetchone()
        db.execute("UPDATE journal SET entry = ? WHERE seq = ?",
                   (entry.replace(b'"audit"', b'"audiT"'), seq))
    try:
        alone, _ = _replayed(history, None, monkeypatch)
        pooled, _ = _replayed(history, pool, monkeypatch)
        assert alone.first_difference is not None
        assert alone.first_difference.startswith(f"entry {seq}: refused on replay: "
                                                  "bad_signature")
        assert pooled.first_difference == alone.first_difference
    finally:
        with db:
            db.execute("UPDATE journal SET entry = ? WHERE seq = ?", (entry, seq))
        db.close()


def test_a_pool_on_another_domain_changes_nothing_but_the_time(
        history: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with SignaturePool(make_domain(1), operation_set, processes=1) as other:
        other.wait_ready()
        report, recovered = _replayed(history, other, monkeypatch)
    assert report.ok, report.first_difference
    assert recovered == history.head()  # none of its verdicts was taken


def test_a_pool_process_killed_before_the_replay_changes_nothing_of_its_outcome(
        history: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with SignaturePool(DOMAIN, operation_set, processes=1) as doomed:
        doomed.wait_ready()
        process = doomed._workers[0].process
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(30)
        assert not process.is_alive()
        report, _ = _replayed(history, doomed, monkeypatch)
    assert report.ok, report.first_difference
    assert report.entries == history.head() + 1


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="a pool needs a core beside the replay")
def test_the_service_replays_a_long_journal_with_a_pool(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("huadian", "emitter", "HD", "compliance")
    world.allocate("A1", "HN", 1000)
    for n in range(1, 12):
        world.by("huaneng", "transfer", fromAccount="HN", toAccount="HD", batch="A1",
                 quantity=n)
    service = LedgerService(Parts(ledger=world.ledger, operations=operation_set))
    recoveries = _Recoveries(monkeypatch)
    alone = service.replay_check()
    assert alone.ok, alone.first_difference
    assert recoveries.count == world.head() + 1  # every entry, the genesis included
    # a journal this long counts as long: the service starts a pool for the replay
    monkeypatch.setattr(api.service, "POOL_FROM_REPLAY", world.head() + 1)
    monkeypatch.setattr(ledger.replay, "REPLAY_GROUP", GROUP)
    recoveries.count = 0
    pooled = service.replay_check()
    assert pooled.ok, pooled.first_difference
    assert pooled.entries == alone.entries
    assert recoveries.count < world.head()
