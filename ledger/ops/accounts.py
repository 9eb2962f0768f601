"""open_account, freeze_account, unfreeze_account."""

from __future__ import annotations

from dataclasses import replace

from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import Instruction
from ledger.model import ROLE_ACCOUNT_TYPES, Account, AccountType
from ledger.ops.context import Context


def open_account(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    ctx.require_registry()
    require(ctx.ws.accounts.get(f["account"]) is None, Reason.account_exists, f["account"])
    owner = ctx.participant(f["participant"])
    account_type = AccountType(f["accountType"])
    require(account_type in ROLE_ACCOUNT_TYPES[owner.role], Reason.account_type_not_for_role,
            f"a {owner.role.value} may not own a {account_type.value} account")
    return Changes(accounts=[Account(f["account"], owner.id, account_type, False, "", ctx.seq)])


def freeze_account(ins: Instruction, ctx: Context) -> Changes:
    ctx.require_registry()
    account = ctx.account(ins.fields["account"])
    require(not account.frozen, Reason.account_already_frozen, account.id)
    return Changes(accounts=[replace(account, frozen=True, freeze_reason=ins.fields["reason"])])


def unfreeze_account(ins: Instruction, ctx: Context) -> Changes:
    ctx.require_registry()
    account = ctx.account(ins.fields["account"])
    require(account.frozen, Reason.account_not_frozen, account.id)
    return Changes(accounts=[replace(account, frozen=False, freeze_reason="")])
