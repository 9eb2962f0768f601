"""A retirement's provenance, built from the store: one proof bundle of kind `retirement`
(docs/proof-format.md) that a certificate's holder, or anyone, checks against the chain.

    bundle = prove_retirement(Prover(store), "RET-2025-001")             # the latest checkpoint
    bundle = prove_retirement(Prover(store), "RET-2025-001", number=3)   # checkpoint 3

It gathers, against one signed checkpoint, the claim_retire entry and the entries of its
units' provenance (ccer_issue, monitoring_verify, monitoring_submit, project_submit,
project_validate, project_register, methodology_publish), each with its inclusion proof, and
the state proof of every lot the retirement left retired.
`anchoring.auditor.verify_projects` checks it offline.

The bundle is assembled from the Prover's own bundles, so its proofs are exactly theirs and
the fields every bundle carries (checkpoint, operator, anchor) are copied, not rebuilt here.
"""

from __future__ import annotations

import json
from typing import Any

from anchoring.auditor.verify_projects import KIND, LINKS, RETIRED
from anchoring.operator.bundles import (
    Bundle,
    Prover,
    common_fields,
    same_checkpoint,
    stored_checkpoint,
)
from anchoring.operator.errors import (
    CheckpointError,
    NotCheckpointed,
    OperatorFailure,
    StoreInconsistent,
)
from projects.store import Provenance, provenance


class RetirementNotFound(CheckpointError, LookupError):
    """No retirement for an offsetting claim has the id asked for."""

    code = OperatorFailure.retirement_not_found


def prove_retirement(prover: Prover, retirement_id: str, number: int | None = None) -> Bundle:
    """The provenance of retirement `retirement_id` at checkpoint `number` (default: the
    latest).

    Raises RetirementNotFound, NotCheckpointed (no checkpoint, or the retirement came after
    it: cut one), or StoreInconsistent (the records disagree with the journal)."""
    with prover.store.read() as tx:
        found = provenance(tx, retirement_id)
        if found is None:
            raise RetirementNotFound(f"there is no retirement {retirement_id!r} in this ledger "
                                     "(ids are case-sensitive)")
        checkpoint = stored_checkpoint(tx, number)
    if found.retirement >= checkpoint.log_size:
        then = ("cut a checkpoint with `carbonledger checkpoint`, then ask again"
                if number is None else "name a later checkpoint, or cut one with "
                "`carbonledger checkpoint`")
        raise NotCheckpointed(
            f"retirement {retirement_id} was journaled by entry {found.retirement}, after "
            f"checkpoint {checkpoint.number} (entries 0..{checkpoint.log_size - 1}): {then}")
    at = checkpoint.number
    entries = {link: prover.entry(seq, at) for link, seq in _seqs(found).items()}
    retired = _retired_lots(entries["retirement"]["entry"])
    lots = [prover.lot(lot_id, at) for lot_id in retired]
    if any(lot["state"]["value"] is None for lot in lots):
        raise StoreInconsistent(f"a lot retirement {retirement_id} retired is not in "
                                f"checkpoint {at}'s state; run `carbonledger audit`")
    lots.sort(key=lambda lot: json.loads(lot["state"]["value"])["first"])
    first = entries["retirement"]
    same_checkpoint(first, [*entries.values(), *lots], f"retirement {retirement_id}")
    return {**common_fields(first),
            "kind": KIND, "retirement": retirement_id,
            "entries": {link: {"entry": entry["entry"], "inclusion": entry["inclusion"]}
                        for link, entry in entries.items()},
            "lots": [{"lot": lot["lot"], "state": lot["state"]} for lot in lots]}


def _seqs(found: Provenance) -> dict[str, int]:
    """Each link's entry, in the order of LINKS; StoreInconsistent if one is missing."""
    seqs: dict[str, int | None] = {
        "methodology": found.methodology, "submission": found.submission,
        "validation": found.validation, "registration": found.registration,
        "report": found.report, "verification": found.verification, "issuance": found.issuance,
        "retirement": found.retirement}
    assert tuple(seqs) == tuple(LINKS), "the links are those the verifier reads, in order"
    missing = [link for link, seq in seqs.items() if seq is None]
    if missing:
        raise StoreInconsistent(
            f"the retirement in entry {found.retirement} retired batch {found.batch}, but the "
            f"project tables have no {', '.join(missing)} entry behind it (project "
            f"{found.project}, period {found.period}); run `carbonledger audit`")
    return {link: seq for link, seq in seqs.items() if seq is not None}


def _retired_lots(entry_text: str) -> list[str]:
    """The lots a claim_retire entry left retired: the lots of its effects in that state."""
    effects: dict[str, Any] = json.loads(entry_text)["effects"]
    return [lot["id"] for lot in (*effects["created"], *effects["updated"])
            if lot["state"] == RETIRED]
