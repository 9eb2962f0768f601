"""register_participant, register_key, revoke_key, rotate_key: who may sign for whom."""

from __future__ import annotations

from dataclasses import replace

from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.formats import strict_admission
from ledger.model import Participant, Role, SigningKey
from ledger.ops.context import Context
from ledger.payloads import RegisterKey, RegisterParticipant, RevokeKey, RotateKey


def register_participant(p: RegisterParticipant, ctx: Context) -> Changes:
    ctx.require_registry()
    require(ctx.ws.participants.get(p.participant) is None, Reason.participant_exists,
            p.participant)
    return Changes(participants=[Participant(p.participant, p.name, p.role, ctx.seq)])


def _require_registry_or_self(ctx: Context, participant_id: str) -> None:
    if ctx.is_signed_by(participant_id):
        return
    if any(s.participant.role == Role.registry for s in ctx.signers):
        return
    raise Rejected(Reason.role_not_permitted,
                   f"only {participant_id} itself or the registry may manage its keys")


def register_key(p: RegisterKey, ctx: Context) -> Changes:
    ctx.participant(p.participant)
    _require_registry_or_self(ctx, p.participant)
    require(ctx.ws.keys.get(p.key) is None, Reason.key_exists, p.key)
    return Changes(keys=[SigningKey(p.key, p.participant, ctx.seq, None, 0)])


def revoke_key(p: RevokeKey, ctx: Context) -> Changes:
    participant = ctx.participant(p.participant)
    _require_registry_or_self(ctx, p.participant)
    key = _active_key_of(ctx, p.participant, p.key)
    # Nobody stands above the registry to give it a new key: its last one must stay. (Format 2
    # on: earlier entries were admitted without this rule and replay as they were.)
    if participant.role == Role.registry and strict_admission():
        others = [k for k in ctx.ws.active_keys_of(p.participant) if k.address != p.key]
        require(bool(others), Reason.last_registry_key, p.key)
    return Changes(keys=[replace(key, revoked_seq=ctx.seq)])


def rotate_key(p: RotateKey, ctx: Context) -> Changes:
    """Register the new key and revoke the old in one step, signed by the old key: a
    participant — the registry included — is never without an active key in between."""
    ctx.participant(p.participant)
    old = _active_key_of(ctx, p.participant, p.old_key)
    require(any(s.address == p.old_key for s in ctx.signers), Reason.missing_signature,
            f"a rotation is signed by the key it retires, {p.old_key}")
    require(ctx.ws.keys.get(p.new_key) is None, Reason.key_exists, p.new_key)
    return Changes(keys=[replace(old, revoked_seq=ctx.seq),
                         SigningKey(p.new_key, p.participant, ctx.seq, None, 0)])


def _active_key_of(ctx: Context, participant: str, address: str) -> SigningKey:
    key = ctx.ws.keys.get(address)
    require(key is not None and key.participant == participant, Reason.unknown_key,
            f"{address} is not a key of {participant}")
    assert key is not None
    require(not key.revoked, Reason.key_revoked, address)
    return key
