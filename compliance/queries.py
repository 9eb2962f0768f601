"""Reading compliance back: each emitter's status for a year, the risk warning, an entity's
credit record and the year's disclosure — computed from the projections replay rebuilds and
from the journal, never stored.

Time is passed in (`now`, the ledger's clock): a day is the scheme's market day
(`MarketCalendar.market_day`), a year's deadline the scheme's (`ComplianceRules.deadline_of`).
The rules are pure functions over plain values (`status_of`, `freely_available`, ...); the
functions that take a store read it in one snapshot and apply them.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from compliance import calendar
from compliance import store as compliance_store
from compliance.eligibility import UnitKind, ineligibility, unit_kind
from compliance.model import MonthlySubmission
from compliance.rules import ComplianceRules, compliance_rules
from compliance.store import Obligation
from ledger.clock import format_time, parse_time
from ledger.model import Batch
from ledger.schemes.calendar import MarketCalendar
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction

MONTHS = range(1, 13)


class ComplianceState(enum.StrEnum):
    unverified = "unverified"  # installations in the scheme, no verified obligation yet
    due = "due"  # something still owed, the deadline not passed
    compliant = "compliant"  # nothing owed
    overdue = "overdue"  # something still owed after the deadline


@dataclass(frozen=True)
class Status:
    """An emitter's compliance for one year (tonnes). An unverified emitter has no obligation
    and no shortfall yet."""

    emitter: str
    year: int
    scheme: str
    state: ComplianceState
    obligation: int | None
    allowances: int  # surrendered
    credits: int  # offsets surrendered
    shortfall: int | None  # obligation - allowances - credits
    deadline: str  # the last market day to surrender, YYYY-MM-DD
    days_to_deadline: int  # negative once it has passed
    late: bool  # met, but after the deadline
    set_seq: int | None  # the entry that set the obligation (its verification)
    met_seq: int | None  # the surrender that met it


@dataclass(frozen=True)
class Pledgee:
    bank: str
    quantity: int  # units under its pledges' liens in the emitter's accounts


@dataclass(frozen=True)
class RiskWarning:
    """An emitter whose freely available units fall short of what it still owes."""

    emitter: str
    year: int
    scheme: str
    owed: int
    free_allowances: int  # eligible, tradable
    free_credits: int  # eligible, tradable offsets, as many as the cap still lets count
    available: int
    shortfall_risk: int  # owed - available, > 0
    deadline: str
    days_to_deadline: int
    pledged: int  # units under pledge liens in its accounts
    pledgees: tuple[Pledgee, ...]


class CreditEvent(enum.StrEnum):
    late_monthly_data = "late_monthly_data"
    missing_monthly_data = "missing_monthly_data"
    lapsed_calibration = "lapsed_calibration"
    flagged_verification = "flagged_verification"
    overdue_compliance = "overdue_compliance"
    late_compliance = "late_compliance"  # met after the deadline
    qualification_suspended = "qualification_suspended"
    qualification_revoked = "qualification_revoked"


@dataclass(frozen=True)
class CreditItem:
    event: CreditEvent
    year: int | None
    subject: str  # what it is about: an installation's month, a scheme's year, a sector
    detail: str
    seq: int | None  # the journal entry it derives from (None: missing data has none)


@dataclass(frozen=True)
class CreditRecord:
    entity: str
    head: int  # the journal's last entry when it was read
    as_of: str  # the ledger's time it was computed at (RFC 3339, UTC)
    items: tuple[CreditItem, ...]
    clean_years: int  # verified years in a row without a flag, late or lapsed data
    streamlined: bool  # eligible for streamlined verification (the scheme's run of them)


@dataclass(frozen=True)
class DisclosedEmitter:
    emitter: str
    scheme: str
    verified_t: int | None  # None: not verified yet
    allowances: int  # surrendered
    credits: int
    state: ComplianceState
    pledged: int  # units under pledge liens in its accounts


@dataclass(frozen=True)
class MarketTotals:
    transfers: int  # transfer entries accepted in the year
    transferred_t: int
    surrendered_allowances_t: int  # against the year's obligations
    surrendered_credits_t: int
    retired_t: int  # retired by entries accepted in the year


@dataclass(frozen=True)
class Disclosure:
    """One scheme's year, as published: from journaled data only, at journal entry `head` and
    the latest signed checkpoint then (`checkpoint`, None before the first)."""

    year: int
    scheme: str
    market_day: str
    head: int
    checkpoint: int | None
    checkpoint_log_size: int | None
    emitters: tuple[DisclosedEmitter, ...]
    totals: MarketTotals


# --- the rules, over plain values ----------------------------------------------------------


def state_of(shortfall: int, today: date, deadline: date) -> ComplianceState:
    if shortfall == 0:
        return ComplianceState.compliant
    return ComplianceState.due if today <= deadline else ComplianceState.overdue


def status_of(obligation: Obligation, rules: ComplianceRules, today: date) -> Status:
    """The status of one obligation on market day `today`."""
    deadline = rules.deadline_of(obligation.year)
    shortfall = obligation.obligation - obligation.allowances - obligation.credits
    assert shortfall >= 0, f"{obligation.emitter} {obligation.year}: surrendered past it"
    late = obligation.met_at is not None and \
        rules.calendar.market_day(parse_time(obligation.met_at)) > deadline
    return Status(obligation.emitter, obligation.year, obligation.scheme,
                  state_of(shortfall, today, deadline), obligation.obligation,
                  obligation.allowances, obligation.credits, shortfall, deadline.isoformat(),
                  (deadline - today).days, late, obligation.set_seq, obligation.met_seq)


def unverified_status(emitter: str, year: int, rules: ComplianceRules, today: date) -> Status:
    deadline = rules.deadline_of(year)
    return Status(emitter, year, rules.scheme, ComplianceState.unverified, None, 0, 0, None,
                  deadline.isoformat(), (deadline - today).days, False, None, None)


def freely_available(rules: ComplianceRules, obligation: Obligation,
                     held: Iterable[tuple[Batch, int]], project_types: Mapping[str, str],
                     today: date) -> tuple[int, int]:
    """(allowances, offsets) of the tradable units `held` that could still be surrendered
    against `obligation`: eligible by the surrender's own rule (compliance.eligibility), the
    offsets counted only up to what the cap still allows."""
    allowances = credits = 0
    for batch, quantity in held:
        if ineligibility(rules, batch, obligation.year,
                         project_type=project_types.get(batch.project), today=today):
            continue
        if unit_kind(rules, batch) is UnitKind.allowance:
            allowances += quantity
        else:
            credits += quantity
    room = max(0, rules.offsets.cap(obligation.obligation) - obligation.credits)
    return allowances, min(credits, room)


def risk_of(obligation: Obligation, rules: ComplianceRules, today: date,
            free: tuple[int, int], pledgees: Sequence[Pledgee]) -> RiskWarning | None:
    """The warning for one obligation given what is freely available; None: no risk."""
    owed = obligation.obligation - obligation.allowances - obligation.credits
    allowances, credits = free
    risk = owed - allowances - credits
    if risk <= 0:
        return None
    deadline = rules.deadline_of(obligation.year)
    return RiskWarning(obligation.emitter, obligation.year, obligation.scheme, owed, allowances,
                       credits, allowances + credits, risk, deadline.isoformat(),
                       (deadline - today).days, sum(p.quantity for p in pledgees),
                       tuple(pledgees))


def year_window(calendar: MarketCalendar, year: int) -> tuple[str, str]:
    """The UTC times [start, stop) of compliance year `year` by the market's calendar (its
    days end at the market's midnight; the year on its `compliance_year_end`)."""
    month, day = calendar.compliance_year_end
    first = date(year - 1, month, day) + timedelta(days=1)
    after = date(year, month, day) + timedelta(days=1)
    offset = timedelta(minutes=calendar.utc_offset_minutes)

    def utc(market_day: date) -> str:
        return format_time(datetime(market_day.year, market_day.month, market_day.day,
                                    tzinfo=UTC) - offset)

    return utc(first), utc(after)


