"""A small world to test in: a ledger, its registry, and helpers to add participants."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from api.bootstrap import operation_set
from ledger.client import Wallet
from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.errors import ReasonCode, Rejected
from ledger.instructions import Instruction, SignedInstruction, make_domain
from ledger.invariants import check_invariants
from ledger.journal import Receipt
from ledger.schemes import load_rules_dir, rules_document
from ledger.store.database import Store, sqlite_url

CHAIN_ID = 31337
OPERATIONS = operation_set()  # every module, as the composition root builds them
DOMAIN = make_domain(CHAIN_ID)
_keys = itertools.count(1)


def test_rules(*, project_cycle: bool = False, allocation_plan: bool = False) -> str:
    """The rules of ledger/schemes/ as a genesis records them; without `project_cycle`, CCER
    is issued by issue_batch (most tests need credits, not the project cycle behind them);
    with `allocation_plan`, CN-ETS allowances are issued by the allocation module only."""
    rules = load_rules_dir()
    if not project_cycle:
        rules["CCER"] = dataclasses.replace(rules["CCER"], issue_operation="issue_batch")
    if allocation_plan:
        rules["CN-ETS"] = dataclasses.replace(rules["CN-ETS"], issue_operation="allocation")
    return rules_document(rules)


def fresh_wallet() -> Wallet:
    return Wallet((0xC0FFEE0000 + next(_keys)).to_bytes(32, "big"), DOMAIN)


@dataclass
class World:
    ledger: Ledger
    clock: FixedClock
    registry: Wallet
    wallets: dict[str, Wallet] = field(default_factory=dict)

    @classmethod
    def create(cls, store: Store, clock: FixedClock, rules: str | None = None, *,
               project_cycle: bool = False, allocation_plan: bool = False) -> World:
        """A ledger whose genesis records `rules` (default: the rules of ledger/schemes/,
        with CCER issued by issue_batch, as ledgers made before the project cycle issued it,
        unless `project_cycle`: then only ccer_issue issues CCER; with `allocation_plan`, only
        the allocation module issues CN-ETS allowances)."""
        ledger = Ledger(store, OPERATIONS, clock)
        registry = fresh_wallet()
        world = cls(ledger, clock, registry, {"registry": registry})
        world.submit(registry.sign(world.instruction(
            "genesis", registry="registry", registryName="Test registry",
            registryKey=registry.address, chainId=CHAIN_ID,
            rules=rules or test_rules(project_cycle=project_cycle,
                                      allocation_plan=allocation_plan))))
        return world

    @property
    def store(self) -> Store:
        return self.ledger.store

    def instruction(self, op: str, **fields: Any) -> Instruction:
        fields.setdefault("deadline", int(self.clock().timestamp()) + 3600)
        return OPERATIONS.instruction(op, **fields)

    def submit(self, signed: SignedInstruction) -> Receipt:
        return self.ledger.submit(signed)

    def by(self, who: str, op: str, /, **fields: Any) -> Receipt:
        """`who` signs and submits an instruction."""
        return self.submit(self.wallets[who].sign(self.instruction(op, **fields)))

    def refused(self, expected: ReasonCode, who: str, op: str, /, **fields: Any) -> Rejected:
        """`who`'s instruction is refused with `expected`, and the journal does not move."""
        head = self.head()
        try:
            self.by(who, op, **fields)
        except Rejected as rejected:
            assert rejected.reason == expected, f"expected {expected.name}, got {rejected}"
            assert self.head() == head, "a refused instruction must not be journaled"
            return rejected
        raise AssertionError(f"{op} was accepted, expected {expected.name}")

    def participant(self, name: str, role: str, account: str | None = None,
                    account_type: str | None = None) -> Wallet:
        wallet = fresh_wallet()
        self.wallets[name] = wallet
        self.by("registry", "register_participant", participant=name, name=name.title(),
                role=role)
        self.by("registry", "register_key", participant=name, key=wallet.address)
        if account:
            self.by("registry", "open_account", account=account, participant=name,
                    accountType=account_type)
        return wallet

    def allocate(self, batch: str, account: str, quantity: int, scheme: str = "CN-ETS",
                 vintage: int = 2025) -> Receipt:
        return self.by("registry", "issue_batch", batch=batch, scheme=scheme, kind="allowance",
                       vintage=vintage, issuance="free_allocation", quantity=quantity,
                       account=account)

    def issue_credits(self, batch: str, account: str, quantity: int,
                      scheme: str = "CCER") -> Receipt:
        return self.by("registry", "issue_batch", batch=batch, scheme=scheme, kind="credit",
                       vintage=2024, project="Wind farm", monitoringStart="2024-01-01",
                       monitoringEnd="2024-12-31", issuance="credit_issuance",
                       quantity=quantity, account=account)

    def head(self) -> int:
        with self.store.read() as tx:
            return tx.head

    def holding(self, account: str, batch: str) -> dict[str, int]:
        with self.store.read() as tx:
            row = tx.one("SELECT tradable, pledged, retired, surrendered, cancelled "
                         "FROM holdings WHERE account = :a AND batch = :b",
                         {"a": account, "b": batch})
        names = ("tradable", "pledged", "retired", "surrendered", "cancelled")
        return dict(zip(names, row or (0, 0, 0, 0, 0), strict=True))

    def lots(self, batch: str) -> list[tuple[int, int, str, str]]:
        """(first, last, account, state) of the batch's live lots, in serial order."""
        with self.store.read() as tx:
            return [tuple(r) for r in tx.all(
                "SELECT serial_first, serial_last, account, state FROM lots "
                "WHERE batch = :b ORDER BY serial_first", {"b": batch})]

    def assert_invariants(self) -> None:
        problems = check_invariants(self.store)
        assert not problems, problems


@dataclass(frozen=True)
class WorldTemplate:
    """A world's database kept as a file, with its clock's moment and its wallets: a property
    test copies it for each example instead of building the world again."""

    path: Path
    moment: datetime
    wallets: dict[str, Wallet]

    @classmethod
    def of(cls, world: World, path: Path) -> WorldTemplate:
        """`world`, whose store is the SQLite file `path` (disposed of by the caller)."""
        return cls(path, world.clock.moment, world.wallets)

    def copy_into(self, directory: Path) -> World:
        """A world on a fresh copy of the template (the previous example's copy is closed)."""
        path = directory / "example.db"
        shutil.copy(self.path, path)
        clock = FixedClock(self.moment)
        ledger = Ledger(Store(sqlite_url(path)), OPERATIONS, clock)
        # the wallets' nonces only grow, so signing again on a copy is never a replay
        return World(ledger, clock, self.wallets["registry"], self.wallets)
