"""The allocation module's proof bundles, built from the store (docs/proof-format.md):

    prove_auction(Prover(store), "AU-2026-1")      # a cleared auction, its book and results
    prove_allocation(Prover(store), "CN-ETS", 2026)  # a year's plan, which keeps its cap
    prove_allocation(Prover(store), "CN-ETS", 2026, installation="HN-1")  # and HN-1's share

Each leaf comes from the Prover, so its proof is exactly the Prover's and the fields
every bundle carries (checkpoint, operator, anchor) are copied, not rebuilt here.
`anchoring.auditor.verify_allocation` checks it offline.
"""

from __future__ import annotations

import json
from typing import Any

from allocation.auction_leaf_store import book_before, fills
from allocation.clearing import bid_record, ranked
from allocation.store import allocated_seq, closure, rules_entries_before, verified_output
from anchoring.auditor.note import parse_text, split_note
from anchoring.auditor.verify_allocation import AUCTION, CLEARED, auction_key
from anchoring.auditor.verify_installation_allocation import (
    INSTALLATION_ALLOCATION,
    PREALLOCATION,
    installation_allocation_key,
)
from anchoring.auditor.verify_plan import ALLOCATION, ALLOCATION_PLAN, plan_key
from anchoring.operator.bundles import Bundle, Prover, same_checkpoint
from anchoring.operator.errors import CheckpointError, OperatorFailure
from ledger.store.sql import SqlTransaction


class PlanNotFound(CheckpointError, LookupError):
    """No plan of the scheme for the year at the checkpoint."""

    code = OperatorFailure.plan_not_found


class InstallationAllocationNotFound(CheckpointError, LookupError):
    """The installation had no allocation for the year at the checkpoint."""

    code = OperatorFailure.installation_allocation_not_found


class AuctionNotFound(CheckpointError, LookupError):
    """No auction has the id asked for, or it was not cleared at the checkpoint."""

    code = OperatorFailure.auction_not_found


def prove_auction(prover: Prover, auction: str, number: int | None = None) -> Bundle:
    """Auction `auction` at checkpoint `number` (default: the latest): its record's state
    proof, the book (every bid placed before the checkpoint, in the order placed) and the
    ledger's results (price, sold, and each bid's fill in rank order).

    Raises AuctionNotFound (no such auction, or not cleared at the checkpoint: bids are sealed
    until then), or NotCheckpointed."""
    leaf = prover.leaf(AUCTION, auction, auction_key(auction), number)
    checkpoint = parse_text(split_note(leaf["checkpoint"])[0])
    value = leaf["state"]["value"]
    record = None if value is None else json.loads(value)
    if record is None or record["status"] != CLEARED:
        state = "no auction" if record is None else "it was not cleared"
        raise AuctionNotFound(f"auction {auction!r} at checkpoint {checkpoint.number}: {state}"
                              " (its book is disclosed once it is cleared and checkpointed)")
    with prover.store.read() as tx:
        book = book_before(tx, auction, checkpoint.size)
        filled = fills(tx, auction)
    results = {"price": record["clearing_price"], "sold": record["sold"],
               "fills": [[bid.bid, filled[bid.bid]] for bid in ranked(book)]}
    return {**leaf, "book": [bid_record(bid) for bid in book], "results": results}


def prove_allocation(prover: Prover, scheme: str, year: int, number: int | None = None, *,
                     installation: str | None = None) -> Bundle:
    """The `scheme`'s plan for `year` at checkpoint `number` (default: the latest): its
    record's state proof, from which anyone checks that it keeps its cap. With
    `installation`, that installation's allocation for the year too, with the entries its
    figures rest on (installation_evidence below).

    Raises PlanNotFound (no such plan at the checkpoint), InstallationAllocationNotFound, or
    NotCheckpointed."""
    leaf = prover.leaf(ALLOCATION, scheme, plan_key(scheme, year), number)
    checkpoint = parse_text(split_note(leaf["checkpoint"])[0])
    if leaf["state"]["value"] is None:
        raise PlanNotFound(f"no {scheme} plan for {year} at checkpoint {checkpoint.number} "
                           f"(the {ALLOCATION_PLAN} leaf is absent)")
    bundle = {name: value for name, value in leaf.items() if name != ALLOCATION}
    evidence = None if installation is None else installation_evidence(
        prover, leaf, installation, year, checkpoint.number, checkpoint.size)
    return {**bundle, "scheme": scheme, "year": year, "state": leaf["state"],
            "installation": evidence}


def installation_evidence(prover: Prover, plan: Bundle, installation: str, year: int,
                          number: int, size: int) -> Bundle:
    """The installation's allocation leaf for `year` at checkpoint `number` (of log `size`)
    and the entries its figures rest on: the rules and the previous year's verified output
    of a pre-allocation, the year's verified output once trued up, or the closure that
    settled it (docs/proof-format.md, `allocation`)."""
    leaf = prover.leaf(INSTALLATION_ALLOCATION, installation,
                       installation_allocation_key(installation, year), number)
    if leaf["state"]["value"] is None:
        raise InstallationAllocationNotFound(
            f"{installation} had no allocation for {year} at checkpoint {number}")
    record = json.loads(leaf["state"]["value"])
    with prover.store.read() as tx:
        seqs = _evidence_seqs(tx, record, size)
    entries = {link: None if seq is None else prover.entry(seq, number)
               for link, seq in seqs.items()}
    same_checkpoint(plan, [leaf, *(e for e in entries.values() if e is not None)],
                    f"{installation}'s allocation for {year}")
    return {"installation": installation, "state": leaf["state"],
            "entries": {link: None if entry is None else {"entry": entry["entry"],
                                                          "inclusion": entry["inclusion"]}
                        for link, entry in entries.items()}}


def _evidence_seqs(tx: SqlTransaction, record: dict[str, Any], size: int
                   ) -> dict[str, int | None]:
    """The journal positions of the entries an allocation record rests on, in a log of
    `size` entries (the record is the leaf at that checkpoint: later rows are not read)."""
    installation, year = record["installation"], int(record["year"])
    seqs: dict[str, int | None] = {"rules": None, "output_before": None, "output": None,
                                   "closure": None}
    if record["source"] == PREALLOCATION:
        allocated = allocated_seq(tx, installation, year)
        assert allocated is not None, "a proven allocation has its row"
        seqs["rules"] = _rules_seq(tx, record["scheme"], allocated)
        seqs["output_before"] = _output_seq(tx, installation, year - 1, size)
    if record["final"] is not None:
        closed = closure(tx, installation)
        if closed is not None and closed.last_year < year and closed.closed_seq < size:
            seqs["closure"] = closed.closed_seq
        else:
            seqs["output"] = _output_seq(tx, installation, year, size)
    return seqs


def _output_seq(tx: SqlTransaction, installation: str, year: int, size: int) -> int | None:
    found = verified_output(tx, installation, year)
    return None if found is None or found.signed_seq >= size else found.signed_seq


def _rules_seq(tx: SqlTransaction, scheme: str, before: int) -> int | None:
    """The entry that set the scheme's rules in force at entry `before`: the latest
    set_scheme_rules of the scheme before it, or the genesis (rare: a scan of the journal by
    op, as ledger.store.sql's scheme_rules_as_of reads them)."""
    for seq, entry in rules_entries_before(tx, before):
        fields = json.loads(entry)["instruction"]["fields"]
        if fields.get("scheme") == scheme or "registryKey" in fields:
            return seq
    return None
