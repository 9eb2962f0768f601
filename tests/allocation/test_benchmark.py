"""The free-allocation figure: output x benchmark x factors x share, exact, rounded once to
whole tonnes, half up. Every expected figure below is worked by hand in its comment."""

from __future__ import annotations

from decimal import Decimal

import pytest

from allocation.benchmark import allocation_figure, allocation_tonnes, plain
from allocation.sectors import SectorPlan


def sector(benchmark: str, **factors: str) -> SectorPlan:
    return SectorPlan("power", 1_000_000, Decimal(benchmark), "MWh",
                      tuple(sorted((name, Decimal(v)) for name, v in factors.items())))


def test_a_power_plant_s_allocation_and_its_pre_allocation() -> None:
    power = sector("0.8218", load="1.012", cooling="1")
    # 1000 x 0.8218 = 821.8; x 1.012 = 831.6616; x 1 -> 832
    assert allocation_tonnes(Decimal("1000"), power) == 832
    # 831.6616 x 0.7 = 582.16312 -> 582
    assert allocation_tonnes(Decimal("1000"), power, 7000) == 582
    assert allocation_figure(Decimal("1000"), power, 7000) == Decimal("582.16312")


@pytest.mark.parametrize(("output", "benchmark", "share_bp", "tonnes"), [
    ("5", "0.1", 10_000, 1),          # 0.5 -> 1 (half up, not to even: 0)
    ("25", "0.1", 10_000, 3),         # 2.5 -> 3 (to even would give 2)
    ("7", "1", 5_000, 4),             # 3.5 -> 4
    ("2.5", "1", 5_000, 1),           # 1.25 -> 1
    ("0.499999999999", "1", 10_000, 0),  # just below a half -> 0
    ("1.5", "1", 10_000, 2),
    ("0", "0.8218", 10_000, 0),
    ("1000", "0", 10_000, 0),
    ("1000", "0.8218", 0, 0),         # a share of nothing
])
def test_rounding_is_once_and_half_up(output: str, benchmark: str, share_bp: int,
                                      tonnes: int) -> None:
    assert allocation_tonnes(Decimal(output), sector(benchmark), share_bp) == tonnes


def test_the_half_is_judged_on_the_exact_product_not_a_rounded_one() -> None:
    # 100000000000000000.499999999999 x 1.000000000001
    #   = 100000000000000000.499999999999 + 100000.000000000000499999999999
    #   = 100000000000100000.499999999999499999999999  -> just below a half: ...100000.
    # A 28-digit Decimal rounds the product to ...100000.5000000000 first, and then up.
    figure = sector("1", adjustment="1.000000000001")
    output = Decimal("100000000000000000.499999999999")
    assert allocation_tonnes(output, figure) == 100_000_000_000_100_000
    assert allocation_figure(output, figure) == \
        Decimal("100000000000100000.499999999999499999999999")


def test_many_digit_factors_multiply_exactly() -> None:
    # 0.999999999999 x 1.000000000001 = 1 - 10^-24; the output x that = output - output x
    # 10^-24: 123456789012345678.123456789012 - 0.000000123456789012345678123456789012
    #       = 123456789012345678.123456665555... -> 123456789012345678
    figure = sector("0.999999999999", up="1.000000000001")
    output = Decimal("123456789012345678.123456789012")
    assert allocation_figure(output, figure) == \
        Decimal("123456789012345678.123456665555210987654321876543210988")
    assert allocation_tonnes(output, figure) == 123_456_789_012_345_678


def test_ten_factors_of_a_tenth_above_one() -> None:
    # 1.1^10 = 2.5937424601; x 1000 x 1 = 2593.7424601 -> 2594; at 70%: 1815.61972207 -> 1816
    figure = sector("1", **{f"f{i}": "1.1" for i in range(10)})
    assert allocation_figure(Decimal("1000"), figure) == Decimal("2593.7424601")
    assert allocation_tonnes(Decimal("1000"), figure) == 2594
    assert allocation_tonnes(Decimal("1000"), figure, 7000) == 1816


def test_a_figure_is_shown_without_trailing_zeros_and_never_rounded() -> None:
    assert plain(Decimal("582.163120000")) == "582.16312"
    assert plain(Decimal("832.000")) == "832"
    assert plain(Decimal("100000000000100000.499999999999499999999999")) == \
        "100000000000100000.499999999999499999999999"
    assert plain(Decimal("0")) == "0"
