"""Where a ledger lives: its data directory, configuration and keystores.

The data directory (default `./.carbonledger`, or `--data-dir`, or CARBONLEDGER_DATA_DIR) holds
config.json, the SQLite file (unless CARBONLEDGER_STORE_URL points at PostgreSQL) and the
keystores/ directory of encrypted keys. Passwords come from CARBONLEDGER_PASSWORD or a prompt,
never from a command-line argument.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TypeVar

from ledger.store.database import sqlite_url

T = TypeVar("T")
DEFAULT_DATA_DIR = Path(".carbonledger")
CONFIG_FILE = "config.json"


class ConfigError(RuntimeError):
    """The data directory is missing, or its configuration cannot be read."""


@dataclass(frozen=True)
class LedgerConfig:
    store_url: str
    chain_id: int
    registry: str
    registry_keystore: str  # path relative to the data directory

    def save(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / CONFIG_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")


def resolve_data_dir(option: str | None) -> Path:
    return Path(option or os.environ.get("CARBONLEDGER_DATA_DIR") or DEFAULT_DATA_DIR)


def default_store_url(data_dir: Path) -> str:
    return os.environ.get("CARBONLEDGER_STORE_URL") or sqlite_url(
        (data_dir / "ledger.db").resolve())


def load_config(data_dir: Path) -> LedgerConfig:
    path = data_dir / CONFIG_FILE
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"{data_dir} is a file, not a ledger's data directory: pass the "
                          "directory `carbonledger init` created")
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"no ledger in {data_dir}: run `carbonledger init` first") from exc
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from exc
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
    if os.environ.get("CARBONLEDGER_STORE_URL") and isinstance(document, dict):
        document["store_url"] = os.environ["CARBONLEDGER_STORE_URL"]
    return read_json_record(LedgerConfig, document, path)


def read_json_record(record: type[T], document: object, path: Path) -> T:
    """`record` (a dataclass) from a JSON object of exactly its fields, or a ConfigError that
    names the file and says what to do."""
    names = [f.name for f in fields(record)]  # type: ignore[arg-type]
    if not isinstance(document, dict) or set(document) != set(names):
        raise ConfigError(f"{path} is not a valid {path.name}: it must be an object with "
                          f"exactly {', '.join(names)}; restore it from a backup")
    return record(**document)
