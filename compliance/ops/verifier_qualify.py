"""verifier_qualify: the registry grants, suspends or revokes a verification body's
qualification in one sector, with a reason.

From the entry that suspends or revokes it, the verifier's signature on a report of an
installation of that sector is refused (`verifier_not_qualified`); a suspended qualification
may be granted again, and so may a revoked one, by a new decision that the history keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.fields import QualificationAction
from compliance.reasons import ComplianceReason
from compliance.verification_model import (
    TRANSITIONS,
    Qualification,
    load_qualification,
    qualification_event,
    require_verifier_role,
)
from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class VerifierQualify(Payload):
    verifier: str
    sector: str
    action: QualificationAction
    reason: str

    def check(self) -> None:
        if not self.reason.strip():
            raise Rejected(Reason.malformed_instruction, "a qualification decision gives a reason")


SCHEMA = define_schema(
    "verifier_qualify", "VerifierQualify", VerifierQualify,
    ("verifier", "string", "id"),
    ("sector", "string", "label"),
    ("action", "string", "QualificationAction"),
    ("reason", "string", "text"),
)


def verifier_qualify(p: VerifierQualify, ctx: Context) -> Changes:
    ctx.require_registry()
    require_verifier_role(ctx, p.verifier)
    before = load_qualification(ctx, p.verifier, p.sector)
    starts_from, status = TRANSITIONS[p.action]
    was = None if before is None else before.status
    require(was in starts_from, ComplianceReason.qualification_transition,
            f"{p.action.value} a qualification that is {was.value if was else 'not granted'}")
    if p.action == QualificationAction.grant:
        granted_seq = ctx.seq
    else:
        assert before is not None, "only a grant starts a qualification"
        granted_seq = before.granted_seq
    after = Qualification(p.verifier, p.sector, status, p.reason, granted_seq, ctx.seq)
    return Changes(rows=[after.row(new=before is None),
                         qualification_event(ctx, after, p.action)])
