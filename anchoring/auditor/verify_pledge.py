"""The offline check of a pledge's evidence pack: bundle kind `pledge` (docs/proof-format.md).

What a bank shows a court or another lender, in one bundle checked against one signed
checkpoint:

- the journal entry that registered the pledge, and every later entry that released, enforced
  or amended it up to the checkpoint, each with its inclusion proof in the checkpoint's log;
- the pledgor's account at the checkpoint (which participant holds it);
- every lot under the pledge's lien at the checkpoint, each with its state proof: its value
  names the lien (the pledge's id), the pledgor's account and the batch.

The units are complete, not only proven one by one: a lot under the lien can only be made by
the pledge's own entries, and what those entries leave pledged (registered − released −
enforced) must equal what the lots hold. Leaving out a lot, or a release or enforcement, makes
the sums differ. The pledge's terms are those of its registration and of the amendments the
pack carries; the state commitment does not hold agreement records, so an amendment left out
is not detected here (docs/proof-format.md says so to whoever reads a pack).

Pure like anchoring.auditor.verify, whose kind registry this joins when imported: no ledger, no
database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from anchoring.auditor.bundle_format import BundleKind, exact_fields, text_field, typed
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.verify_core import verify_account, verify_entry, verify_lot

KIND = "pledge"
REGISTER = "pledge_register"
RELEASE = "pledge_release"
ENFORCE = "pledge_enforce"
AMEND = "pledge_amend"
LATER_OPS = (RELEASE, ENFORCE, AMEND)
PLEDGE_FIELDS = frozenset({"pledge", "entries", "pledgor_account", "lots"})


@dataclass(frozen=True)
class _Entry:
    """A journal entry of the pack, once its inclusion in the checkpoint's log is verified."""

    seq: int
    op: str
    accepted_at: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class _Lot:
    id: str
    first: int
    last: int

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1


def verify_pledge(bundle: Mapping[str, Any], checkpoint: CheckpointBody, trusted: str) -> str:
    pledge_id = text_field(bundle["pledge"], "pledge (the pledge's id)")
    entries = _entries(bundle["entries"], pledge_id, checkpoint, trusted)
    registration = entries[0]
    account = _field(registration, "account", str)
    batch = _field(registration, "batch", str)
    pledgee = _field(registration, "pledgee", str)
    pledgor = _pledgor(bundle["pledgor_account"], account, checkpoint, trusted)
    if pledgor == pledgee:
        # pledge_register refuses a pledgee who holds the account (PledgeReason.same_party)
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"account {account}'s record names {pledgor}, the pledge's "
                                 "pledgee, as its holder: the pledgor and the pledgee are "
                                 "never one participant")
    lots = _lots(bundle["lots"], pledge_id, account, batch, checkpoint, trusted)

    registered = _field(registration, "quantity", int)
    released_t = sum(_field(e, "quantity", int) for e in entries if e.op == RELEASE)
    enforced_t = sum(_field(e, "quantity", int) for e in entries if e.op == ENFORCE)
    outstanding = registered - released_t - enforced_t
    held = sum(lot.quantity for lot in lots)
    if held != outstanding:
        raise VerificationFailed(
            VerifyFailure.incomplete_evidence,
            f"the pack's lots hold {held} t, but its entries leave {outstanding} t of pledge "
            f"{pledge_id} under its lien ({registered} t registered, {released_t} t released, "
            f"{enforced_t} t enforced): a lot or an entry was left out of the pack")

    return _statement(pledge_id, checkpoint, entries, pledgor, account, batch, lots,
                      outstanding)


# --- the parts of the pack ------------------------------------------------------------------

def _entries(items: Any, pledge_id: str, checkpoint: CheckpointBody,
             trusted: str) -> list[_Entry]:
    """The registration first, then the later entries in journal order; each in the log."""
    typed(items, list, "entries")
    if not items:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 "entries must be a list starting with the registration")
    entries: list[_Entry] = []
    for position, item in enumerate(items):
        _exact(item, {"entry", "inclusion"}, f"entries[{position}]")
        verify_entry(item, checkpoint, trusted)  # canonical bytes, seq = index, in the log
        document = json.loads(item["entry"])
        instruction = document.get("instruction")
        if not isinstance(instruction, Mapping) or not isinstance(instruction.get("fields"),
                                                                  Mapping):
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"journal entry {document['seq']} is not an operation")
        entry = _Entry(document["seq"], str(instruction.get("op")),
                       str(document.get("accepted_at")), instruction["fields"])
        expected = (REGISTER,) if position == 0 else LATER_OPS
        if entry.op not in expected:
            raise VerificationFailed(
                VerifyFailure.incomplete_evidence,
                f"journal entry {entry.seq} is a {entry.op}; entries[{position}] must be "
                f"{' or '.join(expected)}" + (" (the pack starts with the registration)"
                                              if position == 0 else ""))
        if entry.fields.get("pledge") != pledge_id:
            raise VerificationFailed(VerifyFailure.wrong_subject,
                                     f"journal entry {entry.seq} acts on pledge "
                                     f"{entry.fields.get('pledge')!r}, not {pledge_id}")
        if entries and entry.seq <= entries[-1].seq:
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"entries must be in journal order, each once: entry "
                                     f"{entry.seq} follows entry {entries[-1].seq}")
        entries.append(entry)
    return entries


