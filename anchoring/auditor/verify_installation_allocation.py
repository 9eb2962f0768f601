"""The offline check of one installation's allocation for a year, inside an `allocation` bundle
(docs/proof-format.md), and the key of its leaf:

    installation_allocation   SHA-256("installation_allocation" 0x00 installation 0x00 year)

The leaf (allocation/installation_leaf_store.py) says what the installation was allocated and
issued; the bundle adds the journal entries its figures rest on, each with its inclusion proof
against the same checkpoint's log:

- `rules`: the scheme's rules the pre-allocation's share is read from (`[allocation]`
  `preallocation_bp`, 7000 when absent): the genesis or a `set_scheme_rules` entry;
- `output_before`: the `output_verify` of the year before (the pre-allocation's output);
- `output`: the `output_verify` of the year (the true-up's), once the year is trued up;
- `closure`: the `installation_close` whose last year is before this one, when the year was
  settled by the closure (its final figure is then 0).

The figures are recomputed with the rule (anchoring.auditor.allocation_rule) and the sector's
benchmark and factors in the proven plan, and compared with the leaf; what was issued must be
what the figures give, less the debts applied and plus those created (docs/allocation.md).

Pure like anchoring.auditor.verify: no ledger, no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from anchoring.auditor.allocation_rule import BASIS_POINTS, allocation_tonnes
from anchoring.auditor.bundle_format import exact_fields, text_field, typed, verify_state
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.state_keys import typed_key
from anchoring.auditor.verify_core import verify_entry

INSTALLATION_ALLOCATION = "installation_allocation"  # the leaf kind
PREALLOCATION, NEW_ENTRANT = "preallocation", "new_entrant"
DEFAULT_PREALLOCATION_BP = 7000  # docs/allocation.md, "Rules"
ENTRY_LINKS = {"rules": ("genesis", "set_scheme_rules"), "output_before": ("output_verify",),
               "output": ("output_verify",), "closure": ("installation_close",)}
ALLOCATION_FIELDS = {
    "installation": str, "year": int, "scheme": str, "sector": str, "account": str,
    "source": str, "preallocated": int, "issued": int, "taken_back": int, "debt_applied": int,
    "debt_created": int, "debt_after": int, "batches": list,
}  # and `final`, an integer or null


def installation_allocation_key(installation: str, year: int) -> bytes:
    return typed_key(INSTALLATION_ALLOCATION, installation, str(year))


@dataclass(frozen=True)
class Entry:
    """A journal entry of the bundle, once its inclusion in the checkpoint's log holds."""

    link: str
    seq: int
    op: str
    fields: Mapping[str, Any]

    def lacks(self, what: str) -> VerificationFailed:
        return VerificationFailed(VerifyFailure.incomplete_evidence,
                                  f"entries.{self.link} (journal entry {self.seq}, {self.op}) "
                                  f"{what}")


def _differs(reason: str) -> VerificationFailed:
    return VerificationFailed(VerifyFailure.incomplete_evidence, reason)


def _record(record: Any, subject: str) -> dict[str, Any]:
    fields = {**ALLOCATION_FIELDS, "final": object}
    if not isinstance(record, Mapping) or set(record) != set(fields):
        raise VerificationFailed(VerifyFailure.malformed_record,
                                 f"the record of {subject} must have exactly the fields "
                                 f"{', '.join(sorted(fields))}")
    for name, kind in ALLOCATION_FIELDS.items():
        value = record[name]
        negative = isinstance(value, int) and value < 0 and name != "year"
        if not isinstance(value, kind) or isinstance(value, bool) or negative:
            raise VerificationFailed(VerifyFailure.malformed_record,
                                     f"the record of {subject} has {name} {value!r:.60}")
    final = record["final"]
    if final is not None and (not isinstance(final, int) or isinstance(final, bool)
                              or final < 0):
        raise VerificationFailed(VerifyFailure.malformed_record,
                                 f"the record of {subject} has final {final!r:.60}")
    if record["source"] not in (PREALLOCATION, NEW_ENTRANT):
        raise VerificationFailed(VerifyFailure.malformed_record,
                                 f"the record of {subject} has source {record['source']!r:.40}")
    return dict(record)


