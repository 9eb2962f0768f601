"""The free-allocation rule as an auditor recomputes it (docs/allocation.md, "Free allocation by
benchmark"): output × benchmark × Π factors × share_bp / 10000, formed exactly on the decimals'
integer coefficients and rounded once to whole tonnes, half up.

This is the rule's one implementation, over decimal strings as entries and leaves carry them:
the auditor's part may import nothing of the ledger (docs/adr/0007), so the ledger's
allocation/benchmark.py calls it rather than the other way round, as allocation/clearing.py
does the auction's clearing.

Pure: the standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

BASIS_POINTS = 10_000  # a share of the whole, in basis points


def coefficient(text: str) -> tuple[int, int]:
    """(integer coefficient, power of ten) with the decimal `text` = coefficient × 10^power,
    exactly; ValueError for what is not a finite, non-negative decimal."""
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r:.40} is not a decimal") from exc
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or sign:
        raise ValueError(f"{text!r:.40} is not a finite, non-negative decimal")
    return int("".join(map(str, digits)) or "0"), exponent


def exact_product(output: str, benchmark: str, factors: Iterable[str],
                  share_bp: int = BASIS_POINTS) -> tuple[int, int]:
    """(coefficient, power of ten) of output × benchmark × Π factors × share_bp / 10000,
    exactly: nothing is rounded."""
    product, power = share_bp, -4  # the share, share_bp × 10^-4
    for text in (output, benchmark, *factors):
        c, p = coefficient(text)
        product, power = product * c, power + p
    return product, power


def allocation_tonnes(output: str, benchmark: str, factors: Iterable[str],
                      share_bp: int = BASIS_POINTS) -> int:
    """What `output` earns: whole tonnes, the exact product rounded once, half up."""
    product, power = exact_product(output, benchmark, factors, share_bp)
    if power >= 0:
        return product * 10 ** power
    scale = 10 ** -power
    return (2 * product + scale) // (2 * scale)  # half up: floor(x + 1/2)
