"""The registry's story on a fresh SQLite ledger, printed as it happens: onboarding, free
allocation and a credit issuance, trades, retirements, refusals, holdings, and a replay of the
whole journal. Written against the application service, like any user's code.

    python -m examples.registry_story [DATA_DIR]     # this story alone
    python -m examples.in_process [DATA_DIR]         # with the auditor's and the bank's
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.bootstrap import App, build, init_ledger, registry_wallet
from api.config import load_config
from custody.keystore import new_private_key
from ledger.client import Wallet
from ledger.errors import Rejected
from ledger.instructions import make_domain

DEMO_PASSWORD = "demo-password"  # demo keystores only: a fixed password and a light scrypt cost
Say = Callable[[str], None]


class StoryError(RuntimeError):
    """The story did not go as a registry must: something was accepted or lost."""


def create_ledger(data_dir: Path, say: Say) -> App:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    say(f"carbonledger demo — a fresh ledger in {data_dir} (SQLite)\n")
    _, genesis = init_ledger(data_dir, registry="MEE", registry_name=(
        "National carbon emissions registry"), password=DEMO_PASSWORD, scrypt_n=2**12)
    say(f"1. The registry MEE creates the ledger: genesis entry {genesis.seq}, "
        f"hash {genesis.entry_hash[:18]}…, rules for CN-ETS, CCER and CN-GD recorded in it.")
    return build(load_config(data_dir), data_dir, password=lambda: DEMO_PASSWORD)


def tell_registry_story(app: App, say: Say = print) -> dict[str, Wallet]:
    """The registry's part; returns the participants' wallets for the stories that follow."""
    service = app.service
    registry = registry_wallet(app.config, app.data_dir, DEMO_PASSWORD)
    domain = make_domain(app.config.chain_id)
    wallets = {name: Wallet(new_private_key(), domain) for name in
               ("huaneng", "baowu", "windfarm", "li")}

    def submit(signer: Wallet, op: str, **fields: Any) -> int:
        return service.submit(signer.sign(service.operations.instruction(op, **fields))
                              .as_json()).seq

    onboard = [("huaneng", "Huaneng Power (key emitter)", "emitter", "HN-C", "compliance"),
               ("baowu", "Baowu Steel (key emitter)", "emitter", "BW-C", "compliance"),
               ("windfarm", "Gansu Wind Farm Co. (project owner)", "project_owner", "GW-T",
                "trading"),
               ("li", "Li Wei (individual)", "individual", "LI-I", "individual")]
    for participant, name, role, account, account_type in onboard:
        submit(registry, "register_participant", participant=participant, name=name,
               role=role)
        submit(registry, "register_key", participant=participant,
               key=wallets[participant].address)
        submit(registry, "open_account", account=account, participant=participant,
               accountType=account_type)
    say("2. It registers two key emitters, a wind-farm project owner and an individual, each "
        "with its own signing key and an account.")

    for batch, account, quantity in (("HN01", "HN-C", 120_000), ("BW01", "BW-C", 80_000)):
        submit(registry, "issue_batch", batch=batch, scheme="CN-ETS", kind="allowance",
               vintage=2025, issuance="free_allocation", quantity=quantity, account=account)
    # a pilot market's own offsets are issued directly; CCER only through the project cycle
    # (projects/: methodology, validation, registration, a verified monitoring period), which
    # the served demo (`make demo`) plays
    submit(registry, "issue_batch", batch="GW01", scheme="CN-GD", kind="credit", vintage=2024,
           project="Guangdong Shaoguan forest carbon sink", monitoringStart="2024-01-01",
           monitoringEnd="2024-12-31", issuance="credit_issuance", quantity=50_000,
           account="GW-T")
    say("3. Free allocation of 2025 allowances: 120,000 t to Huaneng, 80,000 t to Baowu; "
        "50,000 t of Guangdong pilot offsets (PHCER) issued to a forestry project's owner "
        "(serials CN-GD-2024-GW01-1..50000).")

    seq = submit(wallets["huaneng"], "transfer", fromAccount="HN-C", toAccount="BW-C",
                 batch="HN01", quantity=15_000)
    say(f"4. Huaneng sells 15,000 t of allowances to Baowu (entry {seq}: oldest serials "
        "first, 1..15000 move, the rest stay).")
    seq = submit(wallets["windfarm"], "transfer", fromAccount="GW-T", toAccount="BW-C",
                 batch="GW01", quantity=10_000)
    submit(wallets["windfarm"], "transfer", fromAccount="GW-T", toAccount="LI-I",
           batch="GW01", quantity=10, serialFirst=40_001, serialLast=40_010)
    say(f"5. The wind farm sells 10,000 t of credits to Baowu (entry {seq}) and serials "
        "40001..40010 to Li Wei.")
    seq = submit(wallets["li"], "retire", account="LI-I", batch="GW01", quantity=10,
                 beneficiary="Li Wei", reason="voluntary", claim="Offsets my 2025 flights")
    seq2 = submit(wallets["baowu"], "retire", account="BW-C", batch="GW01", quantity=2_000,
                  beneficiary="Baowu Steel", reason="voluntary",
                  claim="2025 product carbon claim")
    say(f"6. Li Wei retires his 10 t (entry {seq}); Baowu retires 2,000 t of credits "
        f"(entry {seq2}). Retired units can never move again.")

    refusals = [
        ("Baowu tries to move Huaneng's allowances", wallets["baowu"], dict(
            fromAccount="HN-C", toAccount="BW-C", batch="HN01", quantity=1_000)),
        ("Huaneng tries to sell allowances to an individual", wallets["huaneng"], dict(
            fromAccount="HN-C", toAccount="LI-I", batch="HN01", quantity=100)),
        ("Li Wei tries to transfer his retired serials", wallets["li"], dict(
            fromAccount="LI-I", toAccount="GW-T", batch="GW01", quantity=10,
            serialFirst=40_001, serialLast=40_010)),
    ]
    say("7. Forbidden actions are refused, with a named reason, and change nothing:")
    for story, signer, fields in refusals:
        try:
            submit(signer, "transfer", **fields)
        except Rejected as refused:
            say(f"   - {story}: refused, {refused.reason.name} — {refused.reason.message}.")
        else:
            raise StoryError(f"{story} was accepted")

    say("8. Holdings now (t):")
    say(f"   {'account':<7} {'batch':<14} {'tradable':>9} {'retired':>8}")
    for holding in service.holdings():
        if holding.tradable or holding.retired:
            say(f"   {holding.account:<7} {holding.batch:<14} {holding.tradable:>9,} "
                f"{holding.retired:>8,}")
    problems = service.check_invariants()
    if problems:
        raise StoryError("invariants broken: " + "; ".join(problems))
    report = service.replay_check()
    if not report.ok:
        raise StoryError(f"replay --check failed: {report.first_difference}")
    say(f"9. replay --check: {report.entries} journal entries replayed from scratch, every "
        f"signature re-verified, every table identical ({report.elapsed_s:.2f} s). "
        "Supply per batch and the lot partition hold.")
    return wallets


def main(data_dir: Path) -> None:
    with create_ledger(data_dir, print) as app:
        tell_registry_story(app)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".carbonledger/demo"))
