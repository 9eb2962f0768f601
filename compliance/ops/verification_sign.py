"""verification_sign: a qualified verifier signs an emitter's verified emissions for a year
(whole tonnes), against the annual report it verified. This sets the year's obligation.

The verifier must hold a qualification in force in every sector of the report's installations,
must not have declared a conflict with the emitter, and must not have verified the emitter's
previous `max_consecutive_years` years in a row (the scheme's rules; 0: no limit). A verified
figure further from the monthly data than the scheme's `variance_bp` is accepted but flagged,
and a flagged year, or monthly data late or resting on a lapsed calibration, breaks the
emitter's run of clean years that earns streamlined verification.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.obligation_model import Obligation
from compliance.reasons import ComplianceReason
from compliance.rules import ComplianceRules, required_rules
from compliance.schema import conflicts, verifications
from compliance.verification_model import (
    EntityRecord,
    QualificationStatus,
    ReportFacts,
    Verification,
    load_entity_record,
    load_qualification,
    load_report,
    require_verifier_role,
    variance_bp,
    verifier_of,
)
from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class VerificationSign(Payload):
    verifier: str
    emitter: str
    year: int
    report: str
    verified_emissions: int  # whole tonnes CO2e


SCHEMA = define_schema(
    "verification_sign", "VerificationSign", VerificationSign,
    ("verifier", "string", "id"),
    ("emitter", "string", "id"),
    ("year", "uint64", "year"),
    ("report", "string", "id"),
    ("verifiedEmissions", "uint64", "tonnes"),
)


def verification_sign(p: VerificationSign, ctx: Context) -> Changes:
    require_verifier_role(ctx, p.verifier)
    require(ctx.is_signed_by(p.verifier), Reason.missing_signature, f"the verifier {p.verifier}")
    ctx.participant(p.emitter)
    report = load_report(ctx, p.emitter, p.year, p.report)
    require(ctx.ws.row(verifications, (p.emitter, p.year)) is None,
            ComplianceReason.already_verified, f"{p.emitter} {p.year}")
    rules = required_rules(ctx.rules(report.scheme))
    _require_qualified(ctx, p.verifier, report)
    require(ctx.ws.row(conflicts, (p.verifier, p.emitter)) is None,
            ComplianceReason.verifier_conflicted, f"{p.verifier} declared one with {p.emitter}")
    _require_rotation(ctx, p, rules)
    variance = variance_bp(p.verified_emissions, report.monthly_kg)
    verification = Verification(
        emitter=p.emitter, year=p.year, verifier=p.verifier, report=report.id,
        scheme=report.scheme, verified_t=p.verified_emissions, monthly_kg=report.monthly_kg,
        variance_bp=variance, flagged=variance > rules.variance_bp, signed_seq=ctx.seq)
    obligation = Obligation.set_by_verification(p.emitter, p.year, report.scheme,
                                                p.verified_emissions, ctx.seq)
    before = load_entity_record(ctx, p.emitter)
    clean = report.clean_data and not verification.flagged
    clean_run = ((before.clean_run if before else 0) + 1) if clean else 0
    record = EntityRecord(p.emitter, clean_run, clean_run >= rules.streamlined_after, ctx.seq)
    return Changes(rows=[verification.row(), obligation.row(new=True),
                         record.row(new=before is None)])


def _require_qualified(ctx: Context, verifier: str, report: ReportFacts) -> None:
    for sector in sorted(report.sectors):
        qualification = load_qualification(ctx, verifier, sector)
        status = qualification.status.value if qualification else "never granted"
        require(qualification is not None
                and qualification.status == QualificationStatus.granted,
                ComplianceReason.verifier_not_qualified, f"{verifier} in {sector}: {status}")


def _require_rotation(ctx: Context, p: VerificationSign, rules: ComplianceRules) -> None:
    """Refused when the verifier verified each of the emitter's previous N years."""
    limit = rules.max_consecutive_years
    if limit == 0:
        return
    previous = [verifier_of(ctx, p.emitter, p.year - back) for back in range(1, limit + 1)]
    require(any(v != p.verifier for v in previous), ComplianceReason.verifier_rotation,
            f"{p.verifier} verified {p.emitter}'s {p.year - limit}..{p.year - 1}: at most "
            f"{limit} years in a row")
