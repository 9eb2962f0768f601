"""The pledge and repo invariants, checked over a store after every test (beside the ledger's
own, ledger.invariants):

- a pledge's units are either still under its lien, released or enforced:
  quantity = outstanding + released + enforced, where outstanding is what its lien's lots hold,
  all in the pledgor's account and batch; it is active exactly while some remain;
- a repo under lien holds quantity - returned units under its lien in the buyer's account while
  open, none once ended; a free-use repo never has a lien;
- every lien of purpose pledge or repo belongs to an agreement with the same id and holder;
- each agreement's history starts with the entry that created it, and its events' quantities
  add up to its released, enforced and returned totals.
"""

from __future__ import annotations

from collections import defaultdict

from ledger.store.database import Store
from ledger.store.sql import SqlTransaction
from pledge import store as pledge_store
from pledge.model import (
    PLEDGE_PURPOSE,
    REPO_PURPOSE,
    PledgeStatus,
    RepoStatus,
)
from pledge.ops import PLEDGE_ENFORCE, PLEDGE_REGISTER, PLEDGE_RELEASE, REPO_CLOSE, REPO_OPEN


def check_agreement_invariants(store: Store) -> list[str]:
    with store.read() as tx:
        under = _under_lien(tx)
        events = _events(tx)
        pledges = pledge_store.pledges(tx)
        repos = pledge_store.repos(tx)
        liens = pledge_store.lien_holders(tx)
    problems = []
    for p in pledges:
        held = under.pop(p.id, {})
        where = set(held) - {(p.account, p.batch)}
        if where:
            problems.append(f"pledge {p.id}: lots under its lien in {sorted(where)}")
        if sum(held.values()) != p.outstanding or p.outstanding < 0:
            problems.append(f"pledge {p.id}: {sum(held.values())} t under lien, "
                            f"{p.quantity} - {p.released} - {p.enforced} recorded")
        if (p.status == PledgeStatus.active) != (p.outstanding > 0):
            problems.append(f"pledge {p.id} is {p.status.value} with {p.outstanding} t pledged")
        if liens.pop(p.id, None) != (p.pledgee, PLEDGE_PURPOSE):
            problems.append(f"pledge {p.id}: no lien held by {p.pledgee}")
        problems += _history(p.id, events.pop(p.id, []), PLEDGE_REGISTER.op, p.registered_seq,
                             {PLEDGE_RELEASE.op: p.released, PLEDGE_ENFORCE.op: p.enforced})
    for r in repos:
        held = under.pop(r.id, {})
        expected = r.outstanding if r.status == RepoStatus.open and not r.free_use else 0
        if set(held) - {(r.buyer_account, r.batch)} or sum(held.values()) != expected:
            problems.append(f"repo {r.id} ({r.status.value}): lots under its lien {held}, "
                            f"expected {expected} t in {r.buyer_account}")
        lien = liens.pop(r.id, None)
        if lien != (None if r.free_use else (r.buyer, REPO_PURPOSE)):
            problems.append(f"repo {r.id}: lien {lien}")
        problems += _history(r.id, events.pop(r.id, []), REPO_OPEN.op, r.opened_seq,
                             {REPO_CLOSE.op: r.returned})
    problems += [f"lien {i} ({purpose}) has no agreement" for i, (_, purpose) in liens.items()
                 if purpose in (PLEDGE_PURPOSE, REPO_PURPOSE)]
    problems += [f"lots under lien {i} of no agreement" for i in under if i in liens]
    problems += [f"history of unknown agreement {i}" for i in events]
    return problems


def _under_lien(tx: SqlTransaction) -> dict[str, dict[tuple[str, str], int]]:
    under: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for lien, account, batch, quantity in pledge_store.held_under_liens(tx):
        under[lien][(account, batch)] += quantity
    return under


def _events(tx: SqlTransaction) -> dict[str, list[tuple[int, str, int]]]:
    events: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for agreement, seq, op, quantity in pledge_store.all_events(tx):
        events[agreement].append((seq, op, quantity))
    return events


def _history(agreement: str, events: list[tuple[int, str, int]], created_by: str,
             created_seq: int, totals: dict[str, int]) -> list[str]:
    if not events or events[0][:2] != (created_seq, created_by):
        return [f"{agreement}: history does not start with its {created_by} at {created_seq}"]
    problems = []
    for op, total in totals.items():
        summed = sum(q for _, event_op, q in events if event_op == op)
        if summed != total:
            problems.append(f"{agreement}: {op} events add up to {summed} t, recorded {total}")
    return problems
