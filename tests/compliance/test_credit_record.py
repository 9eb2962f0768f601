"""An entity's credit record, derived from the journal: late and missing monthly data, data on
a lapsed calibration, flagged verifications, overdue and late compliance, and a verifier's
sanctions; each item naming the entry it derives from."""

from __future__ import annotations

from datetime import date

from compliance.queries import CreditEvent, CreditItem, credit_record
from tests.compliance.helpers import (
    figures_of_kg,
    monthly,
    move_clock_to,
    qualify,
    register_installation,
    reported_year,
    submit_year,
    verify,
)
from tests.compliance.test_status import surrender
from tests.world import World


def items(world: World, entity: str) -> list[CreditItem]:
    return list(credit_record(world.store, entity, world.clock()).items)


def events(world: World, entity: str) -> list[tuple[CreditEvent, str]]:
    return [(i.event, i.subject) for i in items(world, entity)]


def test_an_installation_that_sent_nothing_misses_every_month(market: World) -> None:
    submit_year(market, "huaneng", "HN-1", 2025, 50_000)
    move_clock_to(market, date(2026, 2, 15))  # December's data was due by 2026-01-30
    record = credit_record(market.store, "huaneng", market.clock())
    assert record.entity == "huaneng" and record.head == market.head()
    # HN-1's year is complete and on time; HN-2 sent nothing: one item for its year
    assert [(i.event, i.subject, i.year, i.seq) for i in record.items] == [
        (CreditEvent.missing_monthly_data, "HN-2 2025", 2025, None)]
    assert "2025-01..2025-12" in record.items[0].detail


def test_a_month_is_missing_once_its_data_is_overdue(market: World) -> None:
    move_clock_to(market, date(2025, 3, 2))  # January's data is due by 2025-03-02
    assert items(market, "baowu") == []
    move_clock_to(market, date(2025, 3, 3))
    found = items(market, "baowu")
    assert [(i.event, i.subject) for i in found] == [
        (CreditEvent.missing_monthly_data, "BW-1 2025")]
    assert "for 2025-01, past the due day" in found[0].detail
    market.by("baowu", "monthly_submit", **monthly("BW-1:2025-01", "BW-1", "2025-01", 1000))
    assert items(market, "baowu")[0].event is CreditEvent.late_monthly_data  # late, not missing


def test_months_before_the_installation_was_registered_are_not_missing(market: World) -> None:
    move_clock_to(market, date(2025, 6, 15))
    register_installation(market, "BW-2", "baowu", sector="steel", name="Baowu Zhanjiang")
    move_clock_to(market, date(2026, 3, 5))  # 2026-01 was due by 03-02, 2026-02 by 03-30
    details = {i.subject: i.detail for i in items(market, "baowu")}
    assert "2025-06..2025-12" in details["BW-2 2025"]  # June ended after the registration
    assert "2025-05" not in details["BW-2 2025"]
    assert "2025-01..2025-12" in details["BW-1 2025"]
    assert "2026-01" in details["BW-1 2026"] and "2026-02" not in details["BW-1 2026"]


def test_late_data_and_data_on_a_lapsed_calibration_name_their_entries(market: World) -> None:
    move_clock_to(market, date(2025, 2, 3))
    on_time = market.by("baowu", "monthly_submit", **monthly(
        "BW-1:2025-01", "BW-1", "2025-01", 1000, figures=figures_of_kg(1000, "FLOW-9")))
    move_clock_to(market, date(2025, 4, 1))  # February's data was due by 2025-03-30
    late = market.by("baowu", "monthly_submit", **monthly("BW-1:2025-02", "BW-1", "2025-02",
                                                          1000))
    found = items(market, "baowu")
    assert [(i.event, i.subject, i.seq) for i in found] == [
        (CreditEvent.lapsed_calibration, "BW-1 2025-01", on_time.seq),
        (CreditEvent.late_monthly_data, "BW-1 2025-02", late.seq)]
    assert "BW-1:2025-01" in found[0].detail


def test_flagged_verification_overdue_and_late_compliance(any_market: World) -> None:
    reported_year(any_market, "huaneng", ["HN-1", "HN-2"], 2025, 50_000)  # 1,200 t
    reported_year(any_market, "baowu", ["BW-1"], 2025, 50_000)  # 600 t
    qualify(any_market)
    qualify(any_market, sector="steel")
    flagged = verify(any_market, "huaneng", 2025, 2000)  # 67% above the monthly data
    verify(any_market, "baowu", 2025, 600)
    any_market.allocate("A25", "HN", 2000)
    any_market.allocate("B25", "BW", 600)
    assert (CreditEvent.flagged_verification, "CN-ETS 2025") in events(any_market, "huaneng")
    (item,) = [i for i in items(any_market, "huaneng")
               if i.event is CreditEvent.flagged_verification]
    assert item.seq == flagged.seq and "cec" in item.detail

    move_clock_to(any_market, date(2027, 1, 1))
    (overdue,) = [i for i in items(any_market, "baowu")
                  if i.event is CreditEvent.overdue_compliance]
    assert overdue.year == 2025 and "600 t" in overdue.detail
    met = surrender(any_market, "baowu", "BW", "B25", 600)
    baowu = items(any_market, "baowu")
    assert CreditEvent.overdue_compliance not in {i.event for i in baowu}
    (late,) = [i for i in baowu if i.event is CreditEvent.late_compliance]
    assert late.seq == met


def test_a_verifiers_suspensions_and_revocations(market: World) -> None:
    qualify(market)
    suspended = qualify(market, action="suspend", reason="falsified a report")
    qualify(market, action="grant", reason="reinstated after review")
    revoked = qualify(market, action="revoke", reason="falsified again")
    record = items(market, "cec")
    assert [(i.event, i.subject, i.detail, i.seq) for i in record] == [
        (CreditEvent.qualification_suspended, "power", "falsified a report", suspended.seq),
        (CreditEvent.qualification_revoked, "power", "falsified again", revoked.seq)]
    assert items(market, "nobody") == []


def test_three_clean_years_make_an_entity_eligible_for_streamlined_verification(
        market: World) -> None:
    qualify(market, "cec", "steel")
    for number, year in enumerate((2025, 2026, 2027), 1):
        reported_year(market, "baowu", ["BW-1"], year, 100_000, report_id=f"R{year}")
        market.by("cec", "verification_sign", verifier="cec", emitter="baowu", year=year,
                  report=f"R{year}", verifiedEmissions=1_200)
        record = credit_record(market.store, "baowu", market.clock())
        assert (record.clean_years, record.streamlined) == (number, number == 3)
    # every month on time and nothing flagged; only what was never surrendered is held against
    # it (the years whose deadline has passed)
    assert {item.event for item in record.items} == {CreditEvent.overdue_compliance}
