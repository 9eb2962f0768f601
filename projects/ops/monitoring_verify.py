"""monitoring_verify: a verification body verifies a reported monitoring period, signing the
reductions it found, in whole tonnes. That figure, not the owner's claim, is what issuance may
not exceed: a body may cut a claim it finds overstated, and may also find more than was
claimed (an owner who under-reported is credited what was verified).

The body signs itself, holds a qualification in force in the methodology's sector and has
declared no conflict with the project's owner (projects/bodies.py); where the scheme's rules
say `validator_may_verify = false`, it is not the body that validated the project. A period
is verified once. Verifying records what the body found whatever the project's status since
the report: a suspended project's verified periods wait, and issuance is what refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from projects.bodies import require_qualified_body
from projects.model import load_methodology, load_project
from projects.period_model import PeriodStatus, load_period
from projects.reasons import ProjectReason
from projects.rules import CCER_SCHEME, required_rules


@dataclass(frozen=True)
class MonitoringVerify(Payload):
    project: str
    period: str
    verifier: str
    verified_reductions: int  # whole tonnes CO2e


SCHEMA = define_schema(
    "monitoring_verify", "MonitoringVerify", MonitoringVerify,
    ("project", "string", "id"),
    ("period", "string", "id"),
    ("verifier", "string", "id"),
    ("verifiedReductions", "uint64", "tonnes"),
)


def monitoring_verify(p: MonitoringVerify, ctx: Context) -> Changes:
    project = load_project(ctx, p.project)
    period = load_period(ctx, p.project, p.period)
    require(period.status == PeriodStatus.reported, ProjectReason.period_already_verified,
            f"{p.project} {p.period} is {period.status.value}, verified by {period.verifier}")
    methodology = load_methodology(ctx, project.methodology)
    require_qualified_body(ctx, p.verifier, methodology.sector, project.owner)
    rules = required_rules(ctx.rules(CCER_SCHEME))
    require(rules.validator_may_verify or p.verifier != project.validator,
            ProjectReason.verifier_validated_project,
            f"{p.verifier} validated {project.id}")
    after = period.verified_by(p.verifier, p.verified_reductions, ctx.seq)
    return Changes(rows=[after.row(new=False)])
