"""Retirement certificates, read back as a person would read them: `carbonledger certificate`
writes the PDF and its bundle from a ledger that ran a project's whole cycle; the page's text
(pypdf) and its QR code (rendered by pdfium, decoded by ZXing) say what the bundle proves; and
`carbonledger verify-certificate` passes the real certificate and refuses (exit 1) one whose
bundle is another retirement's, or whose page was made again with another beneficiary."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.verify import verify_bundle
from api.bootstrap import build, init_ledger, load_operator, registry_wallet
from api.cli import main
from api.exit_codes import ExitCode
from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.journal import Receipt
from ledger.store.database import Store
from projects.certificate import (
    parse_link,
    render_certificate,
    retirement_facts,
    verification_code,
)
from projects.certificate_reading import differences, normalized, read_certificate
from tests.projects.helpers import (
    OWNER,
    OWNER_ACCOUNT,
    PROJECT,
    START,
    move_clock_to,
    publish_methodology,
    qualify,
    register_project,
)
from tests.world import CHAIN_ID, OPERATIONS, World

PASSWORD = "pw"
BATCH = "GW-2024-Q1"
BENEFICIARY = "Hangzhou Asian Games Organising Committee"
GAMES = "HZ2022-ASIAN-GAMES"


@dataclass
class Cycle:
    """A ledger in a data directory whose project went through its whole cycle, two
    retirements and checkpoint 1; `operator` signs its checkpoints."""

    data_dir: Path
    store_url: str
    operator: str
    retirements: dict[str, Receipt]


def _retire(world: World, retirement: str, quantity: int, first: int = 0,
            last: int = 0) -> Receipt:
    return world.by(OWNER, "claim_retire", retirement=retirement, account=OWNER_ACCOUNT,
                    batch=BATCH, quantity=quantity, serialFirst=first, serialLast=last,
                    beneficiary=BENEFICIARY, purpose="event", subject=GAMES,
                    periodStart="2023-09-23", periodEnd="2023-10-08",
                    claim="the Games' emissions from venues and transport, offset in full")


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    data_dir = tmp_path_factory.mktemp("certificate") / "ledger"
    clock = FixedClock(START)
    config, _ = init_ledger(data_dir, registry="registry", registry_name="Test registry",
                            password=PASSWORD, chain_id=CHAIN_ID, scrypt_n=2**4, clock=clock)
    operator = load_operator(data_dir)  # init made it
    assert operator is not None
    store = Store(config.store_url)
    registry = registry_wallet(config, data_dir, PASSWORD)
    world = World(Ledger(store, OPERATIONS, clock), clock, registry, {"registry": registry})
    world.participant(OWNER, "project_owner", OWNER_ACCOUNT, "trading")
    for verifier in ("cec", "sgs"):
        world.participant(verifier, "verifier")
        qualify(world, verifier)
    publish_methodology(world)
    register_project(world)
    move_clock_to(world, date(2024, 5, 6))
    world.by(OWNER, "monitoring_submit", project=PROJECT, period="P1", startDate="2024-01-01",
             endDate="2024-03-31", reportHash="0x" + "3e" * 32, claimedReductions=30_000)
    world.by("sgs", "monitoring_verify", project=PROJECT, period="P1", verifier="sgs",
             verifiedReductions=28_000)
    world.by("registry", "ccer_issue", batch=BATCH, project=PROJECT, period="P1",
             quantity=28_000, account=OWNER_ACCOUNT)
    retirements = {"R-1": _retire(world, "R-1", 300),
                   "R-2": _retire(world, "R-2", 200, 1_001, 1_200)}
    world.assert_invariants()
    store.dispose()
    with build(config, data_dir, password=lambda: PASSWORD) as app:
        app.service.cut_checkpoint()
    return Cycle(data_dir, config.store_url, operator.address, retirements)


def _cli(cycle: Cycle, *args: str) -> Any:
    runner = CliRunner()
    return runner.invoke(main, ["--data-dir", str(cycle.data_dir), *args],
                         env={"CARBONLEDGER_PASSWORD": PASSWORD})


def _certificate(cycle: Cycle, retirement: str, directory: Path) -> tuple[Path, Path]:
    out = directory / f"{retirement}.pdf"
    result = _cli(cycle, "certificate", retirement, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"verification code {_code_of(out.with_suffix('.json'))}" in result.output
    return out, out.with_suffix(".json")


def _code_of(bundle: Path) -> str:
    return retirement_facts(json.loads(bundle.read_text())).code


def _retirement_leaf(cycle: Cycle, retirement: str) -> bytes:
    """The leaf hash of the retirement's entry, from the journal's own bytes."""
    seq = cycle.retirements[retirement].seq
    store = Store(cycle.store_url)
    try:
        with store.read() as tx:
            entry = tx.one("SELECT entry FROM journal WHERE seq = :s", {"s": seq})
    finally:
        store.dispose()
    assert entry is not None
    return leaf_hash(bytes(entry[0]))


def test_the_certificate_states_the_retirement_and_its_qr_code_names_its_entry(
        cycle: Cycle, tmp_path: Path) -> None:
    pdf, bundle_file = _certificate(cycle, "R-1", tmp_path)
    bundle = json.loads(bundle_file.read_text())
    assert bundle["kind"] == "retirement"
    verified = verify_bundle(bundle, cycle.operator)  # `carbonledger verify` would pass it

    text = normalized(PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text())
    for stated in (f"Beneficiary: {BENEFICIARY}", "Quantity: 300 t CO2e",
                   f"Serial numbers: CCER-2024-{BATCH}-1..300", f"Batch: {BATCH}",
                   f"Project: {PROJECT}: Gansu Jiuquan wind farm, phase II (Jiuquan, Gansu), "
                   "monitoring period P1, verified by sgs", "Vintage: 2024",
                   "Methodology: CM-001-V01 (V01)",
                   f"Purpose: event: {GAMES}", "Period covered: 2023-09-23 to 2023-10-08",
                   "Claim: the Games' emissions from venues and transport, offset in full",
                   f"Retired at: {cycle.retirements['R-1'].accepted_at}",
                   f"Operator key: {cycle.operator}", "Checkpoint: 1 ("):
        assert normalized(stated) in text, stated
    assert normalized(verified.statement) in text

    link = read_certificate(pdf.read_bytes()).link
    leaf = _retirement_leaf(cycle, "R-1")
    assert link.entry == cycle.retirements["R-1"].seq
    assert link.leaf == leaf.hex()
    assert (link.checkpoint, link.operator) == (1, cycle.operator)
    assert link.code == verification_code(leaf)
    assert f"Verification code: {link.code}" in text


def test_verify_certificate_passes_the_certificate_with_its_bundle(
        cycle: Cycle, tmp_path: Path) -> None:
    pdf, bundle = _certificate(cycle, "R-1", tmp_path)
    result = _cli(cycle, "verify-certificate", str(pdf), str(bundle),
                  "--operator-key", cycle.operator)
    assert result.exit_code == 0, result.output
    assert "VERIFIED: " in result.output  # the bundle, as `verify` says it
    assert "CERTIFICATE VERIFIED: its QR code names journal entry " \
           f"{cycle.retirements['R-1'].seq}" in result.output


def test_a_certificate_with_another_retirement_s_bundle_fails(
        cycle: Cycle, tmp_path: Path) -> None:
    pdf, _ = _certificate(cycle, "R-1", tmp_path)
    _, other = _certificate(cycle, "R-2", tmp_path)
    result = _cli(cycle, "verify-certificate", str(pdf), str(other),
                  "--operator-key", cycle.operator)
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert (f"CERTIFICATE NOT VERIFIED: its QR code names entry "
            f"{cycle.retirements['R-1'].seq}, the bundle's retirement is entry "
            f"{cycle.retirements['R-2'].seq}") in result.output
    assert "Traceback" not in result.output


def test_a_certificate_made_again_with_another_beneficiary_fails(
        cycle: Cycle, tmp_path: Path) -> None:
    _, bundle_file = _certificate(cycle, "R-1", tmp_path)
    bundle = json.loads(bundle_file.read_text())
    statement = verify_bundle(bundle, cycle.operator).statement
    forged = dataclasses.replace(retirement_facts(bundle), beneficiary="Someone Else Ltd")
    pdf = tmp_path / "forged.pdf"
    pdf.write_bytes(render_certificate(forged, statement))
    assert read_certificate(pdf.read_bytes()).link == forged.link  # its QR code is the real one

    result = _cli(cycle, "verify-certificate", str(pdf), str(bundle_file),
                  "--operator-key", cycle.operator)
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert (f"its text does not state the bundle's beneficiary '{BENEFICIARY}': it says "
            "'Someone Else Ltd") in result.output


def test_a_certificate_checked_against_another_operator_key_fails(
        cycle: Cycle, tmp_path: Path) -> None:
    pdf, bundle = _certificate(cycle, "R-1", tmp_path)
    result = _cli(cycle, "verify-certificate", str(pdf), str(bundle),
                  "--operator-key", "0x" + "12" * 20)
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert "NOT VERIFIED: (untrusted_operator)" in result.output


def test_a_file_that_is_no_certificate_fails(cycle: Cycle, tmp_path: Path) -> None:
    _, bundle = _certificate(cycle, "R-1", tmp_path)
    not_a_pdf = tmp_path / "note.pdf"
    not_a_pdf.write_bytes(b"%PDF-1.4 nothing here")
    result = _cli(cycle, "verify-certificate", str(not_a_pdf), str(bundle),
                  "--operator-key", cycle.operator)
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert "CERTIFICATE NOT VERIFIED: the certificate is not a readable PDF" in result.output
    assert "Traceback" not in result.output


def test_the_same_retirement_makes_the_same_pdf(cycle: Cycle, tmp_path: Path) -> None:
    (tmp_path / "again").mkdir()
    first, _ = _certificate(cycle, "R-2", tmp_path)
    second, _ = _certificate(cycle, "R-2", tmp_path / "again")
    assert first.read_bytes() == second.read_bytes()


# --- the verification code and the QR code's link ----------------------------------------------


@pytest.mark.parametrize("leaf", [bytes(32), b"\xff" * 32, bytes(range(32)),
                                  bytes.fromhex("9f" * 5 + "01" * 27)])
def test_the_verification_code_is_the_leaf_s_first_80_bits_in_crockford_base32(
        leaf: bytes) -> None:
    # RFC 4648 base32 of 10 bytes is 16 symbols, no padding; Crockford's alphabet differs
    rfc4648 = base64.b32encode(leaf[:10]).decode()
    crockford = rfc4648.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                                                "0123456789ABCDEFGHJKMNPQRSTVWXYZ"))
    assert verification_code(leaf) == "-".join(crockford[i:i + 4] for i in range(0, 16, 4))


def test_a_link_is_read_back_and_anything_else_is_refused() -> None:
    leaf = bytes(range(32))
    uri = ("carbonledger:retirement?entry=40&leaf=" + leaf.hex() + "&checkpoint=3&operator=0xAb"
           f"&code={verification_code(leaf)}")
    link = parse_link(uri)
    assert (link.entry, link.leaf, link.checkpoint, link.operator) == (40, leaf.hex(), 3,
                                                                       "0xAb")
    assert link.uri() == uri
    for bad in ("https://example.com/", uri + "&entry=41", uri.replace("entry=40", "entry=x"),
                uri.replace("&code=", "&kode=")):
        with pytest.raises(ValueError):
            parse_link(bad)


def test_no_certificate_of_a_retirement_the_ledger_does_not_have(cycle: Cycle,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "none.pdf"
    result = _cli(cycle, "certificate", "R-404", "--out", str(out))
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert "R-404" in result.output and "Traceback" not in result.output
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_a_beneficiary_named_in_chinese_is_stated_and_checked(cycle: Cycle,
                                                              tmp_path: Path) -> None:
    _, bundle_file = _certificate(cycle, "R-1", tmp_path)
    facts = dataclasses.replace(retirement_facts(json.loads(bundle_file.read_text())),
                                beneficiary="杭州第19届亚运会组委会")
    read = read_certificate(render_certificate(facts, "a statement"))
    assert "Beneficiary: 杭州第19届亚运会组委会" in read.text
    assert differences(read, facts) == []
