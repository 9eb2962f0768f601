"""Instructions signed by several parties, and the pledge and repo examples the tests share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.errors import ReasonCode, Rejected
from ledger.instructions import SignedInstruction
from ledger.journal import Receipt
from tests.world import OPERATIONS, World

# 400 t of A1 (HN's 1,000 t of 2025 CN-ETS allowances) pledged to ICBC until the year's end.
PLEDGE: dict[str, Any] = dict(
    pledge="P1", account="HN", pledgee="icbc", batch="A1", quantity=400,
    loanReference="ICBC-SZ-2026-0042", principal=12_000_000_00, currency="CNY",
    startDate="2026-06-01", maturityDate="2026-12-31",
)
PLEDGORS = ("huaneng", "icbc")

# HN sells 400 t of A1 to ICBC and buys them back by 2026-09-30.
REPO: dict[str, Any] = dict(
    repo="R1", sellerAccount="HN", buyerAccount="ICBC", batch="A1", quantity=400,
    purchasePrice=3_200_000_00, repurchasePrice=3_232_000_00, currency="CNY",
    repurchaseDate="2026-09-30", freeUse=False,
)
REPO_PARTIES = ("huaneng", "icbc")


def signed(world: World, signers: Sequence[str], op: str, /,
           **fields: Any) -> SignedInstruction:
    """Each of `signers`, in order, approves the same instruction."""
    instruction = world.instruction(op, **fields)
    first, *others = signers
    result = world.wallets[first].sign(instruction)
    for other in others:
        result = world.wallets[other].cosign(result)
    return result


def by(world: World, signers: Sequence[str], op: str, /, **fields: Any) -> Receipt:
    return world.submit(signed(world, signers, op, **fields))


def refused(world: World, expected: ReasonCode, signers: Sequence[str], op: str, /,
            **fields: Any) -> Rejected:
    """The instruction is refused with `expected`, and the journal does not move."""
    head = world.head()
    try:
        by(world, signers, op, **fields)
    except Rejected as rejected:
        assert rejected.reason == expected, f"expected {expected.name}, got {rejected}"
        assert world.head() == head, "a refused instruction must not be journaled"
        return rejected
    raise AssertionError(f"{op} was accepted, expected {expected.name}")


def register(world: World, signers: Sequence[str] = PLEDGORS, **fields: Any) -> Receipt:
    return by(world, signers, "pledge_register", **(PLEDGE | fields))


def open_repo(world: World, signers: Sequence[str] = REPO_PARTIES, **fields: Any) -> Receipt:
    return by(world, signers, "repo_open", **(REPO | fields))


def agreement(world: World, table: str, agreement_id: str) -> dict[str, Any]:
    """A row of the pledge module's table `table` (its name)."""
    with world.store.read() as tx:
        row = tx.row(OPERATIONS.tables[table], (agreement_id,))
    assert row is not None, f"{table} has no {agreement_id}"
    return dict(row)


def lien_lots(world: World, lien: str) -> list[tuple[int, int, str, str]]:
    """(first, last, account, state) of the lots under `lien`."""
    with world.store.read() as tx:
        return [(lot.first, lot.last, lot.account, lot.state.value)
                for lot in sorted(tx.lots_under_lien(lien), key=lambda lot: lot.first)]
