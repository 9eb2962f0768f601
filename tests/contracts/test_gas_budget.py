"""The per-anchor gas budget, measured by the benchmark itself (bench/contract_gas.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from anchoring.operator.contract import ANCHOR_GAS_LIMIT

BENCH = Path(__file__).resolve().parents[2] / "bench" / "contract_gas.py"
BUDGET_GAS = 80_000


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("contract_gas_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> Any:
    return _load_bench().Bench()


@pytest.mark.parametrize("sizes", [(1_000, 2_000), (1_000_000, 1_001_000)])
def test_an_anchor_with_its_proofs_stays_within_budget(bench: Any, sizes: tuple[int, int]) -> None:
    figures = bench.anchors(*sizes)
    extension = figures.extension
    print(f"{extension.label}: {extension.gas_used} gas")
    assert extension.gas_used <= BUDGET_GAS
    # The receipt shows execution, not Prague's calldata floor (EIP-7623), which would hide it.
    assert extension.floor_gas < extension.gas_used


def test_the_longest_possible_proofs_fit_the_fixed_gas_limit(bench: Any) -> None:
    # Sizes 2^63 - 1 -> 2^64 - 1: a 65-hash consistency proof and a 62-hash marker proof, the
    # most that uint64 sizes allow.
    figures = bench.anchors((1 << 63) - 1, (1 << 64) - 1)
    assert (figures.extension.consistency_length, figures.extension.marker_length) == (65, 62)
    assert figures.extension.gas_used < ANCHOR_GAS_LIMIT
