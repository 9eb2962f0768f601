"""Registering a project: submission, a public comment period counted in working days,
validation by a qualified and independent body, registration by the registry; and a replay of
the journal rebuilds every row."""

from __future__ import annotations

from datetime import date

from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from ledger.instructions import SignedInstruction
from ledger.replay import replay_check
from ledger.schemes import load_rules_dir
from projects.reasons import ProjectReason
from projects.rules import CCER_SCHEME, project_rules
from tests.projects.helpers import (
    COMMENT_HASH,
    PDD_HASH,
    VALIDATION_HASH,
    advance_days,
    comment,
    move_clock_to,
    past_comment_period,
    project_fields,
    publish_methodology,
    qualify,
    register,
    row,
    rows,
    submit_project,
    today,
    validate,
)
from tests.world import OPERATIONS, World

HAMI = "HAMI-WIND"


def test_a_submission_opens_a_comment_period_of_20_working_days(market: World) -> None:
    move_clock_to(market, date(2024, 4, 5))  # a Friday
    receipt = submit_project(market, HAMI, expectedReductions=800_000)
    submitted = row(market, "projects", HAMI)
    assert submitted == {
        "id": HAMI, "owner": "windfarm", "methodology": "CM-001-V01",
        "title": "Gansu Jiuquan wind farm, phase II", "location": "Jiuquan, Gansu",
        "start_date": "2023-12-01", "crediting_start": "2024-01-01",
        "crediting_end": "2033-12-31", "expected_t": 800_000, "pdd_hash": PDD_HASH,
        "comments_until": "2024-05-03",  # four weeks on: 20 working days, no weekend counted
        "status": "submitted", "validator": "", "validation_hash": "", "periods": "[]",
        "reason": "", "submitted_seq": receipt.seq, "updated_seq": receipt.seq}


def test_the_comment_period_skips_weekends() -> None:
    rules = project_rules(load_rules_dir()[CCER_SCHEME])
    assert rules is not None and rules.comment_working_days == 20
    assert rules.comments_until(date(2024, 4, 8)) == date(2024, 5, 6)  # Monday to Monday
    assert rules.comments_until(date(2024, 4, 6)) == date(2024, 5, 3)  # a Saturday: Friday


def test_submission_is_refused_by_name(market: World) -> None:
    market.participant("solarco", "project_owner", "SC", "trading")
    fields = project_fields(HAMI)
    market.refused(ProjectReason.project_exists, "windfarm", "project_submit",
                   **fields | {"project": "GANSU-WIND"})
    market.refused(ProjectReason.owner_not_project_owner, "cec", "project_submit",
                   **fields | {"owner": "cec"})
    market.refused(Reason.missing_signature, "solarco", "project_submit", **fields)
    market.refused(Reason.unknown_participant, "windfarm", "project_submit",
                   **fields | {"owner": "nobody"})
    market.refused(ProjectReason.crediting_period_invalid, "windfarm", "project_submit",
                   **fields | {"creditingStart": "2023-11-30"})  # before the project starts
    market.refused(ProjectReason.crediting_period_invalid, "windfarm", "project_submit",
                   **fields | {"creditingEnd": "2024-01-01"})  # ends as it starts
    market.refused(Reason.malformed_instruction, "windfarm", "project_submit",
                   **fields | {"pddHash": "0x1234"})
    market.refused(Reason.invalid_date, "windfarm", "project_submit",
                   **fields | {"creditingEnd": "2033-02-29"})
    submit_project(market, HAMI, creditingStart="2023-12-01", creditingEnd="2023-12-02")
    assert row(market, "projects", HAMI)["status"] == "submitted"


def test_comments_are_recorded_until_the_period_ends_then_refused(market: World) -> None:
    move_clock_to(market, date(2024, 4, 5))
    submit_project(market, HAMI)
    first = comment(market, HAMI, author="sgs")
    move_clock_to(market, date(2024, 5, 3))  # the last day
    last = comment(market, HAMI, author="windfarm", summary="the grid factor is current")
    assert rows(market, "project_comments") == [
        {"project": HAMI, "seq": first.seq, "author": "sgs", "comment_hash": COMMENT_HASH,
         "summary": "the grid emission factor is out of date"},
        {"project": HAMI, "seq": last.seq, "author": "windfarm", "comment_hash": COMMENT_HASH,
         "summary": "the grid factor is current"}]
    market.refused(ProjectReason.comment_period_open, "cec", "project_validate",
                   project=HAMI, validator="cec", validationHash=VALIDATION_HASH)
    advance_days(market, 1)
    market.refused(ProjectReason.comment_period_over, "sgs", "project_comment",
                   project=HAMI, commentHash=COMMENT_HASH, summary="too late")
    market.refused(ProjectReason.unknown_project, "sgs", "project_comment",
                   project="NOWHERE", commentHash=COMMENT_HASH, summary="which?")
    market.refused(Reason.malformed_instruction, "sgs", "project_comment",
                   project=HAMI, commentHash=COMMENT_HASH, summary=" ")
    assert len(rows(market, "project_comments")) == 2


def _submitted_past_comments(market: World) -> None:
    move_clock_to(market, date(2024, 4, 5))
    submit_project(market, HAMI)
    past_comment_period(market, HAMI)