# --- over a store ---------------------------------------------------------------------------


class _Rules:
    """Each scheme's compliance rules, read once per snapshot."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx
        self._found: dict[str, ComplianceRules | None] = {}

    def get(self, scheme: str) -> ComplianceRules | None:
        if scheme not in self._found:
            rules = compliance_store.scheme_rules(self._tx, scheme)
            self._found[scheme] = None if rules is None else compliance_rules(rules)
        return self._found[scheme]

    def of(self, scheme: str) -> ComplianceRules:
        found = self.get(scheme)
        assert found is not None, f"{scheme} sets obligations but has no [compliance] rules"
        return found


def compliance_status(store: Store, year: int, now: datetime) -> list[Status]:
    """Every emitter's status for `year`, by emitter: those with a verified obligation, and
    as `unverified` those with an installation registered in a compliance scheme by the
    year's last market day and no obligation for it."""
    with store.read() as tx:
        return _statuses(tx, _Rules(tx), year, now)


def _statuses(tx: SqlTransaction, rules: _Rules, year: int, now: datetime) -> list[Status]:
    found = [status_of(o, rules.of(o.scheme), rules.of(o.scheme).calendar.market_day(now))
             for o in compliance_store.obligations(tx, year)]
    obligated = {s.emitter for s in found}
    for registered in compliance_store.first_registrations(tx):
        scheme_rules = rules.get(registered.scheme)
        if registered.emitter in obligated or scheme_rules is None:
            continue
        calendar = scheme_rules.calendar
        _, stop = year_window(calendar, year)
        if registered.registered_at < stop:
            found.append(unverified_status(registered.emitter, year, scheme_rules,
                                           calendar.market_day(now)))
            obligated.add(registered.emitter)  # once, whichever scheme registered it first
    return sorted(found, key=lambda s: s.emitter)


