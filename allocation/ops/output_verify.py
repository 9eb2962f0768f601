"""output_verify: a verifier qualified in the installation's sector, without a declared conflict
with its emitter, signs the installation's activity output for a year."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.installation_model import VerifiedOutput, find_output
from allocation.reasons import AllocationReason
from compliance.model import load_installation
from compliance.reasons import ComplianceReason
from compliance.schema import conflicts
from compliance.verification_model import (
    QualificationStatus,
    load_qualification,
    require_verifier_role,
)
from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class OutputVerify(Payload):
    verifier: str
    installation: str
    year: int
    output: str  # exact decimal
    unit: str


SCHEMA = define_schema(
    "output_verify", "OutputVerify", OutputVerify,
    ("verifier", "string", "id"),
    ("installation", "string", "id"),
    ("year", "uint64", "year"),
    ("output", "string", "decimal_figure"),
    ("unit", "string", "label"),
)


def output_verify(p: OutputVerify, ctx: Context) -> Changes:
    """The output is a fact of the installation's year, independent of any plan: its unit is
    checked against the plan's sector when an allocation rests on it (`output_unit_mismatch`)."""
    require_verifier_role(ctx, p.verifier)
    require(ctx.is_signed_by(p.verifier), Reason.missing_signature, f"the verifier {p.verifier}")
    installation = load_installation(ctx, p.installation)
    qualification = load_qualification(ctx, p.verifier, installation.sector)
    status = qualification.status.value if qualification else "never granted"
    require(qualification is not None and qualification.status == QualificationStatus.granted,
            ComplianceReason.verifier_not_qualified,
            f"{p.verifier} in {installation.sector}: {status}")
    require(ctx.ws.row(conflicts, (p.verifier, installation.emitter)) is None,
            ComplianceReason.verifier_conflicted,
            f"{p.verifier} declared one with {installation.emitter}")
    earlier = find_output(ctx, p.installation, p.year)
    if earlier is not None:
        raise Rejected(AllocationReason.output_already_verified,
                       f"{p.installation} {p.year}: {earlier.output} {earlier.unit} by "
                       f"{earlier.verifier}")
    output = VerifiedOutput(p.installation, p.year, p.verifier, p.output, p.unit, ctx.seq)
    return Changes(rows=[output.row()])
