"""`carbonledger project submit --pdd FILE` stores the design document as it is before it
signs the instruction that journals its hash, so the journaled pddHash names a document
anyone can fetch (`carbonledger document public`); a document that cannot be stored is not
journaled either."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.bootstrap import build
from api.cli import main
from api.config import load_config
from projects.public_documents import MAX_PUBLIC_DOCUMENT_BYTES
from tests.api.uvicorn_thread import served_in_thread

PASSWORD = "correct horse"
SUBMIT = ("project", "submit", "GANSU-WIND", "--owner", "windfarm", "--methodology",
          "CM-001-V01", "--title", "Gansu Guazhou 200 MW wind farm", "--location",
          "Guazhou, Gansu", "--start", "2023-06-01", "--crediting", "2024-01-01..2033-12-31",
          "--expected", "3200000", "--as", "windfarm")


class Cli:
    """`carbonledger` on one data directory, or against a server (--server)."""

    def __init__(self, data_dir: Path, server: str | None = None) -> None:
        self.data_dir, self.server = data_dir, server

    def run(self, code: int, *args: str) -> str:
        server = ["--server", self.server] if self.server else []
        result = CliRunner().invoke(main, ["--data-dir", str(self.data_dir), *server, *args])
        assert result.exit_code == code, f"{args}: exit {result.exit_code}: {result.output}"
        return result.output


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """A ledger whose registry published CM-001-V01 and admitted windfarm, a project owner
    with a key of its own."""
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", PASSWORD)
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.delenv("CARBONLEDGER_SERVER", raising=False)
    cli = Cli(tmp_path / "ledger")
    cli.run(0, "init")
    cli.run(0, "key", "new", "--name", "windfarm")
    cli.run(0, "participant", "register", "windfarm", "--name", "Gansu Wind",
            "--role", "project_owner", "--as", "registry")
    cli.run(0, "participant", "add-key", "windfarm", "windfarm", "--as", "registry")
    cli.run(0, "methodology", "publish", "CM-001-V01", "--version", "1.0", "--sector",
            "energy", "--title", "Grid-connected renewable electricity", "--applicability",
            "wind and solar plants", "--valid-from", "2024-01-01", "--as", "registry")
    return cli


@pytest.fixture(params=["local", "server"])
def submitter(request: pytest.FixtureRequest, cli: Cli) -> Iterator[Cli]:
    """The commands on the data directory, or against it served over HTTP (the PDD is then
    uploaded logged in as the signer)."""
    if request.param == "local":
        yield cli
        return
    with build(load_config(cli.data_dir), cli.data_dir, password=lambda: PASSWORD) as app, \
            served_in_thread(app.service) as url:
        yield Cli(cli.data_dir, server=url)


def test_submit_stores_the_pdd_that_the_journaled_hash_names(submitter: Cli,
                                                            tmp_path: Path) -> None:
    cli = submitter
    pdd = tmp_path / "GANSU-WIND-pdd.pdf"
    pdd.write_bytes(b"%PDF-1.7\nProject design document: Gansu Guazhou 200 MW wind farm\n")
    assert "project_submit accepted" in cli.run(0, *SUBMIT, "--pdd", str(pdd))

    journaled = json.loads(cli.run(0, "show", "project", "GANSU-WIND", "--json"))
    pdd_hash = journaled["project"]["pdd_hash"]
    assert pdd_hash == "0x" + hashlib.sha256(pdd.read_bytes()).hexdigest()
    fetched = tmp_path / "fetched.pdf"
    assert pdd_hash in cli.run(0, "document", "public", pdd_hash, "--out", str(fetched))
    assert fetched.read_bytes() == pdd.read_bytes()
    with build(load_config(cli.data_dir), cli.data_dir, password=lambda: PASSWORD) as app:
        kept = app.service.public_document(pdd_hash).described
    assert (kept.stored_by, kept.media_type) == ("windfarm", "application/pdf")

    unknown = "0x" + "00" * 32
    assert "no public document" in cli.run(1, "document", "public", unknown, "--out",
                                           str(tmp_path / "nothing"))
    assert not (tmp_path / "nothing").exists()


def test_a_pdd_that_cannot_be_stored_is_not_journaled(cli: Cli, tmp_path: Path) -> None:
    pdd = tmp_path / "huge.pdf"
    pdd.write_bytes(b"\0" * (MAX_PUBLIC_DOCUMENT_BYTES + 1))
    said = cli.run(1, *SUBMIT, "--pdd", str(pdd))
    assert f"a public document is at most {MAX_PUBLIC_DOCUMENT_BYTES} bytes" in said, said
    assert "no project GANSU-WIND" in cli.run(1, "show", "project", "GANSU-WIND")
