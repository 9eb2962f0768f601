"""A CCER unit's provenance, built from the store: one proof bundle of kind `provenance`
(docs/proof-format.md) that anyone holding the unit's batch and serial checks against the
chain.

    bundle = prove_provenance(Prover(store), "CCER-GW-2024Q1", 42)             # latest checkpoint
    bundle = prove_provenance(Prover(store), "CCER-GW-2024Q1", 42, number=3)   # checkpoint 3

It gathers, against one signed checkpoint, the state proof of the lot that held the serial
there (whatever its state) and the entries of its batch's provenance (ccer_issue,
monitoring_verify, monitoring_submit, project_register, project_validate, project_submit,
methodology_publish), each with its inclusion proof. `anchoring.auditor.verify_provenance`
checks it offline.

The lot is the one live at the checkpoint, which may since have been split: the lot that holds
the serial now is followed back, through the entries that closed its forebears, to the one
created before the checkpoint. The bundle is assembled from the Prover's own bundles, so its
proofs are exactly theirs.
"""

from __future__ import annotations

import json
from typing import Any

from anchoring.auditor.project_chain import CHAIN
from anchoring.auditor.verify_provenance import KIND
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
from ledger.store.sql import SqlTransaction
from projects.store import BatchChain, batch_chain


class UnitNotFound(CheckpointError, LookupError):
    """No CCER unit has the batch and serial asked for."""

    code = OperatorFailure.unit_not_found


def prove_provenance(prover: Prover, batch: str, serial: int,
                     number: int | None = None) -> Bundle:
    """The provenance of serial `serial` of batch `batch` at checkpoint `number` (default: the
    latest).

    Raises UnitNotFound (no batch of the project cycle of that id, or no such serial in it),
    NotCheckpointed (no checkpoint, or the batch was issued after it: cut one), or
    StoreInconsistent (the records disagree with the journal)."""
    with prover.store.read() as tx:
        chain = batch_chain(tx, batch)
        if chain is None:
            raise UnitNotFound(f"there is no batch {batch!r} issued for a monitoring period of "
                               "a project (ids are case-sensitive; a batch the project cycle "
                               "did not issue has no provenance to prove)")
        seqs = _seqs(chain)
        checkpoint = stored_checkpoint(tx, number)
        if seqs["issuance"] >= checkpoint.log_size:
            then = ("cut a checkpoint with `carbonledger checkpoint`, then ask again"
                    if number is None else "name a later checkpoint, or cut one with "
                    "`carbonledger checkpoint`")
            raise NotCheckpointed(
                f"batch {batch} was issued by entry {seqs['issuance']}, after checkpoint "
                f"{checkpoint.number} (entries 0..{checkpoint.log_size - 1}): {then}")
        lot_id = _lot_at(tx, batch, serial, checkpoint.log_size)
    at = checkpoint.number
    entries = {link: prover.entry(seq, at) for link, seq in seqs.items()}
    lot = prover.lot(lot_id, at)
    value = lot["state"]["value"]
    if value is None or not _holds(json.loads(value), batch, serial):
        raise StoreInconsistent(f"lot {lot_id}, which the journal says held serial {serial} "
                                f"of batch {batch} at checkpoint {at}, does not hold it in that "
                                "checkpoint's state; run `carbonledger audit`")
    first = entries["issuance"]
    same_checkpoint(first, [*entries.values(), lot], f"serial {serial} of batch {batch}")
    return {**common_fields(first),
            "kind": KIND, "batch": batch, "serial": serial,
            "entries": {link: {"entry": entry["entry"], "inclusion": entry["inclusion"]}
                        for link, entry in entries.items()},
            "lot": {"lot": lot["lot"], "state": lot["state"]}}


def _seqs(chain: BatchChain) -> dict[str, int]:
    """Each link's entry, in the order of CHAIN; StoreInconsistent if one is missing."""
    seqs: dict[str, int | None] = {
        "methodology": chain.methodology, "submission": chain.submission,
        "validation": chain.validation, "registration": chain.registration,
        "report": chain.report, "verification": chain.verification,
        "issuance": chain.issuance}
    assert tuple(seqs) == tuple(CHAIN), "the links are those the verifier reads, in order"
    missing = [link for link, seq in seqs.items() if seq is None]
    if missing:
        raise StoreInconsistent(
            f"batch {chain.batch} is recorded as issued for period {chain.period} of project "
            f"{chain.project}, but the project tables have no {', '.join(missing)} entry "
            "behind it; run `carbonledger audit`")
    return {link: seq for link, seq in seqs.items() if seq is not None}


def _lot_at(tx: SqlTransaction, batch: str, serial: int, log_size: int) -> str:
    """The id of the lot that held `serial` of `batch` once the journal's first `log_size`
    entries were applied. Lots partition their batch and a split closes a lot for new ones
    (ledger.effects.LotEffects), so the lot holding the serial now is followed back through
    the entries that created it and its forebears to the one an earlier entry created."""
    now = [lot for lot in tx.lots_overlapping(batch, serial, serial)
           if lot.first <= serial <= lot.last]
    if not now:
        raise UnitNotFound(f"batch {batch} has no serial {serial}: no lot of it holds that "
                           "serial (a batch's serials run from 1 to the quantity issued)")
    lot_id = now[0].id
    while _created_by(lot_id) >= log_size:
        effects = _effects(tx, _created_by(lot_id))
        forebear = next((closed for closed in effects["closed"]
                         if _holds(_record(tx, closed), batch, serial)), None)
        if forebear is None:
            raise StoreInconsistent(f"journal entry {_created_by(lot_id)} created lot "
                                    f"{lot_id}, holding serial {serial} of batch {batch}, but "
                                    "closed no lot that held it; run `carbonledger audit`")
        lot_id = forebear
    return lot_id


def _created_by(lot_id: str) -> int:
    """The seq of the entry that created a lot: a lot's id is "{seq}.{k}"."""
    return int(lot_id.split(".", 1)[0])


def _effects(tx: SqlTransaction, seq: int) -> dict[str, Any]:
    row = tx.journal_row(seq)
    if row is None:
        raise StoreInconsistent(f"entry {seq} is missing from the journal; run "
                                "`carbonledger audit`")
    effects: dict[str, Any] = json.loads(row.entry)["effects"]
    return effects


def _record(tx: SqlTransaction, lot_id: str) -> dict[str, Any]:
    """A lot's record as the entry that created it wrote it (its serials never change)."""
    seq = _created_by(lot_id)
    record = next((lot for lot in _effects(tx, seq)["created"] if lot["id"] == lot_id), None)
    if record is None:
        raise StoreInconsistent(f"lot {lot_id} is not among the lots entry {seq} created; run "
                                "`carbonledger audit`")
    return dict(record)


def _holds(record: dict[str, Any], batch: str, serial: int) -> bool:
    return bool(record["batch"] == batch and record["first"] <= serial <= record["last"])