def compliance_risk(store: Store, year: int, now: datetime) -> list[RiskWarning]:
    """The emitters whose freely available units fall short of what they still owe for
    `year`: largest shortfall first, then by emitter."""
    with store.read() as tx:
        rules = _Rules(tx)
        owing = [o for o in compliance_store.obligations(tx, year)
                 if o.allowances + o.credits < o.obligation]
        held: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for h in compliance_store.tradable_of_obligated(tx, year):
            held[h.emitter].append((h.batch, h.quantity))
        batches = compliance_store.batches(tx, [b for found in held.values() for b, _ in found])
        types = compliance_store.project_types(tx, [b.project for b in batches.values()])
        pledgees = _pledgees(compliance_store.pledged_of(tx))
        warnings = []
        for obligation in owing:
            scheme_rules = rules.of(obligation.scheme)  # read in this snapshot, like the rest
            today = scheme_rules.calendar.market_day(now)
            free = freely_available(scheme_rules, obligation,
                                    [(batches[b], q) for b, q in held.get(obligation.emitter,
                                                                          [])],
                                    types, today)
            warning = risk_of(obligation, scheme_rules, today, free,
                              pledgees.get(obligation.emitter, ()))
            if warning is not None:
                warnings.append(warning)
    return sorted(warnings, key=lambda w: (-w.shortfall_risk, w.emitter))


def _pledgees(pledged: Iterable[compliance_store.PledgedTo]
              ) -> dict[str, tuple[Pledgee, ...]]:
    found: dict[str, list[Pledgee]] = defaultdict(list)
    for row in pledged:
        found[row.emitter].append(Pledgee(row.pledgee, row.quantity))
    return {emitter: tuple(banks) for emitter, banks in found.items()}


def credit_record(store: Store, entity: str, now: datetime) -> CreditRecord:
    """What the journal holds against `entity` (a participant): its late, missing and
    lapsed-calibration monthly data, flagged verifications, overdue or late compliance, and,
    for a verifier, its suspensions and revocations."""
    with store.read() as tx:
        rules = _Rules(tx)
        items = [*_monthly_items(tx, rules, entity, now),
                 *_verification_items(tx, entity),
                 *_compliance_items(tx, rules, entity, now),
                 *_sanction_items(tx, entity)]
        clean_years, streamlined = compliance_store.clean_run(tx, entity)
        head = tx.head
    items.sort(key=lambda i: (i.year is None, i.year or 0, i.seq is None, i.seq or 0,
                              i.subject))
    return CreditRecord(entity, head, format_time(now), tuple(items), clean_years,
                        streamlined)


