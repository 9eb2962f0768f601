"""For random obligations, holdings of allowances and CCER (several batches and vintages) and
random sequences of surrenders mixed with transfers: no sequence lets CCER pass the cap, each
surrender is accepted exactly when a plain model of the rules says so, and the obligation's
counters and the emitter's status (due, compliant, overdue, as the clock passes the deadline)
always equal a reference computed from the journal entries alone.

The year of monthly data and its report are built once and copied for each example (a SQLite
file): only the verification, the holdings and the steps are drawn.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from compliance.queries import compliance_status
from compliance.reasons import ComplianceReason
from ledger.clock import FixedClock
from ledger.errors import Reason, ReasonCode, Rejected
from ledger.store.database import Store, sqlite_url
from tests.compliance.helpers import compliance_world, qualify, reported_year, row, verify
from tests.world import OPERATIONS, World, WorldTemplate

YEAR = 2025
CAP_BP = 500  # CN-ETS: CCER covers at most 5% of an obligation


@pytest.fixture(scope="module")
def template(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> WorldTemplate:
    """Baowu's 2025 monthly data and report (R1), cec qualified for steel; Huaneng, another
    emitter, to transfer to and from."""
    path = tmp_path_factory.mktemp("offset-cap") / "template.db"
    shutil.copy(migrated_template, path)
    store = Store(sqlite_url(path))
    clock = FixedClock(datetime(2025, 1, 1, tzinfo=UTC))  # compliance_world sets it
    world = compliance_world(store, clock)
    reported_year(world, "baowu", ["BW-1"], YEAR, 10_000)
    qualify(world, sector="steel")
    store.dispose()
    return WorldTemplate.of(world, path)


# (batch, kind, scheme, vintage): vintages 2026 are not eligible for 2025, the rest are
BATCHES = (("A24", "allowance", "CN-ETS", 2024), ("A25", "allowance", "CN-ETS", 2025),
           ("A26", "allowance", "CN-ETS", 2026), ("C23", "credit", "CCER", 2023),
           ("C24", "credit", "CCER", 2024))
ACCOUNTS = {"BW": "baowu", "HN": "huaneng"}

steps = st.lists(st.one_of(
    st.tuples(st.just("surrender"), st.sampled_from(BATCHES), st.integers(1, 40)),
    st.tuples(st.sampled_from(["BW", "HN"]), st.sampled_from(BATCHES), st.integers(1, 40)),
    # the ledger's clock moves on by this many days (past the deadline, 2026-12-31, at times)
    st.tuples(st.just("wait"), st.just(BATCHES[0]), st.integers(30, 400)),
), min_size=1, max_size=12)
DEADLINE = date(YEAR + 1, 12, 31)  # CN-ETS: surrender for year Y by Y+1-12-31


@dataclass
class Model:
    """The rules as plain arithmetic: what each step should do."""

    obligation: int
    tradable: dict[tuple[str, str], int]
    allowances: int = 0
    credits: int = 0

    def surrender(self, batch: tuple[str, str, str, int], quantity: int) -> ReasonCode | None:
        name, kind, _scheme, vintage = batch
        remaining = self.obligation - self.allowances - self.credits
        if remaining == 0:
            return ComplianceReason.obligation_met
        if quantity > remaining:
            return ComplianceReason.exceeds_obligation
        if kind == "allowance" and vintage > YEAR:
            return ComplianceReason.vintage_not_eligible
        if kind == "credit" and self.credits + quantity > self.obligation * CAP_BP // 10_000:
            return ComplianceReason.offset_cap_exceeded
        if self.tradable[("BW", name)] < quantity:
            return Reason.insufficient_tradable
        self.tradable[("BW", name)] -= quantity
        if kind == "allowance":
            self.allowances += quantity
        else:
            self.credits += quantity
        return None

    def transfer(self, source: str, batch: str, quantity: int) -> ReasonCode | None:
        target = "HN" if source == "BW" else "BW"
        if self.tradable[(source, batch)] < quantity:
            return Reason.insufficient_tradable
        self.tradable[(source, batch)] -= quantity
        self.tradable[(target, batch)] += quantity
        return None


def surrendered_per_journal(world: World) -> dict[str, int]:
    """Units surrendered against Baowu's 2025 obligation by kind, from the journal entries
    alone: each batch's kind from its issue_batch, each surrender's quantity from its own."""
    kinds: dict[str, str] = {}
    totals: dict[str, int] = defaultdict(int)
    with world.store.read() as tx:
        entries = tx.journal_rows(0, tx.head + 1)
    for entry in entries:
        fields = json.loads(entry.entry)["instruction"]["fields"]
        if entry.op == "issue_batch":
            kinds[fields["batch"]] = fields["kind"]
        elif entry.op == "surrender" and fields["year"] == YEAR:
            totals[kinds[fields["batch"]]] += fields["quantity"]
    return totals


def status_per_journal(world: World) -> tuple[str, int, int, int, int]:
    """Baowu's 2025 status from the journal entries alone: the obligation its verification
    entry signed, what its surrender entries took, and the state by the ledger's market day
    (Beijing) against the deadline: (state, obligation, allowances, credits, shortfall)."""
    obligation = 0
    with world.store.read() as tx:
        entries = tx.journal_rows(0, tx.head + 1)
    for entry in entries:
        fields = json.loads(entry.entry)["instruction"]["fields"]
        if entry.op == "verification_sign" and fields["emitter"] == "baowu" \
                and fields["year"] == YEAR:
            obligation = fields["verifiedEmissions"]
    taken = surrendered_per_journal(world)
    shortfall = obligation - taken["allowance"] - taken["credit"]
    today = (world.clock() + timedelta(hours=8)).date()
    state = "compliant" if shortfall == 0 else "due" if today <= DEADLINE else "overdue"
    return state, obligation, taken["allowance"], taken["credit"], shortfall


def outcome(world: World, who: str, op: str, /, **fields: Any) -> ReasonCode | None:
    """None if the instruction (units by quantity) is accepted, else the reason."""
    try:
        world.by(who, op, serialFirst=0, serialLast=0, **fields)
    except Rejected as rejected:
        return rejected.reason
    return None


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(obligation=st.integers(0, 2_000),
       holdings=st.tuples(*(st.integers(1, 150) for _ in BATCHES)),
       steps=steps)
def test_no_sequence_passes_the_cap_and_counters_match_the_journal(
        template: WorldTemplate, tmp_path: Path, obligation: int, holdings: tuple[int, ...],
        steps: list[tuple[Any, ...]]) -> None:
    world = template.copy_into(tmp_path)
    try:
        verify(world, "baowu", YEAR, obligation)
        for (name, kind, scheme, vintage), quantity in zip(BATCHES, holdings, strict=True):
            world.by("registry", "issue_batch", batch=name, scheme=scheme, kind=kind,
                     vintage=vintage, issuance="credit_issuance" if kind == "credit"
                     else "free_allocation", quantity=quantity, account="BW",
                     **({"project": "WIND-1", "monitoringStart": f"{vintage}-01-01",
                         "monitoringEnd": f"{vintage}-12-31"} if kind == "credit" else {}))
        model = Model(obligation, defaultdict(int))
        for (name, *_), quantity in zip(BATCHES, holdings, strict=True):
            model.tradable[("BW", name)] = quantity
        for action, batch, quantity in steps:
            if action == "wait":
                world.clock.advance(days=quantity)
                expected = got = None
            elif action == "surrender":
                expected = model.surrender(batch, quantity)
                got = outcome(world, "baowu", "surrender", account="BW", year=YEAR,
                              batch=batch[0], quantity=quantity)
            else:
                expected = model.transfer(action, batch[0], quantity)
                got = outcome(world, ACCOUNTS[action], "transfer", fromAccount=action,
                              toAccount="HN" if action == "BW" else "BW", batch=batch[0],
                              quantity=quantity)
            assert got == expected, (action, batch[0], quantity, got, expected)
            event(f"{action} {batch[1]}: {got.name if got else 'accepted'}")
            found = row(world, "obligations", "baowu", YEAR)
            assert found["credits"] <= obligation * CAP_BP // 10_000
            journal = surrendered_per_journal(world)
            assert (found["allowances"], found["credits"]) == \
                (journal["allowance"], journal["credit"]) == (model.allowances, model.credits)
            assert (found["met_seq"] is not None) == (found["allowances"] + found["credits"]
                                                      == obligation)
            (status,) = [s for s in compliance_status(world.store, YEAR, world.clock())
                         if s.emitter == "baowu"]
            assert (status.state.value, status.obligation, status.allowances, status.credits,
                    status.shortfall) == status_per_journal(world)
            event(f"status {status.state.value}")
        assert not OPERATIONS.check_invariants(world.store)
        world.assert_invariants()
    finally:
        world.store.dispose()
