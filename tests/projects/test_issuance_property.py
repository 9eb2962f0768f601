"""For random sequences of monitoring reports, verifications, issuances (of various quantities,
for various periods, repeated) and suspensions, submitted in batches of several instructions
to a transaction: each instruction is accepted or refused exactly as a plain model of the
rules says; no period is ever issued more than its verified reductions nor credited twice;
and each project's CCER supply equals the sum of its issued periods' quantities, as read from
the journal entries alone. The ledger's and the modules' invariants hold after each example.

Two registered projects are built once and copied for each example (a SQLite file):
GANSU-WIND (no buffer share, validated by CEC) and GANSU-SOLAR (15% buffer into REG-BUFFER).
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.clock import FixedClock
from ledger.errors import Reason, ReasonCode, Rejected
from ledger.store.database import Store, sqlite_url
from projects.ops.ccer_issue import buffer_share
from projects.reasons import ProjectReason
from tests.projects.helpers import (
    OWNER,
    OWNER_ACCOUNT,
    PROJECT,
    REPORT_HASH,
    move_clock_to,
    project_world,
    publish_methodology,
    register_project,
    rows,
    set_project_rules,
)
from tests.world import World, WorldTemplate

SOLAR = "GANSU-SOLAR"
BUFFER_BP = {PROJECT: 0, SOLAR: 1_500}
VALIDATOR = "cec"  # validated both; the rules bar it from verifying them
# period id -> its days: some overlap, one starts before crediting starts (2024-01-01)
PERIODS = {
    "P0": ("2024-01-01", "2024-03-31"),
    "P1": ("2024-04-01", "2024-06-30"),
    "P2": ("2024-03-15", "2024-04-15"),  # overlaps P0 and P1
    "P3": ("2024-07-01", "2024-12-31"),
    "P4": ("2023-12-01", "2024-01-15"),  # outside crediting
    "P5": ("2024-10-01", "2024-10-31"),  # overlaps P3
}
BATCHES = ("B0", "B1", "B2", "B3", "B4", "B5")


@pytest.fixture(scope="module")
def template(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> WorldTemplate:
    path = tmp_path_factory.mktemp("issuance") / "template.db"
    shutil.copy(migrated_template, path)
    store = Store(sqlite_url(path))
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))  # project_world sets it
    world = project_world(store, clock)
    publish_methodology(world, "CM-002-V01", bufferBp=BUFFER_BP[SOLAR])
    register_project(world, SOLAR, methodology="CM-002-V01")
    world.by("registry", "open_account", account="REG-BUFFER", participant="registry",
             accountType="reserve")
    set_project_rules(world, buffer_account="REG-BUFFER")
    move_clock_to(world, date(2025, 1, 10))  # every period of 2024 has ended
    store.dispose()
    return WorldTemplate.of(world, path)


# --- the steps and the model -------------------------------------------------------------------

projects_ = st.sampled_from([PROJECT, SOLAR])
# the periods that can be reported drawn most often, so that many get verified and issued
periods_ = st.sampled_from(["P0", "P1", "P3"] * 3 + ["P2", "P4", "P5"])
submit = st.tuples(st.just("submit"), projects_, periods_, st.integers(0, 1_200))
verify = st.tuples(st.just("verify"), projects_, periods_, st.integers(0, 1_200),
                   st.sampled_from(["sgs"] * 4 + [VALIDATOR]))
issue = st.tuples(st.just("issue"), projects_, periods_, st.integers(1, 1_300),
                  st.sampled_from(BATCHES))
status = st.tuples(st.just("status"), projects_, st.sampled_from(["suspend", "reinstate"]))
# a period's whole cycle in a row (report, verify by SGS, issue), each step still checked
cycle = st.tuples(st.just("cycle"), projects_, periods_, st.integers(0, 1_200),
                  st.integers(1, 1_300), st.sampled_from(BATCHES))
step = st.one_of(submit, verify, issue, cycle, cycle, status)
# instructions in groups, each group one submit_many (one transaction)
batches_of_steps = st.lists(st.lists(step, min_size=1, max_size=8), min_size=1, max_size=10)


@dataclass
class Period:
    status: str = "reported"
    verified_t: int = 0
    issued_t: int = 0


@dataclass
class Model:
    """The rules, slowly and plainly: what each step should do."""

    status: dict[str, str] = field(default_factory=lambda: {PROJECT: "registered",
                                                            SOLAR: "registered"})
    periods: dict[tuple[str, str], Period] = field(default_factory=dict)
    batches: set[str] = field(default_factory=set)

    def submit(self, project: str, period: str) -> ReasonCode | None:
        start, end = PERIODS[period]
        if self.status[project] != "registered":
            return ProjectReason.project_not_registered
        if (project, period) in self.periods:
            return ProjectReason.period_exists
        if start < "2024-01-01":
            return ProjectReason.period_outside_crediting
        for (p, other) in self.periods:
            s, e = PERIODS[other]
            if p == project and s <= end and start <= e:
                return ProjectReason.period_overlaps
        self.periods[(project, period)] = Period()
        return None

    def verify(self, project: str, period: str, verified: int, verifier: str
               ) -> ReasonCode | None:
        found = self.periods.get((project, period))
        if found is None:
            return ProjectReason.unknown_period
        if found.status != "reported":
            return ProjectReason.period_already_verified
        if verifier == VALIDATOR:
            return ProjectReason.verifier_validated_project
        found.status, found.verified_t = "verified", verified
        return None

    def issue(self, project: str, period: str, quantity: int, batch: str
              ) -> ReasonCode | None:
        found = self.periods.get((project, period))
        if self.status[project] != "registered":
            return ProjectReason.project_not_registered
        if found is None:
            return ProjectReason.unknown_period
        if found.status == "reported":
            return ProjectReason.period_not_verified
        if found.status == "issued":
            return ProjectReason.period_already_issued
        if quantity > found.verified_t:
            return ProjectReason.exceeds_verified
        if batch in self.batches:
            return Reason.batch_exists
        found.status, found.issued_t = "issued", quantity
        self.batches.add(batch)
        return None

    def move(self, project: str, action: str) -> ReasonCode | None:
        before, after = ("registered", "suspended") if action == "suspend" else (
            "suspended", "registered")
        if self.status[project] != before:
            return ProjectReason.project_status_transition
        self.status[project] = after
        return None


def expanded(step: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    if step[0] != "cycle":
        return [step]
    _, project, period, verified, quantity, batch = step
    return [("submit", project, period, verified), ("verify", project, period, verified, "sgs"),
            ("issue", project, period, quantity, batch)]


def instruction(world: World, model: Model, step: tuple[Any, ...]
                ) -> tuple[Any, ReasonCode | None]:
    """The signed instruction of a step, and what the model expects of it."""
    kind, project, *rest = step
    if kind == "submit":
        period, claimed = rest
        start, end = PERIODS[period]
        return (world.wallets[OWNER].sign(world.instruction(
            "monitoring_submit", project=project, period=period, startDate=start,
            endDate=end, reportHash=REPORT_HASH, claimedReductions=claimed)),
            model.submit(project, period))
    if kind == "verify":
        period, verified, verifier = rest
        return (world.wallets[verifier].sign(world.instruction(
            "monitoring_verify", project=project, period=period, verifier=verifier,
            verifiedReductions=verified)), model.verify(project, period, verified, verifier))
    if kind == "issue":
        period, quantity, batch = rest
        return (world.registry.sign(world.instruction(
            "ccer_issue", batch=batch, project=project, period=period, quantity=quantity,
            account=OWNER_ACCOUNT)), model.issue(project, period, quantity, batch))
    (action,) = rest
    return (world.registry.sign(world.instruction(
        "project_status", project=project, action=action, reason="a reason")),
        model.move(project, action))


# --- what the journal alone says ---------------------------------------------------------------


def journal_facts(world: World) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int],
                                         dict[str, int], dict[str, int]]:
    """From the journal entries alone: each period's verified figure, each period's issued
    quantity (a period issued twice fails here), and per project the units its ccer_issue
    entries created (their lots) and their instructions' quantities."""
    with world.store.read() as tx:
        entries = [json.loads(r.entry) for r in tx.journal_rows(0, tx.head + 1)]
    verified: dict[tuple[str, str], int] = {}
    issued: dict[tuple[str, str], int] = {}
    units: dict[str, int] = defaultdict(int)
    quantities: dict[str, int] = defaultdict(int)
    for entry in entries:
        if "instruction" not in entry:
            continue  # a checkpoint marker
        op, f = entry["instruction"]["op"], entry["instruction"]["fields"]
        if op == "monitoring_verify":
            key = (f["project"], f["period"])
            assert key not in verified, f"{key} verified twice"
            verified[key] = f["verifiedReductions"]
        elif op == "ccer_issue":
            key = (f["project"], f["period"])
            assert key not in issued, f"{key} credited twice"
            issued[key] = f["quantity"]
            quantities[f["project"]] += f["quantity"]
            units[f["project"]] += sum(lot["last"] - lot["first"] + 1
                                       for lot in entry["effects"]["created"])
        elif op == "issue_batch":
            assert entry["instruction"]["fields"]["scheme"] != "CCER", "CCER by issue_batch"
    return verified, issued, dict(units), dict(quantities)


