"""A pledge's evidence pack, built from the store: one proof bundle of kind `pledge`
(docs/proof-format.md) that a bank can hand to a court or another lender.

    pack = prove_pledge(Prover(store), "P1")             # at the latest checkpoint
    pack = prove_pledge(Prover(store), "P1", number=3)   # at checkpoint 3

It gathers, against one signed checkpoint, the entry that registered the pledge and every
later entry that acted on it (inclusion proofs), the pledgor's account, and every lot under
the pledge's lien (state proofs). `anchoring.auditor.verify_pledge` checks it offline.

The pack is assembled from the Prover's own bundles, so its proofs are exactly theirs and the
fields every bundle carries (checkpoint, operator, anchor) are copied, not rebuilt here.
"""

from __future__ import annotations

import json
from typing import Any

from anchoring.auditor.note import parse_text, split_note
from anchoring.auditor.verify_pledge import KIND
from anchoring.operator.bundles import Bundle, Prover
from anchoring.operator.errors import (
    CheckpointError,
    NotCheckpointed,
    OperatorFailure,
    StoreInconsistent,
)
from pledge.ops import PLEDGE_ENFORCE, PLEDGE_RELEASE
from pledge.queries import HistoryEntry, pledge_history

# The fields of each Prover bundle kind that are its own (the rest every bundle carries).
_OWN_FIELDS = {"account": ("account", "state"), "entry": ("entry", "inclusion"),
               "lot": ("lot", "state")}


class PledgeNotFound(CheckpointError, LookupError):
    """No pledge has the id asked for."""

    code = OperatorFailure.pledge_not_found


def prove_pledge(prover: Prover, pledge_id: str, number: int | None = None) -> Bundle:
    """The evidence pack of pledge `pledge_id` at checkpoint `number` (default: the latest).

    Raises PledgeNotFound, NotCheckpointed (no checkpoint, or the registration came after
    it: cut one), or StoreInconsistent (the records disagree with the journal).
    """
    history = pledge_history(prover.store, pledge_id)
    if history is None:
        raise PledgeNotFound(f"there is no pledge {pledge_id!r} in this ledger (a repo's id "
                             "is not a pledge's; ids are case-sensitive)")
    pledge = history.pledge
    # Proving the account first resolves the checkpoint, or says why there is none.
    account = prover.account(pledge.account, number)
    checkpoint = parse_text(split_note(account["checkpoint"])[0])
    if pledge.registered_seq >= checkpoint.size:
        then = ("cut a checkpoint with `carbonledger checkpoint`, then ask for the pack again"
                if number is None else "name a later checkpoint, or cut one with "
                "`carbonledger checkpoint`")
        raise NotCheckpointed(
            f"pledge {pledge_id} was registered by journal entry {pledge.registered_seq}, "
            f"after checkpoint {checkpoint.number} (entries 0..{checkpoint.size - 1}): {then}")

    covered = [e for e in history.entries if e.seq < checkpoint.size]
    entries = [prover.entry(e.seq, checkpoint.number) for e in covered]
    lots = [lot for lot in (prover.lot(lot_id, checkpoint.number)
                            for lot_id in _lots_ever_under(covered, pledge_id))
            if _lien_of(lot) == pledge_id]
    lots.sort(key=lambda lot: json.loads(lot["state"]["value"])["first"])

    outstanding = pledge.quantity - sum(e.quantity for e in covered
                                        if e.op in (PLEDGE_RELEASE.op, PLEDGE_ENFORCE.op))
    held = sum(_quantity(lot) for lot in lots)
    if held != outstanding:
        raise StoreInconsistent(
            f"pledge {pledge_id}: its entries up to checkpoint {checkpoint.number} leave "
            f"{outstanding} t pledged, but its lien held {held} t there; run "
            "`carbonledger audit`")

    parts = [account, *entries, *lots]
    if any(part["checkpoint"] != account["checkpoint"] for part in parts):
        raise StoreInconsistent(f"the proofs of pledge {pledge_id} came from different "
                                f"checkpoints; checkpoint {checkpoint.number} was expected")
    common = {name: value for name, value in account.items()
              if name not in _OWN_FIELDS["account"]}
    return {**common, "kind": KIND, "pledge": pledge_id,
            "entries": [_item(entry, "entry") for entry in entries],
            "pledgor_account": _item(account, "account"),
            "lots": [_item(lot, "lot") for lot in lots]}


def _lots_ever_under(entries: list[HistoryEntry], pledge_id: str) -> list[str]:
    """Every lot the pledge's entries put, or left, under its lien. Only those entries can:
    a lot under a lien is refused by every other operation (ledger.lien)."""
    ids = {lot["id"] for entry in entries
           for lot in (*entry.effects["created"], *entry.effects["updated"])
           if lot["lien"] == pledge_id}
    return sorted(ids)


def _lien_of(lot_bundle: Bundle) -> str | None:
    value = lot_bundle["state"]["value"]
    return None if value is None else json.loads(value)["lien"]


def _quantity(lot_bundle: Bundle) -> int:
    record = json.loads(lot_bundle["state"]["value"])
    return int(record["last"]) - int(record["first"]) + 1


def _item(bundle: Bundle, kind: str) -> dict[str, Any]:
    """The kind's own fields of a Prover bundle: what the pack keeps of it."""
    return {name: bundle[name] for name in _OWN_FIELDS[kind]}
