"""Only `init` creates a ledger: a deleted database file, a mistyped store URL or an empty
database is refused by every other command, by name, and nothing is created — so that lost
data never reads as "replay passed: 0 entries"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.bootstrap import build, init_ledger
from api.cli import main
from api.config import LedgerConfig, load_config
from ledger.store.database import Store, sqlite_url
from ledger.store.errors import StoreError, StoreFailure

PASSWORD = "pw"
COMMANDS = (["replay", "--check"], ["audit"], ["db", "upgrade"], ["checkpoint"],
            ["proof", "entry", "0"])


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", PASSWORD)
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    directory = tmp_path / "ledger"
    init_ledger(directory, registry="MEE", registry_name="Ministry", password=PASSWORD,
                scrypt_n=2**4)
    return directory


def _database(data: Path) -> Path:
    return Path(load_config(data).store_url.removeprefix("sqlite:///"))


def _point_at(data: Path, url: str) -> None:
    path = data / "config.json"
    config = json.loads(path.read_text())
    config["store_url"] = url
    path.write_text(json.dumps(config))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_deleted_database_file_is_refused_and_not_recreated(data: Path,
                                                             command: list[str]) -> None:
    database = _database(data)
    database.unlink()
    for leftover in database.parent.glob(database.name + "-*"):  # its WAL and shared memory
        leftover.unlink()
    result = CliRunner().invoke(main, ["--data-dir", str(data), *command])
    assert result.exit_code == 3, result.output  # the environment: no ledger there
    assert "no_ledger: the store holds no ledger" in result.output
    assert "Traceback" not in result.output
    assert not database.exists()


def test_a_mistyped_store_url_creates_nothing(data: Path, tmp_path: Path) -> None:
    typo = tmp_path / "ledger" / "ledgr.db"
    _point_at(data, sqlite_url(typo))
    instruction = tmp_path / "instruction.json"
    instruction.write_text("{}")
    result = CliRunner().invoke(main, ["--data-dir", str(data), "submit", str(instruction)])
    assert result.exit_code == 3 and "no_ledger" in result.output
    assert not typo.exists()


def test_an_empty_database_or_a_schema_without_genesis_is_no_ledger(data: Path,
                                                                    tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreError) as no_schema:
        build(LedgerConfig(sqlite_url(empty), 31337, "MEE", "keystores/MEE.json"), data)
    assert no_schema.value.code is StoreFailure.no_ledger
    migrated = tmp_path / "migrated.db"
    store = Store(sqlite_url(migrated))
    from api.bootstrap import operation_set

    store.upgrade(operation_set())
    store.dispose()
    with pytest.raises(StoreError) as no_genesis:
        build(LedgerConfig(sqlite_url(migrated), 31337, "MEE", "keystores/MEE.json"), data)
    assert no_genesis.value.code is StoreFailure.no_ledger
    assert "the journal is empty" in str(no_genesis.value)


def test_an_unreachable_database_is_one_line(data: Path) -> None:
    _point_at(data, "postgresql+psycopg://postgres@127.0.0.1:1/test")
    result = CliRunner().invoke(main, ["--data-dir", str(data), "replay", "--check"])
    assert result.exit_code == 3
    assert "unreachable: the database cannot be reached" in result.output
    assert "Traceback" not in result.output


def test_the_ledger_itself_still_opens(data: Path) -> None:
    with build(load_config(data), data) as app:
        assert app.service.head() == 0
