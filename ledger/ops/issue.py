"""issue_batch: the registry creates a batch and puts all its units, serials 1..quantity, into
one account (a free allocation, an auction's result, or a credit issuance to a project)."""

from __future__ import annotations

from ledger.effects import Changes, LotEffects
from ledger.errors import Reason, require
from ledger.model import Batch, Lot, LotState
from ledger.ops.context import Context
from ledger.ops.holding_rules import require_may_hold
from ledger.payloads import IssueBatch
from ledger.schemes import ISSUE_BATCH
from ledger.serials import serial_prefix


def issue_batch(p: IssueBatch, ctx: Context) -> Changes:
    issuer = ctx.require_registry()
    require(ctx.ws.batches.get(p.batch) is None, Reason.batch_exists, p.batch)
    rules = ctx.rules(p.scheme)
    require(rules.issue_operation == ISSUE_BATCH, Reason.issued_by_another_operation,
            f"{rules.scheme} units are issued by {rules.issue_operation}")
    require(not rules.issuers or issuer.id in rules.issuers, Reason.role_not_permitted,
            f"{issuer.id} does not issue {rules.scheme} units")
    require(p.kind in rules.kinds, Reason.kind_not_in_scheme, f"{rules.scheme} {p.kind.value}")
    p.require_consistent()
    batch = Batch(
        id=p.batch, scheme=rules.scheme, kind=p.kind, vintage=p.vintage,
        project=p.project, monitoring_start=p.monitoring_start,
        monitoring_end=p.monitoring_end, issuance=p.issuance,
        quantity=p.quantity, serial_prefix=serial_prefix(rules.scheme, p.vintage, p.batch),
        issued_seq=ctx.seq,
    )
    account = ctx.unfrozen_account(p.account)
    require_may_hold(account, batch, rules)
    lot = Lot(ctx.lot_ids(), batch.id, 1, batch.quantity, account.id, LotState.tradable, None,
              ctx.seq)
    return Changes(batches=[batch], lots=LotEffects(created=[lot]))
