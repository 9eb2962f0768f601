"""projects' store layer for its reads: every SQL statement of the module, each a function of a
transaction that returns typed values. Handlers never come here: they read through the
working set and write through `ledger.effects.Row`.

The provenance of a retirement, and of a batch, is found here: which journal entries made
each link of the chain from a retirement, or a batch, back to the methodology
(anchoring.operator.project_evidence and provenance_evidence prove them). Projects keep the
seq of their submission; their validation and registration are found in the journal, after
it, by operation and project.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from ledger.store.sql import SqlTransaction


class Provenance(NamedTuple):
    """The journal entries behind one retirement, by link (None: the link's record is
    missing, which a consistent store never shows for a retirement of offset credits)."""

    retirement: int
    batch: str
    issuance: int | None
    verification: int | None
    report: int | None
    project: str | None
    period: str | None
    submission: int | None
    validation: int | None
    registration: int | None
    methodology: int | None


def provenance(tx: SqlTransaction, retirement: str) -> Provenance | None:
    """The entries behind retirement `retirement`; None: there is no such retirement."""
    row = tx.one("SELECT seq, batch FROM claim_retirements WHERE id = :id", {"id": retirement})
    if row is None:
        return None
    seq, batch = int(row[0]), str(row[1])
    chain = batch_chain(tx, batch)
    if chain is None:
        return Provenance(seq, batch, None, None, None, None, None, None, None, None, None)
    return Provenance(seq, *chain)


class BatchChain(NamedTuple):
    """The journal entries behind one CCER batch, by link, from its issuance back to its
    methodology (None: the link's record is missing, which a consistent store never shows)."""

    batch: str
    issuance: int | None
    verification: int | None
    report: int | None
    project: str
    period: str
    submission: int | None
    validation: int | None
    registration: int | None
    methodology: int | None


def batch_chain(tx: SqlTransaction, batch: str) -> BatchChain | None:
    """The entries behind batch `batch`; None: no monitoring period was issued as that batch
    (no such batch, or one the project cycle did not issue)."""
    period = tx.one("SELECT project, period, reported_seq, verified_seq, issued_seq "
                    "FROM monitoring_periods WHERE batch = :batch", {"batch": batch})
    if period is None:
        return None
    project_id, period_id = str(period[0]), str(period[1])
    project = tx.one("SELECT submitted_seq, methodology FROM projects WHERE id = :id",
                     {"id": project_id})
    submitted = None if project is None else int(project[0])
    methodology = None if project is None else tx.one(
        "SELECT published_seq FROM methodologies WHERE id = :id", {"id": str(project[1])})
    return BatchChain(
        batch, _seq(period[4]), _seq(period[3]), _seq(period[2]), project_id, period_id,
        submitted,
        None if submitted is None else project_entry(tx, "project_validate", project_id,
                                                     submitted),
        None if submitted is None else project_entry(tx, "project_register", project_id,
                                                     submitted),
        None if methodology is None else int(methodology[0]))


def project_entry(tx: SqlTransaction, op: str, project: str, after: int) -> int | None:
    """The first `op` entry after entry `after` that names `project` (a project is validated
    and registered once, after its submission)."""
    for seq, entry in tx.all("SELECT seq, entry FROM journal WHERE op = :op AND seq > :after "
                             "ORDER BY seq", {"op": op, "after": after}):
        if json.loads(bytes(entry))["instruction"]["fields"].get("project") == project:
            return int(seq)
    return None


def _seq(value: object) -> int | None:
    return None if value is None else int(str(value))
