"""Pledges and repos as plain values, and how they are read and written through the working
set (rows of the `pledges`, `repos` and `agreement_events` tables).

A pledge's or repo's id is also the id of the lien that holds its units, so one id names the
agreement, its lien and the rows of its history. Quantities are whole tonnes; `released`,
`enforced` and `returned` only grow, so an agreement's units are resolved at most once each.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from ledger.effects import Row
from ledger.errors import Rejected, require
from ledger.model import Lien
from ledger.ops import Context
from pledge.reasons import PledgeReason
from pledge.schema import agreement_events, pledges, repos

PLEDGE_PURPOSE = "pledge"
REPO_PURPOSE = "repo"


class PledgeStatus(enum.StrEnum):
    active = "active"  # some units are still pledged
    resolved = "resolved"  # every unit has been released or enforced


class RepoStatus(enum.StrEnum):
    open = "open"
    closed = "closed"  # every unit went back to the seller
    seller_defaulted = "seller_defaulted"  # the seller did not repurchase: the buyer keeps them
    buyer_defaulted = "buyer_defaulted"  # a free-use buyer did not deliver: recorded


@dataclass(frozen=True, slots=True)
class Pledge:
    id: str
    pledgor: str  # participant ids
    pledgee: str
    account: str
    batch: str
    quantity: int  # pledged at registration
    released: int
    enforced: int
    loan_reference: str
    principal: int  # minor units of `currency`
    currency: str
    start_date: str
    maturity_date: str
    status: PledgeStatus
    registered_seq: int
    updated_seq: int

    @property
    def parties(self) -> tuple[str, str]:
        """The participants party to the pledge: pledgor and pledgee."""
        return self.pledgor, self.pledgee

    @property
    def outstanding(self) -> int:
        """Units still under the pledge's lien."""
        return self.quantity - self.released - self.enforced

    @property
    def maturity(self) -> date:
        return date.fromisoformat(self.maturity_date)

    def resolving(self, seq: int, *, released: int = 0, enforced: int = 0) -> Pledge:
        after = replace(self, released=self.released + released,
                        enforced=self.enforced + enforced, updated_seq=seq)
        assert 0 <= after.outstanding <= self.outstanding, "a unit resolves at most once"
        status = PledgeStatus.active if after.outstanding else PledgeStatus.resolved
        return replace(after, status=status)

    def row(self, *, new: bool) -> Row:
        values = asdict(self)
        values["status"] = self.status.value
        return Row(pledges, (self.id,), values, new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> Pledge:
        return cls(**{**values, "status": PledgeStatus(values["status"])})


@dataclass(frozen=True, slots=True)
class Repo:
    id: str
    seller: str  # participant ids
    buyer: str
    seller_account: str
    buyer_account: str
    batch: str
    quantity: int  # sold at opening
    returned: int  # delivered back to the seller so far
    purchase_price: int  # minor units of `currency`, for the whole quantity
    repurchase_price: int
    currency: str
    opened_on: str  # the market day the repo opened
    repurchase_date: str
    free_use: bool
    status: RepoStatus
    opened_seq: int
    updated_seq: int

    @property
    def parties(self) -> tuple[str, str]:
        """The participants party to the repo: seller and buyer."""
        return self.seller, self.buyer

    @property
    def outstanding(self) -> int:
        """Units the seller has still to get back."""
        return self.quantity - self.returned

    @property
    def repurchase_day(self) -> date:
        return date.fromisoformat(self.repurchase_date)

    def returning(self, seq: int, quantity: int) -> Repo:
        after = replace(self, returned=self.returned + quantity, updated_seq=seq)
        assert 0 <= after.outstanding < self.outstanding, "a unit returns at most once"
        return replace(after, status=RepoStatus.open if after.outstanding else RepoStatus.closed)

    def row(self, *, new: bool) -> Row:
        values = asdict(self)
        values["status"] = self.status.value
        return Row(repos, (self.id,), values, new)

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> Repo:
        # SQLite hands booleans back as 0/1
        return cls(**{**values, "status": RepoStatus(values["status"]),
                      "free_use": bool(values["free_use"])})


def event(ctx: Context, agreement: str, quantity: int) -> Row:
    """One line of an agreement's history: this journal entry acted on it."""
    return Row(agreement_events, (agreement, ctx.seq),
               {"agreement": agreement, "seq": ctx.seq, "op": ctx.op, "quantity": quantity},
               new=True)


# --- reads inside an operation, refusing by name ------------------------------------------


def load_pledge(ctx: Context, pledge_id: str) -> Pledge:
    values = ctx.ws.row(pledges, (pledge_id,))
    if values is None:
        raise Rejected(PledgeReason.pledge_not_found, pledge_id)
    return Pledge.from_row(dict(values))


def load_repo(ctx: Context, repo_id: str) -> Repo:
    values = ctx.ws.row(repos, (repo_id,))
    if values is None:
        raise Rejected(PledgeReason.repo_not_found, repo_id)
    return Repo.from_row(dict(values))


def load_lien(ctx: Context, lien_id: str) -> Lien:
    lien = ctx.ws.liens.get(lien_id)
    assert lien is not None, f"agreement {lien_id} has no lien"
    return lien


def require_new_agreement(ctx: Context, agreement_id: str) -> None:
    """Pledges, repos and liens share one id space: an agreement's id is its lien's."""
    taken = (ctx.ws.row(pledges, (agreement_id,)) is not None
             or ctx.ws.row(repos, (agreement_id,)) is not None
             or ctx.ws.liens.get(agreement_id) is not None)
    require(not taken, PledgeReason.agreement_exists, agreement_id)
