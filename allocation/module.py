"""The allocation module: what it brings to a ledger (ledger/modules.py). It builds on the
compliance module (installations, their sectors and emitters, verifier qualifications and
conflicts), which a ledger running it runs too."""

from __future__ import annotations

from allocation.auction_leaves import AUCTION_LEAVES
from allocation.fields import FIELD_CHECKS
from allocation.installation_leaves import INSTALLATION_ALLOCATION_LEAVES
from allocation.invariants import check_allocation_invariants
from allocation.ops import OPERATIONS
from allocation.plan_leaves import PLAN_LEAVES
from allocation.reasons import AllocationReason
from allocation.rules import allocation_rules
from allocation.schema import MIGRATIONS, TABLES
from anchoring.auditor.verify_allocation import ALLOCATION_KINDS
from ledger.modules import Module

ALLOCATION = Module(
    name="allocation",
    operations=OPERATIONS,
    field_checks=FIELD_CHECKS,
    reasons=AllocationReason,
    rules=allocation_rules,
    tables=TABLES,
    migrations=MIGRATIONS,
    invariants=check_allocation_invariants,
    leaf_kinds=(AUCTION_LEAVES, PLAN_LEAVES, INSTALLATION_ALLOCATION_LEAVES),
    bundle_kinds=ALLOCATION_KINDS,
)
