"""The checks every operation on an existing pledge or repo starts with, written once.

An operation opens the agreement (it exists, the right parties signed, it is still active and,
for a pledge, the quantity is within what remains pledged), then runs its own rules, and only
then reads the units under the agreement's lien: the order of the checks decides which reason
a bad instruction is refused with, and a refusal should not wait on reading lots.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ledger.errors import Reason, ReasonCode, require
from ledger.model import Lien, Lot
from ledger.ops import Context
from pledge.fields import RepoParty
from pledge.model import Pledge, Repo, RepoStatus, load_lien, load_pledge, load_repo
from pledge.parties import require_signed
from pledge.reasons import PledgeReason


class PledgeParty(enum.StrEnum):
    pledgor = "pledgor"
    pledgee = "pledgee"


@dataclass(frozen=True, slots=True)
class Signer:
    """A party whose signature an operation needs, and the reason it is refused without it."""

    party: PledgeParty | RepoParty  # named as the agreement's field holding its participant
    reason: ReasonCode = Reason.missing_signature
    who: str = ""  # how the refusal describes the party; "the <party>" if empty

    def require(self, ctx: Context, agreement: Pledge | Repo) -> None:
        participant: str = getattr(agreement, self.party.value)
        require_signed(ctx, participant, self.reason, self.who or f"the {self.party}")


# The action each "more than is pledged" reason refuses, as its refusal says.
_EXCEEDS_PLEDGED = {PledgeReason.release_exceeds_pledged: "release",
                    PledgeReason.enforce_exceeds_pledged: "enforce"}


def open_pledge(ctx: Context, pledge_id: str, *signers: Signer,
                quantity: int | None = None, exceeds: PledgeReason | None = None) -> Pledge:
    """The pledge, once it exists, `signers` signed, some units are still pledged and
    `quantity` (if given) is at most those, refused otherwise with `exceeds`."""
    pledge = load_pledge(ctx, pledge_id)
    for signer in signers:
        signer.require(ctx, pledge)
    require(pledge.outstanding > 0, PledgeReason.pledge_resolved, pledge.id)
    if quantity is not None:
        assert exceeds is not None, "a quantity is checked against its own reason"
        require(quantity <= pledge.outstanding, exceeds,
                f"{pledge.outstanding} t still pledged, asked to {_EXCEEDS_PLEDGED[exceeds]} "
                f"{quantity} t")
    return pledge


def open_repo(ctx: Context, repo_id: str, *signers: Signer) -> Repo:
    """The repo, once it exists, `signers` signed and it is still open."""
    repo = load_repo(ctx, repo_id)
    for signer in signers:
        signer.require(ctx, repo)
    require(repo.status == RepoStatus.open, PledgeReason.repo_resolved,
            f"{repo.id} is {repo.status.value}")
    return repo


@dataclass(frozen=True, slots=True)
class UnderLien:
    """An agreement's lien and the lots it holds, lowest batch and serials first."""

    lien: Lien
    lots: tuple[Lot, ...]


def under_lien(ctx: Context, agreement: Pledge | Repo) -> UnderLien:
    """The units still under `agreement`'s lien, which are exactly its outstanding units."""
    lien = load_lien(ctx, agreement.id)
    lots = tuple(ctx.ws.lots_under_lien(lien.id))
    assert sum(lot.quantity for lot in lots) == agreement.outstanding, \
        f"the records of {agreement.id} and the lots under its lien disagree"
    return UnderLien(lien, lots)
