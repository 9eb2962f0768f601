"""A slow, obviously correct model of the ledger's units, for the stateful test.

It keeps every unit of every batch by itself (serial -> (account, state)) and decides each
instruction with the plainest code that states the rules: no lots, no splitting, no caches.
Each operation is a checklist run in the order the ledger documents (shape, then authority,
then accounts, batch and holding rules, then the units), and the first failing line names the
reason. Nothing changes unless every line passes.

No operation places a lien yet, so the model has no `pledged` units and no `lot_under_lien`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.errors import Reason

TRADABLE = "tradable"
RETIRED = "retired"
CANCELLED = "cancelled"
STATES = ("tradable", "pledged", "retired", "surrendered", "cancelled")
HOLDING_ROLES = frozenset({"registry", "emitter", "bank", "project_owner", "individual"})

# ledger/schemes/*.toml: the kinds each scheme issues, and which account types may hold them.
ALL_TYPES = frozenset({"treasury", "reserve", "compliance", "trading", "individual"})
NO_INDIVIDUALS = ALL_TYPES - {"individual"}
SCHEME_HOLDERS: dict[str, dict[str, frozenset[str]]] = {
    "CN-ETS": {"allowance": NO_INDIVIDUALS},
    "CCER": {"credit": ALL_TYPES},
    "CN-GD": {"allowance": NO_INDIVIDUALS, "credit": ALL_TYPES},
}

Fields = Mapping[str, Any]


class Refused(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.name)
        self.reason = reason


def check(condition: bool, reason: Reason) -> None:
    if not condition:
        raise Refused(reason)


@dataclass
class Account:
    owner: str
    type: str
    frozen: bool = False


@dataclass
class Batch:
    scheme: str
    kind: str
    quantity: int
    units: dict[int, tuple[str, str]]  # serial -> (account, state)


class ReferenceLedger:
    def __init__(self) -> None:
        self.roles: dict[str, str] = {}  # participant -> role
        self.accounts: dict[str, Account] = {}
        self.batches: dict[str, Batch] = {}

    # --- set-up (always accepted in the tests that use the model) -------------------------

    def register(self, participant: str, role: str) -> None:
        self.roles[participant] = role

    def open_account(self, account: str, participant: str, account_type: str) -> None:
        self.accounts[account] = Account(participant, account_type)

    # --- instructions ---------------------------------------------------------------------

    def check_shape(self, op: str, f: Fields) -> Reason | None:
        """What the instruction's shape alone refuses, before it reaches the ledger."""
        try:
            if "serialFirst" in f:
                first, last = f["serialFirst"], f["serialLast"]
                check(not first or (first <= last and last - first + 1 == f["quantity"]),
                      Reason.serial_range_mismatch)
            if op == "transfer":
                check(f["fromAccount"] != f["toAccount"], Reason.same_account)
        except Refused as refused:
            return refused.reason
        return None

    def submit(self, signer: str, op: str, f: Fields) -> Reason | None:
        """Apply one instruction signed by `signer`: None if accepted, else why it is refused."""
        shape = self.check_shape(op, f)
        if shape is not None:
            return shape
        handler = {
            "issue_batch": self._issue_batch,
            "transfer": self._transfer,
            "retire": self._retire,
            "cancel": self._cancel,
            "freeze_account": self._freeze,
            "unfreeze_account": self._unfreeze,
        }[op]
        try:
            handler(signer, f)
        except Refused as refused:
            return refused.reason
        return None

    def _issue_batch(self, signer: str, f: Fields) -> None:
        check(self.roles[signer] == "registry", Reason.role_not_permitted)
        check(f["batch"] not in self.batches, Reason.batch_exists)
        check(f["kind"] in SCHEME_HOLDERS[f["scheme"]], Reason.kind_not_in_scheme)
        account = self._account(f["account"])
        check(not account.frozen, Reason.account_frozen)
        self._check_may_hold(account, f["scheme"], f["kind"])
        units = {serial: (f["account"], TRADABLE) for serial in range(1, f["quantity"] + 1)}
        self.batches[f["batch"]] = Batch(f["scheme"], f["kind"], f["quantity"], units)

    def _transfer(self, signer: str, f: Fields) -> None:
        source = self._account(f["fromAccount"])
        destination = self._account(f["toAccount"])
        self._check_holder(signer, source)
        check(not source.frozen, Reason.account_frozen)
        check(not destination.frozen, Reason.account_frozen)
        batch = self._batch(f["batch"])
        self._check_may_hold(destination, batch.scheme, batch.kind)
        for serial in self._select(batch, f["fromAccount"], f):
            batch.units[serial] = (f["toAccount"], TRADABLE)

    def _retire(self, signer: str, f: Fields) -> None:
        account = self._account(f["account"])
        self._check_holder(signer, account)
        check(not account.frozen, Reason.account_frozen)
        batch = self._batch(f["batch"])
        for serial in self._select(batch, f["account"], f):
            batch.units[serial] = (f["account"], RETIRED)

    def _cancel(self, signer: str, f: Fields) -> None:
        # The registry's own act: a frozen account does not stop it.
        check(self.roles[signer] == "registry", Reason.role_not_permitted)
        self._account(f["account"])
        batch = self._batch(f["batch"])
        for serial in self._select(batch, f["account"], f):
            batch.units[serial] = (f["account"], CANCELLED)

    def _freeze(self, signer: str, f: Fields) -> None:
        check(self.roles[signer] == "registry", Reason.role_not_permitted)
        account = self._account(f["account"])
        check(not account.frozen, Reason.account_already_frozen)
        account.frozen = True

    def _unfreeze(self, signer: str, f: Fields) -> None:
        check(self.roles[signer] == "registry", Reason.role_not_permitted)
        account = self._account(f["account"])
        check(account.frozen, Reason.account_not_frozen)
        account.frozen = False

    # --- the checklist's lines --------------------------------------------------------------

    def _account(self, account_id: str) -> Account:
        check(account_id in self.accounts, Reason.unknown_account)
        return self.accounts[account_id]

    def _batch(self, batch_id: str) -> Batch:
        check(batch_id in self.batches, Reason.unknown_batch)
        return self.batches[batch_id]

    def _check_holder(self, signer: str, account: Account) -> None:
        check(signer == account.owner, Reason.not_account_holder)
        check(self.roles[signer] in HOLDING_ROLES, Reason.role_not_permitted)

    def _check_may_hold(self, account: Account, scheme: str, kind: str) -> None:
        check(not (account.type == "individual" and kind == "allowance"),
              Reason.individual_cannot_hold_allowances)
        check(account.type in SCHEME_HOLDERS[scheme][kind], Reason.account_type_cannot_hold)

    def _select(self, batch: Batch, account: str, f: Fields) -> list[int]:
        """The serials an instruction names: its range, or the account's lowest tradable ones."""
        first, last = f["serialFirst"], f["serialLast"]
        if first:
            check(1 <= first <= last <= batch.quantity, Reason.serial_range_outside_batch)
            for serial in range(first, last + 1):
                holder, state = batch.units[serial]
                check(holder == account, Reason.serials_not_held)
                check(state == TRADABLE, Reason.serials_not_tradable)
            return list(range(first, last + 1))
        mine = self.tradable_serials(account, batch)
        check(len(mine) >= f["quantity"], Reason.insufficient_tradable)
        return mine[: f["quantity"]]

    # --- what the test compares -------------------------------------------------------------

    def tradable_serials(self, account: str, batch: Batch) -> list[int]:
        return [serial for serial in sorted(batch.units)
                if batch.units[serial] == (account, TRADABLE)]

    def holdings(self) -> dict[tuple[str, str], dict[str, int]]:
        """(account, batch) -> units per state, for every pair holding anything."""
        counts: Counter[tuple[str, str, str]] = Counter(
            (account, batch_id, state)
            for batch_id, batch in self.batches.items()
            for account, state in batch.units.values()
        )
        result: dict[tuple[str, str], dict[str, int]] = {}
        for (account, batch_id, state), quantity in counts.items():
            result.setdefault((account, batch_id), dict.fromkeys(STATES, 0))[state] = quantity
        return result
