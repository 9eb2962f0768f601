"""Which roles may sign which of the core's operations (ledger/core.py declares them; every
other module declares its own operations' roles).

The table is deliberately small and explicit: an operation not listed for a role is refused with
`role_not_permitted`. Who may act on a particular account (its holder, a lien's holder) is a
further check made by each operation against the stored state.
"""

from __future__ import annotations

REGISTRY = "registry"
HOLDING_ROLES = frozenset({"registry", "emitter", "bank", "project_owner", "individual"})

OPERATION_ROLES: dict[str, frozenset[str]] = {
    "genesis": frozenset({REGISTRY}),
    "set_scheme_rules": frozenset({REGISTRY}),
    "register_participant": frozenset({REGISTRY}),
    # A participant manages its own keys; the registry may also do it (onboarding, a lost key).
    "register_key": frozenset({REGISTRY} | HOLDING_ROLES | {"verifier", "auditor"}),
    "revoke_key": frozenset({REGISTRY} | HOLDING_ROLES | {"verifier", "auditor"}),
    # signed by the key it retires, whoever holds it
    "rotate_key": frozenset({REGISTRY} | HOLDING_ROLES | {"verifier", "auditor"}),
    "open_account": frozenset({REGISTRY}),
    "freeze_account": frozenset({REGISTRY}),
    "unfreeze_account": frozenset({REGISTRY}),
    "issue_batch": frozenset({REGISTRY}),
    "cancel": frozenset({REGISTRY}),
    "transfer": HOLDING_ROLES,
    "retire": HOLDING_ROLES,
}

