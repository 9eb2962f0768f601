"""The offline check of a CCER unit's provenance: bundle kind `provenance`
(docs/proof-format.md).

What anyone holding a unit's batch and serial checks against one signed checkpoint, in one
bundle:

- the state proof of the lot that holds the serial at the checkpoint, whatever its state
  (tradable, pledged, retired...): a live lot of the unit's batch whose serials include it;
- the provenance of its batch, each link a journal entry with its inclusion proof, checked
  as for a retirement (anchoring.auditor.project_chain): the ccer_issue entry that issued
  the batch, the monitoring_submit and monitoring_verify entries of its monitoring period,
  the project_submit, project_validate and project_register entries of the project, and the
  methodology_publish entry of its methodology.

Pure like anchoring.auditor.verify: no ledger, no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anchoring.auditor.bundle_format import (
    MAX_SAFE_INTEGER,
    BundleKind,
    exact_fields,
    integer,
    text_field,
    typed,
)
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.project_chain import CHAIN, chain_entries, check_chain, describe_chain
from anchoring.auditor.verify_core import verify_lot

KIND = "provenance"
PROVENANCE_FIELDS = frozenset({"batch", "serial", "entries", "lot"})


def verify_provenance(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                      trusted: str) -> str:
    batch = text_field(bundle["batch"], "batch (the unit's batch)")
    serial = integer(bundle["serial"], "serial (the unit's serial number)")
    if not 1 <= serial <= MAX_SAFE_INTEGER:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 f"serial must be a serial number, an integer from 1; got "
                                 f"{serial}")
    entries = chain_entries(bundle["entries"], checkpoint, trusted, CHAIN,
                            noun="a unit's provenance", chain="this unit's provenance")
    check_chain(entries, CHAIN, batch, "the bundle's batch")
    lot = _holding_lot(bundle["lot"], batch, serial, checkpoint, trusted)
    lien = f", under lien {lot['lien']}" if lot.get("lien") else ""
    return (f"serial {serial} of batch {batch}: at checkpoint {checkpoint.number} "
            f"({checkpoint.time}) it is in lot {lot['id']} (serials {lot['first']}.."
            f"{lot['last']}), {lot['state']} in account {lot['account']}{lien}; the batch was "
            f"{describe_chain(entries)}")


def _holding_lot(item: Any, batch: str, serial: int, checkpoint: CheckpointBody,
                 trusted: str) -> dict[str, Any]:
    """The record of the lot that holds the serial, proven live at the checkpoint."""
    typed(item, Mapping, "lot")
    exact_fields(item, frozenset({"lot", "state"}), "lot")
    verify_lot(item, checkpoint, trusted)  # the state proof, and a well-formed record
    lot_id = str(item["lot"])
    value = item["state"]["value"]
    if value is None:
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"the bundle proves that lot {lot_id} was not live at "
                                 f"checkpoint {checkpoint.number}: it holds no serial there, "
                                 f"so it does not show where serial {serial} is")
    record: dict[str, Any] = json.loads(value)
    if record["batch"] != batch:
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"lot {lot_id} is of batch {record['batch']!r}, but the "
                                 f"bundle's batch is {batch!r}: it does not hold the unit")
    if not record["first"] <= serial <= record["last"]:
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"lot {lot_id} holds serials {record['first']}.."
                                 f"{record['last']} of batch {batch}, not serial {serial}")
    return record


PROVENANCE = BundleKind(KIND, PROVENANCE_FIELDS, verify_provenance)
