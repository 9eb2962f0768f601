"""The compliance module: what it brings to a ledger (ledger/modules.py)."""

from __future__ import annotations

from anchoring.auditor.verify_compliance import COMPLIANCE_KINDS
from compliance.document_store import SIDE_TABLES
from compliance.fields import ENUMS, FIELD_CHECKS
from compliance.invariants import check_compliance_invariants
from compliance.leaves import LEAF_KINDS
from compliance.ops import OPERATIONS
from compliance.reasons import ComplianceReason
from compliance.rules import compliance_rules
from compliance.schema import MIGRATIONS, TABLES
from ledger.modules import Module

COMPLIANCE = Module(
    name="compliance",
    operations=OPERATIONS,
    field_checks=FIELD_CHECKS,
    enums=ENUMS,
    reasons=ComplianceReason,
    rules=compliance_rules,
    invariants=check_compliance_invariants,
    bundle_kinds=COMPLIANCE_KINDS,
    leaf_kinds=LEAF_KINDS,
    tables=TABLES,
    side_tables=SIDE_TABLES,
    migrations=MIGRATIONS,
)
