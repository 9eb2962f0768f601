"""The compliance module's proof bundles, built from the store (docs/proof-format.md):

    prove_emissions(Prover(store), "HN-2026-03")           # a monthly submission and its entry
    prove_obligation(Prover(store), "huaneng", 2026)       # an emitter's year (or none)
    prove_disclosure(Prover(store), 2026, number=3)        # a year's disclosure at checkpoint 3
    prove_published(Prover(store), disclosure)             # compliance.queries.disclosure's

Each is assembled from the Prover's own bundles, so its proofs are exactly theirs and the
fields every bundle carries (checkpoint, operator, anchor) are copied, not rebuilt here.
`anchoring.auditor.verify_compliance` checks them offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from anchoring.auditor.note import parse_text, split_note
from anchoring.auditor.verify_compliance import (
    DISCLOSED_FIGURES,
    DISCLOSURE,
    EMISSIONS,
    OBLIGATION,
    emissions_key,
    obligation_key,
)
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
from compliance.leaf_store import obligated_before, submission_seq
from compliance.queries import Disclosure


class ComplianceRecordNotFound(CheckpointError, LookupError):
    """No monthly submission has the id asked for, or no emitter has a verified obligation
    for the year asked for."""

    code = OperatorFailure.compliance_record_not_found


def prove_emissions(prover: Prover, submission: str, number: int | None = None) -> Bundle:
    """Monthly submission `submission`'s record at checkpoint `number` (default: the latest),
    with the monthly_submit entry that journaled it.

    Raises ComplianceRecordNotFound, NotCheckpointed (no checkpoint, or the submission came
    after it: cut one), or StoreInconsistent (the records disagree with the journal)."""
    with prover.store.read() as tx:
        seq = submission_seq(tx, submission)
    if seq is None:
        raise ComplianceRecordNotFound(f"there is no monthly submission {submission!r} in "
                                       "this ledger (ids are case-sensitive)")
    leaf = prover.leaf(EMISSIONS, submission, emissions_key(submission), number)
    checkpoint = parse_text(split_note(leaf["checkpoint"])[0])
    if seq >= checkpoint.size:
        then = ("cut a checkpoint with `carbonledger checkpoint`, then ask again"
                if number is None else "name a later checkpoint, or cut one with "
                "`carbonledger checkpoint`")
        raise NotCheckpointed(
            f"monthly submission {submission} was journaled by entry {seq}, after checkpoint "
            f"{checkpoint.number} (entries 0..{checkpoint.size - 1}): {then}")
    if leaf["state"]["value"] is None:
        raise StoreInconsistent(f"monthly submission {submission} was journaled by entry "
                                f"{seq}, but checkpoint {checkpoint.number} has no record of "
                                "it; run `carbonledger audit`")
    entry = prover.entry(seq, checkpoint.number)
    same_checkpoint(leaf, [entry], f"monthly submission {submission}")
    return {**common_fields(leaf), "kind": EMISSIONS, "submission": submission,
            "state": leaf["state"],
            "entry": {"entry": entry["entry"], "inclusion": entry["inclusion"]}}


def prove_obligation(prover: Prover, emitter: str, year: int,
                     number: int | None = None) -> Bundle:
    """`emitter`'s obligation for `year` at checkpoint `number` (default: the latest), or
    proof that it had none there."""
    return prover.leaf(OBLIGATION, {"emitter": emitter, "year": year},
                       obligation_key(emitter, year), number)


def prove_disclosure(prover: Prover, year: int, number: int | None = None,
                     emitters: Iterable[str] | None = None) -> Bundle:
    """The disclosure of `year` at checkpoint `number` (default: the latest): for each emitter
    (default: every one whose obligation for the year the checkpoint commits), in order of
    id, its verified emissions and the allowances and credits it surrendered, each row with
    the state proof of its obligation record, from which the row is read.

    Raises NotCheckpointed, or ComplianceRecordNotFound when there is nothing to disclose or
    a named emitter had no obligation for the year at the checkpoint."""
    with prover.store.read() as tx:
        checkpoint = stored_checkpoint(tx, number)
        obligated = obligated_before(tx, year, checkpoint.log_size)
    named = obligated if emitters is None else sorted(set(emitters))
    if not named:
        raise ComplianceRecordNotFound(f"no emitter had a verified obligation for {year} at "
                                       f"checkpoint {checkpoint.number}: nothing to disclose")
    missing = sorted(set(named) - set(obligated))
    if missing:
        raise ComplianceRecordNotFound(f"{', '.join(missing)} had no verified obligation for "
                                       f"{year} at checkpoint {checkpoint.number}")
    leaves = [prove_obligation(prover, emitter, year, checkpoint.number) for emitter in named]
    first, *others = leaves
    same_checkpoint(first, others, f"the disclosure of {year}")
    rows = [_row(leaf) for leaf in leaves]
    return {**common_fields(first), "kind": DISCLOSURE, "year": year, "disclosure": rows,
            "obligations": [{"obligation": leaf["obligation"], "state": leaf["state"]}
                            for leaf in leaves]}


def prove_published(prover: Prover, disclosure: Disclosure) -> Bundle:
    """The disclosure bundle of a published disclosure (compliance.queries.disclosure): its
    verified emitters' rows, proven at the checkpoint it names, which must be the rows it
    publishes. Raises NotCheckpointed when it names no checkpoint, or when its figures are
    not yet those of that checkpoint (it was computed at a later head: cut and disclose
    again)."""
    if disclosure.checkpoint is None:
        raise NotCheckpointed(f"the disclosure of {disclosure.year} names no checkpoint: cut "
                              "one with `carbonledger checkpoint` and disclose again")
    verified = sorted((e for e in disclosure.emitters if e.verified_t is not None),
                      key=lambda e: e.emitter)
    bundle = prove_disclosure(prover, disclosure.year, disclosure.checkpoint,
                              emitters=[e.emitter for e in verified])
    published = [{"emitter": e.emitter, "verified_t": e.verified_t,
                  "allowances": e.allowances, "credits": e.credits} for e in verified]
    differing = [e.emitter for e, row, proven in zip(verified, published,
                                                     bundle["disclosure"], strict=True)
                 if row != proven]
    if differing:
        raise NotCheckpointed(
            f"the disclosure of {disclosure.year} was computed at journal entry "
            f"{disclosure.head}, and the figures of {', '.join(differing)} changed after "
            f"checkpoint {disclosure.checkpoint}: cut a checkpoint with `carbonledger "
            "checkpoint` and disclose again")
    return bundle


def _row(leaf: Bundle) -> dict[str, Any]:
    value = leaf["state"]["value"]
    emitter = leaf["obligation"]["emitter"]
    if value is None:  # obligations are never deleted: one set before the cut is committed
        raise StoreInconsistent(f"{emitter}'s obligation for {leaf['obligation']['year']} is "
                                "in the tables but not in the checkpoint's state; run "
                                "`carbonledger audit`")
    record = json.loads(value)
    return {"emitter": emitter, **{figure: record[figure] for figure in DISCLOSED_FIGURES}}
