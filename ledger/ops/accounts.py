"""open_account, freeze_account, unfreeze_account."""

from __future__ import annotations

from dataclasses import replace

from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.model import ROLE_ACCOUNT_TYPES, Account
from ledger.ops.context import Context
from ledger.payloads import FreezeAccount, OpenAccount, UnfreezeAccount


def open_account(p: OpenAccount, ctx: Context) -> Changes:
    ctx.require_registry()
    require(ctx.ws.accounts.get(p.account) is None, Reason.account_exists, p.account)
    owner = ctx.participant(p.participant)
    require(p.account_type in ROLE_ACCOUNT_TYPES[owner.role], Reason.account_type_not_for_role,
            f"a {owner.role.value} may not own a {p.account_type.value} account")
    return Changes(accounts=[Account(p.account, owner.id, p.account_type, False, "", ctx.seq)])


def freeze_account(p: FreezeAccount, ctx: Context) -> Changes:
    ctx.require_registry()
    account = ctx.account(p.account)
    require(not account.frozen, Reason.account_already_frozen, account.id)
    return Changes(accounts=[replace(account, frozen=True, freeze_reason=p.reason)])


def unfreeze_account(p: UnfreezeAccount, ctx: Context) -> Changes:
    ctx.require_registry()
    account = ctx.account(p.account)
    require(account.frozen, Reason.account_not_frozen, account.id)
    return Changes(accounts=[replace(account, frozen=False, freeze_reason="")])
