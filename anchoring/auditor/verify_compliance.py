"""The offline checks of the compliance module's evidence: bundle kinds `emissions`,
`obligation` and `disclosure` (docs/proof-format.md), and the keys of the two leaf kinds they
prove.

    emissions    SHA-256("emissions" 0x00 submission id)
    obligation   SHA-256("obligation" 0x00 emitter 0x00 year in decimal)

- `emissions`: one monthly submission's record at a checkpoint (who, which installation and
  month, how many kilograms, which document, flags, and whether a correction superseded it),
  with the `monthly_submit` entry that journaled it: the entry's figures must be the record's.
- `obligation`: an emitter's verified obligation for a year and what was surrendered against
  it, or proof that it had none.
- `disclosure`: a year's disclosure, one row per emitter, each row equal to the emitter's
  obligation record at one checkpoint.

Pure like anchoring.auditor.verify: the standard library and the auditor's own modules; no
ledger, no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anchoring.auditor.bundle_format import (
    BundleKind,
    exact_fields,
    integer,
    text_field,
    typed,
    verify_state,
)
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.records import FIRST_YEAR, LAST_YEAR
from anchoring.auditor.state_keys import typed_key
from anchoring.auditor.verify_core import verify_entry

EMISSIONS = "emissions"  # the leaf kind and the bundle kind of a monthly submission
OBLIGATION = "obligation"  # the leaf kind and the bundle kind of an emitter's year
DISCLOSURE = "disclosure"
MONTHLY_SUBMIT = "monthly_submit"

# A monthly_submit entry's fields and the record's fields that must agree.
ENTRY_FIGURES = {"installation": "installation", "month": "month",
                 "documentHash": "document_hash", "totalKg": "total_kg",
                 "supersedes": "supersedes"}
# A disclosure row: the emitter and the figures its obligation record proves.
DISCLOSED_FIGURES = ("verified_t", "allowances", "credits")
ROW_FIELDS = frozenset({"emitter", *DISCLOSED_FIGURES})


def emissions_key(submission: str) -> bytes:
    return typed_key(EMISSIONS, submission)


def obligation_key(emitter: str, year: int) -> bytes:
    return typed_key(OBLIGATION, emitter, str(year))


# --- emissions --------------------------------------------------------------------------------

def verify_emissions(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                     trusted: str) -> str:
    submission = text_field(bundle["submission"], "submission (the monthly submission's id)")
    subject = f"monthly submission {submission}"
    record = verify_state(bundle["state"], checkpoint, emissions_key(submission), subject,
                          {"id": submission}, EMISSIONS)
    if record is None:
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"{subject} did not exist at checkpoint {checkpoint.number}: "
                                 "an emissions bundle proves a journaled submission")
    item = bundle["entry"]
    typed(item, Mapping, "entry")
    exact_fields(item, frozenset({"entry", "inclusion"}), "entry")
    verify_entry(item, checkpoint, trusted)
    document = json.loads(item["entry"])
    seq = document["seq"]
    instruction = document.get("instruction")
    fields = instruction.get("fields") if isinstance(instruction, Mapping) else None
    if not isinstance(fields, Mapping) or instruction.get("op") != MONTHLY_SUBMIT \
            or fields.get("submission") != submission:
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"journal entry {seq} is not the {MONTHLY_SUBMIT} of "
                                 f"{subject}")
    for entry_field, record_field in ENTRY_FIGURES.items():
        # same type and value: in Python true == 1, in the journal they are different things
        stated = fields.get(entry_field)
        if type(stated) is not type(record[record_field]) or stated != record[record_field]:
            raise VerificationFailed(
                VerifyFailure.incomplete_evidence,
                f"journal entry {seq} submitted {entry_field} {fields.get(entry_field)!r:.80}, "
                f"but the record of {subject} at checkpoint {checkpoint.number} has "
                f"{record_field} {record[record_field]!r:.80}")
    return _emissions_statement(record, seq, document["accepted_at"], checkpoint)


def _emissions_statement(record: Mapping[str, Any], seq: int, accepted_at: str,
                         checkpoint: CheckpointBody) -> str:
    flags = [name for name, set_ in (("late", record["late"]),
                                     ("on lapsed calibration", record["calibration_lapsed"]))
             if set_]
    corrects = f", correcting {record['supersedes']}" if record["supersedes"] else ""
    standing = (f"superseded by {record['superseded_by']}" if record["superseded_by"]
                else "in force")
    return (f"monthly submission {record['id']}: {record['emitter']}'s installation "
            f"{record['installation']} emitted {record['total_kg']} kg CO2 in "
            f"{record['month']} (document {record['document_hash']}{corrects}), journaled by "
            f"entry {seq} ({accepted_at})"
            f"{', flagged ' + ' and '.join(flags) if flags else ''}; at checkpoint "
            f"{checkpoint.number} ({checkpoint.time}) it is {standing}")


# --- obligation -------------------------------------------------------------------------------

def _obligation_subject(value: Any, what: str) -> tuple[str, int]:
    typed(value, Mapping, what)
    exact_fields(value, frozenset({"emitter", "year"}), what)
    return text_field(value["emitter"], f"{what} emitter"), integer(value["year"],
                                                                   f"{what} year")


def _year(value: Any, what: str) -> int:
    """A year as the ledger's records hold them: 1990..2200."""
    year = integer(value, what)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise VerificationFailed(VerifyFailure.wrong_type,
                                 f"{what} must be a year {FIRST_YEAR}..{LAST_YEAR}, not {year}")
    return year


