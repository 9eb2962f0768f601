"""Typed payloads: every operation's payload stands for exactly its schema's fields, its handler
takes it, and parsing builds it once and runs its stateless rules in the parser's order."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest

from ledger.errors import Reason, Rejected
from ledger.model import AccountType, Role
from ledger.modules import Operation
from ledger.payloads import OpenAccount, Payload, RegisterParticipant, Transfer, Units
from pledge.fields import RepoParty
from pledge.ops.repo_default import RepoDefault
from tests.world import OPERATIONS

EVERY_OPERATION = list(OPERATIONS)


def test_every_module_is_covered() -> None:
    names = {operation.name for operation in EVERY_OPERATION}
    assert {"genesis", "transfer", "cancel", "pledge_register", "repo_default",
            "monthly_submit", "surrender", "ccer_issue", "claim_retire",
            "allocation_preallocate", "auction_clear"} <= names
    assert len(names) == 55


@pytest.mark.parametrize("operation", EVERY_OPERATION, ids=lambda o: o.name)
def test_payload_fields_match_the_schema_one_for_one(operation: Operation) -> None:
    payload = operation.schema.payload
    assert issubclass(payload, Payload)
    assert dataclasses.is_dataclass(payload)
    assert payload.__dataclass_params__.frozen
    assert payload.wire_names() == tuple(spec.name for spec in operation.schema.fields)


@pytest.mark.parametrize("operation", EVERY_OPERATION, ids=lambda o: o.name)
def test_handler_takes_its_schemas_payload(operation: Operation) -> None:
    first = next(iter(inspect.signature(operation.handler).parameters))
    assert typing.get_type_hints(operation.handler)[first] is operation.schema.payload


def test_parsing_builds_the_typed_payload() -> None:
    ins = OPERATIONS.instruction("transfer", fromAccount="HN", toAccount="BW", batch="A1",
                                 quantity=10, serialFirst=501, serialLast=510)
    assert ins.payload == Transfer("HN", "BW", Units("A1", 10, 501, 510))
    # the wire form is untouched: camelCase, flat
    assert ins.body_json()["fields"] == {"fromAccount": "HN", "toAccount": "BW", "batch": "A1",
                                         "quantity": 10, "serialFirst": 501, "serialLast": 510}


def test_enumerations_become_their_enum() -> None:
    ins = OPERATIONS.instruction("open_account", account="HN", participant="huaneng",
                                 accountType="compliance")
    assert ins.payload == OpenAccount("HN", "huaneng", AccountType.compliance)
    assert isinstance(ins.payload, OpenAccount)
    assert type(ins.payload.account_type) is AccountType
    registered = OPERATIONS.instruction("register_participant", participant="p", name="P",
                                        role="bank").payload
    assert isinstance(registered, RegisterParticipant) and type(registered.role) is Role
    default = OPERATIONS.instruction("repo_default", repo="R1", defaulter="seller").payload
    assert default == RepoDefault("R1", RepoParty.seller)
    assert isinstance(default, RepoDefault) and default.performer == RepoParty.buyer


def _refusal(op: str, **fields: typing.Any) -> Rejected:
    with pytest.raises(Rejected) as refused:
        OPERATIONS.instruction(op, **fields)
    return refused.value


@pytest.mark.parametrize(("first", "last", "to", "reason"), [
    (5, 0, "HN", Reason.malformed_instruction),  # half a range, before the other checks
    (1, 5, "HN", Reason.serial_range_mismatch),  # the range, before the accounts
    (1, 10, "HN", Reason.same_account),
    (0, 0, "HN", Reason.same_account),
    (3, 1, "BW", Reason.serial_range_mismatch),
])
def test_transfer_checks_its_range_then_its_accounts(first: int, last: int, to: str,
                                                      reason: Reason) -> None:
    refused = _refusal("transfer", fromAccount="HN", toAccount=to, batch="A1", quantity=10,
                       serialFirst=first, serialLast=last)
    assert refused.reason == reason


@pytest.mark.parametrize("op", ["retire", "cancel", "pledge_register"])
def test_every_range_operation_checks_its_units(op: str) -> None:
    fields = {spec.name: _valid(spec.check) for spec in OPERATIONS.schema(op).fields}
    fields.update(batch="A1", quantity=10, serialFirst=1, serialLast=9)
    assert _refusal(op, **fields).reason == Reason.serial_range_mismatch
    fields.update(serialLast=0)
    assert _refusal(op, **fields).reason == Reason.malformed_instruction


def test_field_checks_run_before_the_payloads_own() -> None:
    # a bad field is refused as such even where the range is also wrong
    refused = _refusal("transfer", fromAccount="HN", toAccount="HN", batch="A1", quantity=0,
                       serialFirst=1, serialLast=5)
    assert refused.reason == Reason.quantity_not_positive


def _valid(check: str) -> object:
    return {"id": "X1", "text": "t", "quantity": 10, "serial": 0, "reference": "LOAN-1",
            "amount": 100, "currency": "CNY", "day": "2030-01-01"}[check]
