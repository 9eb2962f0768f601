"""Random sequences of operations, against the real ledger on a SQLite file and against the
unit-by-unit reference model (tests/ledger/reference_ledger.py).

On every step the ledger and the model must take the same decision (accept, or refuse with the
same reason); after every step each batch's live lots, expanded to units, must equal the model's
units serial by serial, the holdings table must equal the model's counts, and the global
invariants must hold. At the end of each example a replay of the journal must reproduce every
entry byte for byte.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from ledger.clock import FixedClock
from ledger.errors import Rejected
from ledger.instructions import SignedInstruction
from ledger.invariants import check_invariants
from ledger.journal import Receipt
from ledger.replay import replay_check
from ledger.store.database import Store, sqlite_url
from tests.ledger.reference_ledger import TRADABLE, ReferenceLedger
from tests.world import World

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
EMITTERS = {"e1": "E1", "e2": "E2", "e3": "E3"}
HOLDER = {"TR": "registry", "E1": "e1", "E2": "e2", "E3": "e3", "LI": "li"}
ACCOUNTS = tuple(HOLDER)
SIGNERS = ("registry", "e1", "e2", "e3", "li")
UNKNOWN_ACCOUNT = "NOPE"
UNKNOWN_BATCH = "NOBATCH"
SCHEMES = {"allowance": ("CN-ETS", "CN-GD"), "credit": ("CCER", "CN-GD")}

Step = tuple[str, str, dict[str, Any]]  # (signer, op, fields)

_scratch = tempfile.TemporaryDirectory(prefix="carbonledger-stateful-")


@functools.cache
def migrated_template() -> Path:
    """One migrated SQLite file, copied for each example: Alembic runs once per module."""
    path = Path(_scratch.name) / "template.db"
    store = Store(sqlite_url(path))
    store.upgrade()
    store.dispose()
    return path


def rarely(data: st.DataObject, one_in: int, label: str) -> bool:
    """True about once in `one_in` draws; shrinks to False, the common case."""
    return data.draw(st.sampled_from([False] * (one_in - 1) + [True]), label=label)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(dir=_scratch.name))
        path = self.directory / "ledger.db"
        shutil.copy(migrated_template(), path)
        self.store = Store(sqlite_url(path))
        self.world = World.create(self.store, FixedClock(START))
        self.model = ReferenceLedger()
        self.model.register("registry", "registry")
        self.next_batch = 0
        self.last_accepted: tuple[SignedInstruction, Receipt] | None = None
        # False from the start of a check until it passes: a failed example is not replayed,
        # so that the first failure is the one reported.
        self.consistent = True

    @initialize(data=st.data())
    def market(self, data: st.DataObject) -> None:
        """The registry's treasury, three emitters, one individual, and a first batch of each
        kind (issued like any other, so the model may refuse it too)."""
        self.world.by("registry", "open_account", account="TR", participant="registry",
                      accountType="treasury")
        self.model.open_account("TR", "registry", "treasury")
        for name, account in EMITTERS.items():
            self.world.participant(name, "emitter", account, "compliance")
            self.model.register(name, "emitter")
            self.model.open_account(account, name, "compliance")
        self.world.participant("li", "individual", "LI", "individual")
        self.model.register("li", "individual")
        self.model.open_account("LI", "li", "individual")
        for kind in ("allowance", "credit"):
            account = data.draw(st.sampled_from(["E1", "E2", "E3", "TR"]), label="account")
            self.run([("registry", "issue_batch",
                       self.issue_fields(data, f"B{self.next_batch}", kind, account))])
            self.next_batch += 1

    # --- drawing instructions from the current state ------------------------------------------

    def draw_account(self, data: st.DataObject, label: str) -> str:
        if rarely(data, 16, f"{label} unknown"):
            return UNKNOWN_ACCOUNT
        return data.draw(st.sampled_from(ACCOUNTS), label=label)

    def draw_signer(self, data: st.DataObject, account: str) -> str:
        """Mostly the account's holder; sometimes anyone."""
        if rarely(data, 8, "someone else signs"):
            return data.draw(st.sampled_from(SIGNERS), label="signer")
        return HOLDER.get(account, "registry")

    def draw_batch(self, data: st.DataObject) -> str:
        issued = sorted(self.model.batches)
        if not issued or rarely(data, 16, "batch unknown"):
            return UNKNOWN_BATCH
        if rarely(data, 8, "the newest batch id"):  # in a batch, perhaps issued just before
            return f"B{self.next_batch - 1}"
        return data.draw(st.sampled_from(issued), label="batch")

    def draw_units(self, data: st.DataObject, account: str, batch_id: str) -> dict[str, int]:
        """A quantity (oldest first) or a serial range, often within what `account` holds."""
        batch = self.model.batches.get(batch_id)
        if batch is None:
            return {"quantity": data.draw(st.integers(1, 10), label="quantity"),
                    "serialFirst": 0, "serialLast": 0}
        held = self.model.tradable_serials(account, batch)
        way = data.draw(st.sampled_from(["quantity", "held range", "any range"]), label="by")
        if way == "quantity":
            quantity = data.draw(st.integers(1, len(held) + 2), label="quantity")
            return {"quantity": quantity, "serialFirst": 0, "serialLast": 0}
        if way == "held range" and held:
            first = data.draw(st.sampled_from(held), label="first")
            holds = set(held)
            run = 1  # how many serials from `first` on the account holds, tradable, in a row
            while first + run in holds:
                run += 1
            length = data.draw(st.integers(1, run + 1), label="length")
        else:
            first = data.draw(st.integers(1, batch.quantity + 2), label="first")
            length = data.draw(st.integers(1, 12), label="length")
        quantity = length + 1 if rarely(data, 25, "quantity mismatches range") else length
        return {"quantity": quantity, "serialFirst": first, "serialLast": first + length - 1}

    def draw_issue(self, data: st.DataObject) -> Step:
        kind = data.draw(st.sampled_from(["allowance", "credit"]), label="kind")
        if self.model.batches and rarely(data, 8, "batch id reused"):
            batch = data.draw(st.sampled_from(sorted(self.model.batches)), label="batch")
        else:
            batch = f"B{self.next_batch}"
            self.next_batch += 1
        account = self.draw_account(data, "account")
        return self.draw_signer(data, "TR"), "issue_batch", \
            self.issue_fields(data, batch, kind, account)

    def issue_fields(self, data: st.DataObject, batch: str, kind: str,
                     account: str) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "batch": batch, "kind": kind, "account": account,
            "scheme": data.draw(st.sampled_from(SCHEMES[kind]), label="scheme"),
            "quantity": data.draw(st.integers(1, 60), label="quantity"),
        }
        if kind == "allowance":
            return fields | {"vintage": 2025, "issuance": "free_allocation"}
        return fields | {"vintage": 2024, "issuance": "credit_issuance", "project": "Wind farm",
                         "monitoringStart": "2024-01-01", "monitoringEnd": "2024-12-31"}

    def draw_holding(self, data: st.DataObject, batch: str | None = None) -> tuple[str, str]:
        """Mostly an (account, batch) that holds tradable units; sometimes anything."""
        held = sorted({(account, b) for b, issued in self.model.batches.items()
                       for account, state in issued.units.values()
                       if state == TRADABLE and batch in (None, b)})
        if held and not rarely(data, 4, "any account and batch"):
            return data.draw(st.sampled_from(held), label="account, batch")
        return self.draw_account(data, "account"), batch or self.draw_batch(data)

    def draw_transfer(self, data: st.DataObject, to_account: str | None = None,
                      batch: str | None = None) -> Step:
        source, batch = self.draw_holding(data, batch)
        if to_account is not None:
            destination = to_account
        elif rarely(data, 16, "to itself"):
            destination = source
        elif rarely(data, 16, "to an unknown account"):
            destination = UNKNOWN_ACCOUNT
        else:
            others = [account for account in ACCOUNTS if account != source]
            destination = data.draw(st.sampled_from(others), label="toAccount")
        fields = {"fromAccount": source, "toAccount": destination, "batch": batch,
                  **self.draw_units(data, source, batch)}
        return self.draw_signer(data, source), "transfer", fields

    def draw_retire(self, data: st.DataObject) -> Step:
        account, batch = self.draw_holding(data)
        fields = {"account": account, "batch": batch, **self.draw_units(data, account, batch),
                  "beneficiary": "Acme Ltd", "reason": "voluntary", "claim": "2025 neutrality"}
        return self.draw_signer(data, account), "retire", fields

    def draw_cancel(self, data: st.DataObject) -> Step:
        account, batch = self.draw_holding(data)
        fields = {"account": account, "batch": batch, **self.draw_units(data, account, batch),
                  "reason": "court order"}
        return self.draw_signer(data, "TR"), "cancel", fields

    def draw_freeze(self, data: st.DataObject, op: str) -> Step:
        frozen = sorted(a for a, account in self.model.accounts.items() if account.frozen)
        if op == "unfreeze_account" and frozen and not rarely(data, 4, "any account"):
            account = data.draw(st.sampled_from(frozen), label="account")
        else:
            account = self.draw_account(data, "account")
        return self.draw_signer(data, "TR"), op, {"account": account, "reason": "court order"}

    def draw_any(self, data: st.DataObject) -> Step:
        op = data.draw(st.sampled_from(
            ["issue", "transfer", "transfer", "transfer", "retire", "cancel", "freeze",
             "unfreeze"]), label="op")
        if op == "issue":
            return self.draw_issue(data)
        if op == "transfer":
            return self.draw_transfer(data)
        if op == "retire":
            return self.draw_retire(data)
        if op == "cancel":
            return self.draw_cancel(data)
        return self.draw_freeze(data, "freeze_account" if op == "freeze" else "unfreeze_account")

    # --- submitting and comparing -------------------------------------------------------------

    def run(self, steps: list[Step]) -> None:
        """Submit the steps (one alone, several in one batch) and the model; they must agree."""
        self.consistent = False
        signed: list[SignedInstruction | Rejected] = []
        for signer, op, fields in steps:
            try:
                instruction = self.world.instruction(op, **fields)
            except Rejected as refused_by_shape:
                signed.append(refused_by_shape)
                continue
            signed.append(self.world.wallets[signer].sign(instruction))
        head = self.world.head()
        submitted = [s for s in signed if isinstance(s, SignedInstruction)]
        if len(submitted) == 1 and len(steps) == 1:
            try:
                answers: list[Receipt | Rejected] = [self.world.submit(submitted[0])]
            except Rejected as refused:
                answers = [refused]
        else:
            answers = list(self.world.ledger.submit_batch(submitted)) if submitted else []
        results = iter(answers)
        accepted = 0
        for (signer, op, fields), sent in zip(steps, signed, strict=True):
            result = sent if isinstance(sent, Rejected) else next(results)
            expected = self.model.submit(signer, op, fields)
            where = f"{signer} {op} {fields}"
            event(f"{op}: {'accepted' if expected is None else expected.name}")
            if expected is None:
                assert isinstance(result, Receipt), f"{where}: model accepts, ledger {result}"
                assert not result.duplicate
                accepted += 1
                assert result.seq == head + accepted, "sequence numbers are gapless"
                assert isinstance(sent, SignedInstruction)
                self.last_accepted = (sent, result)
            else:
                assert isinstance(result, Rejected), \
                    f"{where}: model refuses with {expected.name}, ledger accepts"
                assert result.reason == expected, \
                    f"{where}: model refuses with {expected.name}, ledger with {result}"
        assert self.world.head() == head + accepted, "refused instructions are not journaled"
        self.consistent = True

    # --- rules --------------------------------------------------------------------------------

    @rule(data=st.data())
    def issue(self, data: st.DataObject) -> None:
        self.run([self.draw_issue(data)])

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        self.run([self.draw_transfer(data)])

    @rule(data=st.data())
    def transfer_allowances_to_the_individual(self, data: st.DataObject) -> None:
        allowances = sorted(b for b, batch in self.model.batches.items()
                            if batch.kind == "allowance") or [UNKNOWN_BATCH]
        batch = data.draw(st.sampled_from(allowances), label="batch")
        self.run([self.draw_transfer(data, to_account="LI", batch=batch)])

    @rule(data=st.data())
    def retire(self, data: st.DataObject) -> None:
        self.run([self.draw_retire(data)])

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self.run([self.draw_cancel(data)])

    @rule(data=st.data())
    def freeze_or_unfreeze(self, data: st.DataObject) -> None:
        op = data.draw(st.sampled_from(["unfreeze_account", "freeze_account"]), label="op")
        self.run([self.draw_freeze(data, op)])

    @rule(data=st.data())
    def several_in_one_transaction(self, data: st.DataObject) -> None:
        count = data.draw(st.integers(2, 4), label="count")
        self.run([self.draw_any(data) for _ in range(count)])

    @rule(data=st.data())
    def issue_and_spend_in_one_transaction(self, data: st.DataObject) -> None:
        """A batch issued and spent in one transaction: later operations see its new lot."""
        signer, op, issue = self.draw_issue(data)
        account, batch, issued = issue["account"], issue["batch"], issue["quantity"]
        steps = [(signer, op, issue)]
        for _ in range(data.draw(st.integers(1, 3), label="spends")):
            others = [a for a in ACCOUNTS if a != account]
            destination = data.draw(st.sampled_from(others), label="toAccount")
            first = data.draw(st.sampled_from([0, 1, issued // 2 + 1]), label="first")
            quantity = data.draw(st.integers(1, issued - max(first, 1) + 2), label="quantity")
            last = first + quantity - 1 if first else 0
            steps.append((HOLDER.get(account, "registry"), "transfer", {
                "fromAccount": account, "toAccount": destination, "batch": batch,
                "quantity": quantity, "serialFirst": first, "serialLast": last}))
        self.run(steps)

    @precondition(lambda self: self.last_accepted is not None)
    @rule()
    def resubmit_the_last_accepted(self) -> None:
        """The same signed instruction again: its first receipt, and nothing changes."""
        assert self.last_accepted is not None
        signed, first = self.last_accepted
        head = self.world.head()
        again = self.world.submit(signed)
        assert again.duplicate
        assert (again.seq, again.entry_hash, again.effects) == \
            (first.seq, first.entry_hash, first.effects)
        assert self.world.head() == head

    # --- after every step ---------------------------------------------------------------------

    @invariant()
    def ledger_matches_the_model(self) -> None:
        self.consistent = False
        with self.store.read() as tx:
            batches = {b: (kind, quantity) for b, kind, quantity in
                       tx.all("SELECT id, kind, quantity FROM batches")}
            frozen = {a for a, f in tx.all("SELECT id, frozen FROM accounts") if f}
        assert batches == {b: (batch.kind, batch.quantity)
                           for b, batch in self.model.batches.items()}
        assert frozen == {a for a, account in self.model.accounts.items() if account.frozen}
        for batch_id, batch in self.model.batches.items():
            lots = self.world.lots(batch_id)
            units = {serial: (account, state) for first, last, account, state in lots
                     for serial in range(first, last + 1)}
            assert sum(last - first + 1 for first, last, _, _ in lots) == len(units), \
                f"batch {batch_id}: lots overlap"
            assert units == batch.units, f"batch {batch_id}: lots differ from the model's units"
        expected = self.model.holdings()
        for account in ACCOUNTS:
            for batch_id in self.model.batches:
                held = self.world.holding(account, batch_id)
                want = expected.get((account, batch_id), dict.fromkeys(held, 0))
                assert held == want, f"holding {account} {batch_id}"
        assert check_invariants(self.store) == []
        self.consistent = True

    def teardown(self) -> None:
        try:
            if self.consistent:
                report = replay_check(self.store, scratch_dir=self.directory)
                assert report.ok, report.first_difference
        finally:
            self.store.dispose()
            shutil.rmtree(self.directory, ignore_errors=True)


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerMatchesReference = LedgerMachine.TestCase
