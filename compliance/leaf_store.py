"""The compliance module's leaves of the state commitment, read from its tables: every monthly
submission (`emissions`) and every verified obligation (`obligation`), and the reads that the
provers of their bundles need (anchoring/operator/compliance_evidence.py).

A leaf's value is the RFC 8785 canonical JSON of its record (docs/proof-format.md):

    emissions   {"calibration_lapsed","document_hash","emitter","id","installation","late",
                 "month","superseded_by","supersedes","total_kg"}       a monthly_submissions row
    obligation  {"allowances","credits","emitter","flagged","monthly_kg","obligation","scheme",
                 "verified_t","verifier","year"}      an obligations row with its verification

A superseded submission keeps its leaf, with `superseded_by` set: the history stays provable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from anchoring.auditor.verify_compliance import emissions_key, obligation_key
from ledger.canonical import canonical_json
from ledger.store.sql import SqlTransaction

Leaves = dict[bytes, bytes | None]
ObligationId = tuple[str, str]
"""(emitter, year in decimal): an obligation leaf's id, as the audit's triggers record it."""

_CHUNK = 500  # ids per statement: well under every database's parameter limit
_EMISSIONS_SQL = ("SELECT id, emitter, installation, month, document_hash, total_kg, "
                  "calibration_lapsed, late, supersedes, superseded_by FROM monthly_submissions")
# An obligation is written with its verification (verification_sign): the two rows go together.
_OBLIGATION_SQL = ("SELECT o.emitter, o.year, o.scheme, o.obligation, o.allowances, o.credits, "
                   "v.verifier, v.verified_t, v.monthly_kg, v.flagged FROM obligations o "
                   "JOIN verifications v ON v.emitter = o.emitter AND v.year = o.year")


def emissions_value(row: Sequence[Any]) -> bytes:
    """A monthly_submissions row (the columns of _EMISSIONS_SQL) as its leaf's value."""
    (submission, emitter, installation, month, document_hash, total_kg, lapsed, late,
     supersedes, superseded_by) = row
    return canonical_json({
        "id": submission, "emitter": emitter, "installation": installation, "month": month,
        "document_hash": document_hash, "total_kg": int(total_kg),
        "calibration_lapsed": bool(lapsed), "late": bool(late), "supersedes": supersedes,
        "superseded_by": superseded_by})


def obligation_value(row: Sequence[Any]) -> bytes:
    """An obligation joined with its verification (the columns of _OBLIGATION_SQL)."""
    (emitter, year, scheme, obligation, allowances, credits, verifier, verified_t, monthly_kg,
     flagged) = row
    return canonical_json({
        "emitter": emitter, "year": int(year), "scheme": scheme, "obligation": int(obligation),
        "allowances": int(allowances), "credits": int(credits), "verifier": verifier,
        "verified_t": int(verified_t), "monthly_kg": int(monthly_kg),
        "flagged": bool(flagged)})


def emission_leaves(tx: SqlTransaction, submissions: Iterable[str]) -> Leaves:
    wanted = sorted(set(submissions))
    leaves: Leaves = {emissions_key(s): None for s in wanted}
    for chunk in _chunks(wanted):
        names = {f"s{i}": submission for i, submission in enumerate(chunk)}
        for row in tx.all(f"{_EMISSIONS_SQL} WHERE id IN "
                          f"({', '.join(':' + n for n in names)})", names):
            leaves[emissions_key(row[0])] = emissions_value(row)
    return leaves


def all_emission_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    for row in tx.all(_EMISSIONS_SQL):
        yield emissions_key(row[0]), emissions_value(row)


def obligation_leaves(tx: SqlTransaction, ids: Iterable[ObligationId]) -> Leaves:
    wanted = sorted({(emitter, int(year)) for emitter, year in ids})
    leaves: Leaves = {obligation_key(e, y): None for e, y in wanted}
    for chunk in _chunks(wanted):
        params: dict[str, Any] = {}
        pairs = []
        for i, (emitter, year) in enumerate(chunk):
            params[f"e{i}"], params[f"y{i}"] = emitter, year
            pairs.append(f"(:e{i}, :y{i})")
        for row in tx.all(f"{_OBLIGATION_SQL} WHERE (o.emitter, o.year) IN "
                          f"(VALUES {', '.join(pairs)})", params):
            leaves[obligation_key(row[0], int(row[1]))] = obligation_value(row)
    return leaves


def all_obligation_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    for row in tx.all(_OBLIGATION_SQL):
        yield obligation_key(row[0], int(row[1])), obligation_value(row)


# --- what the provers ask ------------------------------------------------------------------------

def submission_seq(tx: SqlTransaction, submission: str) -> int | None:
    """The journal entry that made monthly submission `submission`; None: no such submission."""
    row = tx.one("SELECT submitted_seq FROM monthly_submissions WHERE id = :id",
                 {"id": submission})
    return None if row is None else int(row[0])


def obligated_before(tx: SqlTransaction, year: int, size: int) -> list[str]:
    """The emitters whose obligation for `year` was set by an entry before `size` (a
    checkpoint's log size: the obligations it commits), in code-point order. Obligations are never
    deleted."""
    # sorted here, not by the database: its collation may not be code-point order
    return sorted(emitter for (emitter,) in tx.all(
        "SELECT emitter FROM obligations WHERE year = :year AND set_seq < :size",
        {"year": year, "size": size}))


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]
