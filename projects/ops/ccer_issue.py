"""ccer_issue: the registry issues a CCER batch for a registered project's verified monitoring
period: the only way CCER units come to be (the scheme's rules say `issue_operation =
"ccer_issue"`, and the core's issue_batch refuses them).

The batch is a credit batch of the project over the period's days, of the period's end year;
its quantity is at most the period's verified reductions, and a period is credited once,
whatever quantity it was credited with. The methodology's buffer share is set aside:
`buffer = quantity * buffer_bp // 10000`, rounded down (a fraction of a tonne is never set
aside), as the batch's last serials, in the scheme's buffer account; serials 1..quantity -
buffer go to the owner's account. Both lots are made by the one entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes, LotEffects
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.model import Account, Batch, Issuance, Kind, Lot, LotState
from ledger.ops import Context
from ledger.ops.holding_rules import require_may_hold
from ledger.payloads import Payload
from ledger.schemes import SchemeRules
from ledger.serials import serial_prefix
from projects.model import Project, ProjectStatus, load_methodology, load_project
from projects.period_model import MonitoringPeriod, PeriodStatus, load_period
from projects.reasons import ProjectReason
from projects.rules import CCER_SCHEME, required_rules

BASIS_POINTS = 10_000


@dataclass(frozen=True)
class CcerIssue(Payload):
    batch: str
    project: str
    period: str
    quantity: int  # whole tonnes: to the owner and to the buffer together
    account: str  # the owner's


SCHEMA = define_schema(
    "ccer_issue", "CcerIssue", CcerIssue,
    ("batch", "string", "id"),
    ("project", "string", "id"),
    ("period", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("account", "string", "id"),
)


def buffer_share(quantity: int, buffer_bp: int) -> int:
    """The units of an issuance of `quantity` set aside for the buffer: rounded down."""
    return quantity * buffer_bp // BASIS_POINTS


def ccer_issue(p: CcerIssue, ctx: Context) -> Changes:
    issuer = ctx.require_registry()
    rules = ctx.rules(CCER_SCHEME)
    require(rules.issue_operation == SCHEMA.op, Reason.issued_by_another_operation,
            f"{rules.scheme} units are issued by {rules.issue_operation}")
    require(not rules.issuers or issuer.id in rules.issuers, Reason.role_not_permitted,
            f"{issuer.id} does not issue {rules.scheme} units")
    project = load_project(ctx, p.project)
    require(project.status == ProjectStatus.registered, ProjectReason.project_not_registered,
            f"{project.id} is {project.status.value}")
    period = load_period(ctx, p.project, p.period)
    require(period.status != PeriodStatus.reported, ProjectReason.period_not_verified,
            f"{p.project} {p.period}")
    require(period.status != PeriodStatus.issued, ProjectReason.period_already_issued,
            f"{p.project} {p.period}: {period.issued_t} t in batch {period.batch}")
    require(p.quantity <= period.verified_t, ProjectReason.exceeds_verified,
            f"{p.quantity} t asked, {period.verified_t} t verified")
    require(ctx.ws.batches.get(p.batch) is None, Reason.batch_exists, p.batch)
    batch = _batch(p, ctx, rules, period)
    owner_account = _owner_account(ctx, p.account, project)
    require_may_hold(owner_account, batch, rules)
    buffer = buffer_share(p.quantity, load_methodology(ctx, project.methodology).buffer_bp)
    lots = _lots(ctx, batch, owner_account.id, p.quantity - buffer)
    if buffer:
        buffer_account = _buffer_account(ctx, rules, batch)
        lots += _lots(ctx, batch, buffer_account.id, buffer, first=p.quantity - buffer + 1)
    assert sum(lot.quantity for lot in lots) == batch.quantity, "every unit issued once"
    after = period.issued_as(batch.id, p.quantity, ctx.seq)
    return Changes(batches=[batch], lots=LotEffects(created=lots), rows=[after.row(new=False)])


def _batch(p: CcerIssue, ctx: Context, rules: SchemeRules, period: MonitoringPeriod) -> Batch:
    vintage = period.end.year
    return Batch(
        id=p.batch, scheme=rules.scheme, kind=Kind.credit, vintage=vintage,
        project=p.project, monitoring_start=period.start_date,
        monitoring_end=period.end_date, issuance=Issuance.credit_issuance,
        quantity=p.quantity, serial_prefix=serial_prefix(rules.scheme, vintage, p.batch),
        issued_seq=ctx.seq,
    )


def _owner_account(ctx: Context, account_id: str, project: Project) -> Account:
    account = ctx.unfrozen_account(account_id)
    require(account.participant == project.owner, ProjectReason.account_not_project_owners,
            f"{account.id} is {account.participant}'s, {project.id} is {project.owner}'s")
    return account


def _buffer_account(ctx: Context, rules: SchemeRules, batch: Batch) -> Account:
    named = required_rules(rules).buffer_account
    require(bool(named), ProjectReason.no_buffer_account,
            f"{rules.scheme}'s [projects] buffer_account is empty")
    account = ctx.unfrozen_account(named)
    require_may_hold(account, batch, rules)
    return account


def _lots(ctx: Context, batch: Batch, account: str, count: int, *, first: int = 1) -> list[Lot]:
    """One tradable lot of `count` serials from `first` in `account`; none for no units."""
    if count == 0:
        return []
    return [Lot(ctx.lot_ids(), batch.id, first, first + count - 1, account, LotState.tradable,
                None, ctx.seq)]