def ccer_supply(world: World) -> dict[str, int]:
    """Per project, the units of its CCER batches, from the projections."""
    with world.store.read() as tx:
        return {project: int(total) for project, total in tx.all(
            "SELECT project, SUM(quantity) FROM batches WHERE scheme = 'CCER' "
            "GROUP BY project")}


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=batches_of_steps)
def test_no_sequence_issues_more_than_verified_or_twice(
        template: WorldTemplate, tmp_path: Path, groups: list[list[tuple[Any, ...]]]) -> None:
    world = template.copy_into(tmp_path)
    model = Model()
    try:
        for drawn in groups:
            group = [s for d in drawn for s in expanded(d)]
            pairs = [instruction(world, model, s) for s in group]
            results = world.ledger.submit_many([signed for signed, _ in pairs])
            for (_, expected), result, s in zip(pairs, results, group, strict=True):
                got = result.reason if isinstance(result, Rejected) else None
                assert got == expected, f"{s}: expected {expected}, got {result}"
                event(f"{s[0]}: {got.name if got else 'accepted'}")

        verified, issued, units, quantities = journal_facts(world)
        for key, quantity in issued.items():
            assert quantity <= verified[key], f"{key}: {quantity} t issued, {verified[key]} t"
        assert units == quantities  # every unit an issuance created, to holder or buffer
        assert ccer_supply(world) == quantities
        stored = {(r["project"], r["period"]): r for r in rows(world, "monitoring_periods")}
        assert {k: r["issued_t"] for k, r in stored.items() if r["status"] == "issued"} \
            == issued
        assert {k: p.issued_t for k, p in model.periods.items() if p.status == "issued"} \
            == issued
        _check_buffers(world, issued)
        world.assert_invariants()
    finally:
        world.store.dispose()


def _check_buffers(world: World, issued: dict[tuple[str, str], int]) -> None:
    """Each issuance's buffer share, rounded down, sits in REG-BUFFER as the batch's last
    serials; the rest is the owner's."""
    stored = {(r["project"], r["period"]): r for r in rows(world, "monitoring_periods")}
    for key, quantity in issued.items():
        batch = stored[key]["batch"]
        buffer = buffer_share(quantity, BUFFER_BP[key[0]])
        expected = [(1, quantity - buffer, OWNER_ACCOUNT, "tradable")] if quantity > buffer \
            else []
        if buffer:
            expected.append((quantity - buffer + 1, quantity, "REG-BUFFER", "tradable"))
        assert world.lots(batch) == expected, (key, batch)
