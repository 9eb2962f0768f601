"""Where a ledger lives: its data directory, configuration and keystores.

The data directory (default `./.carbonledger`, or `--data-dir`, or CARBONLEDGER_DATA_DIR) holds
config.json, the SQLite file (unless CARBONLEDGER_STORE_URL points at PostgreSQL) and the
keystores/ directory of encrypted keys. Passwords come from CARBONLEDGER_PASSWORD or a prompt,
never from a command-line argument.

A configuration names its deployment: production (the default, and what a config.json written
before deployments were named is), test or demo. Only a test or demo deployment lets its
ledger's clock be moved (api/clock_setting.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from anchoring.operator.state_tree import TreeRetention
from ledger.store.database import sqlite_url

T = TypeVar("T")
DEFAULT_DATA_DIR = Path(".carbonledger")
CONFIG_FILE = "config.json"


class ConfigError(RuntimeError):
    """The data directory is missing, or its configuration cannot be read."""


class Deployment(StrEnum):
    """What a ledger is run for. A production ledger's clock is the system's, always; a test
    or demo deployment's may be moved (`carbonledger clock`) to play dated stories."""

    production = "production"
    test = "test"
    demo = "demo"


@dataclass(frozen=True)
class StateTreeSettings:
    """config.json's "state_tree": how long the persisted state tree keeps old checkpoints'
    nodes (anchoring.operator.state_tree). `keep_checkpoints`: the latest so many keep theirs
    (null, the default: every checkpoint keeps its own); `pinned`: checkpoints that keep theirs
    whatever the age (ones whose proofs are still asked for); the latest anchored checkpoint
    always does. The checkpointer prunes the rest as it cuts; a pruned checkpoint's proofs come
    from a rebuild of its tree from the leaf versions (seconds at a million leaves)."""

    keep_checkpoints: int | None = None
    pinned: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class LedgerConfig:
    store_url: str
    chain_id: int
    registry: str
    registry_keystore: str  # path relative to the data directory
    deployment: Deployment = Deployment.production  # absent from configs written before it
    state_tree: StateTreeSettings = field(default_factory=StateTreeSettings)

    def tree_retention(self) -> TreeRetention | None:
        """What the checkpointer prunes to; None: keep every checkpoint's tree."""
        if self.state_tree.keep_checkpoints is None:
            return None
        return TreeRetention(self.state_tree.keep_checkpoints, tuple(self.state_tree.pinned))

    def save(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / CONFIG_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")


KEYSTORE_COST_VARIABLE = "CARBONLEDGER_KEYSTORE_SCRYPT_N"
MIN_SCRYPT_N = 2**10


def keystore_scrypt_n(explicit: int | None = None) -> int | None:
    """The scrypt work factor a new keystore is written with: `explicit` if given; else
    CARBONLEDGER_KEYSTORE_SCRYPT_N, a power of two from 2**10, for tests and demos whose keys
    guard nothing (every command that signs opens a keystore, and at eth-account's default
    each opening costs about a second); else None, that default (2**18). A keystore records
    its own cost, so it opens the same way wherever it goes."""
    if explicit is not None:
        return explicit
    text = os.environ.get(KEYSTORE_COST_VARIABLE)
    if not text:
        return None
    value = int(text) if text.isdigit() else 0
    if value < MIN_SCRYPT_N or value & (value - 1):
        raise ConfigError(f"{KEYSTORE_COST_VARIABLE}={text!r} is not a power of two from "
                          f"{MIN_SCRYPT_N}: unset it (keystores then take the default cost)")
    return value


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
    config = read_json_record(LedgerConfig, document, path)
    try:
        config = replace(config, deployment=Deployment(config.deployment))
    except ValueError as exc:
        raise ConfigError(f"{path} names the deployment {config.deployment!r}: it is one of "
                          f"{', '.join(d.value for d in Deployment)}") from exc
    if isinstance(config.state_tree, StateTreeSettings):
        return config
    return replace(config, state_tree=_state_tree_settings(config.state_tree, path))


def _state_tree_settings(document: object, path: Path) -> StateTreeSettings:
    """config.json's "state_tree" object, checked: a ConfigError names what is wrong."""
    settings = read_json_record(StateTreeSettings, document, path)
    try:
        if not isinstance(settings.pinned, list):
            raise ValueError(f"pinned must be a list, got {settings.pinned!r}")
        keep = settings.keep_checkpoints
        TreeRetention(1 if keep is None else keep, tuple(settings.pinned))
    except ValueError as exc:
        raise ConfigError(f"{path}: \"state_tree\" is not valid ({exc}): give "
                          "\"keep_checkpoints\" a whole number from 1 (or null: keep every "
                          "checkpoint's tree) and \"pinned\" a list of checkpoint numbers"
                          ) from exc
    return settings


def read_json_record(record: type[T], document: object, path: Path) -> T:
    """`record` (a dataclass) from a JSON object of its fields (those with a default may be
    absent) and no others, or a ConfigError that names the file and says what to do."""
    names = [f.name for f in fields(record)]  # type: ignore[arg-type]
    required = {f.name for f in fields(record)  # type: ignore[arg-type]
                if f.default is MISSING and f.default_factory is MISSING}
    if not isinstance(document, dict) or not required <= set(document) <= set(names):
        optional = [name for name in names if name not in required]
        raise ConfigError(f"{path} is not a valid {path.name}: it must be an object with "
                          f"exactly {', '.join(n for n in names if n in required)}"
                          + (f" (and perhaps {', '.join(optional)})" if optional else "")
                          + "; restore it from a backup")
    return record(**document)
