"""A plan's sectors: each sector's free allocation, benchmark, unit of output and adjustment
factors, parsed from the JSON text an instruction carries (docs/allocation.md)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from allocation.reasons import AllocationReason
from compliance.figures import UNIT_PATTERN  # units as monthly figures write them: MWh, t
from ledger.errors import Rejected
from ledger.model import MAX_QUANTITY

MAX_SECTORS = 100
MAX_FACTORS = 10
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")
# a non-negative decimal: at most 18 digits before the point and 12 after, no exponent, no
# sign (the plan's benchmarks and factors, and an output's figure: allocation/fields.py)
DECIMAL_PATTERN = re.compile(r"(0|[1-9][0-9]{0,17})(\.[0-9]{1,12})?")
KEYS = {"sector", "free_cap", "benchmark", "output_unit", "factors"}


@dataclass(frozen=True)
class SectorPlan:
    sector: str
    free_cap: int  # tonnes of free allocation the sector may receive
    benchmark: Decimal  # tCO2 per unit of output
    output_unit: str
    factors: tuple[tuple[str, Decimal], ...]  # named adjustment factors, sorted by name

    def as_json(self) -> dict[str, Any]:
        return {"sector": self.sector, "free_cap": self.free_cap,
                "benchmark": str(self.benchmark), "output_unit": self.output_unit,
                "factors": {name: str(value) for name, value in self.factors}}


def parse_sectors(text: str) -> tuple[SectorPlan, ...]:
    """The sectors of a plan, in the order given; `invalid_sectors`, naming what is wrong."""
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        raise _invalid("not JSON") from None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_SECTORS:
        raise _invalid(f"a list of 1 to {MAX_SECTORS} sectors")
    sectors = tuple(_sector(number, item) for number, item in enumerate(items, 1))
    names = [s.sector for s in sectors]
    if len(set(names)) != len(names):
        raise _invalid("a sector is named twice")
    return sectors


def sectors_json(sectors: tuple[SectorPlan, ...]) -> str:
    """The canonical JSON text the plan stores: sectors sorted by name."""
    return json.dumps([s.as_json() for s in sorted(sectors, key=lambda s: s.sector)],
                      sort_keys=True, separators=(",", ":"))


def _sector(number: int, item: Any) -> SectorPlan:
    where = f"sector {number}"
    if not isinstance(item, dict) or set(item) != KEYS:
        raise _invalid(f"{where} must have exactly the keys {sorted(KEYS)}")
    name, cap, unit, factors = item["sector"], item["free_cap"], item["output_unit"], \
        item["factors"]
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise _invalid(f"{where}: sector must be a lower-case name")
    if not isinstance(cap, int) or isinstance(cap, bool) or not 0 <= cap <= MAX_QUANTITY:
        raise _invalid(f"{where}: free_cap must be whole tonnes, 0 to 2^53-1")
    if not isinstance(unit, str) or not UNIT_PATTERN.fullmatch(unit):
        raise _invalid(f"{where}: output_unit must be a unit such as MWh or t")
    if not isinstance(factors, dict) or len(factors) > MAX_FACTORS \
            or not all(isinstance(k, str) and NAME_PATTERN.fullmatch(k) for k in factors):
        raise _invalid(f"{where}: factors must map at most {MAX_FACTORS} lower-case names "
                       "to decimal strings")
    return SectorPlan(name, cap, _decimal(where, "benchmark", item["benchmark"]), unit,
                      tuple(sorted((k, _decimal(where, k, v)) for k, v in factors.items())))


def _decimal(where: str, name: str, value: Any) -> Decimal:
    if not isinstance(value, str) or not DECIMAL_PATTERN.fullmatch(value):
        raise _invalid(f"{where}: {name} must be a non-negative decimal string")
    return Decimal(value)


def _invalid(detail: str) -> Rejected:
    return Rejected(AllocationReason.invalid_sectors, detail)
