"""register_participant, register_key, revoke_key: who may sign for whom."""

from __future__ import annotations

from dataclasses import replace

from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.model import Participant, Role, SigningKey
from ledger.ops.context import Context
from ledger.payloads import RegisterKey, RegisterParticipant, RevokeKey


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
    ctx.participant(p.participant)
    _require_registry_or_self(ctx, p.participant)
    key = ctx.ws.keys.get(p.key)
    require(key is not None and key.participant == p.participant, Reason.unknown_key,
            f"{p.key} is not a key of {p.participant}")
    assert key is not None
    require(not key.revoked, Reason.key_revoked, p.key)
    return Changes(keys=[replace(key, revoked_seq=ctx.seq)])
