"""The working set's read of a module table's rows by a key prefix (WorkingSet.rows_with_prefix:
an auction's bids by the auction's id): the store's rows as the transaction changed them, with
the rows it wrote, ordered by key; and the same read as of an earlier journal size, which the
checkpointer's re-execution makes (SqlTransaction.rows_with_prefix_as_of)."""

from __future__ import annotations

from typing import Any

from allocation.schema import auction_bids
from ledger.effects import Changes, Row
from ledger.state import WorkingSet
from ledger.store.database import Store


def bid(auction: str, bid_id: str, quantity: int = 10, seq: int = 1) -> dict[str, Any]:
    return {"auction": auction, "bid": bid_id, "bidder": "p", "account": "A",
            "quantity": quantity, "price": 5, "seq": seq, "filled": None}


def row(values: dict[str, Any], *, new: bool) -> Row:
    return Row(auction_bids, (values["auction"], values["bid"]), values, new)


def store_rows(store: Store, seq: int, *rows: Row) -> None:
    with store.write() as tx:
        ws = WorkingSet(tx, tx.head, tx.checkpoint)
        ws.apply(Changes(rows=list(rows)), seq)
        tx.commit(ws)


def test_rows_by_prefix_include_this_transactions_writes_in_key_order(
        any_store: Store) -> None:
    store_rows(any_store, 1, row(bid("AU-1", "b2"), new=True), row(bid("AU-1", "b4"), new=True),
               row(bid("AU-2", "b1"), new=True))
    with any_store.write() as tx:
        ws = WorkingSet(tx, tx.head, tx.checkpoint)
        ws.apply(Changes(rows=[row(bid("AU-1", "b3"), new=True),
                               row(bid("AU-1", "b4", quantity=99), new=False)]), 2)
        found = ws.rows_with_prefix(auction_bids, ("AU-1",))
        assert [(r["bid"], r["quantity"]) for r in found] == [("b2", 10), ("b3", 10),
                                                              ("b4", 99)]
        # a row written after the read is seen by the next one, and by a read by key
        ws.apply(Changes(rows=[row(bid("AU-1", "b1"), new=True)]), 3)
        assert [r["bid"] for r in ws.rows_with_prefix(auction_bids, ("AU-1",))] == [
            "b1", "b2", "b3", "b4"]
        assert ws.row(auction_bids, ("AU-1", "b4"))["quantity"] == 99  # type: ignore[index]
        assert [r["bid"] for r in ws.rows_with_prefix(auction_bids, ("AU-2", "b1"))] == ["b1"]
        assert ws.rows_with_prefix(auction_bids, ("AU-3",)) == []


def test_rows_by_prefix_as_of_an_earlier_journal_size(any_store: Store) -> None:
    store_rows(any_store, 1, row(bid("AU-1", "b1"), new=True))
    store_rows(any_store, 5, row(bid("AU-1", "b1", quantity=50), new=False),
               row(bid("AU-1", "b2"), new=True))
    store_rows(any_store, 7, row(bid("AU-1", "b1", quantity=70), new=False))
    with any_store.read() as tx:
        def quantities(size: int) -> dict[Any, int]:
            found = tx.rows_with_prefix_as_of(auction_bids, ("AU-1",), size)
            return {key: values["quantity"] for key, values in found.items()}

        assert quantities(2) == {("AU-1", "b1"): 10}
        assert quantities(6) == {("AU-1", "b1"): 50, ("AU-1", "b2"): 10}
        assert quantities(8) == {("AU-1", "b1"): 70, ("AU-1", "b2"): 10}