def _monthly_items(tx: SqlTransaction, rules: _Rules, entity: str,
                   now: datetime) -> list[CreditItem]:
    items = []
    for month in compliance_store.flagged_months(tx, entity):
        subject = f"{month.installation} {month.month}"
        superseded = f", superseded by {month.superseded_by}" if month.superseded_by else ""
        if month.late:
            items.append(CreditItem(CreditEvent.late_monthly_data, month.year, subject,
                                    f"submission {month.id} after the due day{superseded}",
                                    month.submitted_seq))
        if month.calibration_lapsed:
            items.append(CreditItem(CreditEvent.lapsed_calibration, month.year, subject,
                                    f"submission {month.id} rests on an instrument whose "
                                    f"calibration had lapsed{superseded}",
                                    month.submitted_seq))
    in_force = compliance_store.months_in_force(tx, entity)
    # a month is missing once its data is overdue (its due day has passed) and it ended after
    # the installation was registered; one item per installation and year
    for installation in compliance_store.installations_of(tx, entity):
        scheme_rules = rules.get(installation.scheme)
        if scheme_rules is None:
            continue
        today = scheme_rules.calendar.market_day(now)
        registered = scheme_rules.calendar.market_day(parse_time(installation.registered_at))
        for year in range(registered.year, today.year + 1):
            missing = [month for month in calendar.months_of(year)
                       if (installation.id, month) not in in_force
                       and calendar.last_day(month) >= registered
                       and calendar.due_day(month, scheme_rules.monthly_due_days) < today]
            if missing:
                items.append(CreditItem(
                    CreditEvent.missing_monthly_data, year, f"{installation.id} {year}",
                    f"no submission in force for {_months(missing)}, past the due day",
                    None))
    return items


def _months(months: Sequence[str]) -> str:
    """Months of one year as runs: 2026-01..2026-03, 2026-07."""
    runs: list[list[str]] = []
    for month in months:
        if runs and int(month[5:]) == int(runs[-1][-1][5:]) + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}..{run[-1]}" for run in runs)


def _verification_items(tx: SqlTransaction, entity: str) -> list[CreditItem]:
    return [CreditItem(CreditEvent.flagged_verification, v.year, f"{v.scheme} {v.year}",
                       f"{v.verifier} verified {v.verified_t:,} t, {v.variance_bp / 100:.2f}% "
                       f"from the monthly data ({v.monthly_kg:,} kg)", v.signed_seq)
            for v in compliance_store.verifications_of(tx, entity) if v.flagged]


def _compliance_items(tx: SqlTransaction, rules: _Rules, entity: str,
                      now: datetime) -> list[CreditItem]:
    items = []
    for obligation in compliance_store.obligations_of(tx, entity):
        scheme_rules = rules.of(obligation.scheme)
        status = status_of(obligation, scheme_rules, scheme_rules.calendar.market_day(now))
        subject = f"{obligation.scheme} {obligation.year}"
        if status.state is ComplianceState.overdue:
            items.append(CreditItem(CreditEvent.overdue_compliance, obligation.year, subject,
                                    f"{status.shortfall:,} t of {obligation.obligation:,} t "
                                    f"still owed after {status.deadline}", obligation.set_seq))
        elif status.late:
            items.append(CreditItem(CreditEvent.late_compliance, obligation.year, subject,
                                    f"met after {status.deadline}", obligation.met_seq))
    return items


_SANCTIONS = {"suspend": CreditEvent.qualification_suspended,
              "revoke": CreditEvent.qualification_revoked}


def _sanction_items(tx: SqlTransaction, entity: str) -> list[CreditItem]:
    return [CreditItem(_SANCTIONS[e.action], None, e.sector, e.reason, e.seq)
            for e in compliance_store.qualification_events_of(tx, entity)
            if e.action in _SANCTIONS]


