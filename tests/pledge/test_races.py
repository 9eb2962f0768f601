"""Races between real processes, each with its own Store, on SQLite and on PostgreSQL.

Two parties act at once on the same units: exactly one wins, the other is refused with a named
reason, and nothing is lost — the ledger's and the agreements' invariants hold and a replay of
the journal rebuilds every projection. The journal head lock serialises writers, so the loser
always sees the winner's effects; these tests make sure each operation's checks then refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.clock import FixedClock
from ledger.invariants import check_invariants
from ledger.replay import replay_check
from ledger.store.database import Store
from pledge.invariants import check_agreement_invariants
from tests.ledger.multiprocess_helpers import Outcome, Workers
from tests.pledge.helpers import PLEDGE, REPO, agreement, by, signed
from tests.pledge.race_helpers import submit_at
from tests.world import OPERATIONS, World, fresh_wallet

pytestmark = pytest.mark.slow

ROUNDS = 3
LOT_T = 100
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    workers = Workers(2)
    yield workers
    workers.close()


@pytest.fixture
def market(any_store: Store) -> Iterator[World]:
    """HN holds 1,000 t of A1; ICBC is a bank. Huaneng and ICBC have a second key each, so
    that two processes can sign for the same party without sharing a nonce counter."""
    world = World.create(any_store, FixedClock(START))
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("icbc", "bank", "ICBC", "trading")
    world.participant("baowu", "emitter", "BW", "compliance")
    for party in ("huaneng", "icbc"):
        wallet = fresh_wallet()
        world.by("registry", "register_key", participant=party, key=wallet.address)
        world.wallets[f"{party}#2"] = wallet
    world.allocate("A1", "HN", 1000)
    yield world
    assert check_invariants(world.store) == []
    assert check_agreement_invariants(world.store) == []
    report = replay_check(world.store, OPERATIONS)
    assert report.ok, report.first_difference


def race(world: World, workers: Workers, *contenders: tuple[datetime, dict[str, Any]]
         ) -> tuple[Outcome, Outcome]:
    """Each (clock moment, signed instruction) in its own process, released together."""
    jobs = [(world.store.url, moment.isoformat(), [document]) for moment, document in contenders]
    first, second = (outcome for (outcome,) in workers.run(submit_at, jobs))
    assert (first.accepted, second.accepted).count(True) == 1, (first, second)
    return first, second


def document(world: World, signers: tuple[str, ...], op: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("deadline", int(world.clock().timestamp()) + 86_400)
    return signed(world, signers, op, **fields).as_json()


def test_release_against_enforce(market: World, workers: Workers) -> None:
    for r in range(ROUNDS):
        by(market, ("huaneng", "icbc"), "pledge_register",
           **(PLEDGE | dict(pledge=f"P{r}", quantity=LOT_T)))
    market.clock.moment = after_maturity = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    for r in range(ROUNDS):
        release, enforce = race(market, workers, (after_maturity, document(
            market, ("icbc",), "pledge_release", pledge=f"P{r}", quantity=LOT_T)),
            (after_maturity, document(market, ("icbc#2",), "pledge_enforce", pledge=f"P{r}",
                                      quantity=LOT_T, toAccount="ICBC")))
        loser = enforce if release.accepted else release
        assert loser.refused == "pledge_resolved"
        pledge = agreement(market, "pledges", f"P{r}")
        assert (pledge["released"], pledge["enforced"]) == (
            (LOT_T, 0) if release.accepted else (0, LOT_T))
    assert market.holding("HN", "A1")["pledged"] == 0


def test_transfer_against_pledge_of_the_same_units(market: World, workers: Workers) -> None:
    for r in range(ROUNDS):
        first, last = r * LOT_T + 1, (r + 1) * LOT_T
        serials = dict(batch="A1", quantity=LOT_T, serialFirst=first, serialLast=last)
        transfer, pledge = race(market, workers, (START, document(
            market, ("huaneng#2",), "transfer", fromAccount="HN", toAccount="BW", **serials)),
            (START, document(market, ("huaneng", "icbc"), "pledge_register",
                             **(PLEDGE | dict(pledge=f"P{r}") | serials))))
        if transfer.accepted:
            assert pledge.refused == "serials_not_held"
            assert market.lots("A1")[r][1:] == (last, "BW", "tradable")
        else:
            assert transfer.refused == "lot_under_lien"
            assert market.lots("A1")[r][1:] == (last, "HN", "pledged")


def test_close_against_default_at_the_repurchase_date(market: World,
                                                      workers: Workers) -> None:
    for r in range(ROUNDS):
        by(market, ("huaneng", "icbc"), "repo_open",
           **(REPO | dict(repo=f"R{r}", quantity=LOT_T)))
    # the last instant of 2026-09-30 in Beijing, and the first of the next day
    midnight = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    last_moment, next_day = midnight - timedelta(milliseconds=100), midnight
    market.clock.moment = last_moment
    for r in range(ROUNDS):
        close, default = race(market, workers, (last_moment, document(
            market, ("huaneng", "icbc"), "repo_close", repo=f"R{r}", quantity=LOT_T)),
            (next_day, document(market, ("icbc#2",), "repo_default", repo=f"R{r}",
                                defaulter="seller")))
        assert close.accepted != default.accepted  # one wins, whatever the order
        loser = default if close.accepted else close
        # The journal's times never go backwards (format 2): once an entry of the next day is
        # in (this round's default, or an earlier round's), a close is a close on the next day.
        assert loser.refused == "repo_resolved" or (
            loser is close and close.refused == "after_repurchase_date")
        assert agreement(market, "repos", f"R{r}")["status"] == (
            "closed" if close.accepted else "seller_defaulted")
    assert market.holding("ICBC", "A1")["pledged"] == 0
