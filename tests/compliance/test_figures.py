"""The exact total of a month's figures and its rounding rule (compliance/figures.py), against
an independent reference in fractions."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from compliance.figures import figures_json, parse_figures, total_kg
from tests.compliance.helpers import line


def total_of(*lines: dict[str, str]) -> int:
    return total_kg(parse_figures(figures_json(list(lines))))


def reference_kg(lines: list[dict[str, str]]) -> int:
    """Σ activity × factor in kilograms, as a fraction, rounded once, half up."""
    per_unit = {"tCO2": Fraction(1000), "kgCO2": Fraction(1)}
    exact = sum((Fraction(item["activity"]) * Fraction(item["factor"])
                 * per_unit[item["factorUnit"].split("/")[0]] for item in lines), Fraction(0))
    whole, rest = divmod(exact, 1)
    return int(whole) + (1 if rest >= Fraction(1, 2) else 0)


def test_half_a_kilogram_rounds_up_and_less_rounds_down() -> None:
    assert total_of(line("0.5")) == 1
    assert total_of(line("0.0005", "1", factor_unit="tCO2/t")) == 1  # 0.5 kg in tonnes
    assert total_of(line("0.499999999999")) == 0
    assert total_of(line("2.5")) == 3  # half up, not to even
    assert total_of(line("1.4999")) == 1


def test_rounding_happens_once_on_the_total() -> None:
    # three lines of 0.4 kg: 1.2 kg in all is 1 kg; rounded line by line it would be 0
    assert total_of(line("0.4"), line("0.4", source="b"), line("0.4", source="c")) == 1
    # two lines of 0.5 kg: 1 kg; rounded line by line it would be 2
    assert total_of(line("0.5"), line("0.5", source="b")) == 1


def test_a_kgco2_factor_is_a_thousandth_of_a_tco2_one() -> None:
    assert total_of(line("1000", "2.5", factor_unit="kgCO2/t")) == 2_500
    assert total_of(line("1000", "2.5", factor_unit="tCO2/t")) == 2_500_000
    assert total_of(line("3", "0.0001", unit="MWh", factor_unit="tCO2/MWh")) == 0  # 0.3 kg
    assert total_of(line("1234.5", "2.6604", factor_unit="tCO2/t")) == 3_284_264  # .2638 t


# Python's default decimal context keeps 28 digits: a total past them must still be summed
# and rounded exactly, once


def test_a_sum_of_more_than_28_digits_is_rounded_once() -> None:
    # 10^12 t and 0.4999999999995 kg: exactly 10^15 kg, well within a stated total's range
    lines = [line("1000000000000", "1", factor_unit="tCO2/t"),
             line("0.999999999999", "0.0005", factor_unit="tCO2/t", source="b")]
    assert reference_kg(lines) == 10**15
    assert total_of(*lines) == 10**15


def test_the_largest_figures_are_computed_not_crashed_on() -> None:
    big = "999999999999999999.999999999999"
    assert total_of(line(big, big, factor_unit="tCO2/t")) == reference_kg(
        [line(big, big, factor_unit="tCO2/t")])


def test_line_order_does_not_change_the_total() -> None:
    lines = [line("0.3333", "3", factor_unit="kgCO2/t"), line("1.1", "0.0007",
             factor_unit="tCO2/t", source="b"), line("0.1667", source="c")]
    assert total_of(*lines) == total_of(*reversed(lines)) == total_of(lines[1], lines[0],
                                                                       lines[2]) == 2
    # 0.9999 kg + 0.77 kg + 0.1667 kg = 1.9366 kg


def _decimal(digits: int) -> st.SearchStrategy[str]:
    """Decimal strings with `digits` digits after the point (none: an integer)."""
    return st.builds(lambda whole, part: f"{whole}.{part:0{digits}d}" if digits else str(whole),
                     st.integers(0, 10**6), st.integers(0, 10**digits - 1))


decimals = st.integers(0, 12).flatmap(_decimal)
lines_strategy = st.lists(st.builds(
    lambda activity, factor, unit: line(activity, factor, factor_unit=f"{unit}/t"),
    decimals, decimals, st.sampled_from(["tCO2", "kgCO2"])), min_size=1, max_size=20)


@given(lines_strategy, st.randoms())
def test_total_equals_a_fraction_reference_in_any_order(lines: list[dict[str, str]],
                                                       rng: object) -> None:
    shuffled = list(lines)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert total_of(*lines) == reference_kg(lines) == total_of(*shuffled)
