"""compliance's store layer for its queries: every SQL statement the status, risk warning,
credit record and disclosure read, each a function of a transaction that returns typed values.
The logic over them is compliance.queries. Operations never come here: handlers read through
the working set and write through `ledger.effects.Row`.

Some reads are of the core's tables (holdings, lots, liens, accounts, the journal): what an
emitter holds, what is pledged and when an entry was accepted are compliance's questions here,
so they are asked here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from compliance import schema
from ledger.model import Batch
from ledger.schemes import SchemeRules
from ledger.store.sql import SqlTransaction

PLEDGE_PURPOSE = "pledge"  # a pledge's lien (pledge.model.PLEDGE_PURPOSE)


class Obligation(NamedTuple):
    """An emitter's obligation for a year, what was surrendered against it, and when the
    surrender that met it was accepted (None: not met)."""

    emitter: str
    year: int
    scheme: str
    obligation: int
    allowances: int
    credits: int
    set_seq: int
    met_seq: int | None
    met_at: str | None  # the accepted_at of entry met_seq


class Registered(NamedTuple):
    """An emitter's first installation in a scheme, and when it was registered."""

    emitter: str
    scheme: str
    registered_seq: int
    registered_at: str


class Installation(NamedTuple):
    id: str
    emitter: str
    scheme: str
    registered_seq: int
    registered_at: str


class HeldTradable(NamedTuple):
    """Tradable units an obligated emitter holds of one batch, across its accounts."""

    emitter: str
    batch: str
    quantity: int


class PledgedTo(NamedTuple):
    """Units in an emitter's accounts under the liens of pledges to one bank."""

    emitter: str
    pledgee: str
    quantity: int


class FlaggedMonth(NamedTuple):
    """A monthly submission submitted late or resting on a lapsed calibration."""

    id: str
    installation: str
    month: str
    year: int
    late: bool
    calibration_lapsed: bool
    superseded_by: str
    submitted_seq: int


class Verification(NamedTuple):
    emitter: str
    year: int
    scheme: str
    verifier: str
    verified_t: int
    monthly_kg: int
    variance_bp: int
    flagged: bool
    signed_seq: int


class QualificationEvent(NamedTuple):
    verifier: str
    sector: str
    seq: int
    action: str
    reason: str


class Entry(NamedTuple):
    """A journal entry's position, operation and signed fields."""

    seq: int
    op: str
    fields: dict[str, Any]


class Checkpoint(NamedTuple):
    number: int
    log_size: int


_OBLIGATION = ("SELECT o.emitter, o.year, o.scheme, o.obligation, o.allowances, o.credits, "
               "o.set_seq, o.met_seq, j.accepted_at FROM obligations o "
               "LEFT JOIN journal j ON j.seq = o.met_seq")


def obligations(tx: SqlTransaction, year: int) -> list[Obligation]:
    """Every obligation for `year`, by emitter."""
    return [_obligation(r) for r in tx.all(
        f"{_OBLIGATION} WHERE o.year = :year ORDER BY o.emitter", {"year": year})]


def obligations_of(tx: SqlTransaction, emitter: str) -> list[Obligation]:
    """An emitter's obligations, by year."""
    return [_obligation(r) for r in tx.all(
        f"{_OBLIGATION} WHERE o.emitter = :emitter ORDER BY o.year", {"emitter": emitter})]


def _obligation(row: Any) -> Obligation:
    emitter, year, scheme, obligation, allowances, credits, set_seq, met_seq, met_at = row
    return Obligation(emitter, int(year), scheme, int(obligation), int(allowances), int(credits),
                      int(set_seq), None if met_seq is None else int(met_seq), met_at)


def first_registrations(tx: SqlTransaction) -> list[Registered]:
    """Each emitter's first installation in each scheme, by emitter and scheme."""
    return [Registered(emitter, scheme, int(seq), accepted_at)
            for emitter, scheme, seq, accepted_at in tx.all(
                "SELECT f.emitter, f.scheme, f.seq, j.accepted_at FROM (SELECT emitter, scheme, "
                "MIN(registered_seq) AS seq FROM installations GROUP BY emitter, scheme) f "
                "JOIN journal j ON j.seq = f.seq ORDER BY f.emitter, f.scheme")]