def compliance_schemes(store: Store) -> list[str]:
    """The schemes whose rules set obligations (a [compliance] section), by name."""
    with store.read() as tx:
        return [r.scheme for r in compliance_store.compliance_schemes(tx)
                if compliance_rules(r) is not None]


def disclosure(store: Store, year: int, now: datetime, scheme: str | None = None) -> Disclosure:
    """The disclosure of `scheme`'s year (default: the only compliance scheme) at the
    journal's head, naming the latest signed checkpoint. ValueError if `scheme` is none."""
    with store.read() as tx:
        checkpoint = compliance_store.latest_checkpoint(tx)
        return _disclosure(tx, year, now, scheme, checkpoint)


def disclosure_at(store: Store, year: int, checkpoint: int, *, now: datetime,
                  scheme: str | None = None) -> Disclosure:
    """The disclosure naming checkpoint `checkpoint`. The projections hold the present
    only, so it is computed at the journal's head: exactly as of the checkpoint when the
    head is the checkpoint's last entry (`head + 1 == checkpoint_log_size`), which a reader
    checks. ValueError if there is no such checkpoint."""
    with store.read() as tx:
        found = compliance_store.checkpoint(tx, checkpoint)
        if found is None:
            raise ValueError(f"there is no checkpoint {checkpoint}")
        return _disclosure(tx, year, now, scheme, found)


def _disclosure(tx: SqlTransaction, year: int, now: datetime, scheme: str | None,
                checkpoint: compliance_store.Checkpoint | None) -> Disclosure:
    rules = _Rules(tx)
    scheme_rules = rules.of(_the_scheme(tx, scheme))
    today = scheme_rules.calendar.market_day(now)
    statuses = [s for s in _statuses(tx, rules, year, now) if s.scheme == scheme_rules.scheme]
    verified = {v.emitter: v.verified_t for v in compliance_store.verifications(tx, year)}
    pledged: dict[str, int] = defaultdict(int)
    for row in compliance_store.pledged_of(tx):
        pledged[row.emitter] += row.quantity
    emitters = tuple(DisclosedEmitter(s.emitter, s.scheme, verified.get(s.emitter, s.obligation),
                                      s.allowances, s.credits, s.state, pledged[s.emitter])
                     for s in statuses)
    start, stop = year_window(scheme_rules.calendar, year)
    transfers = retired = transferred = 0
    for entry in compliance_store.entries_between(tx, ("transfer", "retire"), start, stop):
        if entry.op == "transfer":
            transfers += 1
            transferred += int(entry.fields["quantity"])
        else:
            retired += int(entry.fields["quantity"])
    totals = MarketTotals(transfers, transferred, sum(e.allowances for e in emitters),
                          sum(e.credits for e in emitters), retired)
    return Disclosure(year, scheme_rules.scheme, today.isoformat(), tx.head,
                      None if checkpoint is None else checkpoint.number,
                      None if checkpoint is None else checkpoint.log_size, emitters, totals)


def _the_scheme(tx: SqlTransaction, scheme: str | None) -> str:
    schemes = [r.scheme for r in compliance_store.compliance_schemes(tx)
               if compliance_rules(r) is not None]
    if scheme is None and len(schemes) == 1:
        return schemes[0]
    if scheme not in schemes:
        raise ValueError(f"{scheme or 'no scheme named'}: name one of the compliance schemes "
                         f"({', '.join(schemes) or 'none'})")
    assert scheme is not None
    return scheme


__all__ = ["ComplianceState", "CreditEvent", "CreditItem", "CreditRecord", "DisclosedEmitter",
           "Disclosure", "MarketTotals", "Pledgee", "RiskWarning", "Status", "compliance_risk",
           "compliance_schemes", "compliance_status", "credit_record", "disclosure",
           "disclosure_at", "freely_available", "risk_of", "state_of", "status_of",
           "unverified_status", "year_window"]


def monthly_submissions(store: Store, emitter: str, year: int) -> list[MonthlySubmission]:
    """An emitter's monthly submissions of `year`, superseded ones too (what a report
    references: those in force), by installation, month and order of submission."""
    with store.read() as tx:
        return [MonthlySubmission.from_row(values)
                for values in compliance_store.monthly_submissions(tx, emitter, year)]
