"""Several processes write to one ledger at once, on SQLite and on PostgreSQL.

Conserved totals do not show a double spend (STACK.md: a run without row locks had 400
successes instead of 142 and the total still matched), so each test also counts successes
exactly, reconciles every account with the journal (`check_invariants`), checks that sequence
numbers are gapless, and finds every receipt a process was given in the journal at the seq it
was told. Each process signs with its own key, so its nonces only increase.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator

import pytest

from ledger.client import Wallet
from ledger.clock import FixedClock, utc_now
from ledger.invariants import check_invariants
from ledger.store.database import Store
from tests.ledger.multiprocess_helpers import (
    Outcome,
    TransferPlan,
    Workers,
    assert_gapless,
    assert_in_journal,
    assert_nothing_negative,
    submit_signed,
    submit_transfers,
)
from tests.world import World, fresh_wallet

pytestmark = pytest.mark.slow

PROCESSES = 4
BALANCE_T = 1_000
AMOUNT_T = 7  # 1,000 // 7 = 142 transfers can succeed, of 4 x 60 attempted
ATTEMPTS = 60


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    workers = Workers(PROCESSES)
    yield workers
    workers.close()


@pytest.fixture
def world(any_store: Store) -> Iterator[World]:
    """A ledger on either database; every invariant is checked when the test ends."""
    world = World.create(any_store, FixedClock(utc_now()))
    yield world
    world.assert_invariants()


def add_keys(world: World, participant: str, count: int) -> list[Wallet]:
    """Register `count` more keys of `participant`: one per process, each with its own nonces."""
    wallets = [fresh_wallet() for _ in range(count)]
    for wallet in wallets:
        world.by("registry", "register_key", participant=participant, key=wallet.address)
    return wallets


def one_source_many_sinks(world: World) -> list[Wallet]:
    """SRC holds BALANCE_T of batch A1; D0..D3 are empty; one holder key per process."""
    world.participant("holder", "emitter", "SRC", "compliance")
    world.participant("sink", "emitter", "D0", "trading")
    for p in range(1, PROCESSES):
        world.by("registry", "open_account", account=f"D{p}", participant="sink",
                 accountType="trading")
    world.allocate("A1", "SRC", BALANCE_T)
    return add_keys(world, "holder", PROCESSES)


def journaled_transfers(store: Store, after_seq: int) -> dict[str, dict]:
    """The fields of every transfer journaled after `after_seq`, by instruction id."""
    with store.read() as tx:
        rows = tx.journal_rows(after_seq + 1, tx.head + 1)
    return {"0x" + row.instruction_id.hex(): json.loads(row.entry)["instruction"]["fields"]
            for row in rows if row.op == "transfer"}


def flat(lists: Iterable[list[Outcome]]) -> list[Outcome]:
    return list(itertools.chain.from_iterable(lists))


def accepted_ids(outcomes: list[Outcome]) -> set[str]:
    return {o.instruction_id for o in outcomes if o.accepted}


def assert_sound(store: Store, outcomes: list[Outcome]) -> None:
    """What every test ends with: the ledger reconciles and told each process the truth."""
    assert_nothing_negative(store)
    assert check_invariants(store) == []
    assert_gapless(store)
    seqs = [o.seq for o in outcomes if o.accepted and not o.duplicate]
    assert len(seqs) == len(set(seqs)), "two submissions were told the same seq"
    assert_in_journal(store, outcomes)


def test_processes_spending_one_account_never_overspend(world: World,
                                                        workers: Workers) -> None:
    wallets = one_source_many_sinks(world)
    start_head = world.head()
    plans = [(TransferPlan(world.store.url, wallet.private_key, "A1",
                           (("SRC", f"D{p}", AMOUNT_T),) * ATTEMPTS,
                           stop_on="insufficient_tradable"),) for p, wallet in enumerate(wallets)]

    per_process = [flat(transactions) for transactions in workers.run(submit_transfers, plans)]

    accepted = [[o for o in outcomes if o.accepted] for outcomes in per_process]
    assert sum(map(len, accepted)) == BALANCE_T // AMOUNT_T
    for outcomes in per_process:
        # a process stops at its first refusal, which may only be for want of units
        refusals = [o.refused for o in outcomes if not o.accepted]
        assert refusals == ["insufficient_tradable"] or (not refusals
                                                         and len(outcomes) == ATTEMPTS)
    assert world.holding("SRC", "A1")["tradable"] == BALANCE_T % AMOUNT_T
    for p, mine in enumerate(accepted):
        assert world.holding(f"D{p}", "A1")["tradable"] == AMOUNT_T * len(mine)
    assert set(journaled_transfers(world.store, start_head)) == accepted_ids(flat(per_process))
    with world.store.read() as tx:
        last_nonces = dict(tx.all("SELECT address, last_nonce FROM signing_keys"))
    for wallet, mine in zip(wallets, accepted, strict=True):
        assert last_nonces[wallet.address] == max((o.nonce or 0 for o in mine), default=0)
    assert_sound(world.store, flat(per_process))


def test_opposing_transfers_settle_without_deadlock(world: World,
                                                    workers: Workers) -> None:
    world.participant("alpha", "emitter", "A", "compliance")
    world.participant("beta", "emitter", "B", "compliance")
    world.allocate("X1", "A", 600)
    world.by("alpha", "transfer", fromAccount="A", toAccount="B", batch="X1", quantity=300)
    start_head = world.head()
    quantities = [1 + i % 5 for i in range(50)]  # 150 t per process
    plans = [(TransferPlan(world.store.url, wallet.private_key, "X1",
                           tuple((source, destination, q) for q in quantities)),)
             for participant, source, destination in (("alpha", "A", "B"), ("beta", "B", "A"))
             for wallet in add_keys(world, participant, 2)]

    outcomes = flat(flat(transactions) for transactions in workers.run(submit_transfers, plans))

    # any other failure (a deadlock, a lock timeout) would have been raised in its process
    assert {o.refused for o in outcomes if not o.accepted} <= {"insufficient_tradable"}
    transfers = journaled_transfers(world.store, start_head)
    assert set(transfers) == accepted_ids(outcomes)
    a_to_b = sum(t["quantity"] for t in transfers.values() if t["fromAccount"] == "A")
    b_to_a = sum(t["quantity"] for t in transfers.values() if t["fromAccount"] == "B")
    assert world.holding("A", "X1")["tradable"] == 300 - a_to_b + b_to_a
    assert world.holding("B", "X1")["tradable"] == 300 + a_to_b - b_to_a
    assert_sound(world.store, outcomes)


def test_concurrent_submissions_refuse_only_their_bad_operations(world: World,
                                                                 workers: Workers) -> None:
    wallets = one_source_many_sinks(world)
    submission_size, submissions = 20, 5
    is_bad = [i % 5 == 4 for i in range(submission_size)]  # to an account that does not exist
    plans = [(TransferPlan(world.store.url, wallet.private_key, "A1", tuple(
        ("SRC", "NOWHERE" if is_bad[i % submission_size] else f"D{p}", AMOUNT_T)
        for i in range(submission_size * submissions)), submission_size=submission_size,
        stop_on="insufficient_tradable"),) for p, wallet in enumerate(wallets)]

    per_process = workers.run(submit_transfers, plans)

    for transactions in per_process:
        for outcomes in transactions:
            assert len(outcomes) == submission_size
            bad = [o for o, b in zip(outcomes, is_bad, strict=True) if b]
            good = [o for o, b in zip(outcomes, is_bad, strict=True) if not b]
            assert {o.refused for o in bad} == {"unknown_account"}
            # good transfers are accepted until the source runs dry, whatever sits between them
            taken = sum(o.accepted for o in good)
            assert all(o.accepted for o in good[:taken])
            assert all(o.refused == "insufficient_tradable" for o in good[taken:])
            # one submission is one transaction: its entries are consecutive in the journal
            seqs = [o.seq for o in outcomes if o.accepted]
            if seqs:
                assert seqs == list(range(seqs[0], seqs[0] + taken))
    accepted = [sum(o.accepted for o in flat(transactions)) for transactions in per_process]
    assert sum(accepted) == BALANCE_T // AMOUNT_T
    assert world.holding("SRC", "A1")["tradable"] == BALANCE_T % AMOUNT_T
    for p, count in enumerate(accepted):
        assert world.holding(f"D{p}", "A1")["tradable"] == AMOUNT_T * count
    assert_sound(world.store, flat(flat(transactions) for transactions in per_process))


def test_one_instruction_from_several_processes_is_journaled_once(world: World,
                                                                  workers: Workers) -> None:
    one_source_many_sinks(world)
    start_head = world.head()
    holder = world.wallets["holder"]
    documents = [holder.sign(world.instruction("transfer", fromAccount="SRC", toAccount="D0",
                                               batch="A1", quantity=1)).as_json()
                 for _ in range(30)]

    per_process = workers.run(submit_signed, [(world.store.url, documents)] * PROCESSES)

    for answers in zip(*per_process, strict=True):
        assert len({(o.seq, o.entry_hash) for o in answers}) == 1, answers
        assert sum(not o.duplicate for o in answers) == 1, answers
    assert set(journaled_transfers(world.store, start_head)) == {d["id"] for d in documents}
    assert world.holding("D0", "A1")["tradable"] == len(documents)
    assert_sound(world.store, flat(per_process))

