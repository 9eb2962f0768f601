"""The pledge and repo rules of each scheme: the shipped files, defaults, bad values, and rules
changed through the journal (set_scheme_rules) applying from their entry on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from ledger.errors import Reason, Rejected
from ledger.model import AccountType
from ledger.schemes import SchemeRules, load_rules_dir
from pledge.reasons import PledgeReason
from pledge.rules import AgreementRules, agreement_rules
from tests.pledge.helpers import REPO_PARTIES, open_repo, refused
from tests.world import World


def test_the_shipped_scheme_files() -> None:
    rules = {scheme: agreement_rules(r) for scheme, r in load_rules_dir().items()}
    assert set(rules) == {"CCER", "CN-ETS", "CN-GD", "CN-SH"}
    shanghai = rules["CN-SH"]
    assert (shanghai.repo_min_quantity, shanghai.repo_splittable) == (10_000, False)
    guangdong = rules["CN-GD"]
    assert guangdong.repo_within_compliance_year and guangdong.compliance_year_end == (6, 20)
    assert all(r.utc_offset_minutes == 480 for r in rules.values())
    assert all(AccountType.individual not in r.pledge_account_types for r in rules.values())


def test_absent_keys_take_the_documented_defaults() -> None:
    bare = SchemeRules.from_json({"scheme": "X", "kinds": ["credit"]})
    assert agreement_rules(bare) == AgreementRules(
        "X", utc_offset_minutes=0, compliance_year_end=(12, 31),
        pledge_account_types=frozenset({AccountType.compliance, AccountType.trading}),
        repo_account_types=frozenset({AccountType.compliance, AccountType.trading}),
        repo_min_quantity=1, repo_splittable=True, repo_within_compliance_year=False)


@pytest.mark.parametrize("extra", [
    {"repo": {"min_quantity": 0}},
    {"repo": {"min_quantity": "10000"}},
    {"repo": {"splittable": "no"}},
    {"repo": []},
    {"pledge": {"account_types": ["vault"]}},
    {"pledge": {"account_types": "trading"}},
    {"compliance_year_end": "02-29"},
    {"compliance_year_end": "June 20"},
    {"utc_offset_minutes": 24 * 60},
])
def test_a_bad_value_is_refused_not_guessed(extra: dict[str, object]) -> None:
    """The calendar is the core's and refuses a rules document as it is read; the pledge and
    repo sections are the pledge module's."""
    with pytest.raises(Rejected) as refusal:
        agreement_rules(SchemeRules.from_json({"scheme": "X", "kinds": ["credit"], **extra}))
    assert refusal.value.reason == Reason.invalid_rules


def test_market_day_and_compliance_year() -> None:
    beijing = AgreementRules("X", utc_offset_minutes=480, compliance_year_end=(6, 20))
    assert beijing.market_day(datetime(2026, 6, 20, 15, 59, tzinfo=UTC)) == date(2026, 6, 20)
    assert beijing.market_day(datetime(2026, 6, 20, 16, 0, tzinfo=UTC)) == date(2026, 6, 21)
    assert beijing.compliance_year_end_after(date(2026, 6, 20)) == date(2026, 6, 20)
    assert beijing.compliance_year_end_after(date(2026, 6, 21)) == date(2027, 6, 20)
    assert beijing.compliance_year_end_after(date(2026, 1, 1)) == date(2026, 6, 20)


def set_repo_rules(world: World, scheme: str, **repo: object) -> None:
    document = load_rules_dir()[scheme].as_json()
    document["repo"] = {**document["repo"], **repo}
    world.by("registry", "set_scheme_rules", scheme=scheme, rules=json.dumps(document))


def test_rules_recorded_in_the_journal_apply_from_their_entry_on(market: World) -> None:
    open_repo(market, quantity=100)
    set_repo_rules(market, "CN-ETS", min_quantity=200, splittable=False)
    refused(market, PledgeReason.repo_below_minimum, REPO_PARTIES, "repo_open", repo="R2",
            sellerAccount="HN", buyerAccount="ICBC", batch="A1", quantity=199,
            purchasePrice=1, repurchasePrice=1, currency="CNY", repurchaseDate="2026-09-30",
            freeUse=False)
    # the repo opened before keeps its size; the rules in force now forbid splitting it
    refused(market, PledgeReason.repo_not_splittable, REPO_PARTIES, "repo_close", repo="R1",
            quantity=50)


@pytest.mark.parametrize(("section", "bad"), [
    ("repo", {"min_quantity": "a lot"}),
    ("pledge", {"account_types": ["vault"]}),
    ("calendar", {"utc_offset_minutes": 24 * 60}),
    ("calendar", {"compliance_year_end": "02-29"}),
])
def test_bad_rules_are_refused_when_they_are_set(market: World, section: str,
                                                 bad: dict[str, object]) -> None:
    """Not at the first pledge or repo that needs them: the registry learns at once."""
    document = load_rules_dir()["CN-ETS"].as_json()
    if section == "calendar":
        document.update(bad)
    else:
        document[section] = {**document[section], **bad}
    rejected = market.refused(Reason.invalid_rules, "registry", "set_scheme_rules",
                              scheme="CN-ETS", rules=json.dumps(document))
    assert "CN-ETS" in rejected.detail or section == "calendar"
    open_repo(market, quantity=400)  # the rules in force are unchanged