def installations_of(tx: SqlTransaction, emitter: str) -> list[Installation]:
    """An emitter's installations, by id, with when each was registered."""
    return [Installation(id_, emitter_, scheme, int(seq), accepted_at)
            for id_, emitter_, scheme, seq, accepted_at in tx.all(
                "SELECT i.id, i.emitter, i.scheme, i.registered_seq, j.accepted_at "
                "FROM installations i JOIN journal j ON j.seq = i.registered_seq "
                "WHERE i.emitter = :emitter ORDER BY i.id", {"emitter": emitter})]


def months_in_force(tx: SqlTransaction, emitter: str) -> set[tuple[str, str]]:
    """(installation, month) of every month of the emitter's that has a submission in force."""
    return {(installation, month) for installation, month in tx.all(
        "SELECT installation, month FROM current_months WHERE emitter = :emitter",
        {"emitter": emitter})}


def tradable_of_obligated(tx: SqlTransaction, year: int) -> list[HeldTradable]:
    """The tradable units every emitter with an obligation for `year` holds, by batch, across
    all its accounts (units under a lien are not tradable)."""
    return [HeldTradable(emitter, batch, int(quantity)) for emitter, batch, quantity in tx.all(
        "SELECT a.participant, h.batch, SUM(h.tradable) FROM obligations o "
        "JOIN accounts a ON a.participant = o.emitter "
        "JOIN holdings h ON h.account = a.id "
        "WHERE o.year = :year AND h.tradable > 0 GROUP BY a.participant, h.batch",
        {"year": year})]


def pledged_of(tx: SqlTransaction, emitters: Sequence[str] | None = None) -> list[PledgedTo]:
    """Units under pledge liens in the accounts of `emitters` (None: of every participant), by
    emitter and pledgee."""
    where, params = "", dict[str, Any]()
    if emitters is not None:
        if not emitters:
            return []
        where, params = _in(tx, "a.participant", emitters)
        where = f"AND {where}"
    return [PledgedTo(emitter, pledgee, int(quantity)) for emitter, pledgee, quantity in tx.all(
        "SELECT a.participant, n.holder, SUM(l.serial_last - l.serial_first + 1) FROM lots l "
        "JOIN liens n ON n.id = l.lien JOIN accounts a ON a.id = l.account "
        f"WHERE l.lien IS NOT NULL AND n.purpose = :purpose {where} "
        "GROUP BY a.participant, n.holder ORDER BY a.participant, n.holder",
        {"purpose": PLEDGE_PURPOSE, **params})]


def batches(tx: SqlTransaction, ids: Sequence[str]) -> dict[str, Batch]:
    return tx.batches(sorted(set(ids))) if ids else {}


def project_types(tx: SqlTransaction, projects: Sequence[str]) -> dict[str, str]:
    """The declared type of each of `projects` that has one."""
    wanted = sorted({p for p in projects if p})
    if not wanted:
        return {}
    where, params = _in(tx, "project", wanted)
    return {project: type_ for project, type_ in tx.all(
        f"SELECT project, type FROM offset_projects WHERE {where}", params)}


def flagged_months(tx: SqlTransaction, emitter: str) -> list[FlaggedMonth]:
    """The emitter's monthly submissions, superseded or in force, that were late or rested
    on a lapsed calibration, in the order they were submitted."""
    return [FlaggedMonth(id_, installation, month, int(year), bool(late), bool(lapsed),
                         superseded_by, int(seq))
            for id_, installation, month, year, late, lapsed, superseded_by, seq in tx.all(
                "SELECT id, installation, month, year, late, calibration_lapsed, superseded_by, "
                "submitted_seq FROM monthly_submissions WHERE emitter = :emitter "
                "AND (late OR calibration_lapsed) ORDER BY submitted_seq",
                {"emitter": emitter})]


_VERIFICATION = ("SELECT emitter, year, scheme, verifier, verified_t, monthly_kg, variance_bp, "
                 "flagged, signed_seq FROM verifications")


def verifications(tx: SqlTransaction, year: int) -> list[Verification]:
    """Every verification of `year`, by emitter."""
    return [_verification(r) for r in tx.all(
        f"{_VERIFICATION} WHERE year = :year ORDER BY emitter", {"year": year})]


def verifications_of(tx: SqlTransaction, emitter: str) -> list[Verification]:
    """An emitter's verifications, by year."""
    return [_verification(r) for r in tx.all(
        f"{_VERIFICATION} WHERE emitter = :emitter ORDER BY year", {"emitter": emitter})]


def _verification(row: Any) -> Verification:
    emitter, year, scheme, verifier, verified_t, monthly_kg, variance_bp, flagged, seq = row
    return Verification(emitter, int(year), scheme, verifier, int(verified_t), int(monthly_kg),
                        int(variance_bp), bool(flagged), int(seq))


