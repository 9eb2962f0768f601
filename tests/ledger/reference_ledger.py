"""A slow, obviously correct model of the ledger's units, for the stateful test.

It keeps every unit of every batch by itself (serial -> (account, state, lien)) and decides
each instruction with the plainest code that states the rules: no lots, no splitting, no caches.
Each operation is a checklist run in the order the ledger documents (shape, then authority,
then accounts, batch and holding rules, then the units; docs/pledge-and-repo.md for pledges and
repos), and the first failing line names the reason. Nothing changes unless every line passes.

Pledges and repos put units under a lien named by the agreement's id; the model knows them by
the units that carry that id, plus the few terms its checks read (parties, dates, free use).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ledger.errors import Reason, ReasonCode
from pledge.reasons import PledgeReason

TRADABLE = "tradable"
PLEDGED = "pledged"
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
# The same files' pledge and repo rules, for these three schemes: every market keeps Beijing
# time; only Guangdong ends repos with a compliance account within the compliance year, which
# ends there on 20 June. Pledges and repos involve compliance and trading accounts only; the
# minimum repo is 1 t and every repo may be closed in parts.
UTC_OFFSET = timedelta(minutes=480)
AGREEMENT_ACCOUNT_TYPES = frozenset({"compliance", "trading"})
REPO_WITHIN_COMPLIANCE_YEAR: dict[str, tuple[int, int] | None] = {
    "CN-ETS": None, "CCER": None, "CN-GD": (6, 20)}

Fields = Mapping[str, Any]
Unit = tuple[str, str, str | None]  # (account, state, lien)


class Refused(Exception):
    def __init__(self, reason: ReasonCode) -> None:
        super().__init__(reason.name)
        self.reason = reason


def check(condition: bool, reason: ReasonCode) -> None:
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
    units: dict[int, Unit]


@dataclass
class Pledge:
    pledgor: str
    pledgee: str
    account: str
    batch: str
    maturity: date
    released: int = 0
    enforced: int = 0


@dataclass
class Repo:
    seller: str
    buyer: str
    seller_account: str
    buyer_account: str
    batch: str
    repurchase: date
    free_use: bool
    quantity: int
    returned: int = 0
    status: str = "open"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.returned


class ReferenceLedger:
    def __init__(self, now: datetime) -> None:
        self.now = now  # the ledger's clock: the test moves both together
        self.roles: dict[str, str] = {}  # participant -> role
        self.accounts: dict[str, Account] = {}
        self.batches: dict[str, Batch] = {}
        self.pledges: dict[str, Pledge] = {}
        self.repos: dict[str, Repo] = {}

    # --- set-up (always accepted in the tests that use the model) -------------------------

    def register(self, participant: str, role: str) -> None:
        self.roles[participant] = role

    def open_account(self, account: str, participant: str, account_type: str) -> None:
        self.accounts[account] = Account(participant, account_type)

    # --- instructions ---------------------------------------------------------------------

    def check_shape(self, op: str, f: Fields) -> ReasonCode | None:
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

    def submit(self, signers: Sequence[str], op: str, f: Fields) -> ReasonCode | None:
        """Apply one instruction signed by `signers` (participants, in the order they signed):
        None if accepted, else why it is refused."""
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
            "pledge_register": self._pledge_register,
            "pledge_release": self._pledge_release,
            "pledge_enforce": self._pledge_enforce,
            "repo_open": self._repo_open,
            "repo_close": self._repo_close,
            "repo_default": self._repo_default,
        }[op]
        try:
            handler(signers, f)
        except Refused as refused:
            return refused.reason
        return None

    def _issue_batch(self, signers: Sequence[str], f: Fields) -> None:
        self._check_registry(signers)
        check(f["batch"] not in self.batches, Reason.batch_exists)
        check(f["kind"] in SCHEME_HOLDERS[f["scheme"]], Reason.kind_not_in_scheme)
        account = self._account(f["account"])
        check(not account.frozen, Reason.account_frozen)
        self._check_may_hold(account, f["scheme"], f["kind"])
        units: dict[int, Unit] = {serial: (f["account"], TRADABLE, None)
                                  for serial in range(1, f["quantity"] + 1)}
        self.batches[f["batch"]] = Batch(f["scheme"], f["kind"], f["quantity"], units)

    def _transfer(self, signers: Sequence[str], f: Fields) -> None:
        source = self._account(f["fromAccount"])
        destination = self._account(f["toAccount"])
        self._check_holder(signers, source)
        check(not source.frozen, Reason.account_frozen)
        check(not destination.frozen, Reason.account_frozen)
        batch = self._batch(f["batch"])
        self._check_may_hold(destination, batch.scheme, batch.kind)
        for serial in self._select(batch, f["fromAccount"], f):
            batch.units[serial] = (f["toAccount"], TRADABLE, None)

    def _retire(self, signers: Sequence[str], f: Fields) -> None:
        account = self._account(f["account"])
        self._check_holder(signers, account)
        check(not account.frozen, Reason.account_frozen)
        batch = self._batch(f["batch"])
        for serial in self._select(batch, f["account"], f):
            batch.units[serial] = (f["account"], RETIRED, None)

    def _cancel(self, signers: Sequence[str], f: Fields) -> None:
        # The registry's own act: a frozen account does not stop it; a lien does.
        self._check_registry(signers)
        self._account(f["account"])
        batch = self._batch(f["batch"])
        for serial in self._select(batch, f["account"], f):
            batch.units[serial] = (f["account"], CANCELLED, None)

    def _freeze(self, signers: Sequence[str], f: Fields) -> None:
        self._check_registry(signers)
        account = self._account(f["account"])
        check(not account.frozen, Reason.account_already_frozen)
        account.frozen = True

    def _unfreeze(self, signers: Sequence[str], f: Fields) -> None:
        self._check_registry(signers)
        account = self._account(f["account"])
        check(account.frozen, Reason.account_not_frozen)
        account.frozen = False

    # --- pledges ----------------------------------------------------------------------------

    def _pledge_register(self, signers: Sequence[str], f: Fields) -> None:
        self._check_new_agreement(f["pledge"])
        account = self._account(f["account"])
        check(account.owner in signers, Reason.not_account_holder)
        check(f["pledgee"] in self.roles, Reason.unknown_participant)
        check(self.roles[f["pledgee"]] == "bank", PledgeReason.pledgee_not_bank)
        check(f["pledgee"] != account.owner, PledgeReason.same_party)
        check(f["pledgee"] in signers, Reason.missing_signature)
        check(not account.frozen, Reason.account_frozen)
        batch = self._batch(f["batch"])
        check(account.type in AGREEMENT_ACCOUNT_TYPES, PledgeReason.account_type_cannot_pledge)
        start, maturity = date.fromisoformat(f["startDate"]), date.fromisoformat(
            f["maturityDate"])
        check(start <= maturity, PledgeReason.maturity_before_start)
        check(maturity >= self.today(), PledgeReason.maturity_passed)
        for serial in self._select(batch, f["account"], f):
            batch.units[serial] = (f["account"], PLEDGED, f["pledge"])
        self.pledges[f["pledge"]] = Pledge(account.owner, f["pledgee"], f["account"],
                                           f["batch"], maturity)

    def _pledge_release(self, signers: Sequence[str], f: Fields) -> None:
        pledge = self._pledge(signers, f, PledgeReason.release_exceeds_pledged)
        batch = self.batches[pledge.batch]
        for serial in self.under_lien(batch, f["pledge"])[: f["quantity"]]:
            batch.units[serial] = (pledge.account, TRADABLE, None)
        pledge.released += f["quantity"]

    def _pledge_enforce(self, signers: Sequence[str], f: Fields) -> None:
        pledge = self._pledge(signers, f, PledgeReason.enforce_exceeds_pledged)
        batch = self.batches[pledge.batch]
        # The registry's co-signature (a court order) allows it early, or out of a frozen
        # account.
        ordered = any(self.roles[signer] == "registry" for signer in signers)
        check(self.today() > pledge.maturity or ordered, PledgeReason.before_maturity)
        check(not self.accounts[pledge.account].frozen or ordered, Reason.account_frozen)
        destination = self._account(f["toAccount"])
        check(not destination.frozen, Reason.account_frozen)
        check(f["toAccount"] != pledge.account, Reason.same_account)
        self._check_may_hold(destination, batch.scheme, batch.kind)
        for serial in self.under_lien(batch, f["pledge"])[: f["quantity"]]:
            batch.units[serial] = (f["toAccount"], TRADABLE, None)
        pledge.enforced += f["quantity"]

    def _pledge(self, signers: Sequence[str], f: Fields, too_much: ReasonCode) -> Pledge:
        """The checks release and enforce share: the pledge, its pledgee, the quantity."""
        check(f["pledge"] in self.pledges, PledgeReason.pledge_not_found)
        pledge = self.pledges[f["pledge"]]
        check(pledge.pledgee in signers, PledgeReason.not_pledgee)
        outstanding = len(self.under_lien(self.batches[pledge.batch], f["pledge"]))
        check(outstanding > 0, PledgeReason.pledge_resolved)
        check(f["quantity"] <= outstanding, too_much)
        return pledge

    # --- repos ------------------------------------------------------------------------------

    def _repo_open(self, signers: Sequence[str], f: Fields) -> None:
        self._check_new_agreement(f["repo"])
        seller, buyer = self._account(f["sellerAccount"]), self._account(f["buyerAccount"])
        check(seller.owner in signers, Reason.not_account_holder)
        check(buyer.owner != seller.owner, PledgeReason.same_party)
        check(buyer.owner in signers, Reason.missing_signature)
        check(not seller.frozen, Reason.account_frozen)
        check(not buyer.frozen, Reason.account_frozen)
        batch = self._batch(f["batch"])
        for account in (seller, buyer):
            check(account.type in AGREEMENT_ACCOUNT_TYPES, PledgeReason.account_type_cannot_repo)
        self._check_may_hold(buyer, batch.scheme, batch.kind)
        today, repurchase = self.today(), date.fromisoformat(f["repurchaseDate"])
        check(repurchase > today, PledgeReason.repurchase_date_not_future)
        year_end = REPO_WITHIN_COMPLIANCE_YEAR[batch.scheme]
        if year_end and "compliance" in (seller.type, buyer.type):
            end = date(today.year, *year_end)
            if today > end:
                end = date(today.year + 1, *year_end)
            check(repurchase <= end, PledgeReason.beyond_compliance_year)
        mine = self.tradable_serials(f["sellerAccount"], batch)
        check(len(mine) >= f["quantity"], Reason.insufficient_tradable)
        for serial in mine[: f["quantity"]]:
            batch.units[serial] = ((f["buyerAccount"], TRADABLE, None) if f["freeUse"]
                                   else (f["buyerAccount"], PLEDGED, f["repo"]))
        self.repos[f["repo"]] = Repo(seller.owner, buyer.owner, f["sellerAccount"],
                                     f["buyerAccount"], f["batch"], repurchase, f["freeUse"],
                                     f["quantity"])

    def _repo_close(self, signers: Sequence[str], f: Fields) -> None:
        repo = self._repo(f["repo"])
        check(repo.seller in signers, Reason.missing_signature)
        check(repo.buyer in signers, Reason.missing_signature)
        check(repo.status == "open", PledgeReason.repo_resolved)
        check(self.today() <= repo.repurchase, PledgeReason.after_repurchase_date)
        check(f["quantity"] <= repo.outstanding, PledgeReason.close_exceeds_repo)
        check(not self.accounts[repo.seller_account].frozen, Reason.account_frozen)
        check(not self.accounts[repo.buyer_account].frozen, Reason.account_frozen)
        batch = self.batches[repo.batch]
        if repo.free_use:  # the same quantity of the batch, whichever serials
            returning = self.tradable_serials(repo.buyer_account, batch)
            check(len(returning) >= f["quantity"], Reason.insufficient_tradable)
        else:  # the very units under the repo's lien
            returning = self.under_lien(batch, f["repo"])
        for serial in returning[: f["quantity"]]:
            batch.units[serial] = (repo.seller_account, TRADABLE, None)
        repo.returned += f["quantity"]
        if not repo.outstanding:
            repo.status = "closed"

    def _repo_default(self, signers: Sequence[str], f: Fields) -> None:
        repo = self._repo(f["repo"])
        seller_defaulted = f["defaulter"] == "seller"
        check((repo.buyer if seller_defaulted else repo.seller) in signers,
              Reason.missing_signature)
        check(repo.status == "open", PledgeReason.repo_resolved)
        check(self.today() > repo.repurchase, PledgeReason.before_repurchase_date)
        check(seller_defaulted or repo.free_use, PledgeReason.repo_not_free_use)
        batch = self.batches[repo.batch]
        if seller_defaulted:  # the buyer keeps the units, free of the lien
            for serial in self.under_lien(batch, f["repo"]):
                batch.units[serial] = (repo.buyer_account, TRADABLE, None)
        repo.status = "seller_defaulted" if seller_defaulted else "buyer_defaulted"

    def _repo(self, repo_id: str) -> Repo:
        check(repo_id in self.repos, PledgeReason.repo_not_found)
        return self.repos[repo_id]

    # --- the checklist's lines --------------------------------------------------------------

    def today(self) -> date:
        """The market day on the ledger's clock (every scheme here keeps Beijing time)."""
        return (self.now.astimezone(UTC) + UTC_OFFSET).date()

    def _check_new_agreement(self, agreement: str) -> None:
        check(agreement not in self.pledges and agreement not in self.repos,
              PledgeReason.agreement_exists)

    def _account(self, account_id: str) -> Account:
        check(account_id in self.accounts, Reason.unknown_account)
        return self.accounts[account_id]

    def _batch(self, batch_id: str) -> Batch:
        check(batch_id in self.batches, Reason.unknown_batch)
        return self.batches[batch_id]

    def _check_registry(self, signers: Sequence[str]) -> None:
        check(any(self.roles[signer] == "registry" for signer in signers),
              Reason.role_not_permitted)

    def _check_holder(self, signers: Sequence[str], account: Account) -> None:
        check(account.owner in signers, Reason.not_account_holder)
        check(self.roles[account.owner] in HOLDING_ROLES, Reason.role_not_permitted)

    def _check_may_hold(self, account: Account, scheme: str, kind: str) -> None:
        check(not (account.type == "individual" and kind == "allowance"),
              Reason.individual_cannot_hold_allowances)
        check(account.type in SCHEME_HOLDERS[scheme][kind], Reason.account_type_cannot_hold)

    def _select(self, batch: Batch, account: str, f: Fields) -> list[int]:
        """The serials an instruction names: its range, which must be held, free of liens and
        tradable; or the account's lowest tradable ones."""
        first, last = f["serialFirst"], f["serialLast"]
        if first:
            check(1 <= first <= last <= batch.quantity, Reason.serial_range_outside_batch)
            for serial in range(first, last + 1):
                holder, state, lien = batch.units[serial]
                check(holder == account, Reason.serials_not_held)
                check(lien is None, Reason.lot_under_lien)
                check(state == TRADABLE, Reason.serials_not_tradable)
            return list(range(first, last + 1))
        mine = self.tradable_serials(account, batch)
        check(len(mine) >= f["quantity"], Reason.insufficient_tradable)
        return mine[: f["quantity"]]

    # --- what the test compares -------------------------------------------------------------

    def tradable_serials(self, account: str, batch: Batch) -> list[int]:
        return [serial for serial in sorted(batch.units)
                if batch.units[serial] == (account, TRADABLE, None)]

    def under_lien(self, batch: Batch, lien: str) -> list[int]:
        """The serials under `lien`, lowest first: the order release and enforce take them."""
        return [serial for serial in sorted(batch.units) if batch.units[serial][2] == lien]

    def holdings(self) -> dict[tuple[str, str], dict[str, int]]:
        """(account, batch) -> units per state, for every pair holding anything."""
        counts: Counter[tuple[str, str, str]] = Counter(
            (account, batch_id, state)
            for batch_id, batch in self.batches.items()
            for account, state, _ in batch.units.values()
        )
        result: dict[tuple[str, str], dict[str, int]] = {}
        for (account, batch_id, state), quantity in counts.items():
            result.setdefault((account, batch_id), dict.fromkeys(STATES, 0))[state] = quantity
        return result
