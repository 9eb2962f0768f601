"""The free-allocation figure (docs/allocation.md): output x benchmark x the sector's factors
x a share in basis points, computed exactly and rounded once to whole tonnes, half up.

The rule itself is the auditor's (anchoring/auditor/allocation_rule.py), which an `allocation`
bundle's verifier recomputes with: the ledger calls that one implementation with a sector's
figures. The product is formed on the decimals' integer coefficients and exponents, so no digit
is ever lost and nothing is rounded before the last step.
"""

from __future__ import annotations

from decimal import Decimal

from allocation.rules import BASIS_POINTS
from allocation.sectors import SectorPlan
from anchoring.auditor import allocation_rule


def _rule_inputs(output: Decimal, sector: SectorPlan) -> tuple[str, str, list[str]]:
    """The output, the benchmark and the factors (in name order) as the rule takes them."""
    return str(output), str(sector.benchmark), [str(value) for _name, value in sector.factors]


def allocation_figure(output: Decimal, sector: SectorPlan, share_bp: int = BASIS_POINTS
                      ) -> Decimal:
    """The unrounded figure in tonnes, exactly: what an auditor recomputes before rounding."""
    coefficient, power = allocation_rule.exact_product(*_rule_inputs(output, sector), share_bp)
    return Decimal((0, tuple(int(d) for d in str(coefficient)), power))


def allocation_tonnes(output: Decimal, sector: SectorPlan, share_bp: int = BASIS_POINTS) -> int:
    """The allocation `output` earns in `sector`, with `share_bp` of it (the pre-allocation's
    share; the whole for a true-up): whole tonnes, rounded once, half up."""
    return allocation_rule.allocation_tonnes(*_rule_inputs(output, sector), share_bp)


def plain(figure: Decimal) -> str:
    """A figure as a plain decimal string, without trailing zeros (never rounded)."""
    text = format(figure, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
