"""Methodologies: the registry publishes them and supersedes or withdraws them; a retired one
takes no new project, and what it means for projects already under it is recorded."""

from __future__ import annotations

from datetime import date

from ledger.errors import Reason
from projects.reasons import ProjectReason
from tests.projects.helpers import (
    METHODOLOGY,
    PROJECT,
    methodology_fields,
    project_fields,
    publish_methodology,
    retire_methodology,
    row,
    submit_project,
    today,
    validate,
)
from tests.world import World


def test_a_published_methodology_is_recorded_active(market: World) -> None:
    receipt = publish_methodology(market, "CM-002-V01", sector="waste", bufferBp=500,
                                  validUntil="2030-12-31")
    published = row(market, "methodologies", "CM-002-V01")
    assert published | {"title": "", "applicability": ""} == {
        "id": "CM-002-V01", "version": "V01", "sector": "waste", "title": "",
        "applicability": "", "valid_from": "2023-10-24", "valid_until": "2030-12-31",
        "buffer_bp": 500, "status": "active", "replaced_by": "", "existing_projects": "keep",
        "retired_on": "", "reason": "", "published_seq": receipt.seq,
        "updated_seq": receipt.seq}


def test_publishing_is_refused_by_name(market: World) -> None:
    market.refused(ProjectReason.methodology_exists, "registry", "methodology_publish",
                   **methodology_fields(METHODOLOGY, version="V02"))
    market.refused(Reason.malformed_instruction, "registry", "methodology_publish",
                   **methodology_fields("CM-009", bufferBp=10_001))
    market.refused(Reason.malformed_instruction, "registry", "methodology_publish",
                   **methodology_fields("CM-009", validFrom="2025-01-01",
                                        validUntil="2024-12-31"))
    market.refused(Reason.invalid_date, "registry", "methodology_publish",
                   **methodology_fields("CM-009", validFrom="2025-02-30"))
    market.refused(Reason.role_not_permitted, "windfarm", "methodology_publish",
                   **methodology_fields("CM-009"))
    publish_methodology(market, "CM-009", bufferBp=10_000)  # the whole, at most
    assert row(market, "methodologies", "CM-009")["buffer_bp"] == 10_000


def test_withdrawal_records_its_reason_and_what_it_means_for_projects(market: World) -> None:
    receipt = retire_methodology(market, existing_projects="end", reason="baseline inflated")
    withdrawn = row(market, "methodologies", METHODOLOGY)
    assert (withdrawn["status"], withdrawn["replaced_by"], withdrawn["existing_projects"],
            withdrawn["reason"], withdrawn["updated_seq"], withdrawn["retired_on"]) == (
        "withdrawn", "", "end", "baseline inflated", receipt.seq, today(market).isoformat())
    # the registered project stays registered: the monitoring rules read `existing_projects`
    assert row(market, "projects", PROJECT)["status"] == "registered"
    market.refused(ProjectReason.methodology_already_retired, "registry", "methodology_retire",
                   methodology=METHODOLOGY, action="withdraw", replacedBy="",
                   existingProjects="keep", reason="again")


def test_supersession_names_an_active_replacement(market: World) -> None:
    fields = dict(methodology=METHODOLOGY, action="supersede", existingProjects="keep",
                  reason="version 2 published")
    market.refused(Reason.malformed_instruction, "registry", "methodology_retire",
                   **fields, replacedBy="")
    market.refused(Reason.malformed_instruction, "registry", "methodology_retire",
                   **fields | {"action": "withdraw"}, replacedBy="CM-001-V02")
    market.refused(Reason.malformed_instruction, "registry", "methodology_retire",
                   **fields, replacedBy=METHODOLOGY)
    market.refused(ProjectReason.unknown_methodology, "registry", "methodology_retire",
                   **fields, replacedBy="CM-001-V02")
    publish_methodology(market, "CM-001-V02", version="V02")
    publish_methodology(market, "CM-OLD")
    retire_methodology(market, "CM-OLD")
    market.refused(ProjectReason.methodology_not_active, "registry", "methodology_retire",
                   **fields, replacedBy="CM-OLD")
    market.refused(ProjectReason.unknown_methodology, "registry", "methodology_retire",
                   **fields | {"methodology": "CM-NONE"}, replacedBy="CM-001-V02")
    market.refused(Reason.malformed_instruction, "registry", "methodology_retire",
                   **fields | {"reason": " "}, replacedBy="CM-001-V02")
    market.refused(Reason.role_not_permitted, "cec", "methodology_retire",
                   **fields, replacedBy="CM-001-V02")
    market.by("registry", "methodology_retire", **fields, replacedBy="CM-001-V02")
    superseded = row(market, "methodologies", METHODOLOGY)
    assert (superseded["status"], superseded["replaced_by"], superseded["existing_projects"]) \
        == ("superseded", "CM-001-V02", "keep")


def test_a_superseded_or_withdrawn_methodology_takes_no_new_project(market: World) -> None:
    publish_methodology(market, "CM-001-V02", version="V02")
    publish_methodology(market, "CM-003")
    submit_project(market, "SOLAR-1", methodology="CM-003")  # in its comment period
    retire_methodology(market, action="supersede", replaced_by="CM-001-V02")
    retire_methodology(market, "CM-003")
    for methodology in (METHODOLOGY, "CM-003"):
        market.refused(ProjectReason.methodology_not_active, "windfarm", "project_submit",
                       **project_fields("HAMI-WIND", methodology=methodology))
    # a project submitted before its methodology was withdrawn is validated, not registered
    market.clock.moment = market.clock.moment.replace(year=2024, month=6, day=3)
    validate(market, "SOLAR-1")
    market.refused(ProjectReason.methodology_not_active, "registry", "project_register",
                   project="SOLAR-1")
    assert row(market, "projects", "SOLAR-1")["status"] == "validated"
    submit_project(market, "HAMI-WIND", methodology="CM-001-V02")  # the replacement takes it


def test_a_project_is_submitted_only_while_its_methodology_is_valid(market: World) -> None:
    publish_methodology(market, "CM-LATER", validFrom="2024-05-01")
    publish_methodology(market, "CM-PAST", validFrom="2020-01-01", validUntil="2024-03-29")
    for methodology in ("CM-LATER", "CM-PAST"):
        market.refused(ProjectReason.methodology_not_valid, "windfarm", "project_submit",
                       **project_fields("HAMI-WIND", methodology=methodology))
    market.refused(ProjectReason.unknown_methodology, "windfarm", "project_submit",
                   **project_fields("HAMI-WIND", methodology="CM-NONE"))
    market.clock.moment = market.clock.moment.replace(month=5, day=1)
    submit_project(market, "HAMI-WIND", methodology="CM-LATER")  # its first valid day
    assert row(market, "projects", "HAMI-WIND")["submitted_seq"] > 0
    assert date.fromisoformat(row(market, "projects", "HAMI-WIND")["comments_until"]) \
        > date(2024, 5, 1)
