"""A replay of the journal rebuilds every pledge, repo, lien and history row exactly, and a
tampered projection is found."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.replay import replay_check
from tests.pledge.helpers import PLEDGE, PLEDGORS, REPO_PARTIES, by, open_repo, register, signed
from tests.world import OPERATIONS, World


def every_lifecycle(world: World) -> None:
    """Each operation at least once, in one and in several transactions, over both lien kinds;
    a submission of several registers and resolves a pledge within one transaction."""
    register(world)
    register(world, ("huaneng", "boc"), pledge="P2", pledgee="boc", quantity=50,
             serialFirst=901, serialLast=950)
    by(world, PLEDGORS, "pledge_amend", pledge="P1", loanReference="ICBC-2", principal=5_00,
       currency="USD", maturityDate="2027-01-31")
    by(world, ("icbc",), "pledge_release", pledge="P1", quantity=100)
    open_repo(world, quantity=200)
    open_repo(world, repo="R2", quantity=100, freeUse=True)
    by(world, REPO_PARTIES, "repo_close", repo="R1", quantity=50)
    world.allocate("SH1", "HNT", 30_000, scheme="CN-SH")
    open_repo(world, repo="R3", sellerAccount="HNT", batch="SH1", quantity=10_000)
    by(world, REPO_PARTIES, "repo_close", repo="R3", quantity=10_000)
    world.clock.moment = datetime(2027, 2, 1, tzinfo=UTC)
    # one transaction, several entries: the working set must carry rows between them
    results = world.ledger.submit_many([
        signed(world, PLEDGORS, "pledge_register",
               **(PLEDGE | dict(pledge="P3", quantity=5, maturityDate="2027-12-31"))),
        signed(world, ("icbc",), "pledge_release", pledge="P3", quantity=2),
        signed(world, ("icbc",), "pledge_release", pledge="P3", quantity=3),
        world.wallets["icbc"].sign(world.instruction(
            "pledge_enforce", pledge="P1", quantity=200, toAccount="ICBC")),
        world.wallets["icbc"].sign(world.instruction(
            "pledge_release", pledge="P1", quantity=100)),
        world.wallets["icbc"].sign(world.instruction(
            "repo_default", repo="R1", defaulter="seller")),
        world.wallets["huaneng"].sign(world.instruction(
            "repo_default", repo="R2", defaulter="buyer")),
    ])
    assert all(not hasattr(r, "reason") for r in results), results


def test_replay_reproduces_every_pledge_repo_and_lien(any_market: World) -> None:
    every_lifecycle(any_market)
    report = replay_check(any_market.store, OPERATIONS)
    assert report.ok, report.first_difference
    with any_market.store.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM liens")[0] == 5  # P1, P2, P3, R1, R3
        assert tx.one("SELECT COUNT(*) FROM agreement_events")[0] == 16


def test_replay_finds_a_tampered_pledge(market: World) -> None:
    every_lifecycle(market)
    with market.store.write() as tx:
        tx.execute("UPDATE pledges SET principal = principal + 1 WHERE id = 'P2'")
    report = replay_check(market.store, OPERATIONS)
    assert report.first_difference is not None
    assert report.first_difference.startswith("table pledges:")


def test_replay_finds_a_missing_history_row(market: World) -> None:
    every_lifecycle(market)
    where = "FROM agreement_events WHERE agreement = 'R2' AND op = 'repo_open'"
    with market.store.write() as tx:
        (seq, quantity), = tx.all(f"SELECT seq, quantity {where}")
        tx.execute(f"DELETE {where}")
    report = replay_check(market.store, OPERATIONS)
    assert report.first_difference is not None
    assert report.first_difference.startswith("table agreement_events:")
    with market.store.write() as tx:  # put it back, for the invariants checked at the end
        tx.execute("INSERT INTO agreement_events (agreement, seq, op, quantity) "
                   "VALUES ('R2', :seq, 'repo_open', :quantity)",
                   {"seq": seq, "quantity": quantity})
