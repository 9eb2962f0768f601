"""A CCER project end to end, on the embedded chain: methodology → registration → validation →
two monitoring periods → issuance → transfer → retirement for a claim with its certificate →
the retirement's provenance proof verified against the chain, and the certificate read back
(its QR code and text) to the same entry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from eth_account import Account

from anchoring.auditor.merkle import leaf_hash
from anchoring.operator.bundles import Prover
from anchoring.operator.chain import EmbeddedChain, deploy_registry
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.project_evidence import prove_retirement
from anchoring.operator.worker import AnchoringWorker, AnchorTarget
from anchoring.verify_chain import verify_bundle_on_chain
from custody.signatures import address_of
from ledger.clock import FixedClock
from ledger.store.database import Store
from projects.certificate import certificate_pdf, retirement_facts, verification_code
from projects.certificate_reading import differences, read_certificate
from projects.reasons import ProjectReason
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.projects.helpers import (
    issue,
    move_clock_to,
    project_world,
    report_period,
    row,
    verify_period,
)

OPERATOR = address_of(OPERATOR_KEY)


def test_a_project_from_its_methodology_to_a_certificate_checked_on_chain(
        sqlite_store: Store, clock: FixedClock, tmp_path: Path) -> None:
    world = project_world(sqlite_store, clock)  # CM-001-V01 → GANSU-WIND validated, registered
    world.participant("li", "individual", "LI", "individual")

    move_clock_to(world, date(2025, 1, 10))
    report_period(world, "P2024A", "2024-01-01", "2024-06-30", 26_000)
    report_period(world, "P2024B", "2024-07-01", "2024-12-31", 27_000)
    verify_period(world, "P2024A", 25_500)
    verify_period(world, "P2024B", 26_000)
    issue(world, "GW24A", "P2024A", 25_500)
    world.refused(ProjectReason.period_already_issued, "registry", "ccer_issue", batch="GW24X",
                  project="GANSU-WIND", period="P2024A", quantity=1, account="GW")
    world.refused(ProjectReason.exceeds_verified, "registry", "ccer_issue", batch="GW24B",
                  project="GANSU-WIND", period="P2024B", quantity=26_001, account="GW")
    issue(world, "GW24B", "P2024B", 26_000)
    assert row(world, "monitoring_periods", "GANSU-WIND", "P2024B")["issued_t"] == 26_000

    world.by("windfarm", "transfer", fromAccount="GW", toAccount="LI", batch="GW24B",
             quantity=40, serialFirst=101, serialLast=140)
    retired = world.by("li", "claim_retire", retirement="R-LI-1", account="LI", batch="GW24B",
                       quantity=30, serialFirst=0, serialLast=0, beneficiary="Li Wei",
                       purpose="event", subject="SZ-MARATHON-2025", periodStart="2025-02-16",
                       periodEnd="2025-02-16", claim="my marathon's travel, offset")
    world.assert_invariants()

    clock.advance(seconds=30)
    Checkpointer(world.ledger, OPERATOR_KEY).cut()
    chain = EmbeddedChain()
    _, deployment = deploy_registry(chain, owner=Account.create().address)
    AnchoringWorker(world.store, lambda: chain,
                    AnchorTarget(chain.chain_id, deployment.registry, deployment.block_number),
                    operator=OPERATOR).anchor_pending()

    bundle = prove_retirement(Prover(world.store), "R-LI-1")
    on_chain = verify_bundle_on_chain(bundle, OPERATOR, chain.w3,
                                      registry=deployment.registry, chain_id=chain.chain_id)
    assert on_chain.confirmed
    statement = on_chain.verified.statement
    for told in ("retired 30 t of batch GW24B (serials 101..130)", "'Li Wei'",
                 "period P2024B", "project GANSU-WIND", "methodology CM-001-V01",
                 "verified at 26000 t"):
        assert told in statement, (told, statement)

    pdf = certificate_pdf(bundle, statement)
    read = read_certificate(pdf)
    with world.store.read() as tx:
        (entry,) = tx.journal_rows(retired.seq, retired.seq + 1)
    leaf = leaf_hash(entry.entry)
    assert (read.link.entry, read.link.leaf, read.link.operator) == \
        (retired.seq, leaf.hex(), OPERATOR)
    assert read.link.code == verification_code(leaf)
    assert differences(read, retirement_facts(bundle)) == []
    assert "Li Wei" in read.text and "SZ-MARATHON-2025" in read.text