def _obligation_record(item: Mapping[str, Any], what: str,
                       checkpoint: CheckpointBody) -> tuple[str, int, dict[str, Any] | None]:
    emitter, year = _obligation_subject(item["obligation"], what)
    subject = f"{emitter}'s obligation for {year}"
    record = verify_state(item["state"], checkpoint, obligation_key(emitter, year), subject,
                          {"emitter": emitter}, OBLIGATION)
    if record is not None and record["year"] != year:  # a year is no string: checked here
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"the proven record does not describe {subject}")
    # a record's year is held to the range by its rules; an absence proven for a year no
    # record can have would prove nothing
    return emitter, _year(year, f"{what} year"), record


def verify_obligation(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                      _trusted: str) -> str:
    emitter, year, record = _obligation_record(bundle, "obligation", checkpoint)
    at = f"at checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        return f"{emitter} had no verified obligation for {year} {at}"
    surrendered = record["allowances"] + record["credits"]
    owed = record["obligation"] - surrendered
    flagged = (", flagged: far from the monthly data" if record["flagged"] else "")
    return (f"{emitter}'s obligation for {year} under {record['scheme']} {at}: "
            f"{record['obligation']} t, the emissions verified by {record['verifier']} "
            f"({record['monthly_kg']} kg in its monthly data{flagged}); surrendered "
            f"{record['allowances']} t of allowances and {record['credits']} t of credits; "
            + ("met" if owed == 0 else f"{owed} t still owed"))


# --- disclosure -------------------------------------------------------------------------------

def verify_disclosure(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                      _trusted: str) -> str:
    year = _year(bundle["year"], "year")
    rows, proofs = bundle["disclosure"], bundle["obligations"]
    typed(rows, list, "disclosure (the year's rows)")
    typed(proofs, list, "obligations")
    if len(rows) != len(proofs):
        raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                 f"the disclosure has {len(rows)} rows but the bundle proves "
                                 f"{len(proofs)} obligations: one for each row")
    totals = dict.fromkeys(DISCLOSED_FIGURES, 0)
    previous = ""
    for position, (row, item) in enumerate(zip(rows, proofs, strict=True)):
        what = f"disclosure[{position}]"
        typed(row, Mapping, what)
        exact_fields(row, ROW_FIELDS, what)
        emitter = text_field(row["emitter"], f"{what} emitter")
        if emitter <= previous:
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"the disclosure's rows must be in order of emitter, each "
                                     f"once: {emitter} follows {previous}")
        previous = emitter
        typed(item, Mapping, f"obligations[{position}]")
        exact_fields(item, frozenset({"obligation", "state"}), f"obligations[{position}]")
        proven, proven_year, record = _obligation_record(item, f"obligations[{position}]",
                                                         checkpoint)
        if (proven, proven_year) != (emitter, year):
            raise VerificationFailed(VerifyFailure.wrong_subject,
                                     f"{what} is {emitter}'s for {year}, but its proof is of "
                                     f"{proven}'s obligation for {proven_year}")
        if record is None:
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"{emitter} had no verified obligation for {year} at "
                                     f"checkpoint {checkpoint.number}: its row proves nothing")
        for figure in DISCLOSED_FIGURES:
            stated = integer(row[figure], f"{what} {figure}")
            if stated != record[figure]:
                raise VerificationFailed(
                    VerifyFailure.incomplete_evidence,
                    f"the disclosure says {emitter} has {figure} {stated} for {year}, but its "
                    f"obligation record at checkpoint {checkpoint.number} has "
                    f"{record[figure]}")
            totals[figure] += stated
    return (f"disclosure of {year}: each of its {len(rows)} rows equals the emitter's "
            f"obligation record at checkpoint {checkpoint.number} ({checkpoint.time}): "
            f"{totals['verified_t']} t of verified emissions, {totals['allowances']} t of "
            f"allowances and {totals['credits']} t of credits surrendered in all (that no "
            "emitter was left out is not shown by these proofs)")


EMISSIONS_BUNDLE = BundleKind(EMISSIONS, frozenset({"submission", "state", "entry"}),
                              verify_emissions)
OBLIGATION_BUNDLE = BundleKind(OBLIGATION, frozenset({"obligation", "state"}),
                               verify_obligation)
DISCLOSURE_BUNDLE = BundleKind(DISCLOSURE, frozenset({"year", "disclosure", "obligations"}),
                               verify_disclosure)
COMPLIANCE_KINDS = (EMISSIONS_BUNDLE, OBLIGATION_BUNDLE, DISCLOSURE_BUNDLE)
