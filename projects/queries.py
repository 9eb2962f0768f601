"""Reading the project cycle back, as a registry, a project owner, a verification body or a
buyer of credits asks it: the methodologies, the projects (an owner's, a methodology's), one
project with its public comments and monitoring periods, and the retirements for claims.

Everything here is public under the national rules (registered projects, methodologies,
issuances and retirements for claims are published). Each record names the journal entries
it derives from, so that any of them can be proved against an anchored checkpoint
(`carbonledger proof entry SEQ`; a retirement's whole chain: `proof retirement ID`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.store.database import Store
from projects import queries_store
from projects.model import Comment, Methodology, Project
from projects.period_model import MonitoringPeriod
from projects.retirement_model import ClaimRetirement


@dataclass(frozen=True)
class ProjectRecord:
    """A project as the registry publishes it: its design and status, the entries that
    submitted, validated and registered it, its public comments and its monitoring periods
    (each naming the entries that reported, verified and issued it)."""

    project: Project
    validated_seq: int | None  # None: not validated yet
    registered_seq: int | None  # None: not registered yet
    comments: tuple[Comment, ...]
    periods: tuple[MonitoringPeriod, ...]

    @property
    def verified_t(self) -> int:
        return sum(p.verified_t for p in self.periods)

    @property
    def issued_t(self) -> int:
        return sum(p.issued_t for p in self.periods)


@dataclass(frozen=True)
class RetirementRecord:
    """A retirement for a claim, when it was accepted, and the project and monitoring period
    behind the units it retired ("" for a batch no period was credited with)."""

    retirement: ClaimRetirement
    retired_at: str  # the accepted_at of entry retirement.seq
    project: str
    period: str


def methodologies(store: Store) -> list[Methodology]:
    """Every published methodology, superseded and withdrawn ones too, by id."""
    with store.read() as tx:
        return queries_store.methodologies(tx)


def methodology(store: Store, methodology_id: str) -> Methodology | None:
    with store.read() as tx:
        return queries_store.methodology(tx, methodology_id)


def projects(store: Store, owner: str | None = None,
             methodology: str | None = None) -> list[Project]:
    """Projects in every status (of `owner`, under `methodology`, when given), by id."""
    with store.read() as tx:
        return queries_store.projects(tx, owner, methodology)


def project_record(store: Store, project_id: str) -> ProjectRecord | None:
    """One project with its comments and periods, read in one snapshot; None: no such
    project."""
    with store.read() as tx:
        found = queries_store.project(tx, project_id)
        if found is None:
            return None
        validated, registered = queries_store.validation_and_registration(tx, found)
        return ProjectRecord(found, validated, registered,
                             tuple(queries_store.comments(tx, project_id)),
                             tuple(queries_store.monitoring_periods(tx, project_id)))


def retirements(store: Store, account: str | None = None) -> list[RetirementRecord]:
    """Retirements for claims (from `account`, when given), in the order they were made."""
    with store.read() as tx:
        return [_record(found) for found in queries_store.retirements(tx, account)]


def retirement(store: Store, retirement_id: str) -> RetirementRecord | None:
    with store.read() as tx:
        found = queries_store.retirement(tx, retirement_id)
    return None if found is None else _record(found)


def _record(found: queries_store.RetiredFrom) -> RetirementRecord:
    return RetirementRecord(found.retirement, found.accepted_at, found.project, found.period)


__all__ = ["ProjectRecord", "RetirementRecord", "methodologies", "methodology",
           "project_record", "projects", "retirement", "retirements"]
