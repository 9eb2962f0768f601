"""The allocation market the module's tests share is what tests/allocation/helpers.py says."""

from __future__ import annotations

from ledger.errors import Reason
from tests.world import World


def test_cn_ets_allowances_come_only_from_the_plan(market: World) -> None:
    market.refused(Reason.issued_by_another_operation, "registry", "issue_batch",
                   batch="B-2026", scheme="CN-ETS", kind="allowance", vintage=2026,
                   issuance="free_allocation", quantity=1_000, account="HN")
