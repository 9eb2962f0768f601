"""installation_register: the registry onboards an emitter's installation, covered by one
compliance scheme, in one sector (verifiers are qualified per sector). The installation joins
its emitter's list for that scheme, which every annual report must cover."""

from __future__ import annotations

from dataclasses import dataclass

from compliance.model import EmitterInstallations, Installation, load_emitter_installations
from compliance.reasons import ComplianceReason
from compliance.rules import required_rules
from compliance.schema import installations
from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.model import Role
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class InstallationRegister(Payload):
    installation: str
    emitter: str
    scheme: str
    sector: str
    name: str


SCHEMA = define_schema(
    "installation_register", "InstallationRegister", InstallationRegister,
    ("installation", "string", "id"),
    ("emitter", "string", "id"),
    ("scheme", "string", "id"),
    ("sector", "string", "label"),
    ("name", "string", "text"),
)


def installation_register(p: InstallationRegister, ctx: Context) -> Changes:
    ctx.require_registry()
    require(ctx.ws.row(installations, (p.installation,)) is None,
            ComplianceReason.installation_exists, p.installation)
    emitter = ctx.participant(p.emitter)
    require(emitter.role == Role.emitter, ComplianceReason.not_an_emitter,
            f"{emitter.id} is a {emitter.role.value}")
    required_rules(ctx.rules(p.scheme))
    installation = Installation(id=p.installation, emitter=emitter.id, scheme=p.scheme,
                                sector=p.sector, name=p.name, registered_seq=ctx.seq)
    listed = load_emitter_installations(ctx, emitter.id, p.scheme)
    after = (listed or EmitterInstallations(emitter.id, p.scheme, (), ctx.seq)).adding(
        installation.id, ctx.seq)
    return Changes(rows=[installation.row(), after.row(new=listed is None)])
