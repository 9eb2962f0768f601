"""The compliance invariants, checked over a store after every test, by the audit after its
replay and by anyone through the application service (beside the ledger's own,
ledger.invariants):

- each obligation's allowances and credits are the sums of its surrenders by kind, and never
  more than the obligation together; it is met (met_seq) exactly when nothing is owed;
- each credit surrender kept the obligation's credits within the offset cap of the scheme's
  rules in force when it was journaled;
- every surrender is of an obligation, and the units in `surrendered` of each account and
  batch are exactly those its surrenders took (surrender is the only way into that state).
"""

from __future__ import annotations

from collections import defaultdict

from compliance.eligibility import UnitKind
from compliance.obligation_model import Obligation
from compliance.rules import compliance_rules
from compliance.schema import obligations, surrenders
from ledger.model import LotState
from ledger.store import scans
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction


def check_compliance_invariants(store: Store) -> list[str]:
    with store.read() as tx:
        found = [Obligation(*row) for row in scans.table_rows(tx, obligations)]
        taken = [tuple(row) for row in scans.table_rows(tx, surrenders)]
        surrendered = {(account, batch): quantity for (account, batch, state), quantity
                       in scans.lot_totals(tx).items() if state == LotState.surrendered.value}
        problems = _offset_caps(tx, {(o.emitter, o.year): o for o in found}, taken)
    by_obligation: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_holding: dict[tuple[str, str], int] = defaultdict(int)
    for _seq, emitter, year, account, batch, kind, quantity in taken:
        by_obligation[(emitter, year)][kind] += quantity
        by_holding[(account, batch)] += quantity
    for o in found:
        summed = by_obligation.pop((o.emitter, o.year), {})
        where = f"obligation {o.emitter} {o.year}"
        if (o.allowances, o.credits) != (summed.get(UnitKind.allowance.value, 0),
                                         summed.get(UnitKind.credit.value, 0)):
            problems.append(f"{where}: {o.allowances} t allowances and {o.credits} t credits "
                            f"recorded, its surrenders add up to {dict(summed)}")
        if not 0 <= o.remaining <= o.obligation:
            problems.append(f"{where}: {o.surrendered} t surrendered of {o.obligation} t")
        if (o.met_seq is not None) != (o.remaining == 0):
            problems.append(f"{where}: met at {o.met_seq} with {o.remaining} t still owed")
    problems += [f"surrenders against {key}, which has no obligation" for key in by_obligation]
    for holding in sorted(set(by_holding) | set(surrendered)):
        if by_holding.get(holding, 0) != surrendered.get(holding, 0):
            problems.append(f"{holding}: {surrendered.get(holding, 0)} t in surrendered lots, "
                            f"its surrenders took {by_holding.get(holding, 0)} t")
    return problems


def _offset_caps(tx: SqlTransaction, found: dict[tuple[str, int], Obligation],
                 taken: list[tuple[object, ...]]) -> list[str]:
    """Credits after each credit surrender against the cap of the rules it was checked
    against: those in force when it was journaled (the registry may change them later)."""
    problems = []
    credits: dict[tuple[str, int], int] = defaultdict(int)
    for seq, emitter, year, _account, _batch, kind, quantity in sorted(taken):
        assert isinstance(seq, int) and isinstance(emitter, str) and isinstance(year, int)
        assert isinstance(quantity, int)
        obligation = found.get((emitter, year))
        if kind != UnitKind.credit.value or obligation is None:
            continue
        credits[(emitter, year)] += quantity
        scheme_rules = tx.scheme_rules_as_of(obligation.scheme, seq)
        rules = compliance_rules(scheme_rules) if scheme_rules else None
        cap = rules.offsets.cap(obligation.obligation) if rules else 0
        if credits[(emitter, year)] > cap:
            problems.append(f"obligation {emitter} {year}: {credits[(emitter, year)]} t of "
                            f"credits after entry {seq}, the cap was {cap} t")
    return problems