def test_a_validator_must_be_qualified_in_the_methodology_sector(market: World) -> None:
    _submitted_past_comments(market)
    market.participant("bv", "verifier")
    rejected = market.refused(ComplianceReason.verifier_not_qualified, "bv", "project_validate",
                              project=HAMI, validator="bv", validationHash=VALIDATION_HASH)
    assert rejected.detail == "bv in energy: never granted"
    qualify(market, "bv", sector="forestry")  # qualified, but in another sector
    market.refused(ComplianceReason.verifier_not_qualified, "bv", "project_validate",
                   project=HAMI, validator="bv", validationHash=VALIDATION_HASH)
    qualify(market, "cec", action="suspend", reason="falsified a report")
    rejected = market.refused(ComplianceReason.verifier_not_qualified, "cec",
                              "project_validate", project=HAMI, validator="cec",
                              validationHash=VALIDATION_HASH)
    assert rejected.detail == "cec in energy: suspended"
    qualify(market, "cec", action="revoke", reason="falsified a report")
    market.refused(ComplianceReason.verifier_not_qualified, "cec", "project_validate",
                   project=HAMI, validator="cec", validationHash=VALIDATION_HASH)
    assert row(market, "projects", HAMI)["status"] == "submitted"
    validate(market, HAMI, "sgs")
    assert row(market, "projects", HAMI)["validator"] == "sgs"


def test_a_conflicted_validator_is_refused(market: World) -> None:
    _submitted_past_comments(market)
    market.by("sgs", "verifier_declare_conflict", verifier="sgs", entity="windfarm",
              relation="consultant")
    market.refused(ComplianceReason.verifier_conflicted, "sgs", "project_validate",
                   project=HAMI, validator="sgs", validationHash=VALIDATION_HASH)
    validate(market, HAMI, "cec")


def test_the_validator_signs_and_is_a_verifier(market: World) -> None:
    _submitted_past_comments(market)
    market.refused(Reason.missing_signature, "sgs", "project_validate",
                   project=HAMI, validator="cec", validationHash=VALIDATION_HASH)
    market.refused(ComplianceReason.not_a_verifier, "windfarm", "project_validate",
                   project=HAMI, validator="windfarm", validationHash=VALIDATION_HASH)
    market.refused(ProjectReason.unknown_project, "cec", "project_validate",
                   project="NOWHERE", validator="cec", validationHash=VALIDATION_HASH)
    receipt = validate(market, HAMI)
    validated = row(market, "projects", HAMI)
    assert (validated["status"], validated["validator"], validated["validation_hash"],
            validated["updated_seq"]) == ("validated", "cec", VALIDATION_HASH, receipt.seq)
    market.refused(ProjectReason.project_not_submitted, "sgs", "project_validate",
                   project=HAMI, validator="sgs", validationHash=VALIDATION_HASH)


def test_registration_only_after_validation(market: World) -> None:
    move_clock_to(market, date(2024, 4, 5))
    submit_project(market, HAMI)
    market.refused(ProjectReason.project_not_validated, "registry", "project_register",
                   project=HAMI)
    past_comment_period(market, HAMI)
    market.refused(ProjectReason.project_not_validated, "registry", "project_register",
                   project=HAMI)
    validate(market, HAMI)
    market.refused(Reason.role_not_permitted, "windfarm", "project_register", project=HAMI)
    market.refused(ProjectReason.unknown_project, "registry", "project_register",
                   project="NOWHERE")
    receipt = register(market, HAMI)
    registered = row(market, "projects", HAMI)
    assert (registered["status"], registered["updated_seq"]) == ("registered", receipt.seq)
    market.refused(ProjectReason.project_not_validated, "registry", "project_register",
                   project=HAMI)


def test_replay_rebuilds_the_project_cycle_after_a_mixed_batch(any_market: World) -> None:
    world = any_market
    publish_methodology(world, "CM-002", sector="energy", bufferBp=300)
    move_clock_to(world, date(2024, 4, 5))

    def signed(who: str, op: str, **fields: object) -> SignedInstruction:
        return world.wallets[who].sign(world.instruction(op, **fields))

    results = world.ledger.submit_many([
        signed("windfarm", "project_submit", **project_fields(HAMI, methodology="CM-002")),
        signed("sgs", "project_comment", project=HAMI, commentHash=COMMENT_HASH,
               summary="wake losses understated"),
        signed("windfarm", "project_submit", **project_fields("DUP")),
        signed("windfarm", "project_submit", **project_fields("DUP")),  # refused: exists
        signed("registry", "project_status", project="GANSU-WIND", action="suspend",
               reason="meter seals broken"),
        signed("registry", "methodology_retire", methodology="CM-001-V01",
               action="supersede", replacedBy="CM-002", existingProjects="end",
               reason="version 2"),
    ])
    refused = [getattr(r, "reason", None) for r in results]
    assert refused == [None, None, None, ProjectReason.project_exists, None, None]
    past_comment_period(world, HAMI)
    validate(world, HAMI, "sgs")
    register(world, HAMI)
    world.by("registry", "project_status", project="GANSU-WIND", action="deregister",
             reason="meter seals broken twice")
    assert today(world) == date(2024, 5, 4)
    report = replay_check(world.store, OPERATIONS)
    assert report.ok, report.first_difference
    assert [r["status"] for r in rows(world, "projects")] == [
        "submitted", "deregistered", "registered"]  # DUP, GANSU-WIND, HAMI-WIND
