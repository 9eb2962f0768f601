"""The offline check of a retirement's provenance: bundle kind `retirement`
(docs/proof-format.md).

What a certificate's holder, or anyone, checks against one signed checkpoint, in one bundle:

- the claim_retire entry of the retirement (who retired which units, for whom and for what);
- the provenance of its units, each link a journal entry with its inclusion proof: the
  ccer_issue entry that issued the batch, the monitoring_submit and monitoring_verify entries
  of the monitoring period it was issued for, the project_submit, project_validate and
  project_register entries of the project, and the methodology_publish entry of the
  project's methodology;
- the state proof of every lot the retirement left retired: its record at the checkpoint is
  the one the claim_retire entry's effects wrote (state retired, the account, the serials).

The links must hold: the issue is of the retirement's batch, and the rest of the chain as
anchoring.auditor.project_chain checks it for every kind that carries one (the issue's project
and period are the report's and the verification's, and so on back to the methodology, in
the cycle's order); the retirement comes last; and the proven lots are exactly the lots the
retirement retired, holding exactly its serials.

`PROJECT_KINDS` lists the projects module's kinds: this one and a unit's `provenance`
(anchoring.auditor.verify_provenance). Pure like anchoring.auditor.verify, whose kind registry
they join when imported: no ledger, no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from anchoring.auditor.bundle_format import BundleKind, exact_fields, text_field, typed
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.project_chain import (
    CHAIN,
    ChainEntry,
    chain_entries,
    check_chain,
    describe_chain,
)
from anchoring.auditor.verify_core import verify_lot
from anchoring.auditor.verify_provenance import PROVENANCE

KIND = "retirement"
RETIREMENT_FIELDS = frozenset({"retirement", "entries", "lots"})

# The links of a retirement's provenance, in the journal order the project cycle makes them:
# its batch's chain (anchoring.auditor.project_chain), then the retirement itself.
LINKS: dict[str, str] = {**CHAIN, "retirement": "claim_retire"}
RETIRED = "retired"
LOT_FIELDS = ("id", "batch", "first", "last", "account", "state", "lien")


@dataclass(frozen=True)
class _Lot:
    id: str
    first: int
    last: int

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1


def verify_retirement(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                      trusted: str) -> str:
    retirement_id = text_field(bundle["retirement"], "retirement (the retirement's id)")
    entries = chain_entries(bundle["entries"], checkpoint, trusted, LINKS,
                            noun="a retirement", chain="this retirement's provenance")
    retirement = entries["retirement"]
    retirement.same("retirement", retirement_id, "the bundle's retirement")
    check_chain(entries, LINKS, retirement.text("batch"),
                f"the batch retirement {retirement_id} retired")
    retired = _retired_by(retirement)
    lots = _lots(bundle["lots"], retired, checkpoint, trusted)
    _check_serials(retirement, lots)
    return _statement(entries, lots, checkpoint)


# --- the retired lots -------------------------------------------------------------------------

def _retired_by(retirement: ChainEntry) -> dict[str, dict[str, Any]]:
    """The lots the claim_retire entry left retired, by id: its effects' records."""
    effects = retirement.effects
    records: dict[str, dict[str, Any]] = {}
    for name in ("created", "updated"):
        changed = effects.get(name)
        typed(changed, list, f"journal entry {retirement.seq}'s effects {name}")
        assert isinstance(changed, list)
        for record in changed:
            typed(record, Mapping, f"a lot of journal entry {retirement.seq}'s effects")
            if record.get("state") == RETIRED:
                records[str(record.get("id"))] = dict(record)
    batch, account = retirement.text("batch"), retirement.text("account")
    for lot_id, record in records.items():
        if record.get("batch") != batch or record.get("account") != account:
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"journal entry {retirement.seq} retired lot {lot_id} of "
                                     f"batch {record.get('batch')!r} in account "
                                     f"{record.get('account')!r}, not of its own batch and "
                                     "account")
    if not records:
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"journal entry {retirement.seq} retired no lot")
    return records


