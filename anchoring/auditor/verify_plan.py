"""The offline check of a year's allocation plan (docs/proof-format.md, `allocation`), and the
key of its leaf:

    allocation_plan   SHA-256("allocation_plan" 0x00 scheme 0x00 year in decimal)

- `allocation`: a scheme's plan for a year at a checkpoint — its cap, its counters and each
  sector's free allocation so far (the `allocation_plan` leaf, allocation/plan_leaf_store.py).
  The proven record must keep the cap as docs/allocation.md, "The plan", states it:
  `issued − taken_back + reserve + to_auction ≤ cap`, `0 ≤ on_offer ≤ to_auction`, each
  sector's `allocated ≤ free_cap`, and what the sectors were given and may still be given fits
  under the cap beside the rest. With `installation` (not null), one installation's allocation
  for the year too, and the journal entries its figures rest on
  (anchoring.auditor.verify_installation_allocation).

Pure like anchoring.auditor.verify: no ledger, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anchoring.auditor.bundle_format import BundleKind, integer, text_field, verify_state
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.state_keys import typed_key
from anchoring.auditor.verify_installation_allocation import verify_installation_allocation

ALLOCATION = "allocation"  # the bundle kind
ALLOCATION_PLAN = "allocation_plan"  # the leaf kind

PLAN_FIELDS = {
    "scheme": str, "year": int, "cap": int, "reserve": int, "to_auction": int, "on_offer": int,
    "issued": int, "taken_back": int, "amendments": int, "sectors": list,
}
SECTOR_FIELDS = {
    "sector": str, "free_cap": int, "allocated": int, "benchmark": str, "output_unit": str,
    "factors": dict,
}
_COUNTERS = ("cap", "reserve", "to_auction", "on_offer", "issued", "taken_back", "amendments")


def plan_key(scheme: str, year: int) -> bytes:
    return typed_key(ALLOCATION_PLAN, scheme, str(year))


def _malformed(subject: str, reason: str) -> VerificationFailed:
    return VerificationFailed(VerifyFailure.malformed_record, f"the record of {subject} {reason}")


def _fields(record: Any, fields: Mapping[str, type], subject: str) -> dict[str, Any]:
    """`record` with exactly `fields`, each of its JSON type (a bool is no integer)."""
    if not isinstance(record, Mapping) or set(record) != set(fields):
        raise _malformed(subject, f"must have exactly the fields {', '.join(sorted(fields))}")
    for name, kind in fields.items():
        value = record[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _malformed(subject, f"has {name} {value!r:.60}")
    return dict(record)


def _plan_record(record: Any, subject: str) -> dict[str, Any]:
    plan = _fields(record, PLAN_FIELDS, subject)
    for name in _COUNTERS:
        if plan[name] < 0:
            raise _malformed(subject, f"has a negative {name} ({plan[name]})")
    plan["sectors"] = [_fields(sector, SECTOR_FIELDS, f"{subject}, sectors[{position}],")
                       for position, sector in enumerate(plan["sectors"])]
    names = [sector["sector"] for sector in plan["sectors"]]
    if len(set(names)) != len(names):
        raise _malformed(subject, "names a sector twice")
    for sector in plan["sectors"]:
        if sector["free_cap"] < 0 or sector["allocated"] < 0:
            raise _malformed(subject, f"has a negative figure in sector {sector['sector']}")
    return plan


def _breaks(reason: str) -> VerificationFailed:
    return VerificationFailed(VerifyFailure.incomplete_evidence, reason)


def t(quantity: int) -> str:
    """Tonnes as a person reads them: 1,868,340 t."""
    return f"{quantity:,} t"


def check_plan(plan: Mapping[str, Any], subject: str, at: str) -> str:
    """The plan's own rules, each refused with its name; the verdict in words once they hold."""
    outstanding = plan["issued"] - plan["taken_back"] + plan["reserve"] + plan["to_auction"]
    if plan["taken_back"] > plan["issued"]:
        raise _breaks(f"more taken back than issued: {subject} at {at} has taken back "
                      f"{t(plan['taken_back'])} of {t(plan['issued'])} issued")
    if outstanding > plan["cap"]:
        raise _breaks(f"cap exceeded: {subject} at {at} has {t(plan['issued'])} issued − "
                      f"{t(plan['taken_back'])} taken back + {t(plan['reserve'])} in reserve + "
                      f"{t(plan['to_auction'])} to auction = {t(outstanding)}, over its cap "
                      f"of {t(plan['cap'])}")
    if plan["on_offer"] > plan["to_auction"]:
        raise _breaks(f"offer exceeds volume to auction: {subject} at {at} has "
                      f"{t(plan['on_offer'])} on offer of {t(plan['to_auction'])} to auction")
    for sector in plan["sectors"]:
        if sector["allocated"] > sector["free_cap"]:
            raise _breaks(f"sector over its free cap: sector {sector['sector']} of {subject} "
                          f"at {at} has received {t(sector['allocated'])} of a free cap of "
                          f"{t(sector['free_cap'])}")
    allocated = sum(sector["allocated"] for sector in plan["sectors"])
    if allocated > plan["issued"] - plan["taken_back"]:
        raise _breaks(f"free allocation exceeds units issued: the sectors of {subject} at "
                      f"{at} have received {t(allocated)}, but the plan has issued "
                      f"{t(plan['issued'] - plan['taken_back'])} net of take-backs")
    still_free = sum(sector["free_cap"] - sector["allocated"] for sector in plan["sectors"])
    committed = outstanding + still_free
    if committed > plan["cap"]:
        raise _breaks(f"free caps exceed the cap: {subject} at {at} commits {t(committed)} "
                      f"({t(outstanding)} outstanding and {t(still_free)} of free allocation "
                      f"still to come) under a cap of {t(plan['cap'])}")
    sectors = "; ".join(f"{sector['sector']} {t(sector['allocated'])} of "
                        f"{t(sector['free_cap'])}" for sector in plan["sectors"])
    return (f"the {plan['year']} plan holds: {t(outstanding)} of {t(plan['cap'])} committed "
            f"({t(plan['issued'])} issued − {t(plan['taken_back'])} taken back + "
            f"{t(plan['reserve'])} in reserve + {t(plan['to_auction'])} to auction, of which "
            f"{t(plan['on_offer'])} on offer); free allocation so far within each sector's "
            f"free cap ({sectors or 'no sectors'}), {t(still_free)} still to come within the "
            f"cap; amended {plan['amendments']} time{'s' if plan['amendments'] != 1 else ''}")


