"""Who may hold what: the check every operation that puts units into an account makes."""

from __future__ import annotations

from ledger.errors import Reason, require
from ledger.model import Account, AccountType, Batch, Kind
from ledger.schemes import SchemeRules


def require_may_hold(account: Account, batch: Batch, rules: SchemeRules) -> None:
    require(not (account.type == AccountType.individual and batch.kind == Kind.allowance),
            Reason.individual_cannot_hold_allowances, account.id)
    require(rules.may_hold(batch.kind, account.type), Reason.account_type_cannot_hold,
            f"{rules.scheme} {batch.kind.value}s may not be held in a {account.type.value} "
            "account")
