"""issue_batch: the registry creates a batch and puts all its units, serials 1..quantity, into
one account (a free allocation, an auction's result, or a credit issuance to a project)."""

from __future__ import annotations

from ledger.effects import Changes, LotEffects
from ledger.errors import Reason, require
from ledger.instructions import Instruction
from ledger.model import Batch, Issuance, Kind, Lot, LotState
from ledger.ops.context import Context
from ledger.ops.holding_rules import require_may_hold
from ledger.serials import serial_prefix


def issue_batch(ins: Instruction, ctx: Context) -> Changes:
    f = ins.fields
    issuer = ctx.require_registry()
    require(ctx.ws.batches.get(f["batch"]) is None, Reason.batch_exists, f["batch"])
    rules = ctx.rules(f["scheme"])
    require(not rules.issuers or issuer.id in rules.issuers, Reason.role_not_permitted,
            f"{issuer.id} does not issue {rules.scheme} units")
    kind = Kind(f["kind"])
    require(kind in rules.kinds, Reason.kind_not_in_scheme, f"{rules.scheme} {kind.value}")
    _require_consistent(kind, Issuance(f["issuance"]), f["project"], f["monitoringStart"],
                        f["monitoringEnd"])
    batch = Batch(
        id=f["batch"], scheme=rules.scheme, kind=kind, vintage=f["vintage"],
        project=f["project"], monitoring_start=f["monitoringStart"],
        monitoring_end=f["monitoringEnd"], issuance=Issuance(f["issuance"]),
        quantity=f["quantity"], serial_prefix=serial_prefix(rules.scheme, f["vintage"], f["batch"]),
        issued_seq=ctx.seq,
    )
    account = ctx.unfrozen_account(f["account"])
    require_may_hold(account, batch, rules)
    lot = Lot(ctx.lot_ids(), batch.id, 1, batch.quantity, account.id, LotState.tradable, None,
              ctx.seq)
    return Changes(batches=[batch], lots=LotEffects(created=[lot]))


def _require_consistent(kind: Kind, issuance: Issuance, project: str, start: str,
                        end: str) -> None:
    if kind == Kind.credit:
        require(issuance == Issuance.credit_issuance, Reason.invalid_batch,
                "credits are issued by credit_issuance")
        require(bool(project), Reason.invalid_batch, "a credit batch names its project")
        require(bool(start) and bool(end) and start <= end, Reason.invalid_batch,
                "a credit batch names its monitoring period, start <= end")
    else:
        require(issuance != Issuance.credit_issuance, Reason.invalid_batch,
                "allowances are issued by free_allocation or auction")
        require(not project and not start and not end, Reason.invalid_batch,
                "an allowance batch names no project or monitoring period")
