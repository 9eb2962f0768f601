"""The demo's bank story: a bank lends to an emitter against its allowances, and can prove it.

A pledge registered by both parties, a transfer of pledged units refused, a partial release,
enforcement once the loan matured unpaid, a repo opened and closed, and the bank's evidence
pack — cut a checkpoint, build the pack, verify it against the operator's key.

Maturity has to pass for the enforcement, and a demo must not wait 90 days: this story builds
the application on the same data directory with a FixedClock that starts at the real time and
is moved on explicitly, so every date in the journal is what the ledger's clock said when it
accepted the entry (as in the tests; the rules never read the wall clock). Like any user's
code, it goes through the application service only.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from api.bootstrap import build, registry_wallet
from api.config import load_config
from api.service import LedgerService
from custody.keystore import new_private_key
from ledger.client import Wallet
from ledger.clock import FixedClock, utc_now
from ledger.errors import Rejected
from ledger.instructions import SignedInstruction, make_domain
from ledger.journal import Receipt
from ledger.schemes.calendar import MarketCalendar

Say = Callable[[str], None]

PLEDGE_ID = "ICBC-P1"
REPO_ID = "ICBC-R1"
BEIJING = MarketCalendar(utc_offset_minutes=480)  # the market day of CN-ETS dates
TERM_DAYS = 90
VALIDITY_S = 600  # instruction deadlines, from the story's clock


class BankStoryError(RuntimeError):
    """The bank's story did not go as told: the ledger accepted or refused something the story
    did not expect. The message names the step."""


@dataclass
class _Bank:
    """The story's application service, on its own clock, and the parties' wallets."""

    service: LedgerService
    clock: FixedClock
    wallets: dict[str, Wallet]

    def submit(self, signers: tuple[str, ...], op: str, **fields: Any) -> Receipt:
        try:
            return self.service.submit(self._signed(signers, op, fields).as_json())
        except Rejected as refused:
            raise BankStoryError(f"{op} by {', '.join(signers)} was refused: {refused}") \
                from refused

    def refused(self, signers: tuple[str, ...], op: str, **fields: Any) -> Rejected:
        try:
            self.service.submit(self._signed(signers, op, fields).as_json())
        except Rejected as refused:
            return refused
        raise BankStoryError(f"{op} by {', '.join(signers)} was accepted; the story expects "
                             "a refusal")

    def _signed(self, signers: tuple[str, ...], op: str,
                fields: dict[str, Any]) -> SignedInstruction:
        """Each signer approves the same instruction, in turn (Wallet.cosign)."""
        instruction = self.service.operations.instruction(
            op, deadline=int(self.clock().timestamp()) + VALIDITY_S, **fields)
        first, *others = signers
        signed = self.wallets[first].sign(instruction)
        for other in others:
            signed = self.wallets[other].cosign(signed)
        return signed


def _serials(receipt: Receipt, **match: Any) -> list[tuple[int, int]]:
    """The serial ranges of the lots an entry created or changed that match, e.g. lien="P1"."""
    lots = [*receipt.effects["created"], *receipt.effects["updated"]]
    return sorted((lot["first"], lot["last"]) for lot in lots
                  if all(lot[name] == value for name, value in match.items()))


def _words(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(f"{first}..{last}" for first, last in ranges)


def run_bank_story(data_dir: Path, password: str, wallets: Mapping[str, Wallet],
                   say: Say) -> None:
    """Tell the story on the demo's ledger in `data_dir`, after the stories before it:
    `wallets` are the demo's participants' (huaneng and baowu sign here). Nonces continue from
    the journal, whoever signed last."""
    config = load_config(data_dir)
    clock = FixedClock(utc_now())
    with build(config, data_dir, password=lambda: password, clock=clock) as app:
        signers = {**wallets, "registry": registry_wallet(config, data_dir, password),
                   "icbc": Wallet(new_private_key(), make_domain(config.chain_id))}
        for wallet in signers.values():  # a key's nonces only increase: continue after the
            # last one the journal saw, whoever signed last
            wallet.nonce = max(wallet.nonce, app.service.last_nonce(wallet.address))
        _story(_Bank(app.service, clock, signers), data_dir, say)


def _story(bank: _Bank, data_dir: Path, say: Say) -> None:
    clock = bank.clock
    today = BEIJING.market_day(clock())
    maturity = today + timedelta(days=TERM_DAYS)
    say("\nThe bank's story — ICBC lends to Huaneng against its allowances. From here the "
        "ledger runs on a clock the demo moves, so a loan falls due without waiting.")

    bank.submit(("registry",), "register_participant", participant="icbc",
                name="Industrial and Commercial Bank of China", role="bank")
    bank.submit(("registry",), "register_key", participant="icbc",
                key=bank.wallets["icbc"].address)
    bank.submit(("registry",), "open_account", account="ICBC-T", participant="icbc",
                accountType="trading")
    registered = bank.submit(("huaneng", "icbc"), "pledge_register", pledge=PLEDGE_ID,
                             account="HN-C", pledgee="icbc", batch="HN01", quantity=30_000,
                             serialFirst=0, serialLast=0, loanReference="ICBC-SZ-2026-0042",
                             principal=12_000_000_00, currency="CNY",
                             startDate=today.isoformat(), maturityDate=maturity.isoformat())
    pledged = _serials(registered, lien=PLEDGE_ID)
    say(f"a. The registry admits ICBC, a bank. Huaneng and ICBC both sign pledge {PLEDGE_ID} "
        f"(entry {registered.seq}): 30,000 t of HN01, serials {_words(pledged)}, secure a "
        f"CNY 12,000,000.00 loan maturing {maturity}.")

    first = pledged[0][0]
    refused = bank.refused(("huaneng",), "transfer", fromAccount="HN-C", toAccount="BW-C",
                           batch="HN01", quantity=1_000, serialFirst=first,
                           serialLast=first + 999)
    say(f"b. Huaneng tries to sell pledged serials {first}..{first + 999} to Baowu: refused, "
        f"{refused.reason.name} — {refused.reason.message}.")

    released = bank.submit(("icbc",), "pledge_release", pledge=PLEDGE_ID, quantity=10_000)
    say(f"c. Part of the loan is repaid: ICBC releases 10,000 t (entry {released.seq}); "
        f"serials {_words(_serials(released, lien=None))} are Huaneng's to trade again, "
        "20,000 t stay pledged.")

    repurchase = today + timedelta(days=30)
    opened = bank.submit(("baowu", "icbc"), "repo_open", repo=REPO_ID, sellerAccount="BW-C",
                         buyerAccount="ICBC-T", batch="BW01", quantity=10_000,
                         purchasePrice=800_000_00, repurchasePrice=806_000_00,
                         currency="CNY", repurchaseDate=repurchase.isoformat(),
                         freeUse=False).seq
    clock.advance(days=29)
    closed = bank.submit(("baowu", "icbc"), "repo_close", repo=REPO_ID, quantity=10_000).seq
    say(f"d. Baowu sells ICBC 10,000 t of BW01 in repo {REPO_ID} for CNY 800,000.00, to buy "
        f"them back by {repurchase} for CNY 806,000.00 (entry {opened}); they sit in ICBC's "
        f"account under the repo's lien. 29 days later Baowu repurchases them (entry "
        f"{closed}).")

    clock.advance(days=TERM_DAYS - 29 + 1)
    seq = bank.submit(("icbc",), "pledge_enforce", pledge=PLEDGE_ID, quantity=15_000,
                      toAccount="ICBC-T").seq
    say(f"e. The clock moves to {BEIJING.market_day(clock())}: the loan matured unpaid. ICBC "
        f"enforces 15,000 t into its account ICBC-T (entry {seq}); 5,000 t stay pledged.")

    problems = bank.service.check_invariants()
    if problems:
        raise BankStoryError("invariants broken: " + "; ".join(problems))
    _evidence_pack(bank, data_dir, say)


def _evidence_pack(bank: _Bank, data_dir: Path, say: Say) -> None:
    """Cut a checkpoint, build ICBC's evidence pack, verify it with the operator's key."""
    service = bank.service
    checkpoint = service.cut_checkpoint()
    assert checkpoint is not None, "a cut that is not `if_due` always cuts"
    if service.operator is None:
        raise BankStoryError(f"{data_dir} has no operator key to check the pack with")
    path = data_dir / f"evidence-{PLEDGE_ID}.json"
    path.write_text(json.dumps(service.prove("pledge", PLEDGE_ID), indent=2) + "\n")
    statement = service.verify(json.loads(path.read_text())).statement
    say(f"f. The operator cuts checkpoint {checkpoint.number}. ICBC's evidence pack for "
        f"{PLEDGE_ID} ({path.name}) is checked against operator key {service.operator}:")
    say(textwrap.fill(f"VERIFIED: {statement}.", width=96, initial_indent="   ",
                      subsequent_indent="   "))
    say(f"   Anyone can check it again offline: carbonledger --data-dir {data_dir} verify "
        f"{path}")