def _lots(items: Any, retired: Mapping[str, Mapping[str, Any]], checkpoint: CheckpointBody,
          trusted: str) -> list[_Lot]:
    """Each lot the retirement retired, proven at the checkpoint with the record the
    retirement wrote; in serial order, none left out and none added."""
    typed(items, list, "lots")
    lots: list[_Lot] = []
    for position, item in enumerate(items):
        typed(item, Mapping, f"lots[{position}]")
        exact_fields(item, frozenset({"lot", "state"}), f"lots[{position}]")
        verify_lot(item, checkpoint, trusted)
        lot_id = str(item["lot"])
        written = retired.get(lot_id)
        if written is None:
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"lot {lot_id} is not one the retirement retired: its "
                                     "serials are not the retirement's")
        value = item["state"]["value"]
        if value is None:
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"lot {lot_id} was not live at checkpoint "
                                     f"{checkpoint.number}: a retired lot stays so for good")
        record = json.loads(value)
        for name in LOT_FIELDS:
            if record.get(name) != written.get(name):
                raise VerificationFailed(
                    VerifyFailure.wrong_subject,
                    f"lot {lot_id} has {name} {record.get(name)!r} at checkpoint "
                    f"{checkpoint.number}, but the retirement left it with "
                    f"{written.get(name)!r}")
        lot = _Lot(lot_id, int(record["first"]), int(record["last"]))
        if lots and lot.first <= lots[-1].last:
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"lots must be in serial order, each once: lot {lot_id} "
                                     f"starts at {lot.first}, lot {lots[-1].id} ends at "
                                     f"{lots[-1].last}")
        lots.append(lot)
    missing = sorted(set(retired) - {lot.id for lot in lots})
    if missing:
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"the retirement retired lot {', '.join(missing)}, which the "
                                 "bundle does not prove: a lot was left out")
    return lots


def _check_serials(retirement: ChainEntry, lots: Sequence[_Lot]) -> None:
    """The lots hold the quantity retired, and the range the instruction named if it named
    one."""
    quantity = retirement.tonnes("quantity")
    held = sum(lot.quantity for lot in lots)
    if held != quantity:
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"the retired lots hold {held} t, but journal entry "
                                 f"{retirement.seq} retired {quantity} t")
    first, last = retirement.fields.get("serialFirst"), retirement.fields.get("serialLast")
    if first and (lots[0].first, lots[-1].last) != (first, last):
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"journal entry {retirement.seq} retired serials "
                                 f"{first}..{last}, but the lots hold {lots[0].first}.."
                                 f"{lots[-1].last}")


def serial_ranges(lots: Sequence[_Lot]) -> list[tuple[int, int]]:
    """The lots' serials as ranges, those that touch joined."""
    ranges: list[tuple[int, int]] = []
    for lot in lots:
        if ranges and lot.first == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], lot.last)
        else:
            ranges.append((lot.first, lot.last))
    return ranges


# --- what it proves, in words -----------------------------------------------------------------

def _statement(entries: Mapping[str, ChainEntry], lots: Sequence[_Lot],
               checkpoint: CheckpointBody) -> str:
    retirement = entries["retirement"]
    f = retirement.fields
    serials = ", ".join(f"{first}..{last}" for first, last in serial_ranges(lots))
    purpose = str(f.get("purpose"))
    subject = f" {f.get('subject')!r}" if f.get("subject") else ""
    return (
        f"retirement {f['retirement']}: account {f.get('account')} retired "
        f"{f.get('quantity')} t of batch {f.get('batch')} (serials {serials}) for "
        f"{f.get('beneficiary')!r}, to offset the emissions of the {purpose}{subject} from "
        f"{f.get('periodStart')} to {f.get('periodEnd')} (claim: {f.get('claim')!r}), by "
        f"journal entry {retirement.seq} ({retirement.accepted_at}); the units were "
        f"{describe_chain(entries)}; at checkpoint {checkpoint.number} ({checkpoint.time}) "
        f"the {len(lots)} lot{'s' if len(lots) != 1 else ''} it retired "
        f"{'are' if len(lots) != 1 else 'is'} still retired in account {f.get('account')}")


RETIREMENT = BundleKind(KIND, RETIREMENT_FIELDS, verify_retirement)
PROJECT_KINDS = (RETIREMENT, PROVENANCE)