def _entries(items: Any, checkpoint: CheckpointBody, trusted: str) -> dict[str, Entry | None]:
    typed(items, Mapping, "installation.entries")
    exact_fields(items, frozenset(ENTRY_LINKS), "installation.entries")
    found: dict[str, Entry | None] = {}
    for link, ops in ENTRY_LINKS.items():
        item = items[link]
        if item is None:
            found[link] = None
            continue
        typed(item, Mapping, f"entries.{link}")
        exact_fields(item, frozenset({"entry", "inclusion"}), f"entries.{link}")
        verify_entry(item, checkpoint, trusted)  # canonical bytes, seq = index, in the log
        document = json.loads(item["entry"])
        instruction = document.get("instruction")
        op = instruction.get("op") if isinstance(instruction, Mapping) else "checkpoint marker"
        if op not in ops:
            raise _differs(f"entries.{link} is journal entry {document['seq']}, a {op}; it must "
                           f"be a {' or '.join(ops)}")
        assert isinstance(instruction, Mapping)
        found[link] = Entry(link, document["seq"], op, instruction["fields"])
    return found


def _year_of(entry: Entry, name: str) -> int:
    value = entry.fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise entry.lacks(f"has no {name}")
    try:
        return int(value)
    except ValueError as exc:
        raise entry.lacks(f"has {name} {value!r:.20}") from exc


def _share_bp(entry: Entry, scheme: str) -> int:
    """The pre-allocation's share in the scheme's rules recorded by `entry`."""
    try:
        if entry.op == "genesis":
            rules = json.loads(entry.fields["rules"]).get(scheme)
        else:
            if entry.fields.get("scheme") != scheme:
                raise entry.lacks(f"sets the rules of {entry.fields.get('scheme')!r:.40}, not "
                                  f"of {scheme}")
            rules = json.loads(entry.fields["rules"])
        section = rules["allocation"]
        share = section.get("preallocation_bp", DEFAULT_PREALLOCATION_BP)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise entry.lacks(f"has no [allocation] section for {scheme}") from exc
    if isinstance(share, bool) or not isinstance(share, int) or not 0 <= share <= BASIS_POINTS:
        raise entry.lacks(f"has preallocation_bp {share!r:.20}")
    return share


@dataclass(frozen=True)
class Figure:
    """A recomputed figure and what it rests on, in words."""

    tonnes: int
    basis: str


def _figure(entry: Entry | None, what: str, installation: str, year: int,
            sector: Mapping[str, Any], share_bp: int, share_from: str) -> Figure:
    if entry is None:
        raise _differs(f"entry dropped: the {what} of {installation} rests on the "
                       f"output_verify of {year}, which the bundle lacks")
    if entry.fields.get("installation") != installation or _year_of(entry, "year") != year:
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"entries.{entry.link} (journal entry {entry.seq}) verifies "
                                 f"the output of {entry.fields.get('installation')!r:.40} for "
                                 f"{entry.fields.get('year')!r:.10}, not of {installation} for "
                                 f"{year}")
    output, unit = entry.fields.get("output"), entry.fields.get("unit")
    if not isinstance(output, str) or unit != sector["output_unit"]:
        raise entry.lacks(f"states {output!r:.40} {unit!r:.20}, not an output in "
                          f"{sector['output_unit']}, the unit of sector {sector['sector']}")
    factors = [str(value) for _name, value in sorted(sector["factors"].items())]
    try:
        tonnes = allocation_tonnes(output, sector["benchmark"], factors, share_bp)
    except ValueError as exc:
        raise entry.lacks(f"or the plan's sector {sector['sector']} has a figure that is not "
                          f"a decimal: {exc}") from exc
    product = " × ".join([f"{output} {unit} ({year}, entry {entry.seq})", sector["benchmark"],
                          *factors])
    if share_bp != BASIS_POINTS:
        product += f" × {share_bp} bp ({share_from})"
    return Figure(tonnes, product)


