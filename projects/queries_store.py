"""projects' store layer for the public reads of the project cycle: methodologies, projects
with their comments and monitoring periods, and retirements for claims, each a function of a
transaction that returns the module's own values (projects/model.py, period_model.py,
retirement_model.py). The logic over them is projects.queries.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ledger.store.sql import SqlTransaction
from projects import schema
from projects.model import Comment, Methodology, Project
from projects.period_model import MonitoringPeriod
from projects.retirement_model import ClaimRetirement
from projects.store import project_entry


class RetiredFrom(NamedTuple):
    """A retirement, when its entry was accepted, and the monitoring period its batch was
    issued for ("" for a batch no period was credited with)."""

    retirement: ClaimRetirement
    accepted_at: str
    project: str
    period: str


def _select(table: Any, where: str = "", order: str = "") -> str:
    columns = ", ".join(c.name for c in table.columns)
    return f"SELECT {columns} FROM {table.name}{where}{order}"


def _values(table: Any, row: Any) -> dict[str, Any]:
    return dict(zip((c.name for c in table.columns), row, strict=True))


def methodologies(tx: SqlTransaction) -> list[Methodology]:
    """Every methodology the registry published, retired ones too, by id."""
    table = schema.methodologies
    return [Methodology.from_row(_values(table, row))
            for row in tx.all(_select(table, order=" ORDER BY id"))]


def methodology(tx: SqlTransaction, methodology_id: str) -> Methodology | None:
    table = schema.methodologies
    row = tx.one(_select(table, " WHERE id = :id"), {"id": methodology_id})
    return None if row is None else Methodology.from_row(_values(table, row))


def projects(tx: SqlTransaction, owner: str | None = None,
             methodology: str | None = None) -> list[Project]:
    """Projects (of `owner`, under `methodology`, when given), by id."""
    table = schema.projects
    conditions, params = [], {}
    if owner is not None:
        conditions.append("owner = :owner")
        params["owner"] = owner
    if methodology is not None:
        conditions.append("methodology = :methodology")
        params["methodology"] = methodology
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return [Project.from_row(_values(table, row))
            for row in tx.all(_select(table, where, " ORDER BY id"), params)]


def project(tx: SqlTransaction, project_id: str) -> Project | None:
    table = schema.projects
    row = tx.one(_select(table, " WHERE id = :id"), {"id": project_id})
    return None if row is None else Project.from_row(_values(table, row))


def comments(tx: SqlTransaction, project_id: str) -> list[Comment]:
    """The public comments on a project, in the order they were made."""
    table = schema.project_comments
    return [Comment(**_values(table, row)) for row in tx.all(
        _select(table, " WHERE project = :project", " ORDER BY seq"), {"project": project_id})]


def monitoring_periods(tx: SqlTransaction, project_id: str) -> list[MonitoringPeriod]:
    """A project's monitoring periods, by their first day (they never overlap)."""
    table = schema.monitoring_periods
    return [MonitoringPeriod.from_row(_values(table, row)) for row in tx.all(
        _select(table, " WHERE project = :project", " ORDER BY start_date"),
        {"project": project_id})]


def validation_and_registration(tx: SqlTransaction,
                                project: Project) -> tuple[int | None, int | None]:
    """The entries that validated and registered `project` (None: not yet)."""
    return (project_entry(tx, "project_validate", project.id, project.submitted_seq),
            project_entry(tx, "project_register", project.id, project.submitted_seq))


_RETIRED_FROM = ("SELECT {columns}, j.accepted_at, COALESCE(p.project, ''), "
                 "COALESCE(p.period, '') FROM claim_retirements r "
                 "JOIN journal j ON j.seq = r.seq "
                 "LEFT JOIN monitoring_periods p ON p.batch = r.batch")


def _retired_from(where: str) -> str:
    columns = ", ".join(f"r.{c.name}" for c in schema.claim_retirements.columns)
    return f"{_RETIRED_FROM.format(columns=columns)}{where} ORDER BY r.seq"


def _retirement(row: Any) -> RetiredFrom:
    count = len(schema.claim_retirements.columns)
    values = _values(schema.claim_retirements, row[:count])
    accepted_at, project_id, period = row[count:]
    return RetiredFrom(ClaimRetirement.from_row(values), str(accepted_at), str(project_id),
                       str(period))


def retirements(tx: SqlTransaction, account: str | None = None) -> list[RetiredFrom]:
    """Retirements for claims (from `account`, when given), in the order they were made."""
    if account is None:
        return [_retirement(row) for row in tx.all(_retired_from(""))]
    return [_retirement(row) for row in tx.all(_retired_from(" WHERE r.account = :account"),
                                                {"account": account})]


def retirement(tx: SqlTransaction, retirement_id: str) -> RetiredFrom | None:
    row = tx.one(_retired_from(" WHERE r.id = :id"), {"id": retirement_id})
    return None if row is None else _retirement(row)