def verify_allocation_plan(bundle: Mapping[str, Any], checkpoint: CheckpointBody,
                           trusted: str) -> str:
    scheme = text_field(bundle["scheme"], "scheme")
    year = integer(bundle["year"], "year")
    if not 0 <= year <= 9999:
        raise VerificationFailed(VerifyFailure.malformed_bundle,
                                 f"year must be a year (0 to 9999), got {year}")
    subject = f"the {scheme} plan for {year}"
    # the identity is checked below with the record's types: verify_state compares strings
    record = verify_state(bundle["state"], checkpoint, plan_key(scheme, year), subject, {})
    at = f"checkpoint {checkpoint.number} ({checkpoint.time})"
    if record is None:
        raise _breaks(f"{subject} did not exist at {at}: a proof of its absence proves no plan")
    plan = _plan_record(record, subject)
    if (plan["scheme"], plan["year"]) != (scheme, year):
        raise VerificationFailed(VerifyFailure.wrong_subject,
                                 f"the proven record does not describe {subject}")
    said = f"{scheme} at {at}: {check_plan(plan, subject, at)}"
    if bundle["installation"] is None:
        return said
    allocation = verify_installation_allocation(bundle["installation"], plan, checkpoint,
                                                trusted, at)
    return f"{said}. And {allocation}"


ALLOCATION_BUNDLE = BundleKind(ALLOCATION, frozenset({"scheme", "year", "state", "installation"}),
                               verify_allocation_plan)
