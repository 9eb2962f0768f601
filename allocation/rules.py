"""The allocation rules of a scheme, section `[allocation]` of its rules document (kept
verbatim by the core in `SchemeRules.extra`; the module declares this reader as its rules
section, so a bad document is refused when it is set). docs/allocation.md lists each key.

    [allocation]
    preallocation_bp = 7000          # pre-allocation: 70% of what last year's output earns
    bidder_roles = ["emitter"]       # who may bid in auctions
    [allocation.reserve]             # what justifies moving units in or out of the reserve
    release_price_above = 0          # minor units per tonne; 0: never by price
    release_surplus_below = 0        # tonnes in circulation; 0: never by surplus
    absorb_price_below = 0
    absorb_surplus_above = 0

A scheme without the section is not under allocation control.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from allocation.reasons import AllocationReason
from ledger.errors import Reason, Rejected, require
from ledger.model import MAX_QUANTITY, Role
from ledger.schemes import SchemeRules

SECTION = "allocation"
# the value of a scheme's `issue_operation` that puts its units under the plan
ALLOCATION_ISSUE_OPERATION = "allocation"
BASIS_POINTS = 10_000


@dataclass(frozen=True)
class ReserveTriggers:
    release_price_above: int = 0
    release_surplus_below: int = 0
    absorb_price_below: int = 0
    absorb_surplus_above: int = 0

    def justifies_release(self, average_price: int, surplus: int) -> bool:
        return (0 < self.release_price_above <= average_price
                or 0 < surplus <= self.release_surplus_below)

    def justifies_absorption(self, average_price: int, surplus: int) -> bool:
        return (0 < average_price <= self.absorb_price_below
                or 0 < self.absorb_surplus_above <= surplus)


@dataclass(frozen=True)
class AllocationRules:
    scheme: str
    preallocation_bp: int = 7000
    bidder_roles: frozenset[str] = frozenset({Role.emitter.value})
    reserve: ReserveTriggers = ReserveTriggers()


def allocation_rules(rules: SchemeRules) -> AllocationRules | None:
    """The `[allocation]` section, None if the scheme has none; `invalid_rules` if bad."""
    if SECTION not in rules.extra:
        return None
    try:
        return _parse(rules.scheme, rules.extra[SECTION])
    except (TypeError, ValueError) as exc:
        raise Rejected(Reason.invalid_rules, f"{rules.scheme} [{SECTION}]: {exc}") from exc


def required_rules(rules: SchemeRules) -> AllocationRules:
    """The rules of a scheme under allocation control: its units issued by this module
    (`issue_operation = "allocation"`) and an `[allocation]` section."""
    require(rules.issue_operation == ALLOCATION_ISSUE_OPERATION,
            Reason.issued_by_another_operation,
            f"{rules.scheme} units are issued by {rules.issue_operation}, not by its "
            "allocation plan")
    found = allocation_rules(rules)
    require(found is not None, AllocationReason.not_an_allocation_scheme, rules.scheme)
    assert found is not None
    return found


def _parse(scheme: str, section: Any) -> AllocationRules:
    if not isinstance(section, Mapping):
        raise TypeError("must be a table")
    unknown = set(section) - {"preallocation_bp", "bidder_roles", "reserve"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    share = _integer(section, "preallocation_bp", 7000, BASIS_POINTS)
    roles = section.get("bidder_roles", [Role.emitter.value])
    known_roles = {role.value for role in Role}
    if not isinstance(roles, list) or not all(isinstance(r, str) and r in known_roles
                                              for r in roles):
        raise ValueError(f"bidder_roles must be a list of roles of {sorted(known_roles)}")
    reserve = section.get("reserve", {})
    if not isinstance(reserve, Mapping):
        raise TypeError("reserve must be a table")
    keys = ("release_price_above", "release_surplus_below", "absorb_price_below",
            "absorb_surplus_above")
    unknown = set(reserve) - set(keys)
    if unknown:
        raise ValueError(f"unknown keys in reserve: {sorted(unknown)}")
    triggers = ReserveTriggers(*(_integer(reserve, key, 0, MAX_QUANTITY) for key in keys))
    return AllocationRules(scheme, share, frozenset(roles), triggers)


def _integer(section: Mapping[str, Any], key: str, default: int, most: int) -> int:
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
        raise ValueError(f"{key} must be an integer in 0..{most}")
    return value
