"""Who may validate or verify a project: the one check both validation and verification make.

A validation or verification body is a participant with the verifier role that signs the
instruction itself, holds a qualification in force (granted) in the methodology's sector, and
has not declared a conflict with the project's owner. Qualifications and conflicts are the
compliance module's (compliance/verification_model.py, compliance/schema.py `conflicts`), so
a suspension there stops a body's project work here from the same entry.
"""

from __future__ import annotations

from compliance.reasons import ComplianceReason
from compliance.schema import conflicts
from compliance.verification_model import (
    QualificationStatus,
    load_qualification,
    require_verifier_role,
)
from ledger.errors import Reason, require
from ledger.ops import Context


def require_qualified_body(ctx: Context, body: str, sector: str, owner: str) -> None:
    """`body` signed, is a verifier, is qualified in `sector` and is independent of `owner`;
    refused by name at the first that fails."""
    require_verifier_role(ctx, body)
    require(ctx.is_signed_by(body), Reason.missing_signature, f"the body {body}")
    qualification = load_qualification(ctx, body, sector)
    status = qualification.status.value if qualification else "never granted"
    require(qualification is not None and qualification.status == QualificationStatus.granted,
            ComplianceReason.verifier_not_qualified, f"{body} in {sector}: {status}")
    require(ctx.ws.row(conflicts, (body, owner)) is None, ComplianceReason.verifier_conflicted,
            f"{body} declared one with {owner}")
