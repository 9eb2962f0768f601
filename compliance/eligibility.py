"""Which units may be surrendered against which year's obligation: the one rule, shared by the
surrender operation (which refuses what it says no to) and the risk warning (which counts only
what it says yes to).

Pure: it sees a batch, the scheme's compliance rules, the compliance year, the declared type
of the batch's offset project and the market day; it reads nothing.

- **Allowances** of the obligation's own scheme, of a vintage no later than the year and, when
  the scheme limits banking (`banking_years` > 0), no more than that many vintages back.
- **Offsets**: credits of a scheme the rules name in `[compliance.offsets] schemes`, of a
  vintage no earlier than `min_vintage` (0: any), of a project whose declared type is listed
  (an empty list: any type, declared or not), and not after the scheme's sunset day. How
  many of them count is the cap's business (`OffsetRules.cap`), not this rule's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from compliance.reasons import ComplianceReason
from compliance.rules import ComplianceRules
from ledger.errors import Rejected
from ledger.model import Batch, Kind


class UnitKind(enum.StrEnum):
    """What a surrendered unit counts as against an obligation."""

    allowance = "allowance"
    credit = "credit"  # an offset, within the cap


@dataclass(frozen=True)
class Ineligible:
    """Why a batch may not be surrendered against a year: a named reason and the particulars."""

    reason: ComplianceReason
    detail: str

    def rejected(self) -> Rejected:
        return Rejected(self.reason, self.detail)


def unit_kind(rules: ComplianceRules, batch: Batch) -> UnitKind | None:
    """What `batch`'s units would count as under `rules`' scheme; None: nothing."""
    if batch.kind == Kind.allowance and batch.scheme == rules.scheme:
        return UnitKind.allowance
    if batch.kind == Kind.credit and batch.scheme in rules.offsets.schemes:
        return UnitKind.credit
    return None


def ineligibility(rules: ComplianceRules, batch: Batch, year: int, *,
                  project_type: str | None, today: date) -> Ineligible | None:
    """Why `batch` may not be surrendered against compliance year `year` on market day
    `today`; None when it may. `project_type` is the declared type of the batch's offset
    project (offset_project_register), None if none was declared."""
    kind = unit_kind(rules, batch)
    if kind is None:
        return Ineligible(ComplianceReason.not_eligible_for_scheme,
                          f"{batch.id} is a {batch.kind.value} of {batch.scheme}: {rules.scheme} "
                          f"takes allowances of {rules.scheme}"
                          + _offset_schemes(rules))
    if kind is UnitKind.allowance:
        return _allowance_vintage(rules, batch, year)
    return _offset(rules, batch, project_type, today)


def eligible_kind(rules: ComplianceRules, batch: Batch, year: int, *,
                  project_type: str | None, today: date) -> UnitKind:
    """What `batch`'s units count as against `year`; `Rejected` with the reason if they may
    not be surrendered against it (the surrender operation's check)."""
    found = ineligibility(rules, batch, year, project_type=project_type, today=today)
    if found is not None:
        raise found.rejected()
    kind = unit_kind(rules, batch)
    assert kind is not None
    return kind


def _allowance_vintage(rules: ComplianceRules, batch: Batch, year: int) -> Ineligible | None:
    if batch.vintage > year:
        return Ineligible(ComplianceReason.vintage_not_eligible,
                          f"{batch.id} is of vintage {batch.vintage}, later than {year}")
    earliest = year - rules.banking_years
    if rules.banking_years and batch.vintage < earliest:
        return Ineligible(ComplianceReason.vintage_not_eligible,
                          f"{batch.id} is of vintage {batch.vintage}: {rules.scheme} banks "
                          f"vintages {earliest} to {year} into {year}")
    return None


def _offset(rules: ComplianceRules, batch: Batch, project_type: str | None,
            today: date) -> Ineligible | None:
    offsets = rules.offsets
    if offsets.min_vintage and batch.vintage < offsets.min_vintage:
        return Ineligible(ComplianceReason.offset_not_eligible,
                          f"{batch.id} is of vintage {batch.vintage}, before "
                          f"{offsets.min_vintage}")
    if offsets.project_types and project_type not in offsets.project_types:
        declared = "no declared type" if project_type is None else f"type {project_type!r}"
        return Ineligible(ComplianceReason.offset_not_eligible,
                          f"{batch.id}'s project {batch.project!r} has {declared}: "
                          f"{rules.scheme} takes {', '.join(sorted(offsets.project_types))}")
    if offsets.sunset is not None and today > offsets.sunset:
        return Ineligible(ComplianceReason.offset_not_eligible,
                          f"{rules.scheme} took offsets until {offsets.sunset.isoformat()}")
    return None


def _offset_schemes(rules: ComplianceRules) -> str:
    schemes = sorted(rules.offsets.schemes)
    return f" and credits of {', '.join(schemes)}" if schemes else ""
