"""verifier_declare_conflict: a verifier, or the registry, declares that the verifier belongs
to an entity or has consulted for it. From then on the verifier may never verify that entity
(`verifier_conflicted`). A declaration is never withdrawn: independence once lost stays lost
for the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.fields import ConflictRelation
from compliance.reasons import ComplianceReason
from compliance.schema import conflicts
from compliance.verification_model import require_verifier_role
from ledger.effects import Changes, Row
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.model import Role
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class VerifierDeclareConflict(Payload):
    verifier: str
    entity: str
    relation: ConflictRelation


SCHEMA = define_schema(
    "verifier_declare_conflict", "VerifierDeclareConflict", VerifierDeclareConflict,
    ("verifier", "string", "id"),
    ("entity", "string", "id"),
    ("relation", "string", "ConflictRelation"),
)


def verifier_declare_conflict(p: VerifierDeclareConflict, ctx: Context) -> Changes:
    require_verifier_role(ctx, p.verifier)
    signed_by_registry = any(s.participant.role == Role.registry for s in ctx.signers)
    require(ctx.is_signed_by(p.verifier) or signed_by_registry, Reason.missing_signature,
            f"the verifier {p.verifier} or the registry")
    ctx.participant(p.entity)
    require(ctx.ws.row(conflicts, (p.verifier, p.entity)) is None,
            ComplianceReason.conflict_exists, f"{p.verifier} and {p.entity}")
    return Changes(rows=[Row(conflicts, (p.verifier, p.entity),
                             {"verifier": p.verifier, "entity": p.entity,
                              "relation": p.relation.value, "declared_seq": ctx.seq},
                             new=True)])
