"""The served demo's CCER project (examples/served_demo.py plays it while the registry sets
up): CCER are issued only through the project cycle, so the wind farm's credits come from
a registered project's verified monitoring period.

The registry admits two verification bodies and qualifies them in the energy sector and
publishes a methodology; the wind farm submits its project design document; Li Wei comments
during the public comment period; once it is over (the demo ledger's clock moved four weeks
on) CEC validates the project and the registry registers it; the wind farm reports its 2024
monitoring period, SGS (not the validator) verifies it, and the registry issues the CCER for
exactly the verified reductions — and is refused one tonne more.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from examples.processes import Cli
from examples.telling import Story

if TYPE_CHECKING:
    from examples.served_demo import _Desk

REGISTRY = "MEE"
METHODOLOGY = "CM-001-V01"
PROJECT = "GANSU-WIND"
PERIOD = "P2024"
VERIFIED_T = 50_000
SECTOR = "energy"
# verification bodies: CEC validates the project, SGS verifies its reductions (the scheme
# bars the validator from verifying the same project)
BODIES = (("cec", "China Environmental Certification Center (verifier)"),
          ("sgs", "SGS-CSTC Standards Technical Services (verifier)"))


def play_project(story: Story, cli: Cli, desk: _Desk, folder: Path) -> None:
    """From a methodology to the wind farm's 50,000 t of CCER (batch GW01, in GW-T)."""
    folder.mkdir(exist_ok=True)
    story.heading("A CCER project, from its methodology to its credits")
    for body, name in BODIES:
        desk.new_key(body)
        desk.submit((REGISTRY,), "register_participant", participant=body, name=name,
                    role="verifier")
        desk.submit((REGISTRY,), "register_key", participant=body,
                    key=desk.wallets[body].address)
        desk.submit((REGISTRY,), "verifier_qualify", verifier=body, sector=SECTOR,
                    action="grant", reason="accredited for energy projects")
    story.step("The registry", "admits two verification bodies, CEC and SGS, qualifies them "
               "in the energy sector, and publishes a methodology:")
    story.run(cli, "methodology", "publish", METHODOLOGY, "--version", "1.0", "--sector",
              SECTOR, "--title", "Grid-connected electricity generation from renewable "
              "sources", "--applicability", "wind and solar plants feeding a regional grid",
              "--valid-from", "2024-01-01", "--as", REGISTRY, remote=True)
    pdd = folder / "GANSU-WIND-pdd.txt"
    pdd.write_text("Project design document: Gansu Guazhou 200 MW wind farm\n")
    story.step("The wind farm", "submits its project design document (stored as it is, for "
               "anyone to read, and its SHA-256 journaled); the public comment period opens:")
    story.run(cli, "project", "submit", PROJECT, "--owner", "windfarm", "--methodology",
              METHODOLOGY, "--title", "Gansu Guazhou 200 MW wind farm", "--location",
              "Guazhou, Gansu", "--start", "2023-06-01", "--crediting",
              "2024-01-01..2033-12-31", "--expected", "3200000", "--pdd", str(pdd),
              "--as", "windfarm", remote=True)
    comment = folder / "comment-li.txt"
    comment.write_text("Please publish the grid emission factor used for 2024.\n")
    story.step("Li Wei", "comments on the project during the comment period:")
    story.run(cli, "project", "comment", PROJECT, "--file", str(comment), "--summary",
              "asks for the grid emission factor used", "--as", "li", remote=True)
    report = folder / "GANSU-WIND-validation.txt"
    report.write_text("Validation report: GANSU-WIND conforms to CM-001-V01\n")
    refused = desk.refused(("cec",), "project_validate", project=PROJECT, validator="cec",
                           validationHash=_hash(report))
    story.step("CEC", "tries to validate the project before the comment period is over.")
    story.answer(f"REFUSED, {refused.reason.name}: {refused.detail}")
    story.step("The operator", "moves the demo ledger's clock four weeks on, past the 20 "
               "working days of comments:")
    story.run(cli, "clock", "advance", "29d")
    desk.client.refresh_clock()
    story.run(cli, "project", "validate", PROJECT, "--validator", "cec", "--report",
              str(report), "--as", "cec", remote=True)
    story.run(cli, "project", "register", PROJECT, "--as", REGISTRY, remote=True)
    story.step("The wind farm and SGS", "report the 2024 monitoring period (52,000 t claimed) "
               f"and verify {VERIFIED_T:,} t of it:")
    monitoring = folder / "GANSU-WIND-2024-monitoring.txt"
    monitoring.write_text("Monitoring report 2024: 52,000 t CO2e avoided\n")
    story.run(cli, "monitoring", "submit", PROJECT, PERIOD, "--period",
              "2024-01-01..2024-12-31", "--claimed", "52000", "--report", str(monitoring),
              "--as", "windfarm", remote=True)
    story.run(cli, "monitoring", "verify", PROJECT, PERIOD, "--verifier", "sgs",
              "--verified", str(VERIFIED_T), "--as", "sgs", remote=True)
    refused = desk.refused((REGISTRY,), "ccer_issue", batch="GW01", project=PROJECT,
                           period=PERIOD, quantity=VERIFIED_T + 1, account="GW-T")
    story.step("The registry", f"tries to issue {VERIFIED_T + 1:,} t for the period.")
    story.answer(f"REFUSED, {refused.reason.name}: {refused.detail}")
    story.step("The registry", "issues the CCER for exactly the verified reductions:")
    story.run(cli, "ccer", "issue", "GW01", "--project", PROJECT, "--period", PERIOD,
              "--quantity", str(VERIFIED_T), "--account", "GW-T", "--as", REGISTRY,
              remote=True)
    story.answer("serials CCER-2024-GW01-1..50000, each traceable to the period, its "
                 "verification, the project and its methodology")


def _hash(path: Path) -> str:
    return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
