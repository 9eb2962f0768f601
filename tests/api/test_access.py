"""Logging in with a registered key, and who may read which account: tried as each party, as
a stranger and as someone replaying what they saw, at one service and at two sharing a secret
and a store (two worker processes); and where the shared secret comes from."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api.access import (
    CHALLENGE_TTL_S,
    TOKEN_TTL_S,
    AccessDenied,
    Denial,
    Sessions,
    Viewer,
    login_digest,
    policy_for,
    sessions_for,
)
from api.config import ConfigError
from api.service import LedgerService, Parts
from api.session_key import SECRET_ENV, SESSION_KEY_FILE, session_secret
from custody.signatures import unsafe_sign_digest
from ledger.client import Wallet
from ledger.clock import FixedClock
from ledger.model import Role
from ledger.store.database import Store
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
    with pytest.raises(AccessDenied, match="used already") as replayed:
        sessions.token(challenge, "icbc", expires, signature)
    assert (replayed.value.status, replayed.value.denial) == (401, Denial.challenge_invalid)


def test_workers_sharing_a_secret_and_a_store_accept_each_others_logins_once(
        market: World, service: LedgerService) -> None:
    """Two worker processes: each its own Sessions, one secret, one store."""
    secret = os.urandom(32)
    first, second = (sessions_for(service, secret=secret) for _ in range(2))
    challenge, expires = first.challenge()  # issued by one worker...
    signature = unsafe_sign_digest(market.wallets["icbc"].private_key,
                                   login_digest(first.domain, challenge, "icbc", expires))
    token, _ = second.token(challenge, "icbc", expires, signature)  # ...redeemed at another
    assert first.viewer(token).participant == "icbc"  # and its token good at both
    for worker in (first, second):
        with pytest.raises(AccessDenied, match="used already"):
            worker.token(challenge, "icbc", expires, signature)


def test_a_challenge_is_the_services_own_with_its_own_expiry(market: World,
                                                            service: LedgerService) -> None:
    sessions = sessions_for(service)
    wallet = market.wallets["icbc"]

    def redeem(challenge: bytes, expires: int) -> None:
        signature = unsafe_sign_digest(wallet.private_key,
                                       login_digest(sessions.domain, challenge, "icbc", expires))
        sessions.token(challenge, "icbc", expires, signature)

    challenge, expires = sessions.challenge()
    for forged, forged_expiry in ((os.urandom(32), expires),  # made up
                                  (challenge, expires + 3600),  # its expiry moved on
                                  (sessions_for(service).challenge()[0], expires)):  # another's
        with pytest.raises(AccessDenied, match="did not issue this challenge"):
            redeem(forged, forged_expiry)
    with pytest.raises(AccessDenied, match="does not recover"):  # a bad signature...
        sessions.token(challenge, "icbc", expires, b"\x00" * 65)
    redeem(challenge, expires)  # ...does not use the challenge up


def test_expired_challenges_and_tokens_are_refused(market: World,
                                                   service: LedgerService) -> None:
    clock = Clock()
    sessions = sessions_for(service, clock=clock)
    challenge, expires = sessions.challenge()
    clock.now += CHALLENGE_TTL_S + 1
    signature = unsafe_sign_digest(market.wallets["icbc"].private_key,
                                   login_digest(sessions.domain, challenge, "icbc", expires))
    with pytest.raises(AccessDenied, match="the challenge expired"):
        sessions.token(challenge, "icbc", expires, signature)
    token = _login(sessions, market.wallets["icbc"], "icbc")
    clock.now += TOKEN_TTL_S + 1
    with pytest.raises(AccessDenied, match="has expired") as expired:
        sessions.viewer(token)
    assert expired.value.denial is Denial.token_expired


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
    assert policy.readable_accounts(huaneng) == {"HN"}
    assert policy.readable_accounts(icbc) == {"ICBC"}
    assert policy.readable_accounts(auditor) is None  # every account

    register(market, quantity=400)  # ICBC lends to Huaneng against 400 t of A1
    assert policy.may_read_account(icbc, "HN")
    assert policy.readable_accounts(icbc) == {"ICBC", "HN"}
    assert not policy.may_read_account(icbc, "DT")
    assert policy.may_read_agreement(icbc, ("huaneng", "icbc"))
    assert not policy.may_read_agreement(datang, ("huaneng", "icbc"))
    by(market, ("icbc",), "pledge_release", pledge="P1", quantity=400)  # resolved
    assert not policy.may_read_account(icbc, "HN")
    assert policy.readable_accounts(icbc) == {"ICBC"}

    with pytest.raises(AccessDenied) as anonymous:
        policy.require_account(None, "HN")
    assert anonymous.value.status == 401
    with pytest.raises(AccessDenied) as forbidden:
        policy.require_account(datang, "HN")
    assert forbidden.value.status == 403 and "only its holder" in forbidden.value.detail
    with pytest.raises(AccessDenied) as unknown:  # an account that does not exist: the same
        policy.require_account(datang, "NOPE")
    assert unknown.value.denial is Denial.account_forbidden
    with pytest.raises(AccessDenied) as not_a_party:
        policy.require_agreement(datang, "pledge P1", ("huaneng", "icbc"))
    assert not_a_party.value.denial is Denial.agreement_forbidden
    with pytest.raises(AccessDenied) as everything:
        policy.require_everything(huaneng, "the whole journal")
    assert everything.value.status == 403
    policy.require_everything(auditor, "the whole journal")


def test_the_session_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    made = session_secret(tmp_path, {})
    path = tmp_path / SESSION_KEY_FILE
    assert len(made) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session_secret(tmp_path, {}) == made  # the next worker reads the same
    assert list(tmp_path.iterdir()) == [path]  # no spare file left behind
    given = "ab" * 32
    assert session_secret(tmp_path, {SECRET_ENV: given}) == bytes.fromhex(given)
    with pytest.raises(ConfigError, match="at least 64 hex digits"):
        session_secret(tmp_path, {SECRET_ENV: "abcd"})
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        session_secret(tmp_path, {})


def test_a_redeemed_challenge_is_refused_by_every_process_of_the_store(
        any_store: Store, clock: FixedClock) -> None:
    """The store keeps a redeemed challenge until it expires: a second pool (another worker
    process) and threads racing on one challenge get it exactly once."""
    World.create(any_store, clock)  # a migrated store
    other = Store(any_store.url)  # another worker's connections
    try:
        challenge = os.urandom(32)
        assert any_store.redeem_login_challenge(challenge, 1_000, 900)
        assert not any_store.redeem_login_challenge(challenge, 1_000, 900)
        assert not other.redeem_login_challenge(challenge, 1_000, 950)
        raced = os.urandom(32)
        with ThreadPoolExecutor(8) as pool:
            won = list(pool.map(lambda store: store.redeem_login_challenge(raced, 1_000, 900),
                                [any_store, other] * 4))
        assert won.count(True) == 1
        assert other.redeem_login_challenge(os.urandom(32), 2_000, 1_001)  # the others expired
        with any_store.read() as tx:
            assert tx.all("SELECT expires FROM login_challenges") == [(2_000,)]
    finally:
        other.dispose()
