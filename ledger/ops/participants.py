"""register_participant, register_key, revoke_key: who may sign for whom."""

from __future__ import annotations

from dataclasses import replace

from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.instructions import Instruction
from ledger.model import Participant, Role, SigningKey
from ledger.ops.context import Context


def register_participant(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    ctx.require_registry()
    require(ctx.ws.participants.get(f["participant"]) is None, Reason.participant_exists,
            f["participant"])
    return Changes(participants=[Participant(f["participant"], f["name"], Role(f["role"]),
                                             ctx.seq)])


def _require_registry_or_self(ctx: Context, participant_id: str) -> None:
    if ctx.is_signed_by(participant_id):
        return
    if any(s.participant.role == Role.registry for s in ctx.signers):
        return
    raise Rejected(Reason.role_not_permitted,
                   f"only {participant_id} itself or the registry may manage its keys")


def register_key(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    ctx.participant(f["participant"])
    _require_registry_or_self(ctx, f["participant"])
    require(ctx.ws.keys.get(f["key"]) is None, Reason.key_exists, f["key"])
    return Changes(keys=[SigningKey(f["key"], f["participant"], ctx.seq, None, 0)])


def revoke_key(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    ctx.participant(f["participant"])
    _require_registry_or_self(ctx, f["participant"])
    key = ctx.ws.keys.get(f["key"])
    require(key is not None and key.participant == f["participant"], Reason.unknown_key,
            f"{f['key']} is not a key of {f['participant']}")
    assert key is not None
    require(not key.revoked, Reason.key_revoked, f["key"])
    return Changes(keys=[replace(key, revoked_seq=ctx.seq)])
