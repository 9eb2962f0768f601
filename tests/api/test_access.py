"""Logging in with a registered key, and who may read which account: tried as each party, as
a stranger and as someone replaying what they saw."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.access import (
    CHALLENGE_TTL_S,
    TOKEN_TTL_S,
    AccessDenied,
    Sessions,
    Viewer,
    login_digest,
    policy_for,
    sessions_for,
)
from api.service import LedgerService, Parts
from custody.signatures import unsafe_sign_digest
from ledger.client import Wallet
from ledger.model import Role
from tests.pledge.helpers import by, register
from tests.world import World, fresh_wallet


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def market(world: World) -> World:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("datang", "emitter", "DT", "compliance")
    world.participant("icbc", "bank", "ICBC", "trading")
    world.participant("cec", "auditor")
    world.allocate("A1", "HN", 1000)
    return world


@pytest.fixture
def service(market: World) -> Iterator[LedgerService]:
    yield LedgerService(Parts(market.ledger))


def _login(sessions: Sessions, wallet: Wallet, participant: str) -> str:
    challenge, expires = sessions.challenge()
    digest = login_digest(sessions.domain, challenge, participant, expires)
    token, viewer = sessions.token(challenge, participant, expires,
                                   unsafe_sign_digest(wallet.private_key, digest))
    assert viewer.participant == participant
    return token


def test_a_participant_logs_in_with_its_key_and_its_token_says_who_it_is(
        market: World, service: LedgerService) -> None:
    sessions = sessions_for(service)
    token = _login(sessions, market.wallets["icbc"], "icbc")
    viewer = sessions.viewer(token)
    assert (viewer.participant, viewer.role) == ("icbc", Role.bank)
    assert viewer.key == market.wallets["icbc"].address


def test_a_challenge_is_used_once(market: World, service: LedgerService) -> None:
    sessions = sessions_for(service)
    challenge, expires = sessions.challenge()
    signature = unsafe_sign_digest(market.wallets["icbc"].private_key,
                                   login_digest(sessions.domain, challenge, "icbc", expires))
    sessions.token(challenge, "icbc", expires, signature)
    with pytest.raises(AccessDenied, match="unknown, used or expired") as replayed:
        sessions.token(challenge, "icbc", expires, signature)
    assert replayed.value.status == 401


def test_expired_challenges_and_tokens_are_refused(market: World,
                                                   service: LedgerService) -> None:
    clock = Clock()
    sessions = sessions_for(service, clock=clock)
    challenge, expires = sessions.challenge()
    clock.now += CHALLENGE_TTL_S + 1
    signature = unsafe_sign_digest(market.wallets["icbc"].private_key,
                                   login_digest(sessions.domain, challenge, "icbc", expires))
    with pytest.raises(AccessDenied, match="expired"):
        sessions.token(challenge, "icbc", expires, signature)
    token = _login(sessions, market.wallets["icbc"], "icbc")
    clock.now += TOKEN_TTL_S + 1
    with pytest.raises(AccessDenied, match="has expired"):
        sessions.viewer(token)


def test_a_key_of_another_participant_or_none_gets_no_token(market: World,
                                                             service: LedgerService) -> None:
    sessions = sessions_for(service)
    with pytest.raises(AccessDenied, match="is not an active key of icbc"):
        _login(sessions, market.wallets["huaneng"], "icbc")  # huaneng's key, icbc's name
    with pytest.raises(AccessDenied, match="is not an active key"):
        _login(sessions, fresh_wallet(), "icbc")


def test_a_token_is_this_services_and_dies_with_its_key(market: World,
                                                        service: LedgerService) -> None:
    sessions = sessions_for(service)
    token = _login(sessions, market.wallets["icbc"], "icbc")
    with pytest.raises(AccessDenied, match="not issued by this service"):
        sessions_for(service).viewer(token)  # another secret: another service
    body, mac = token.split(".")
    with pytest.raises(AccessDenied):
        sessions.viewer(body[:-2] + "xx" + "." + mac)  # a changed body
    spare = fresh_wallet()
    market.by("icbc", "register_key", participant="icbc", key=spare.address)
    market.by("icbc", "revoke_key", participant="icbc", key=market.wallets["icbc"].address)
    with pytest.raises(AccessDenied, match="no longer active"):
        sessions.viewer(token)


def test_a_login_signature_is_not_an_instruction_signature(market: World,
                                                           service: LedgerService) -> None:
    """Signed under the ledger's domain as a `Login` struct: no instruction has its type."""
    sessions = sessions_for(service)
    challenge, expires = sessions.challenge()
    digest = login_digest(sessions.domain, challenge, "icbc", expires)
    instruction = market.instruction("register_participant", participant="x", name="X",
                                     role="bank")
    wallet = market.wallets["icbc"]
    assert digest != instruction.digest(market.ledger.domain, wallet.address, 1)


def test_who_may_read_an_account(market: World, service: LedgerService) -> None:
    sessions, policy = sessions_for(service), policy_for(service)

    def viewer(name: str) -> Viewer:
        return sessions.viewer(_login(sessions, market.wallets[name], name))

    huaneng, datang, icbc = viewer("huaneng"), viewer("datang"), viewer("icbc")
    registry, auditor = viewer("registry"), viewer("cec")
    assert policy.may_read_account(huaneng, "HN")
    assert not policy.may_read_account(datang, "HN")
    assert not policy.may_read_account(icbc, "HN")
    assert policy.may_read_account(registry, "HN")
    assert policy.may_read_account(auditor, "DT")
    assert not policy.may_read_account(huaneng, "NOPE")

    register(market, quantity=400)  # ICBC lends to Huaneng against 400 t of A1
    assert policy.may_read_account(icbc, "HN")
    assert not policy.may_read_account(icbc, "DT")
    by(market, ("icbc",), "pledge_release", pledge="P1", quantity=400)  # resolved
    assert not policy.may_read_account(icbc, "HN")

    with pytest.raises(AccessDenied) as anonymous:
        policy.require_account(None, "HN")
    assert anonymous.value.status == 401
    with pytest.raises(AccessDenied) as forbidden:
        policy.require_account(datang, "HN")
    assert forbidden.value.status == 403 and "only its holder" in forbidden.value.detail
    with pytest.raises(AccessDenied) as everything:
        policy.require_everything(huaneng, "the whole journal")
    assert everything.value.status == 403
    policy.require_everything(auditor, "the whole journal")
