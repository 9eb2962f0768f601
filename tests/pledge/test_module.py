"""The pledge module plugs in through its declaration alone: a ledger built without it does not
know its operations, one built with it does, whatever was imported; and an audit run from a
process whose only entry point is the audit passes on a ledger with pledges and repos."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from anchoring.operator.checkpoints import Checkpointer
from ledger.clock import FixedClock
from ledger.core import CORE
from ledger.engine import Ledger
from ledger.errors import Reason, Rejected
from ledger.modules import Module, Operation, OperationSet
from ledger.replay import replay_check
from ledger.schemes import SchemeRules, load_rules_dir, rules_document
from ledger.store.database import Store
from pledge.module import PLEDGE
from pledge.reasons import PledgeReason
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.isolation import REPO_ROOT
from tests.pledge.helpers import PLEDGE as PLEDGE_FIELDS
from tests.pledge.helpers import register
from tests.pledge.test_replay import every_lifecycle
from tests.world import CHAIN_ID, World, fresh_wallet

AUDIT_ONLY = """
import sys
from anchoring.audit import audit
from api.bootstrap import operation_set
from ledger.store.database import Store, sqlite_url

store = Store(sqlite_url(sys.argv[1]))
report = audit(store, operation_set(), sys.argv[2])
print(report.ok, report.entries, report.checkpoints, report.first_discrepancy)
"""


def test_an_audit_with_only_the_audit_as_entry_point_passes(market: World) -> None:
    every_lifecycle(market)
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    path = market.store.url.removeprefix("sqlite:///")
    audited = subprocess.run([sys.executable, "-c", AUDIT_ONLY, path, checkpointer.operator],
                             capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert audited.returncode == 0, audited.stderr
    assert audited.stdout.startswith(f"True {market.head() + 1} 1 None"), audited.stdout


def test_a_ledger_without_the_module_does_not_know_its_operations(market: World) -> None:
    core_only = OperationSet([CORE])
    with pytest.raises(Rejected) as unknown:
        core_only.instruction("pledge_register", **PLEDGE_FIELDS)
    assert unknown.value.reason is Reason.unknown_operation
    register(market)
    report = replay_check(market.store, core_only)
    assert report.first_difference is not None
    assert "pledge_register" in report.first_difference
    assert replay_check(market.store, OperationSet([CORE, PLEDGE])).ok


def test_every_reason_of_every_module_is_known_by_name() -> None:
    operations = OperationSet([CORE, PLEDGE])
    assert operations.reasons["unknown_batch"] is Reason.unknown_batch
    assert operations.reasons["pledge_not_found"] is PledgeReason.pledge_not_found
    assert len(operations.reasons) == len(Reason) + len(PledgeReason)


def test_two_modules_may_not_define_one_operation() -> None:
    genesis = CORE.operations[0]
    twin = Module("twin", operations=(Operation(genesis.schema, genesis.handler, genesis.roles),))
    with pytest.raises(ValueError, match="two modules define the operation 'genesis'"):
        OperationSet([CORE, twin])
    with pytest.raises(ValueError, match="field check 'amount'"):
        OperationSet([CORE, PLEDGE, Module("again", field_checks=PLEDGE.field_checks)])
    with pytest.raises(ValueError, match="reason 'malformed_instruction'"):
        OperationSet([CORE, Module("clash", reasons=Reason)])
    with pytest.raises(ValueError, match="module 'pledge'"):
        OperationSet([CORE, PLEDGE, PLEDGE])


def test_a_modules_rules_section_is_checked_only_by_a_ledger_that_has_the_module(
        sqlite_store: Store, clock: FixedClock) -> None:
    """Genesis carries every scheme's rules; a bad pledge section is the pledge module's to
    refuse, at once."""
    rules = load_rules_dir()
    document = rules["CN-ETS"].as_json()
    document["repo"] = {**document["repo"], "min_quantity": 0}
    rules["CN-ETS"] = SchemeRules.from_json(document)
    registry = fresh_wallet()
    genesis: dict[str, Any] = dict(registry="registry", registryName="Registry",
                                   registryKey=registry.address, chainId=CHAIN_ID,
                                   rules=rules_document(rules))
    full = Ledger(sqlite_store, OperationSet([CORE, PLEDGE]), clock)
    with pytest.raises(Rejected) as refused:
        full.submit(registry.sign(full.operations.instruction("genesis", **genesis)))
    assert refused.value.reason is Reason.invalid_rules
    assert "min_quantity" in refused.value.detail
    core_only = Ledger(sqlite_store, OperationSet([CORE]), clock)
    assert core_only.submit(registry.sign(core_only.operations.instruction(
        "genesis", **genesis))).seq == 0


def test_every_account_an_operation_names_is_in_its_footprint() -> None:
    """The engine reads ahead and the checkpointer looks at exactly the accounts a footprint
    declares: an account field left out would be read late, or its leaf never looked at."""
    for operation in OperationSet([CORE, PLEDGE]):
        named = {spec.name for spec in operation.schema.fields
                 if spec.name == "account" or spec.name.endswith("Account")}
        assert named == set(operation.footprint.accounts), operation.name
        batch = operation.footprint.batch
        assert batch is None or batch in {spec.name for spec in operation.schema.fields}


def test_the_offline_verifier_knows_every_bundle_kind_the_modules_bring() -> None:
    """An auditor's verifier (no ledger, no database) lists its kinds itself; the modules
    declare the kinds their ledger proves: the two must be the same kinds."""
    from allocation.module import ALLOCATION
    from anchoring.auditor.verify import STANDARD_KINDS
    from compliance.module import COMPLIANCE
    from projects.module import PROJECTS

    declared = OperationSet([CORE, PLEDGE, COMPLIANCE, PROJECTS, ALLOCATION]).bundle_kinds
    assert {kind.name: kind for kind in STANDARD_KINDS} == declared
