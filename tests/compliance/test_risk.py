"""The risk warning: emitters whose freely available units (tradable, eligible for the year by
the surrender's own rule, offsets only within the cap) fall short of what they still owe, with
the days to the deadline and what is pledged to which banks; and that rule itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from compliance.eligibility import UnitKind, eligible_kind, ineligibility
from compliance.queries import Pledgee, RiskWarning, compliance_risk
from compliance.reasons import ComplianceReason
from compliance.rules import ComplianceRules, OffsetRules
from ledger.errors import Rejected
from ledger.model import Batch, Issuance, Kind
from ledger.schemes.calendar import MarketCalendar
from tests.compliance.helpers import set_compliance_rules
from tests.compliance.test_status import surrender, verified_market
from tests.pledge.helpers import PLEDGE, by
from tests.world import World

TODAY = date(2026, 1, 3)  # the market day once a year of monthly data is in


def risks(world: World, year: int = 2025) -> list[RiskWarning]:
    return compliance_risk(world.store, year, world.clock())


def at_risk(world: World) -> World:
    """Huaneng owes 1,200 t for 2025 and holds: 1,000 t of 2025 allowances in HN (400 of them
    pledged to ICBC), 100 t of them in its trading account, 500 t of 2026 allowances (not
    eligible for 2025) and 1,000 t of CCER credits (the 5% cap lets 60 t count). Baowu owes
    600 t and holds nothing eligible for 2025."""
    verified_market(world)  # allocates A25 2,000 t to HN and B25 1,000 t to BW
    world.participant("icbc", "bank", "ICBC", "trading")
    world.by("registry", "open_account", account="HN-T", participant="huaneng",
             accountType="trading")
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="HN-T", batch="A25",
             quantity=100, serialFirst=0, serialLast=0)
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="ICBC", batch="A25",
             quantity=900, serialFirst=0, serialLast=0)  # sold: 1,000 t stay in HN
    world.by("baowu", "transfer", fromAccount="BW", toAccount="ICBC", batch="B25",
             quantity=1000, serialFirst=0, serialLast=0)
    world.allocate("A26", "HN", 500, vintage=2026)
    world.issue_credits("C24", "HN", 1000)
    by(world, ("huaneng", "icbc"), "pledge_register",
       **(PLEDGE | {"batch": "A25", "startDate": "2026-01-03"}))  # 400 t
    return world


def test_who_falls_short_by_how_much_and_what_is_pledged_where(any_market: World) -> None:
    at_risk(any_market)
    baowu, huaneng = risks(any_market)  # the largest shortfall first
    days = (date(2026, 12, 31) - TODAY).days
    assert baowu == RiskWarning("baowu", 2025, "CN-ETS", owed=600, free_allowances=0,
                                free_credits=0, available=0, shortfall_risk=600,
                                deadline="2026-12-31", days_to_deadline=days, pledged=0,
                                pledgees=())
    assert huaneng == RiskWarning("huaneng", 2025, "CN-ETS", owed=1200, free_allowances=700,
                                  free_credits=60, available=760, shortfall_risk=440,
                                  deadline="2026-12-31", days_to_deadline=days, pledged=400,
                                  pledgees=(Pledgee("icbc", 400),))


def test_offsets_count_only_as_far_as_the_cap_still_allows(market: World) -> None:
    at_risk(market)
    surrender(market, "huaneng", "HN", "C24", 60)  # the whole cap
    huaneng = next(w for w in risks(market) if w.emitter == "huaneng")
    assert (huaneng.owed, huaneng.free_allowances, huaneng.free_credits) == (1140, 700, 0)
    assert huaneng.shortfall_risk == 440


def test_an_emitter_that_can_cover_what_it_owes_is_not_listed(market: World) -> None:
    at_risk(market)
    surrender(market, "huaneng", "HN", "A25", 500)  # owes 700; 200 + 100 + 60 free
    assert [w.emitter for w in risks(market)] == ["baowu", "huaneng"]
    market.by("registry", "issue_batch", batch="A25X", scheme="CN-ETS", kind="allowance",
              vintage=2025, issuance="auction", quantity=500, account="HN")
    assert [w.emitter for w in risks(market)] == ["baowu"]
    surrender(market, "huaneng", "HN", "A25X", 500)  # owes 200; 100 + 100 + 60 free
    assert [w.emitter for w in risks(market)] == ["baowu"]
    market.by("huaneng", "transfer", fromAccount="HN-T", toAccount="HN", batch="A25",
              quantity=100, serialFirst=0, serialLast=0)
    surrender(market, "huaneng", "HN", "A25", 200)  # met
    assert [w.emitter for w in risks(market)] == ["baowu"]


def test_what_risk_counts_is_what_surrender_takes(market: World) -> None:
    """One rule: units risk leaves out are refused by surrender for the same reason, and
    units it counts surrender."""
    at_risk(market)
    refused = market.refused(ComplianceReason.vintage_not_eligible, "huaneng", "surrender",
                             account="HN", year=2025, batch="A26", quantity=1,
                             serialFirst=0, serialLast=0)
    assert "2026" in str(refused)
    set_compliance_rules(market, offsets={"project_types": ["hydro"]})
    huaneng = next(w for w in risks(market) if w.emitter == "huaneng")
    assert huaneng.free_credits == 0
    market.refused(ComplianceReason.offset_not_eligible, "huaneng", "surrender", account="HN",
                   year=2025, batch="C24", quantity=1, serialFirst=0, serialLast=0)
    surrender(market, "huaneng", "HN", "A25", 1)  # counted, and taken


# --- the rule, over plain values --------------------------------------------------------------

RULES = ComplianceRules("CN-ETS", MarketCalendar(480), offsets=OffsetRules(
    schemes=frozenset({"CCER"})))


def batch(vintage: int, *, scheme: str = "CN-ETS", kind: Kind = Kind.allowance,
          project: str = "") -> Batch:
    return Batch(f"{scheme}-{vintage}", scheme, kind, vintage, project, "", "",
                 Issuance.free_allocation, 1000, "X", 1)


def reason(rules: ComplianceRules, unit: Batch, year: int = 2025, *,
           project_type: str | None = None, today: date = TODAY) -> ComplianceReason | None:
    found = ineligibility(rules, unit, year, project_type=project_type, today=today)
    return None if found is None else found.reason


def test_allowances_of_the_scheme_up_to_the_year_and_as_far_back_as_banking_allows() -> None:
    assert reason(RULES, batch(2025)) is None
    assert reason(RULES, batch(2013)) is None  # banking_years 0: any earlier vintage
    assert reason(RULES, batch(2026)) is ComplianceReason.vintage_not_eligible
    two_years = replace(RULES, banking_years=2)
    assert reason(two_years, batch(2023)) is None
    assert reason(two_years, batch(2022)) is ComplianceReason.vintage_not_eligible
    assert reason(RULES, batch(2025, scheme="EU-ETS")) is ComplianceReason.not_eligible_for_scheme


def test_offsets_by_scheme_vintage_project_type_and_sunset() -> None:
    credit = batch(2020, scheme="CCER", kind=Kind.credit, project="P-7")
    assert eligible_kind(RULES, credit, 2025, project_type=None, today=TODAY) is UnitKind.credit
    assert reason(RULES, batch(2020, scheme="VCS", kind=Kind.credit)) is \
        ComplianceReason.not_eligible_for_scheme
    strict = replace(RULES, offsets=replace(RULES.offsets, min_vintage=2021,
                                            project_types=frozenset({"wind"}),
                                            sunset=date(2026, 1, 3)))
    assert reason(strict, credit, project_type="wind") is ComplianceReason.offset_not_eligible
    newer = replace(credit, vintage=2021)
    assert reason(strict, newer, project_type="wind") is None
    assert reason(strict, newer, project_type="hydro") is ComplianceReason.offset_not_eligible
    assert reason(strict, newer, project_type=None) is ComplianceReason.offset_not_eligible
    assert reason(strict, newer, project_type="wind", today=date(2026, 1, 4)) is \
        ComplianceReason.offset_not_eligible  # the day after the sunset
    with pytest.raises(Rejected) as refused:
        eligible_kind(strict, newer, 2025, project_type="hydro", today=TODAY)
    assert refused.value.reason is ComplianceReason.offset_not_eligible
