"""One module per operation: its payload type, its schema (the EIP-712 struct) and its
handler, paired here with the roles that may sign it and its footprint."""

from __future__ import annotations

from custody.permissions import HOLDING_ROLES
from ledger.model import Role
from ledger.modules import Footprint, Operation
from projects.ops import (
    ccer_issue,
    claim_retire,
    methodology_publish,
    methodology_retire,
    monitoring_submit,
    monitoring_verify,
    project_comment,
    project_register,
    project_status,
    project_submit,
    project_validate,
)

OPERATIONS: tuple[Operation, ...] = (
    # methodologies and registration: the registry publishes and retires methodologies; an
    # owner submits a project, anyone comments on it, a qualified body validates it and the
    # registry registers it, and later suspends, reinstates or deregisters it
    Operation(methodology_publish.SCHEMA, methodology_publish.methodology_publish,
              frozenset({"registry"}), Footprint()),
    Operation(methodology_retire.SCHEMA, methodology_retire.methodology_retire,
              frozenset({"registry"}), Footprint()),
    Operation(project_submit.SCHEMA, project_submit.project_submit,
              frozenset({"project_owner"}), Footprint()),
    Operation(project_comment.SCHEMA, project_comment.project_comment,
              frozenset(role.value for role in Role), Footprint()),
    Operation(project_validate.SCHEMA, project_validate.project_validate,
              frozenset({"verifier"}), Footprint()),
    Operation(project_register.SCHEMA, project_register.project_register,
              frozenset({"registry"}), Footprint()),
    Operation(project_status.SCHEMA, project_status.project_status,
              frozenset({"registry"}), Footprint()),
    # monitoring and issuance: the owner reports a period, a qualified body verifies it and
    # the registry issues CCER for it (the only way CCER is issued)
    Operation(monitoring_submit.SCHEMA, monitoring_submit.monitoring_submit,
              frozenset({"project_owner"}), Footprint()),
    Operation(monitoring_verify.SCHEMA, monitoring_verify.monitoring_verify,
              frozenset({"verifier"}), Footprint()),
    Operation(ccer_issue.SCHEMA, ccer_issue.ccer_issue, frozenset({"registry"}),
              Footprint(accounts=("account",))),
    # retirement for an offsetting claim: the account's holder signs, whoever may hold credits
    Operation(claim_retire.SCHEMA, claim_retire.claim_retire, HOLDING_ROLES,
              Footprint(accounts=("account",), batch="batch", spends_from="account")),
)
