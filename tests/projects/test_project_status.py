"""A registered project is suspended, reinstated or deregistered for good by the registry,
with a reason; any other move is refused."""

from __future__ import annotations

import pytest

from ledger.errors import Reason
from projects.reasons import ProjectReason
from tests.projects.helpers import PROJECT, row, set_status, submit_project
from tests.world import World


def status(world: World, project: str = PROJECT) -> tuple[str, str]:
    found = row(world, "projects", project)
    return found["status"], found["reason"]


def test_suspend_and_reinstate_keep_the_reason(market: World) -> None:
    receipt = set_status(market, "suspend", reason="meter seals broken")
    assert status(market) == ("suspended", "meter seals broken")
    assert row(market, "projects", PROJECT)["updated_seq"] == receipt.seq
    market.refused(ProjectReason.project_status_transition, "registry", "project_status",
                   project=PROJECT, action="suspend", reason="again")
    set_status(market, "reinstate", reason="seals replaced and audited")
    assert status(market) == ("registered", "seals replaced and audited")
    market.refused(ProjectReason.project_status_transition, "registry", "project_status",
                   project=PROJECT, action="reinstate", reason="not suspended")


@pytest.mark.parametrize("suspended_first", [False, True])
def test_deregistration_is_for_good(market: World, suspended_first: bool) -> None:
    if suspended_first:
        set_status(market, "suspend")
    set_status(market, "deregister", reason="reductions double counted")
    assert status(market) == ("deregistered", "reductions double counted")
    for action in ("suspend", "reinstate", "deregister"):
        market.refused(ProjectReason.project_status_transition, "registry", "project_status",
                       project=PROJECT, action=action, reason="try again")
    market.refused(ProjectReason.project_not_validated, "registry", "project_register",
                   project=PROJECT)


def test_a_project_not_yet_registered_cannot_change_status(market: World) -> None:
    submit_project(market, "HAMI-WIND")
    for action in ("suspend", "reinstate", "deregister"):
        market.refused(ProjectReason.project_status_transition, "registry", "project_status",
                       project="HAMI-WIND", action=action, reason="not registered")
    assert status(market, "HAMI-WIND") == ("submitted", "")


def test_status_changes_are_refused_by_name(market: World) -> None:
    market.refused(Reason.malformed_instruction, "registry", "project_status",
                   project=PROJECT, action="suspend", reason="  ")
    market.refused(Reason.malformed_instruction, "registry", "project_status",
                   project=PROJECT, action="pause", reason="why")
    market.refused(Reason.role_not_permitted, "windfarm", "project_status",
                   project=PROJECT, action="deregister", reason="we give up")
    market.refused(ProjectReason.unknown_project, "registry", "project_status",
                   project="NOWHERE", action="suspend", reason="no such project")
    assert status(market) == ("registered", "")
