"""The engine's guarantees: idempotency, nonces, deadlines, submissions of several, genesis
and rules."""

from __future__ import annotations

import json

import pytest

from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.errors import Reason, Rejected
from ledger.instructions import Instruction
from ledger.schemes import load_rules_dir
from ledger.store.database import Store
from tests.world import OPERATIONS, World, fresh_wallet


@pytest.fixture
def market(world: World) -> World:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("baowu", "emitter", "BW", "compliance")
    world.allocate("A1", "HN", 1000)
    return world


def _transfer(world: World, quantity: int = 10, **extra: object) -> Instruction:
    return world.instruction("transfer", fromAccount="HN", toAccount="BW", batch="A1",
                             quantity=quantity, **extra)


def test_resubmitting_an_instruction_returns_the_first_receipt(market: World) -> None:
    signed = market.wallets["huaneng"].sign(_transfer(market))
    first = market.submit(signed)
    again = market.submit(signed)
    assert again.duplicate and (again.seq, again.entry_hash) == (first.seq, first.entry_hash)
    assert market.holding("BW", "A1")["tradable"] == 10
    # re-signed with a fresh nonce, the same body is still the same instruction
    assert market.submit(market.wallets["huaneng"].sign(signed.instruction)).seq == first.seq


def test_an_id_reused_for_another_body_is_refused(market: World) -> None:
    first = _transfer(market)
    market.submit(market.wallets["huaneng"].sign(first))
    other = _transfer(market, quantity=11, instruction_id=first.id)
    with pytest.raises(Rejected) as refused:
        market.submit(market.wallets["huaneng"].sign(other))
    assert refused.value.reason == Reason.instruction_id_reused


def test_nonces_must_increase(market: World) -> None:
    wallet = market.wallets["huaneng"]
    market.submit(wallet.sign(_transfer(market)))
    wallet.nonce -= 1  # the next signature reuses the last nonce
    with pytest.raises(Rejected) as refused:
        market.submit(wallet.sign(_transfer(market)))
    assert refused.value.reason == Reason.stale_nonce
    wallet.nonce += 1000  # gaps are allowed
    market.submit(wallet.sign(_transfer(market)))


def test_expired_deadline(market: World) -> None:
    instruction = _transfer(market, deadline=int(market.clock().timestamp()) + 60)
    market.clock.advance(seconds=61)
    with pytest.raises(Rejected) as refused:
        market.submit(market.wallets["huaneng"].sign(instruction))
    assert refused.value.reason == Reason.deadline_expired
    assert not refused.value.retryable


def test_a_refused_operation_in_a_submission_refuses_nothing_else(market: World) -> None:
    wallet = market.wallets["huaneng"]
    submission = [wallet.sign(_transfer(market, 100)), wallet.sign(_transfer(market, 5000)),
                  market.wallets["baowu"].sign(_transfer(market, 1)),
                  wallet.sign(_transfer(market, 200))]
    results = market.ledger.submit_many(submission)
    assert [getattr(r, "reason", None) for r in results] == [
        None, Reason.insufficient_tradable, Reason.not_account_holder, None]
    assert results[3].seq == results[0].seq + 1  # type: ignore[union-attr]
    assert market.holding("BW", "A1")["tradable"] == 300
    assert market.holding("HN", "A1")["tradable"] == 700


def test_a_submission_sees_its_own_earlier_operations(market: World) -> None:
    huaneng, baowu = market.wallets["huaneng"], market.wallets["baowu"]
    results = market.ledger.submit_many([
        huaneng.sign(_transfer(market, 1000)),
        baowu.sign(market.instruction("transfer", fromAccount="BW", toAccount="HN",
                                      batch="A1", quantity=400)),
        huaneng.sign(_transfer(market, 400)),
        huaneng.sign(_transfer(market, 1)),
    ])
    assert [getattr(r, "reason", None) for r in results] == [
        None, None, None, Reason.insufficient_tradable]
    assert {account for _, _, account, _ in market.lots("A1")} == {"BW"}
    assert market.holding("BW", "A1")["tradable"] == 1000


def test_genesis_once_and_first(sqlite_store: Store, clock: FixedClock) -> None:
    ledger = Ledger(sqlite_store, OPERATIONS, clock)
    registry = fresh_wallet()
    with pytest.raises(Rejected) as refused:
        ledger.submit(registry.sign(OPERATIONS.instruction("register_participant", participant="p",
                                                    name="P", role="bank")))
    assert refused.value.reason == Reason.ledger_not_initialized
    world = World.create(sqlite_store, clock)
    with pytest.raises(Rejected) as refused:
        world.by("registry", "genesis", registry="r2", registryName="R2",
                 registryKey=world.registry.address, chainId=31337, rules="{}")
    assert refused.value.reason == Reason.ledger_already_initialized


def test_genesis_is_signed_by_the_key_it_registers(sqlite_store: Store,
                                                   clock: FixedClock) -> None:
    ledger = Ledger(sqlite_store, OPERATIONS, clock)
    instruction = OPERATIONS.instruction("genesis", registry="r", registryName="R",
                                  registryKey=fresh_wallet().address, chainId=31337,
                                  rules=json.dumps({}))
    with pytest.raises(Rejected) as refused:
        ledger.submit(fresh_wallet().sign(instruction))
    assert refused.value.reason == Reason.bad_signature


def test_scheme_rules_are_journaled_and_applied(market: World) -> None:
    market.participant("li", "individual", "LI", "individual")
    market.issue_credits("C1", "HN", 10)
    rules = load_rules_dir()["CCER"].as_json()
    rules["holders"]["credit"] = ["treasury", "compliance"]
    market.by("registry", "set_scheme_rules", scheme="CCER", rules=json.dumps(rules))
    market.refused(Reason.account_type_cannot_hold, "huaneng", "transfer", fromAccount="HN",
                   toAccount="LI", batch="C1", quantity=1)
    bad = dict(rules, holders={"allowance": ["trading"]})
    market.refused(Reason.invalid_rules, "registry", "set_scheme_rules", scheme="CCER",
                   rules=json.dumps(bad))
    market.refused(Reason.invalid_rules, "registry", "set_scheme_rules", scheme="CN-ETS",
                   rules=json.dumps(rules))
    with_individuals = dict(rules, scheme="X", kinds=["allowance"],
                            holders={"allowance": ["individual"]})
    market.refused(Reason.invalid_rules, "registry", "set_scheme_rules", scheme="X",
                   rules=json.dumps(with_individuals))


def test_malformed_documents_are_refused_by_name() -> None:

    with pytest.raises(Rejected) as refused:
        OPERATIONS.parse_signed({"op": "mint", "id": "0x" + "00" * 32, "deadline": 1, "fields": {},
                      "approvals": []})
    assert refused.value.reason == Reason.unknown_operation
    broken: object  # documents that are not signed instructions, each wrong its own way
    for broken in ({}, [], {"op": "transfer"}):
        with pytest.raises(Rejected) as refused:
            OPERATIONS.parse_signed(broken)
        assert refused.value.reason in (Reason.malformed_instruction, Reason.unknown_operation)
