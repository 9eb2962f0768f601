"""One module per operation: its payload type, its schema (the EIP-712 struct) and its
handler. Each file adds its (schema, handler, roles, footprint) here."""

from __future__ import annotations

from compliance.ops import (
    annual_report_submit,
    document_key_publish,
    installation_register,
    instrument_calibrate,
    instrument_register,
    monthly_submit,
    offset_project_register,
    surrender,
    verification_sign,
    verifier_declare_conflict,
    verifier_qualify,
)
from ledger.model import Role
from ledger.modules import Footprint, Operation

OPERATIONS: tuple[Operation, ...] = (
    # emissions data: the registry onboards installations; each emitter signs for its own
    Operation(installation_register.SCHEMA, installation_register.installation_register,
              frozenset({"registry"}), Footprint()),
    Operation(instrument_register.SCHEMA, instrument_register.instrument_register,
              frozenset({"emitter"}), Footprint()),
    Operation(instrument_calibrate.SCHEMA, instrument_calibrate.instrument_calibrate,
              frozenset({"emitter"}), Footprint()),
    Operation(monthly_submit.SCHEMA, monthly_submit.monthly_submit,
              frozenset({"emitter"}), Footprint()),
    Operation(annual_report_submit.SCHEMA, annual_report_submit.annual_report_submit,
              frozenset({"emitter"}), Footprint()),
    # verifiers: the registry qualifies them; a verifier (or the registry) declares its
    # conflicts; a verifier signs a year's verified emissions, which sets the obligation
    Operation(verifier_qualify.SCHEMA, verifier_qualify.verifier_qualify,
              frozenset({"registry"}), Footprint()),
    Operation(verifier_declare_conflict.SCHEMA,
              verifier_declare_conflict.verifier_declare_conflict,
              frozenset({"verifier", "registry"}), Footprint()),
    Operation(verification_sign.SCHEMA, verification_sign.verification_sign,
              frozenset({"verifier"}), Footprint()),
    # compliance: offset projects' types, and surrender against an obligation
    Operation(offset_project_register.SCHEMA, offset_project_register.offset_project_register,
              frozenset({"registry"}), Footprint()),
    Operation(surrender.SCHEMA, surrender.surrender, frozenset({"emitter"}),
              Footprint(accounts=("account",), batch="batch", spends_from="account")),
    # confidential documents: any participant publishes a key documents are sealed for
    Operation(document_key_publish.SCHEMA, document_key_publish.document_key_publish,
              frozenset(role.value for role in Role), Footprint()),
)
