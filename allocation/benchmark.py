"""The free-allocation figure (docs/allocation.md): output x benchmark x the sector's factors
x a share in basis points, computed exactly and rounded once to whole tonnes, half up.

The product is formed on the decimals' integer coefficients and exponents, so no digit is ever
lost: it is what Python's `Decimal` gives with an 80-digit context for every figure whose
product fits in 80 digits (every plan of real sizes), and still exact for any that does not.
Nothing is rounded before the last step.
"""

from __future__ import annotations

from decimal import Decimal

from allocation.rules import BASIS_POINTS
from allocation.sectors import SectorPlan


def _coefficient(value: Decimal) -> tuple[int, int]:
    """(integer coefficient, power of ten) with value = coefficient x 10^power, exactly."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "figures are finite decimals"
    coefficient = int("".join(map(str, digits)) or "0")
    return (-coefficient if sign else coefficient), exponent


def _product(values: list[Decimal]) -> tuple[int, int]:
    coefficient, power = 1, 0
    for value in values:
        c, p = _coefficient(value)
        coefficient, power = coefficient * c, power + p
    return coefficient, power


def allocation_inputs(output: Decimal, sector: SectorPlan, share_bp: int = BASIS_POINTS
                      ) -> list[Decimal]:
    """What is multiplied, in order: output, benchmark, each factor by name, share."""
    return [output, sector.benchmark, *(value for _name, value in sector.factors),
            Decimal(share_bp).scaleb(-4)]


def allocation_figure(output: Decimal, sector: SectorPlan, share_bp: int = BASIS_POINTS
                      ) -> Decimal:
    """The unrounded figure in tonnes, exactly: what an auditor recomputes before rounding."""
    coefficient, power = _product(allocation_inputs(output, sector, share_bp))
    sign = 1 if coefficient < 0 else 0
    return Decimal((sign, tuple(int(d) for d in str(abs(coefficient))), power))


def allocation_tonnes(output: Decimal, sector: SectorPlan, share_bp: int = BASIS_POINTS) -> int:
    """The allocation `output` earns in `sector`, with `share_bp` of it (the pre-allocation's
    share; the whole for a true-up): whole tonnes, rounded once, half up."""
    coefficient, power = _product(allocation_inputs(output, sector, share_bp))
    assert coefficient >= 0, "figures are non-negative"
    if power >= 0:
        return coefficient * 10 ** power
    scale = 10 ** -power
    return (2 * coefficient + scale) // (2 * scale)  # half up: floor(x + 1/2)


def plain(figure: Decimal) -> str:
    """A figure as a plain decimal string, without trailing zeros (never rounded)."""
    text = format(figure, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
