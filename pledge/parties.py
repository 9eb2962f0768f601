"""Whose signatures a pledge or repo operation needs.

Each party signs the same instruction with its own key (an approval, see ledger.client's
`Wallet.cosign`); the engine has verified every approval and resolved its participant before a
handler runs, so these checks only ask whether a participant is among the signers.
"""

from __future__ import annotations

from ledger.errors import ReasonCode, require
from ledger.model import Role
from ledger.ops import Context


def require_signed(ctx: Context, participant: str, reason: ReasonCode, who: str) -> None:
    """`participant` (described as `who`, e.g. "the pledgee") is among the signers."""
    require(ctx.is_signed_by(participant), reason, f"{who} {participant} has not signed")


def registry_cosigned(ctx: Context) -> bool:
    """The registry signed too: it may let a pledgee enforce early or out of a frozen account
    (a court order, an insolvency administrator's request)."""
    return any(signer.participant.role == Role.registry for signer in ctx.signers)
