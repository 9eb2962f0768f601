"""The ledger's global invariants, checked over a store (after every test, and by auditors):

- supply: per batch, issued = tradable + pledged + retired + surrendered + cancelled;
- partition: the live lots of a batch cover 1..quantity exactly, no gap, no overlap;
- holdings: the holdings table is the sum of the lots, per account, batch and state;
- liens: a lot is pledged exactly when it carries a lien, and that lien is recorded;
- journal: sequence numbers are gapless from 0 to the head;
- each account against its journal: folding every entry's effects gives the holdings;
- nonces: each key's last nonce is the largest it signed in the journal.
"""

from __future__ import annotations

import json
from collections import defaultdict

from ledger.model import LOT_STATES, LotState
from ledger.store import scans
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction


def check_invariants(store: Store) -> list[str]:
    """Every violation found, in words; an empty list when the store is sound."""
    with store.read() as tx:
        held = _held(tx)
        return (_supply_and_partition(tx) + _holdings(tx, held) + _unrecorded_liens(tx)
                + _journal(tx, held))


def _held(tx: SqlTransaction) -> dict[tuple[str, str, str], int]:
    """The holdings table as (account, batch, state) -> quantity, zeros included."""
    names = [s.value for s in LOT_STATES]
    held = {}
    for holding in scans.all_holdings(tx):
        for state in names:
            held[(holding.account, holding.batch, state)] = getattr(holding, state)
    return held


def _supply_and_partition(tx: SqlTransaction) -> list[str]:
    problems = []
    quantities = scans.batch_quantities(tx)
    lots: dict[str, list[tuple[int, int, str, str | None]]] = defaultdict(list)
    for batch, first, last, state, lien in scans.lot_spans(tx):
        lots[batch].append((first, last, state, lien))
        if (state == LotState.pledged.value) != (lien is not None):
            problems.append(f"lot {batch} {first}..{last} is {state} with lien {lien}")
    for batch, quantity in quantities.items():
        expected_first = 1
        for first, last, _, _ in sorted(lots.pop(batch, [])):
            if first != expected_first or last < first:
                problems.append(f"batch {batch}: lots break the partition at serial {first} "
                                f"(expected {expected_first})")
                break
            expected_first = last + 1
        else:
            if expected_first - 1 != quantity:
                problems.append(f"batch {batch}: lots cover 1..{expected_first - 1}, "
                                f"issued {quantity}")
    problems.extend(f"lots of unknown batch {batch}" for batch in lots)
    return problems


def _unrecorded_liens(tx: SqlTransaction) -> list[str]:
    return [f"lots carry lien {lien}, which the liens table does not record"
            for lien in scans.unrecorded_liens(tx)]


def _holdings(tx: SqlTransaction, held: dict[tuple[str, str, str], int]) -> list[str]:
    from_lots = scans.lot_totals(tx)
    problems = [f"holding {key}: table says {quantity}, lots say {from_lots.get(key, 0)}"
                for key, quantity in held.items() if from_lots.get(key, 0) != quantity]
    problems.extend(f"lots {key} missing from holdings" for key in set(from_lots) - set(held))
    return problems


def _journal(tx: SqlTransaction, held: dict[tuple[str, str, str], int]) -> list[str]:
    problems = []
    count, low, high = scans.journal_extent(tx)
    if count and (low != 0 or high != count - 1 or high != tx.head):
        problems.append(f"journal is not gapless: {count} entries, seq {low}..{high}, "
                        f"head {tx.head}")
    folded: dict[tuple[str, str, str], int] = defaultdict(int)
    nonces: dict[str, int] = {}
    live: dict[str, dict[str, object]] = {}
    markers = 0
    for seq, entry in scans.journal_documents(tx):
        document = json.loads(entry)
        if "checkpoint" in document:
            markers += 1
            if document != {"checkpoint": markers, "seq": seq}:
                problems.append(f"entry {seq}: checkpoint marker out of order: {document}")
            continue
        for approval in document["instruction"]["approvals"]:
            nonces[approval["signer"]] = max(nonces.get(approval["signer"], 0),
                                             approval["nonce"])
        effects = document["effects"]
        for lot_id in effects["closed"]:
            _fold(folded, live.pop(lot_id), -1)
        for lot in effects["updated"]:
            _fold(folded, live.pop(lot["id"]), -1)
        for lot in effects["created"] + effects["updated"]:
            live[lot["id"]] = lot
            _fold(folded, lot, +1)
    if markers != tx.checkpoint:
        problems.append(f"{markers} checkpoint markers in the journal, head says {tx.checkpoint}")
    for key in set(folded) | set(held):
        if folded.get(key, 0) != held.get(key, 0):
            problems.append(f"account {key[0]} batch {key[1]} {key[2]}: journal gives "
                            f"{folded.get(key, 0)}, holdings say {held.get(key, 0)}")
    for address, last_nonce in scans.last_nonces(tx).items():
        if nonces.get(address, 0) != last_nonce:
            problems.append(f"key {address}: last nonce {last_nonce}, journal says "
                            f"{nonces.get(address, 0)}")
    return problems


def _fold(folded: dict[tuple[str, str, str], int], lot: dict[str, object], sign: int) -> None:
    quantity = int(lot["last"]) - int(lot["first"]) + 1  # type: ignore[call-overload]
    folded[(str(lot["account"]), str(lot["batch"]), str(lot["state"]))] += sign * quantity
