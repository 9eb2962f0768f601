"""`carbonledger demo`: the registry's story on a fresh SQLite ledger, printed as it happens."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from api.bootstrap import init_ledger, open_ledger, registry_wallet
from api.demo_auditor import tell_auditor_story
from api.demo_bank import run_bank_story
from custody.keystore import new_private_key
from ledger.client import Wallet, new_instruction
from ledger.engine import Ledger
from ledger.errors import Rejected
from ledger.instructions import Instruction, SignedInstruction, make_domain
from ledger.invariants import check_invariants
from ledger.modules import OperationSet
from ledger.replay import replay_check

DEMO_PASSWORD = "demo-password"  # demo keystores only: a fixed password and a light scrypt cost
Say = Callable[[str], None]


class DemoError(RuntimeError):
    pass


def run_demo(data_dir: Path, say: Say = print) -> None:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    say(f"carbonledger demo — a fresh ledger in {data_dir} (SQLite)\n")
    config, genesis = init_ledger(data_dir, registry="MEE", registry_name=(
        "National carbon emissions registry"), password=DEMO_PASSWORD, scrypt_n=2**12)
    say(f"1. The registry MEE creates the ledger: genesis entry {genesis.seq}, "
        f"hash {genesis.entry_hash[:18]}…, rules for CN-ETS, CCER and CN-GD recorded in it.")
    ledger = open_ledger(config)
    registry = registry_wallet(config, data_dir, DEMO_PASSWORD)
    domain = make_domain(config.chain_id)
    wallets = {name: Wallet(new_private_key(), domain) for name in
               ("huaneng", "baowu", "windfarm", "li")}

    def submit(signed: SignedInstruction) -> int:
        return ledger.submit(signed).seq

    onboard = [("huaneng", "Huaneng Power (key emitter)", "emitter", "HN-C", "compliance"),
               ("baowu", "Baowu Steel (key emitter)", "emitter", "BW-C", "compliance"),
               ("windfarm", "Gansu Wind Farm Co. (project owner)", "project_owner", "GW-T",
                "trading"),
               ("li", "Li Wei (individual)", "individual", "LI-I", "individual")]
    for participant, name, role, account, account_type in onboard:
        submit(registry.sign(ledger.operations.instruction(
            "register_participant", participant=participant, name=name, role=role)))
        submit(registry.sign(ledger.operations.instruction(
            "register_key", participant=participant, key=wallets[participant].address)))
        submit(registry.sign(new_instruction(ledger.operations, "open_account", account=account,
                                             participant=participant, accountType=account_type)))
    say("2. It registers two key emitters, a wind-farm project owner and an individual, each "
        "with its own signing key and an account.")

    submit(registry.sign(_issue(ledger.operations, "HN01", "HN-C", 120_000)))
    submit(registry.sign(_issue(ledger.operations, "BW01", "BW-C", 80_000)))
    submit(registry.sign(new_instruction(ledger.operations,
        "issue_batch", batch="GW01", scheme="CCER", kind="credit", vintage=2024,
        project="Gansu Guazhou 200 MW wind farm", monitoringStart="2024-01-01",
        monitoringEnd="2024-12-31", issuance="credit_issuance", quantity=50_000,
        account="GW-T")))
    say("3. Free allocation of 2025 allowances: 120,000 t to Huaneng, 80,000 t to Baowu; "
        "50,000 t of CCER credits issued to the wind farm (serials CCER-2024-GW01-1..50000).")

    seq = submit(wallets["huaneng"].sign(new_instruction(ledger.operations,
        "transfer", fromAccount="HN-C", toAccount="BW-C", batch="HN01", quantity=15_000)))
    say(f"4. Huaneng sells 15,000 t of allowances to Baowu (entry {seq}: oldest serials "
        "first, 1..15000 move, the rest stay).")
    seq = submit(wallets["windfarm"].sign(new_instruction(ledger.operations,
        "transfer", fromAccount="GW-T", toAccount="BW-C", batch="GW01",
        quantity=10_000)))
    submit(wallets["windfarm"].sign(new_instruction(ledger.operations,
        "transfer", fromAccount="GW-T", toAccount="LI-I", batch="GW01", quantity=10,
        serialFirst=40_001, serialLast=40_010)))
    say(f"5. The wind farm sells 10,000 t of credits to Baowu (entry {seq}) and serials "
        "40001..40010 to Li Wei.")
    seq = submit(wallets["li"].sign(new_instruction(ledger.operations,
        "retire", account="LI-I", batch="GW01", quantity=10,
        beneficiary="Li Wei", reason="voluntary", claim="Offsets my 2025 flights")))
    seq2 = submit(wallets["baowu"].sign(new_instruction(ledger.operations,
        "retire", account="BW-C", batch="GW01", quantity=2_000,
        beneficiary="Baowu Steel", reason="voluntary", claim="2025 product carbon claim")))
    say(f"6. Li Wei retires his 10 t (entry {seq}); Baowu retires 2,000 t of credits "
        f"(entry {seq2}). Retired units can never move again.")

    refusals = [
        ("Baowu tries to move Huaneng's allowances",
         wallets["baowu"].sign(new_instruction(ledger.operations,
             "transfer", fromAccount="HN-C", toAccount="BW-C", batch="HN01",
             quantity=1_000))),
        ("Huaneng tries to sell allowances to an individual",
         wallets["huaneng"].sign(new_instruction(ledger.operations,
             "transfer", fromAccount="HN-C", toAccount="LI-I", batch="HN01",
             quantity=100))),
        ("Li Wei tries to transfer his retired serials",
         wallets["li"].sign(new_instruction(ledger.operations,
             "transfer", fromAccount="LI-I", toAccount="GW-T", batch="GW01",
             quantity=10, serialFirst=40_001, serialLast=40_010))),
    ]
    say("7. Forbidden actions are refused, with a named reason, and change nothing:")
    for story, signed in refusals:
        try:
            ledger.submit(signed)
        except Rejected as refused:
            say(f"   - {story}: refused, {refused.reason.name} — {refused.reason.message}.")
        else:
            raise DemoError(f"{story} was accepted")

    say("8. Holdings now (t):")
    _print_holdings(ledger, say)
    problems = check_invariants(ledger.store)
    if problems:
        raise DemoError("invariants broken: " + "; ".join(problems))
    report = replay_check(ledger.store, ledger.operations)
    if not report.ok:
        raise DemoError(f"replay --check failed: {report.first_difference}")
    say(f"9. replay --check: {report.entries} journal entries replayed from scratch, every "
        f"signature re-verified, every table identical ({report.elapsed_s:.2f} s). "
        "Supply per batch and the lot partition hold.")
    ledger.store.dispose()
    tell_auditor_story(data_dir, DEMO_PASSWORD, say)
    run_bank_story(data_dir, DEMO_PASSWORD, wallets, say)


def _issue(operations: OperationSet, batch: str, account: str, quantity: int) -> Instruction:
    return new_instruction(operations, "issue_batch", batch=batch, scheme="CN-ETS",
                           kind="allowance", vintage=2025, issuance="free_allocation",
                           quantity=quantity, account=account)


def _print_holdings(ledger: Ledger, say: Say) -> None:
    with ledger.store.read() as tx:
        rows = tx.all("SELECT account, batch, tradable, pledged, retired, surrendered, "
                      "cancelled FROM holdings ORDER BY account, batch")
    say(f"   {'account':<7} {'batch':<14} {'tradable':>9} {'retired':>8}")
    for account, batch, tradable, _pledged, retired, _surrendered, _cancelled in rows:
        if tradable or retired:
            say(f"   {account:<7} {batch:<14} {tradable:>9,} {retired:>8,}")
