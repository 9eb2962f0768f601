"""register_participant, register_key, revoke_key, open_account, freeze and unfreeze."""

from __future__ import annotations

import pytest

from ledger.errors import Reason
from tests.world import World, fresh_wallet


def test_participants_accounts_and_keys(world: World) -> None:
    world.participant("icbc", "bank", "ICBC-T", "trading")
    with world.store.read() as tx:
        assert tx.one("SELECT role FROM participants WHERE id = 'icbc'")[0] == "bank"
        assert tx.one("SELECT type, frozen FROM accounts WHERE id = 'ICBC-T'")[0] == "trading"


@pytest.mark.parametrize(("role", "account_type"), [
    ("individual", "compliance"), ("bank", "compliance"), ("emitter", "individual"),
    ("verifier", "trading"), ("project_owner", "treasury"),
])
def test_account_types_follow_roles(world: World, role: str, account_type: str) -> None:
    world.participant("p", role)
    world.refused(Reason.account_type_not_for_role, "registry", "open_account", account="X",
                  participant="p", accountType=account_type)


def test_registration_refusals(world: World) -> None:
    world.participant("p", "emitter", "P", "compliance")
    world.refused(Reason.participant_exists, "registry", "register_participant",
                  participant="p", name="again", role="bank")
    world.refused(Reason.account_exists, "registry", "open_account", account="P",
                  participant="p", accountType="trading")
    world.refused(Reason.unknown_participant, "registry", "open_account", account="Q",
                  participant="nobody", accountType="trading")
    world.refused(Reason.key_exists, "registry", "register_key", participant="p",
                  key=world.wallets["p"].address)
    world.refused(Reason.role_not_permitted, "p", "register_participant", participant="q",
                  name="Q", role="bank")
    world.refused(Reason.malformed_instruction, "registry", "register_participant",
                  participant="q", name="Q", role="king")


def test_a_participant_manages_its_own_keys(world: World) -> None:
    world.participant("p", "emitter", "P", "compliance")
    world.participant("other", "emitter", "O", "compliance")
    second = fresh_wallet()
    world.wallets["p2"] = second
    world.by("p", "register_key", participant="p", key=second.address)
    world.refused(Reason.role_not_permitted, "other", "register_key", participant="p",
                  key=fresh_wallet().address)
    world.by("p2", "revoke_key", participant="p", key=world.wallets["p"].address)
    world.refused(Reason.key_revoked, "p", "open_account", account="Z", participant="p",
                  accountType="trading")
    world.refused(Reason.key_revoked, "p2", "revoke_key", participant="p",
                  key=world.wallets["p"].address)
    world.refused(Reason.unknown_key, "registry", "revoke_key", participant="other",
                  key=second.address)


def test_unregistered_keys_sign_nothing(world: World) -> None:
    world.wallets["stranger"] = fresh_wallet()
    world.refused(Reason.unregistered_key, "stranger", "register_participant",
                  participant="x", name="X", role="bank")


def test_freeze_and_unfreeze(world: World) -> None:
    world.participant("p", "emitter", "P", "compliance")
    world.refused(Reason.account_not_frozen, "registry", "unfreeze_account", account="P",
                  reason="none")
    world.by("registry", "freeze_account", account="P", reason="court order 17")
    world.refused(Reason.account_already_frozen, "registry", "freeze_account", account="P",
                  reason="again")
    world.refused(Reason.role_not_permitted, "p", "unfreeze_account", account="P",
                  reason="mine")
    with world.store.read() as tx:
        assert tuple(tx.one("SELECT frozen, freeze_reason FROM accounts WHERE id = 'P'")) in (
            (1, "court order 17"), (True, "court order 17"))
    world.by("registry", "unfreeze_account", account="P", reason="lifted")
    world.refused(Reason.unknown_account, "registry", "freeze_account", account="Q",
                  reason="x")