def qualification_events_of(tx: SqlTransaction, verifier: str) -> list[QualificationEvent]:
    """A verifier's grants, suspensions and revocations, in order."""
    return [QualificationEvent(verifier_, sector, int(seq), action, reason)
            for verifier_, sector, seq, action, reason in tx.all(
                "SELECT verifier, sector, seq, action, reason FROM qualification_events "
                "WHERE verifier = :verifier ORDER BY seq", {"verifier": verifier})]


def entries_between(tx: SqlTransaction, ops: Sequence[str], start: str,
                    stop: str) -> list[Entry]:
    """Entries of `ops` accepted at `start` <= accepted_at < `stop` (RFC 3339 UTC times, all
    of one width, so they order as text), in order."""
    where, params = _in(tx, "op", ops)
    return [Entry(int(seq), op, json.loads(bytes(entry))["instruction"]["fields"])
            for seq, op, entry in tx.all(
                f"SELECT seq, op, entry FROM journal WHERE {where} AND accepted_at >= :start "
                "AND accepted_at < :stop ORDER BY seq", {**params, "start": start,
                                                         "stop": stop})]


def accepted_at(tx: SqlTransaction, seq: int) -> str | None:
    found = tx.one("SELECT accepted_at FROM journal WHERE seq = :seq", {"seq": seq})
    return None if found is None else str(found[0])


def latest_checkpoint(tx: SqlTransaction) -> Checkpoint | None:
    found = tx.one("SELECT number, log_size FROM checkpoints ORDER BY number DESC LIMIT 1")
    return None if found is None else Checkpoint(int(found[0]), int(found[1]))


def checkpoint(tx: SqlTransaction, number: int) -> Checkpoint | None:
    found = tx.one("SELECT number, log_size FROM checkpoints WHERE number = :number",
                   {"number": number})
    return None if found is None else Checkpoint(int(found[0]), int(found[1]))


def compliance_schemes(tx: SqlTransaction) -> list[SchemeRules]:
    """Every scheme's rules, by scheme (the caller keeps those with a [compliance] section)."""
    found = []
    for (scheme,) in tx.all("SELECT scheme FROM scheme_rules ORDER BY scheme"):
        rules = tx.scheme_rules(scheme)
        if rules is not None:
            found.append(rules)
    return found


def scheme_rules(tx: SqlTransaction, scheme: str) -> SchemeRules | None:
    return tx.scheme_rules(scheme)


def _in(tx: SqlTransaction, column: str, values: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """`column` is one of `values` (on PostgreSQL one array parameter, as the core's reads)."""
    if tx.dialect == "postgresql":
        return f"{column} = ANY(:in_values)", {"in_values": list(values)}
    names = {f"v{i}": v for i, v in enumerate(values)}
    return f"{column} IN ({', '.join(':' + n for n in names)})", names


__all__ = ["Checkpoint", "Entry", "FlaggedMonth", "HeldTradable", "Installation", "Obligation",
           "PledgedTo", "QualificationEvent", "Registered", "Verification", "accepted_at",
           "batches", "checkpoint", "compliance_schemes", "entries_between",
           "first_registrations", "flagged_months", "installations_of", "latest_checkpoint",
           "months_in_force", "obligations", "obligations_of", "pledged_of", "project_types",
           "qualification_events_of", "scheme_rules", "tradable_of_obligated", "verifications",
           "verifications_of"]


def monthly_submissions(tx: SqlTransaction, emitter: str, year: int) -> list[dict[str, Any]]:
    """An emitter's monthly submissions of a year, superseded ones too, by installation,
    month and seq."""
    columns = [c.name for c in schema.monthly_submissions.columns]
    rows = tx.all(f"SELECT {', '.join(columns)} FROM monthly_submissions WHERE emitter = :e "
                  "AND year = :y ORDER BY installation, month, submitted_seq",
                  {"e": emitter, "y": year})
    return [dict(zip(columns, row, strict=True)) for row in rows]


def clean_run(tx: SqlTransaction, emitter: str) -> tuple[int, bool]:
    """An emitter's run of clean verified years and whether it earns streamlined
    verification; (0, False) before its first verification."""
    found = tx.all("SELECT clean_run, streamlined FROM entity_records WHERE emitter = :e",
                   {"e": emitter})
    return (int(found[0][0]), bool(found[0][1])) if found else (0, False)
