"""Auditing a document: `verify_document` and `carbonledger verify-document FILE BUNDLE.json`
hold a file to the SHA-256 a journaled monthly_submit commits to, under a checkpoint signed by
the trusted operator key. The exact file passes; a file changed by one byte fails (exit 1),
as does a bundle of another entry or kind, and one checked against another operator key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.verify_document import NotTheDocument, verify_document
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer
from api.cli import main
from api.exit_codes import ExitCode
from compliance.monthly_document import read_monthly_document
from custody.signatures import address_of
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.compliance.helpers import line, move_clock_to
from tests.world import World

DOCUMENT = json.dumps({"installation": "HN-1", "month": "2025-01", "lines": [
    line("1234.5", "2.6604", factor_unit="tCO2/t", instrument="FLOW-1"),
    line("100", "56.1", unit="GJ", factor_unit="kgCO2/GJ", source="diesel")]},
    indent=2).encode()


@dataclass
class Journaled:
    """A monthly document, the seq of the monthly_submit that journaled it, and the ledger
    with a checkpoint signed over that entry."""

    world: World
    seq: int
    prover: Prover

    def bundle(self, seq: int | None = None) -> dict[str, Any]:
        # as a file would give it back: plain JSON
        return json.loads(json.dumps(self.prover.entry(self.seq if seq is None else seq)))


OPERATOR = address_of(OPERATOR_KEY)


@pytest.fixture
def journaled(market: World) -> Journaled:
    move_clock_to(market, date(2025, 2, 3))
    document = read_monthly_document(DOCUMENT, "json")
    receipt = market.by("huaneng", "monthly_submit", submission="HN-1:2025-01",
                        supersedes="", **document.instruction_fields())
    checkpointer = Checkpointer(market.ledger, OPERATOR_KEY)
    checkpointer.cut()
    return Journaled(market, receipt.seq, Prover(market.store, checkpointer.state))


def changed_by_one_byte(data: bytes) -> bytes:
    at = data.index(b"1234.5")
    return data[:at] + b"2" + data[at + 1:]


def test_the_exact_document_is_the_journaled_one(journaled: Journaled) -> None:
    checked = verify_document(journaled.bundle(), DOCUMENT, OPERATOR)
    assert checked.seq == journaled.seq and checked.op == "monthly_submit"
    assert checked.sha256 == read_monthly_document(DOCUMENT, "json").document_hash
    assert "is exactly the document journal entry" in checked.statement
    assert checked.verified.kind == "entry"


def test_a_document_changed_by_one_byte_is_not(journaled: Journaled) -> None:
    changed = changed_by_one_byte(DOCUMENT)
    assert len(changed) == len(DOCUMENT)
    with pytest.raises(NotTheDocument, match=r"the file is not the journaled document: its "
                                             r"SHA-256 is 0x[0-9a-f]{64}, the entry commits "
                                             r"to 0x[0-9a-f]{64}") as caught:
        verify_document(journaled.bundle(), changed, OPERATOR)
    assert caught.value.code is VerifyFailure.wrong_subject


def test_an_entry_that_journals_no_document_proves_none(journaled: Journaled) -> None:
    with pytest.raises(NotTheDocument, match=r"journal entry 0 \(genesis\) journals no "
                                             "document"):
        verify_document(journaled.bundle(0), DOCUMENT, OPERATOR)


def test_a_bundle_of_another_kind_proves_no_document(journaled: Journaled) -> None:
    bundle = json.loads(json.dumps(journaled.prover.account("HN")))
    with pytest.raises(NotTheDocument, match="not a journal entry"):
        verify_document(bundle, DOCUMENT, OPERATOR)


def test_the_bundle_is_verified_first(journaled: Journaled) -> None:
    with pytest.raises(VerificationFailed) as caught:
        verify_document(journaled.bundle(), DOCUMENT, address_of(b"\x01" * 32))
    assert caught.value.code is VerifyFailure.untrusted_operator
    altered = journaled.bundle()
    altered["entry"] = altered["entry"].replace('"HN-1"', '"HN-2"', 1)
    with pytest.raises(VerificationFailed) as caught:
        verify_document(altered, DOCUMENT, OPERATOR)
    assert caught.value.code is VerifyFailure.log_proof_failed


# --- the command --------------------------------------------------------------------------

def run(tmp_path: Path, document: bytes, bundle: Any, *options: str) -> Any:
    (tmp_path / "2025-01.json").write_bytes(document)
    (tmp_path / "bundle.json").write_text(bundle if isinstance(bundle, str)
                                          else json.dumps(bundle))
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path / "nowhere"), "verify-document",
                                     str(tmp_path / "2025-01.json"),
                                     str(tmp_path / "bundle.json"), *options])


def test_the_command_passes_the_exact_file(journaled: Journaled, tmp_path: Path) -> None:
    result = run(tmp_path, DOCUMENT, journaled.bundle(), "--operator-key", OPERATOR)
    assert result.exit_code == 0, result.output
    assert "DOCUMENT VERIFIED: the file" in result.output
    assert f"journal entry {journaled.seq} (monthly_submit)" in result.output
    assert "VERIFIED: journal entry" in result.output
    assert "none in the bundle" in result.output  # not anchored: said, not hidden


def test_the_command_fails_a_file_changed_by_one_byte(journaled: Journaled,
                                                      tmp_path: Path) -> None:
    result = run(tmp_path, changed_by_one_byte(DOCUMENT), journaled.bundle(),
                 "--operator-key", OPERATOR)
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert "NOT VERIFIED: (wrong_subject) the file is not the journaled document" \
        in result.output
    assert "Traceback" not in result.output


def test_the_command_says_what_cannot_be_read(journaled: Journaled, tmp_path: Path) -> None:
    result = run(tmp_path, DOCUMENT, "{not json", "--operator-key", OPERATOR)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "NOT VERIFIED: the bundle cannot be read" in result.output
    missing = CliRunner().invoke(main, ["verify-document", str(tmp_path / "absent.json"),
                                        str(tmp_path / "bundle.json"),
                                        "--operator-key", OPERATOR])
    assert missing.exit_code == ExitCode.USAGE and "Traceback" not in missing.output
    unnamed = run(tmp_path, DOCUMENT, journaled.bundle())
    assert unnamed.exit_code == ExitCode.USAGE and "--operator-key" in unnamed.output