def _pledgor(item: Any, account: str, checkpoint: CheckpointBody, trusted: str) -> str:
    """The participant holding the pledged account, from the account's state proof."""
    _exact(item, {"account", "state"}, "pledgor_account")
    if item["account"] != account:
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"pledgor_account proves account {item['account']!r}, but "
                                 f"the pledge was registered from account {account}")
    verify_account(item, checkpoint, trusted)
    record = _record(item, f"account {account}", checkpoint)
    participant = record.get("participant")
    if not isinstance(participant, str):
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"account {account}'s record names no participant")
    return participant


def _lots(items: Any, pledge_id: str, account: str, batch: str, checkpoint: CheckpointBody,
          trusted: str) -> list[_Lot]:
    """Each lot is live at the checkpoint, under this pledge's lien, in the pledgor's account
    and the pledge's batch; in serial order without overlap (so none is counted twice)."""
    typed(items, list, "lots")
    lots: list[_Lot] = []
    for position, item in enumerate(items):
        _exact(item, {"lot", "state"}, f"lots[{position}]")
        verify_lot(item, checkpoint, trusted)
        lot_id = item["lot"]
        record = _record(item, f"lot {lot_id}", checkpoint)
        claimed = {"lien": pledge_id, "state": "pledged", "account": account, "batch": batch}
        for name, want in claimed.items():
            if record.get(name) != want:
                raise VerificationFailed(
                    VerifyFailure.wrong_subject,
                    f"lot {lot_id} has {name} {record.get(name)!r} at checkpoint "
                    f"{checkpoint.number}, not {want!r}: it is not under pledge {pledge_id}")
        first, last = record.get("first"), record.get("last")
        if not (isinstance(first, int) and isinstance(last, int) and 1 <= first <= last):
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"lot {lot_id}'s record has no serial range")
        if lots and first <= lots[-1].last:
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"lots must be in serial order without overlap: lot "
                                     f"{lot_id} starts at {first}, lot {lots[-1].id} ends at "
                                     f"{lots[-1].last}")
        lots.append(_Lot(lot_id, first, last))
    return lots


# --- small checks -----------------------------------------------------------------------------

def _exact(item: Any, fields: set[str], what: str) -> None:
    typed(item, Mapping, what)
    exact_fields(item, frozenset(fields), what)


def _record(item: Mapping[str, Any], subject: str,
            checkpoint: CheckpointBody) -> Mapping[str, Any]:
    """The proven record of a state item already verified (a membership proof)."""
    value = item["state"]["value"]
    if value is None:
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"{subject} did not exist at checkpoint {checkpoint.number}: "
                                 "a pledge's pack proves only live records")
    record: Mapping[str, Any] = json.loads(value)
    return record


def _field(entry: _Entry, name: str, kind: type) -> Any:
    value = entry.fields.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"journal entry {entry.seq} ({entry.op}) has no {name}")
    return value


# --- what it proves, in words -----------------------------------------------------------------

def _statement(pledge_id: str, checkpoint: CheckpointBody, entries: Sequence[_Entry],
               pledgor: str, account: str, batch: str, lots: Sequence[_Lot],
               outstanding: int) -> str:
    registration = entries[0]
    f = registration.fields
    serials = (f"serials {f['serialFirst']}..{f['serialLast']}" if f.get("serialFirst")
               else "oldest serials first")
    terms = [e for e in entries if e.op in (REGISTER, AMEND)][-1]
    amended = f", as amended by entry {terms.seq}" if terms is not registration else ""
    since = [f"{'released' if e.op == RELEASE else 'enforced'} {_field(e, 'quantity', int)} t "
             f"(entry {e.seq})" for e in entries if e.op in (RELEASE, ENFORCE)]
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if lots:
        ranges = ", ".join(f"{lot.first}..{lot.last} (lot {lot.id})" for lot in lots)
        now = f"{at}, {outstanding} t of batch {batch} are still pledged under its lien: " \
              f"serials {ranges}"
    else:
        now = f"{at}, no unit is pledged under it any more"
    return (f"pledge {pledge_id}: {pledgor} (account {account}) pledged "
            f"{f['quantity']} t of batch {batch} ({serials}) to {f.get('pledgee')}, "
            f"registered by journal entry {registration.seq} ({registration.accepted_at}), "
            f"securing loan {terms.fields.get('loanReference')} maturing "
            f"{terms.fields.get('maturityDate')}{amended}; "
            f"{'; '.join(since) if since else 'nothing released or enforced since'}; {now}")


PLEDGE = BundleKind(KIND, PLEDGE_FIELDS, verify_pledge)
