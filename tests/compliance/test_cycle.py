"""A compliance year end to end, as the registry, two emitters and two verifiers live it:
twelve monthly submissions per installation, the annual reports, a verifier sanctioned between
two verifications, surrenders up to and past the offset cap, the status moving from due to
compliant for one emitter and to overdue for the other, and the whole journal replaying to
the same tables."""

from __future__ import annotations

from datetime import date

from compliance.queries import ComplianceState, compliance_status, credit_record
from compliance.reasons import ComplianceReason
from ledger.clock import FixedClock
from ledger.replay import replay_check
from ledger.store.database import Store
from tests.compliance.helpers import (
    compliance_world,
    move_clock_to,
    qualify,
    reported_year,
    row,
    verify,
)
from tests.world import OPERATIONS, World


def states(world: World) -> dict[str, tuple[ComplianceState, int | None]]:
    return {s.emitter: (s.state, s.shortfall)
            for s in compliance_status(world.store, 2025, world.clock())}


def test_a_compliance_year_from_monthly_data_to_an_overdue_emitter(any_store: Store,
                                                                   clock: FixedClock) -> None:
    world = compliance_world(any_store, clock)
    world.participant("sgs", "verifier")
    world.allocate("A25", "HN", 14_000)
    world.allocate("B25", "BW", 3_000)
    world.issue_credits("C24", "BW", 1_000)

    huaneng = reported_year(world, "huaneng", ["HN-1", "HN-2"], 2025, 500_000)  # 12,000 t
    baowu = reported_year(world, "baowu", ["BW-1"], 2025, 400_000, report_id="R2")  # 4,800 t
    assert len(huaneng) == 24 and len(baowu) == 12
    assert states(world) == {"huaneng": (ComplianceState.unverified, None),
                             "baowu": (ComplianceState.unverified, None)}

    # CEC is qualified for power and steel; it verifies Huaneng, then is suspended in steel
    qualify(world, "cec", "power")
    qualify(world, "cec", "steel")
    verify(world, "huaneng", 2025, 12_000)
    qualify(world, "cec", "steel", action="suspend", reason="inspection found errors")
    refused = world.refused(ComplianceReason.verifier_not_qualified, "cec",
                            "verification_sign", verifier="cec", emitter="baowu", year=2025,
                            report="R2", verifiedEmissions=4_800)
    assert "steel" in refused.detail and "suspended" in refused.detail
    qualify(world, "sgs", "steel")
    verify(world, "baowu", 2025, 4_800, verifier="sgs", report_id="R2")
    assert states(world) == {"huaneng": (ComplianceState.due, 12_000),
                             "baowu": (ComplianceState.due, 4_800)}

    # Baowu: CCER up to the 5% cap (240 t), and one tonne past it refused
    surrender = dict(serialFirst=0, serialLast=0, year=2025)
    world.by("baowu", "surrender", account="BW", batch="C24", quantity=200, **surrender)
    past = world.refused(ComplianceReason.offset_cap_exceeded, "baowu", "surrender",
                         account="BW", batch="C24", quantity=41, **surrender)
    assert "at most 40 t more may be offset" in past.detail
    world.by("baowu", "surrender", account="BW", batch="C24", quantity=40, **surrender)
    world.by("baowu", "surrender", account="BW", batch="B25", quantity=3_000, **surrender)

    # Huaneng meets its obligation in two surrenders; nothing more can be surrendered
    world.by("huaneng", "surrender", account="HN", batch="A25", quantity=10_000, **surrender)
    world.by("huaneng", "surrender", account="HN", batch="A25", quantity=2_000, **surrender)
    world.refused(ComplianceReason.obligation_met, "huaneng", "surrender", account="HN",
                  batch="A25", quantity=1, **surrender)
    assert states(world) == {"huaneng": (ComplianceState.compliant, 0),
                             "baowu": (ComplianceState.due, 1_560)}
    assert row(world, "obligations", "baowu", 2025)["credits"] == 240

    # past the deadline (2026-12-31 in Beijing) Baowu is overdue, and its record says so
    move_clock_to(world, date(2027, 1, 1))
    assert states(world)["baowu"] == (ComplianceState.overdue, 1_560)
    assert states(world)["huaneng"] == (ComplianceState.compliant, 0)
    events = [item.event.value for item in credit_record(world.store, "baowu",
                                                         world.clock()).items]
    assert "overdue_compliance" in events
    world.assert_invariants()
    assert not OPERATIONS.check_invariants(world.store)
    assert replay_check(world.store, OPERATIONS).ok
