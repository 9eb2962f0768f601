"""The projects module: what it brings to a ledger (ledger/modules.py). It builds on the
compliance module (verifier qualifications and conflicts), which a ledger running it runs
too."""

from __future__ import annotations

from anchoring.auditor.verify_projects import PROJECT_KINDS
from ledger.modules import Module
from projects.fields import ENUMS
from projects.ops import OPERATIONS
from projects.public_document_store import SIDE_TABLES
from projects.reasons import ProjectReason
from projects.rules import project_rules
from projects.schema import MIGRATIONS, TABLES

PROJECTS = Module(
    name="projects",
    operations=OPERATIONS,
    enums=ENUMS,
    reasons=ProjectReason,
    rules=project_rules,
    bundle_kinds=PROJECT_KINDS,
    tables=TABLES,
    side_tables=SIDE_TABLES,  # public documents, kept beside the journal
    migrations=MIGRATIONS,
)
