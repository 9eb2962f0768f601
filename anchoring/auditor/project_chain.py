"""The provenance of a CCER batch as a bundle carries it: the journal entries of the project
cycle from the methodology to the issuance, each with its inclusion proof, and the links
between them. Bundle kinds `retirement` (anchoring.auditor.verify_projects) and `provenance`
(anchoring.auditor.verify_provenance) both carry this chain; both check it here, one way.

The links must hold: the issuance is of the batch the bundle is about; its project and period
are the report's and the verification's; that project is the one submitted, validated and
registered; the submitted methodology is the published one; the journal order is that of the
cycle; the issued quantity is no more than the verified reductions.

Pure like anchoring.auditor.verify: no ledger, no database.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from anchoring.auditor.bundle_format import exact_fields, typed
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.verify_core import verify_entry

# The links of a batch's provenance, in the journal order the project cycle makes them: each
# name of a bundle's `entries` and the operation its entry must be.
CHAIN: dict[str, str] = {
    "methodology": "methodology_publish",
    "submission": "project_submit",
    "validation": "project_validate",
    "registration": "project_register",
    "report": "monitoring_submit",
    "verification": "monitoring_verify",
    "issuance": "ccer_issue",
}
# The fields of a monitoring_verify entry and of a ccer_issue entry that the links read.
VERIFIED_T = "verifiedReductions"
ISSUED_T = "quantity"


@dataclass(frozen=True)
class ChainEntry:
    """A journal entry of a bundle's chain, once its inclusion in the checkpoint's log is
    verified. `chain` names the chain it is a link of, for the reasons given."""

    link: str
    seq: int
    op: str
    accepted_at: str
    fields: Mapping[str, Any]
    effects: Mapping[str, Any]
    chain: str

    def text(self, name: str) -> str:
        value = self.fields.get(name)
        if not isinstance(value, str):
            raise self._lacks(name)
        return value

    def tonnes(self, name: str) -> int:
        value = self.fields.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self._lacks(name)
        return value

    def _lacks(self, name: str) -> VerificationFailed:
        return VerificationFailed(VerifyFailure.incomplete_evidence,
                                  f"journal entry {self.seq} ({self.op}) has no {name}")

    def same(self, name: str, want: str, whose: str) -> None:
        """Its field `name` is `want`, which `whose` names: else it is not a link of this
        chain."""
        got = self.text(name)
        if got != want:
            raise VerificationFailed(
                VerifyFailure.wrong_subject,
                f"the {self.link} entry {self.seq} ({self.op}) is for {name} {got!r}, but "
                f"{whose} is {want!r}: it is not a link of {self.chain}")


def chain_entries(items: Any, checkpoint: CheckpointBody, trusted: str,
                  links: Mapping[str, str], *, noun: str, chain: str
                  ) -> dict[str, ChainEntry]:
    """Each link's entry, in the checkpoint's log, of its operation. `noun` says whose links
    they are ("a retirement"), `chain` what they make up ("this retirement's provenance")."""
    typed(items, Mapping, "entries")
    exact_fields(items, frozenset(links), "entries")
    entries: dict[str, ChainEntry] = {}
    for link, op in links.items():
        item = items[link]
        typed(item, Mapping, f"entries.{link}")
        exact_fields(item, frozenset({"entry", "inclusion"}), f"entries.{link}")
        verify_entry(item, checkpoint, trusted)  # canonical bytes, seq = index, in the log
        document = json.loads(item["entry"])
        instruction = document.get("instruction")
        if not isinstance(instruction, Mapping) or instruction.get("op") != op:
            what = (instruction.get("op") if isinstance(instruction, Mapping)
                    else "checkpoint marker")
            raise VerificationFailed(VerifyFailure.incomplete_evidence,
                                     f"entries.{link} is journal entry {document['seq']}, a "
                                     f"{what}; the {link} of {noun} is a {op}")
        entries[link] = ChainEntry(link, document["seq"], op, str(document["accepted_at"]),
                                   instruction["fields"], document["effects"], chain)
    return entries


def check_chain(entries: Mapping[str, ChainEntry], links: Mapping[str, str], batch: str,
                whose: str) -> None:
    """Every link of batch `batch`'s provenance holds (`whose` names where the batch comes
    from: "the bundle's batch"), and the links are in the order of `links`."""
    _check_links(entries, batch, whose)
    _check_order(entries, links)


def _check_links(entries: Mapping[str, ChainEntry], batch: str, whose: str) -> None:
    issuance, verification = entries["issuance"], entries["verification"]
    issuance.same("batch", batch, whose)
    project, period = issuance.text("project"), issuance.text("period")
    verification.same("project", project, f"the project batch {batch} was issued for")
    verification.same("period", period, f"the monitoring period batch {batch} was issued for")
    entries["report"].same("project", project, f"the project batch {batch} was issued for")
    entries["report"].same("period", period, f"the monitoring period batch {batch} was issued "
                                             "for")
    for link in ("submission", "validation", "registration"):
        entries[link].same("project", project, f"the project batch {batch} was issued for")
    methodology = entries["submission"].text("methodology")
    entries["methodology"].same("methodology", methodology,
                                f"the methodology project {project} was submitted under")
    issued, verified = issuance.tonnes(ISSUED_T), verification.tonnes(VERIFIED_T)
    if issued > verified:
        raise VerificationFailed(
            VerifyFailure.incomplete_evidence,
            f"batch {batch} was issued {issued} t (entry {issuance.seq}), more than the "
            f"{verified} t of reductions verified for period {period} of project {project} "
            f"(entry {verification.seq})")


def _check_order(entries: Mapping[str, ChainEntry], links: Mapping[str, str]) -> None:
    """The links are in the journal in the order the cycle makes them, each once."""
    ordered = [entries[link] for link in links]
    for earlier, entry in itertools.pairwise(ordered):
        if entry.seq <= earlier.seq:
            raise VerificationFailed(
                VerifyFailure.incomplete_evidence,
                f"the {entry.link} (entry {entry.seq}) does not come after the "
                f"{earlier.link} (entry {earlier.seq}) in the journal: the project cycle "
                f"makes them in the order {', '.join(links)}")


def describe_chain(entries: Mapping[str, ChainEntry]) -> str:
    """The chain in words, from the issuance back to the methodology: "issued by entry 16
    (9000 t) for monitoring period ... (published by entry 10)"."""
    issuance, verification = entries["issuance"], entries["verification"]
    methodology, report = entries["methodology"], entries["report"]
    submission, validation = entries["submission"], entries["validation"]
    return (
        f"issued by entry {issuance.seq} ({issuance.tonnes(ISSUED_T)} t) for monitoring "
        f"period {issuance.text('period')} ({report.fields.get('startDate')}.."
        f"{report.fields.get('endDate')}, reported by entry {report.seq}) of project "
        f"{issuance.text('project')} "
        f"({submission.fields.get('title')!r}, submitted by entry {submission.seq}, validated "
        f"by {validation.fields.get('validator')} in entry {validation.seq}, registered by "
        f"entry {entries['registration'].seq}), whose reductions "
        f"{verification.fields.get('verifier')} verified at "
        f"{verification.tonnes(VERIFIED_T)} t (entry {verification.seq}), under methodology "
        f"{methodology.text('methodology')} {methodology.fields.get('version')} (published by "
        f"entry {methodology.seq})")