def verify_installation_allocation(item: Any, plan: Mapping[str, Any],
                                   checkpoint: CheckpointBody, trusted: str, at: str) -> str:
    """Check `item` (the bundle's `installation`) against the verified plan; its verdict."""
    scheme, year = plan["scheme"], plan["year"]
    typed(item, Mapping, "installation")
    exact_fields(item, frozenset({"installation", "state", "entries"}), "installation")
    installation = text_field(item["installation"], "installation.installation")
    subject = f"{installation}'s allocation for {year}"
    found = verify_state(item["state"], checkpoint,
                         installation_allocation_key(installation, year), subject, {})
    if found is None:
        raise _differs(f"{subject} did not exist at {at}: a proof of its absence proves no "
                       "allocation")
    record = _record(found, subject)
    if (record["installation"], record["year"], record["scheme"]) != (installation, year,
                                                                      scheme):
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"the proven record does not describe {subject} in {scheme}")
    sector = next((s for s in plan["sectors"] if s["sector"] == record["sector"]), None)
    if sector is None:
        raise _differs(f"sector not in plan: {subject} is in sector {record['sector']}, which "
                       f"the {scheme} plan for {year} does not name")
    entries = _entries(item["entries"], checkpoint, trusted)
    said = [_preallocation(record, entries, sector, subject, installation)]
    said.append(_final(record, entries, sector, subject, installation))
    received = (record["issued"] - record["taken_back"] + record["debt_applied"]
                - record["debt_created"])
    settled = record["final"]
    if settled is None and (record["taken_back"], record["debt_created"], received) != (
            0, 0, record["preallocated"]):
        raise _differs(f"issued differs: {subject} is not trued up, so it received its "
                       f"allocation of {record['preallocated']:,} t (issued "
                       f"{record['issued']:,} t and {record['debt_applied']:,} t of debt paid "
                       f"with it), but its record says issued {record['issued']:,} t, taken "
                       f"back {record['taken_back']:,} t, debt created "
                       f"{record['debt_created']:,} t")
    if settled is not None and received != settled:
        raise _differs(f"issued differs: {subject} was settled at {settled:,} t, but it "
                       f"received {received:,} t (issued {record['issued']:,} − taken back "
                       f"{record['taken_back']:,} + debt applied {record['debt_applied']:,} − "
                       f"debt created {record['debt_created']:,})")
    return (f"{subject} in sector {record['sector']}, to account {record['account']}: "
            f"{'; '.join(said)}; received {received:,} t (issued {record['issued']:,} t, taken "
            f"back {record['taken_back']:,} t, debt applied {record['debt_applied']:,} t, "
            f"debt created {record['debt_created']:,} t; debt after {record['debt_after']:,} t)")


def _preallocation(record: Mapping[str, Any], entries: Mapping[str, Entry | None],
                   sector: Mapping[str, Any], subject: str, installation: str) -> str:
    year = record["year"]
    if record["source"] == NEW_ENTRANT:
        if entries["rules"] is not None or entries["output_before"] is not None:
            raise _differs(f"{subject} is a new entrant's stated quantity: it rests on no "
                           "output or share, and the bundle must carry none")
        return f"{record['preallocated']:,} t as a new entrant (a stated quantity)"
    rules = entries["rules"]
    if rules is None:
        raise _differs(f"entry dropped: the pre-allocation of {subject} rests on the share in "
                       "the scheme's rules, and the bundle lacks their entry")
    share = _share_bp(rules, record["scheme"])
    figure = _figure(entries["output_before"], "pre-allocation", installation, year - 1,
                     sector, share, f"rules entry {rules.seq}")
    if figure.tonnes != record["preallocated"]:
        raise _differs(f"pre-allocation differs: {figure.basis} gives {figure.tonnes:,} t, but "
                       f"{subject} records {record['preallocated']:,} t")
    return f"pre-allocated {figure.tonnes:,} t = {figure.basis}"


def _final(record: Mapping[str, Any], entries: Mapping[str, Entry | None],
           sector: Mapping[str, Any], subject: str, installation: str) -> str:
    final, closure = record["final"], entries["closure"]
    if final is None:
        if entries["output"] is not None or closure is not None:
            raise _differs(f"{subject} is not trued up: the bundle must carry no output or "
                           "closure for it")
        return "not trued up yet"
    if closure is not None:
        if closure.fields.get("installation") != installation or _year_of(
                closure, "lastYear") >= record["year"] or entries["output"] is not None:
            raise _differs(f"final differs: entries.closure (journal entry {closure.seq}) "
                           f"does not close {installation} before {record['year']}, or the "
                           "bundle carries an output beside it")
        if final != 0:
            raise _differs(f"final differs: {subject} was settled by the closure in entry "
                           f"{closure.seq}, which takes everything back, but its record "
                           f"says {final:,} t")
        return f"settled at 0 t by the closure in entry {closure.seq}"
    figure = _figure(entries["output"], "true-up", installation, record["year"], sector,
                     BASIS_POINTS, "")
    if figure.tonnes != final:
        raise _differs(f"final differs: {figure.basis} gives {figure.tonnes:,} t, but "
                       f"{subject} records a final allocation of {final:,} t")
    return f"trued up to {figure.tonnes:,} t = {figure.basis}"
