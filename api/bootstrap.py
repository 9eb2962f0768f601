"""The composition root: builds a ledger from its configuration. Nothing else wires parts."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from anchoring.checkpoints import Checkpointer, CheckpointPolicy
from anchoring.errors import OperatorKeyMissing
from api.config import LedgerConfig, default_store_url
from custody.keystore import new_private_key, read_keystore, write_keystore
from ledger.client import Wallet, new_instruction
from ledger.clock import Clock, utc_now
from ledger.core import CORE
from ledger.engine import Ledger
from ledger.instructions import make_domain
from ledger.journal import Receipt
from ledger.modules import Module, OperationSet
from ledger.schemes import load_rules_dir, rules_document
from ledger.store.database import Store
from pledge.module import PLEDGE

DEFAULT_CHAIN_ID = 31337  # the EIP-712 chain id; anvil's and the in-process chain's default

# The capabilities this registry runs with: each declares what it brings (ledger/modules.py).
MODULES: tuple[Module, ...] = (CORE, PLEDGE)


def operation_set(modules: tuple[Module, ...] = MODULES) -> OperationSet:
    """The one set of operations every part of a ledger is handed: the engine, replay, the
    audit, the checkpointer. Built here, never by an import."""
    return OperationSet(modules)


def open_ledger(config: LedgerConfig, clock: Clock = utc_now) -> Ledger:
    store = Store(config.store_url)
    if not store.is_migrated():
        store.upgrade()
    return Ledger(store, operation_set(), clock)


def init_ledger(data_dir: Path, *, registry: str, registry_name: str, password: str,
                chain_id: int = DEFAULT_CHAIN_ID, rules_dir: Path | None = None,
                store_url: str | None = None, scrypt_n: int | None = None,
                clock: Clock = utc_now) -> tuple[LedgerConfig, Receipt]:
    """Create the data directory, the registry's encrypted key, the schema and the genesis."""
    keystore = Path("keystores") / f"{registry}.json"
    private_key = new_private_key()
    address = write_keystore(data_dir / keystore, private_key, password, scrypt_n=scrypt_n)
    config = LedgerConfig(store_url or default_store_url(data_dir), chain_id, registry,
                          str(keystore))
    ledger = open_ledger(config, clock)
    rules = load_rules_dir(rules_dir) if rules_dir else load_rules_dir()
    wallet = Wallet(private_key, make_domain(chain_id))
    genesis = new_instruction(ledger.operations, "genesis", registry=registry,
                              registryName=registry_name,
                              registryKey=address, chainId=chain_id,
                              rules=rules_document(rules),
                              deadline=int(clock().timestamp()) + 600)
    receipt = ledger.submit(wallet.sign(genesis))
    create_operator_key(data_dir, password, scrypt_n=scrypt_n)
    config.save(data_dir)
    ledger.store.dispose()
    return config, receipt


def registry_wallet(config: LedgerConfig, data_dir: Path, password: str) -> Wallet:
    """The registry's wallet, its nonce continuing from the journal."""
    key = read_keystore(data_dir / config.registry_keystore, password)
    wallet = Wallet(key, make_domain(config.chain_id))
    store = Store(config.store_url)
    with store.read() as tx:
        row = tx.one("SELECT last_nonce FROM signing_keys WHERE address = :a",
                     {"a": wallet.address})
    store.dispose()
    wallet.nonce = int(row[0]) if row else 0
    return wallet


def password_from_env() -> str | None:
    return os.environ.get("CARBONLEDGER_PASSWORD")


def dumps(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


# --- the operator key that signs checkpoints (anchoring/) -------------------------------------

OPERATOR_FILE = "operator.json"


@dataclass(frozen=True)
class OperatorConfig:
    """The operator's checkpoint-signing key: its address, and its keystore (relative to the
    data directory, encrypted with the same password source as the registry key)."""

    address: str
    keystore: str


def create_operator_key(data_dir: Path, password: str, *,
                        scrypt_n: int | None = None) -> OperatorConfig:
    """Create the operator key (`carbonledger init` does; so does `operator-key --create`)."""
    path = data_dir / OPERATOR_FILE
    if path.exists():
        raise FileExistsError(f"{data_dir} already has an operator key ({path}); a new one "
                              "would not verify the checkpoints signed so far")
    keystore = Path("keystores") / "operator.json"
    address = write_keystore(data_dir / keystore, new_private_key(), password,
                             scrypt_n=scrypt_n)
    operator = OperatorConfig(address, str(keystore))
    path.write_text(json.dumps(asdict(operator), indent=2) + "\n")
    return operator


def load_operator(data_dir: Path) -> OperatorConfig | None:
    """The data directory's operator key, or None if it has none."""
    try:
        return OperatorConfig(**json.loads((data_dir / OPERATOR_FILE).read_text()))
    except FileNotFoundError:
        return None


def open_checkpointer(config: LedgerConfig, data_dir: Path, password: str, *,
                      clock: Clock = utc_now,
                      policy: CheckpointPolicy | None = None) -> Checkpointer:
    """A checkpointer signing with the data directory's operator key."""
    operator = load_operator(data_dir)
    if operator is None:
        raise OperatorKeyMissing(f"no operator key in {data_dir}: create one with "
                                 "`carbonledger operator-key --create`")
    key = read_keystore(data_dir / operator.keystore, password)
    return Checkpointer(open_ledger(config, clock), key, policy)
