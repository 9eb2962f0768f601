"""The composition root: builds a ledger from its configuration. Nothing else wires parts."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from allocation.module import ALLOCATION
from anchoring.operator.checkpoints import Checkpointer, CheckpointPolicy
from anchoring.operator.errors import OperatorKeyMissing
from api.config import (
    ConfigError,
    Deployment,
    LedgerConfig,
    default_store_url,
    keystore_scrypt_n,
    read_json_record,
)
from api.ledger_clock import ledger_clock
from api.service import LedgerService, Parts
from compliance.module import COMPLIANCE
from custody.keystore import new_private_key, read_keystore, write_keystore
from ledger.client import Wallet, new_instruction
from ledger.clock import Clock, utc_now
from ledger.core import CORE
from ledger.engine import Ledger
from ledger.errors import Reason, Rejected
from ledger.instructions import ID_PATTERN, make_domain
from ledger.journal import Receipt
from ledger.modules import Module, OperationSet
from ledger.schemes import load_rules_dir, rules_document
from ledger.store import queries
from ledger.store.database import Store, sqlite_url
from ledger.store.errors import StoreError, StoreFailure
from pledge.module import PLEDGE
from projects.module import PROJECTS

if TYPE_CHECKING:  # the chain stack is imported when a chain is reached (api/service.py)
    from eth_account.signers.local import LocalAccount

    from anchoring.operator.chain import Chain, ChainRecord
    from anchoring.operator.worker import AnchoringWorker, AnchorTarget
    from anchoring.witness.source import StoreSource
    from anchoring.witness.witness import AttestFor, Witness

DEFAULT_CHAIN_ID = 31337  # the EIP-712 chain id; anvil's and the in-process chain's default

# The capabilities this registry runs with: each declares what it brings (ledger/modules.py).
MODULES: tuple[Module, ...] = (CORE, PLEDGE, COMPLIANCE, PROJECTS, ALLOCATION)


def operation_set(modules: tuple[Module, ...] = MODULES) -> OperationSet:
    """The one set of operations every part of a ledger is handed: the engine, replay, the
    audit, the checkpointer. Built here, never by an import."""
    return OperationSet(modules)


def upgrade_store(config: LedgerConfig) -> None:
    """Apply every schema migration not yet applied (`carbonledger db upgrade`) to a ledger
    that exists: an upgrade never creates one."""
    store = _existing_store(config)
    try:
        store.upgrade(operation_set())
    finally:
        store.dispose()


def open_ledger(config: LedgerConfig, clock: Clock = utc_now, *,
                create: bool = False) -> Ledger:
    """The ledger the configuration names. Only `init` creates one (`create`): anywhere else a
    missing database file, an unmigrated schema or a journal without its genesis is refused
    (`StoreError` `no_ledger`), so that a deleted file or a mistyped store URL never turns
    into a new, empty ledger whose replay and audit "pass" over nothing."""
    operations = operation_set()
    if create:
        store = Store(config.store_url)
        if not store.is_migrated():
            store.upgrade(operations)
        return Ledger(store, operations, clock)
    return existing_ledger(config.store_url, clock)


def existing_ledger(store_url: str, clock: Clock = utc_now) -> Ledger:
    """The ledger in the store at `store_url`, refused (`no_ledger`) unless the database
    exists, holds the schema and a journal that has its genesis."""
    store = existing_store(store_url)
    try:
        with store.read() as tx:
            if tx.head < 0:
                raise StoreError(StoreFailure.no_ledger, "the journal is empty")
    except BaseException:
        store.dispose()
        raise
    return Ledger(store, operation_set(), clock)


def _existing_store(config: LedgerConfig) -> Store:
    """A store whose database exists and holds the ledger's schema; nothing is created."""
    return existing_store(config.store_url)


def existing_store(store_url: str) -> Store:
    """The store at `store_url` if its database exists and holds the ledger's schema; nothing
    is created."""
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or path == ":memory:" or not Path(path).is_file():
            raise StoreError(StoreFailure.no_ledger, f"no database file {path}")
    store = Store(store_url)
    try:
        migrated = store.is_migrated()
    except BaseException:
        store.dispose()
        raise
    if not migrated:
        store.dispose()
        raise StoreError(StoreFailure.no_ledger, "the database has no ledger schema")
    return store


def store_url_of(source: str) -> str:
    """A store named on a command line: a store URL (scheme://...) as it is, or a SQLite
    database file (a copy of a ledger's ledger.db) as its URL."""
    if "://" in source:
        return source
    path = Path(source)
    if path.is_dir():
        raise StoreError(StoreFailure.no_ledger, f"{source} is a directory: name the database "
                         "file (its ledger.db) or a store URL")
    return sqlite_url(path.resolve())


def build_from_store(source: str, operator: str | None, clock: Clock = utc_now
                     ) -> LedgerService:
    """The application service over a copy of a ledger's database alone (`audit --store`,
    `replay --check --store`): no data directory, no config.json, no keys; the operator key
    whose checkpoints are trusted is the one the auditor names. The database must exist and
    hold a ledger; nothing is created in it."""
    return LedgerService(Parts(existing_ledger(store_url_of(source), clock), operator,
                               operations=operation_set))


def init_ledger(data_dir: Path, *, registry: str, registry_name: str, password: str,
                chain_id: int = DEFAULT_CHAIN_ID, rules_dir: Path | None = None,
                store_url: str | None = None, scrypt_n: int | None = None,
                clock: Clock = utc_now, deployment: Deployment = Deployment.production
                ) -> tuple[LedgerConfig, Receipt]:
    """Create the data directory, the registry's encrypted key, the schema and the genesis.
    Every argument is checked before anything is written: the registry's id (it names its
    keystore file), and the genesis instruction as a whole (`Rejected` if any field is bad)."""
    if not ID_PATTERN.fullmatch(registry):
        raise Rejected(Reason.malformed_instruction,
                       f"registry {registry!r} is not a valid id (letters, digits . _ : -, at "
                       "most 64 characters, starting with a letter or digit)")
    private_key = new_private_key()
    wallet = Wallet(private_key, make_domain(chain_id))
    rules = load_rules_dir(rules_dir) if rules_dir else load_rules_dir()
    genesis = new_instruction(operation_set(), "genesis", registry=registry,
                              registryName=registry_name,
                              registryKey=wallet.address, chainId=chain_id,
                              rules=rules_document(rules),
                              deadline=int(clock().timestamp()) + 600)
    keystore = Path("keystores") / f"{registry}.json"
    write_keystore(data_dir / keystore, private_key, password,
                   scrypt_n=keystore_scrypt_n(scrypt_n))
    config = LedgerConfig(store_url or default_store_url(data_dir), chain_id, registry,
                          str(keystore), deployment)
    ledger = open_ledger(config, clock, create=True)
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
    try:
        with store.read() as tx:
            registered = queries.key(tx, wallet.address)
    finally:
        store.dispose()
    wallet.nonce = registered.last_nonce if registered else 0
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
                             scrypt_n=keystore_scrypt_n(scrypt_n))
    operator = OperatorConfig(address, str(keystore))
    path.write_text(json.dumps(asdict(operator), indent=2) + "\n")
    return operator


def load_operator(data_dir: Path) -> OperatorConfig | None:
    """The data directory's operator key, or None if it has none."""
    path = data_dir / OPERATOR_FILE
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{path} cannot be read as JSON ({exc}); restore it from a "
                          "backup") from exc
    return read_json_record(OperatorConfig, document, path)


# --- the application: every interface is built from here ------------------------------------

PasswordSource = Callable[[], str]
CHAIN_FILE = "chain.json"  # anchoring.operator.chain.CHAIN_FILE: where a deployment is recorded


@dataclass
class App:
    """A built ledger: its application service and what to close when done."""

    config: LedgerConfig
    data_dir: Path
    service: LedgerService

    def close(self) -> None:
        self.service.close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def build(config: LedgerConfig, data_dir: Path, *, password: PasswordSource | None = None,
          clock: Clock | None = None, policy: CheckpointPolicy | None = None,
          reanchor: bool = False,
          chain: tuple[Chain, AnchorTarget] | None = None) -> App:
    """The one place that wires the store, the modules' operations, keys, the chain and the
    anchoring worker into an application service. Keys are read (with `password`) only when a
    command needs them: the checkpointer on the first cut, the anchorer on the first anchor.
    The chain anchored on is the one the data directory records (chain.json), or `chain`: a
    chain the caller reached and the registry deployed on it, such as an embedded chain, which
    is never recorded since it does not outlive its process. The ledger's clock is `clock`,
    or else the deployment's (api/ledger_clock.py: on a demo or test deployment, moved by
    `carbonledger clock`)."""
    ledger = open_ledger(config, clock or ledger_clock(config, data_dir))
    operator = load_operator(data_dir)

    def checkpointer() -> Checkpointer:
        if operator is None or password is None:
            raise OperatorKeyMissing(f"no operator key in {data_dir}: create one with "
                                     "`carbonledger operator-key --create`")
        key = read_keystore(data_dir / operator.keystore, password())
        # config.json's "state_tree" retention: the checkpointer prunes old trees as it cuts
        return Checkpointer(ledger, key, policy, retention=config.tree_retention())

    def anchoring() -> AnchoringWorker:
        return anchoring_worker(ledger.store, data_dir, password, operator,
                                reanchor=reanchor, chain=chain)

    deployed = chain is not None or (data_dir / CHAIN_FILE).exists()
    parts = Parts(ledger, operator.address if operator else None, checkpointer,
                  anchoring if deployed else None, operations=operation_set)
    return App(config, data_dir, LedgerService(parts))


# --- chains and their keys (`carbonledger chain ...`) ----------------------------------------

ANCHORER_KEYSTORE = Path("keystores") / "anchorer.json"
OWNER_KEYSTORE = Path("keystores") / "registry-owner.json"
LOCAL_FUNDING_WEI = 10**21  # what a deployment gives the anchorer on the local anvil chain
Say = Callable[[str], None]


def chain_dir(data_dir: Path) -> Path:
    """Where the managed local node (anvil or the embedded one) keeps its state and log."""
    return data_dir / "chain"


LOCAL_NETWORKS = ("local", "anvil", "embedded-rpc")
"""What `chain deploy --chain` accepts for a managed local node: "local" is whichever runs."""


def reach_chain(data_dir: Path, network: str, anchorer: LocalAccount | None, *,
                fund: bool = False) -> Chain:
    """The chain `network` names: "anvil" or "embedded-rpc", the managed node in
    DATA_DIR/chain, or "local", whichever of them runs (with `fund`, an anchorer holding
    nothing is given LOCAL_FUNDING_WEI there); or a JSON-RPC URL."""
    from anchoring.operator.chain import RpcChain

    if network == "local":
        network = local_network(data_dir)
    if network == "anvil":
        from anchoring.operator.anvil import connect_anvil, set_balance

        chain = connect_anvil(chain_dir(data_dir), anchorer)
        if fund and anchorer is not None and \
                chain.w3.eth.get_balance(anchorer.address) == 0:
            set_balance(chain, anchorer.address, LOCAL_FUNDING_WEI)
        return chain
    if network == "embedded-rpc":
        from anchoring.operator import embedded_node

        chain = embedded_node.connect_embedded(chain_dir(data_dir), anchorer)
        if fund and anchorer is not None and \
                chain.w3.eth.get_balance(anchorer.address) == 0:
            embedded_node.fund(chain, anchorer.address, LOCAL_FUNDING_WEI)
        return chain
    return RpcChain(network, anchorer)


def local_network(data_dir: Path) -> str:
    """The network of the local node running for `data_dir`: "anvil" or "embedded-rpc"."""
    from anchoring.operator.anvil import AnvilNotRunning
    from anchoring.operator.local_node import running_local

    running = running_local(chain_dir(data_dir))
    if running is None:
        raise AnvilNotRunning(f"no local chain node is running ({chain_dir(data_dir)}): start "
                              "one with `carbonledger chain up` (anvil) or `carbonledger "
                              "chain up --embedded`")
    return running[0]


def recorded_chain(data_dir: Path, record: ChainRecord,
                   anchorer: LocalAccount | None) -> Chain:
    """The chain a deployment record names: a managed local node, or a JSON-RPC URL."""
    if record.network in LOCAL_NETWORKS:
        return reach_chain(data_dir, record.network, anchorer)
    assert record.rpc_url is not None, "an rpc record has its URL"
    return reach_chain(data_dir, record.rpc_url, anchorer)


def anchorer_key(keystore: Path, password: PasswordSource, *, create: bool,
                 say: Say) -> tuple[LocalAccount, bool]:
    """The anchorer's account, and whether it came from the keystore (rather than the
    environment, which takes precedence). With `create`, a missing keystore is made."""
    from anchoring.operator.chain import ANCHORER_KEY_VARIABLE, anchorer_account

    if os.environ.get(ANCHORER_KEY_VARIABLE):
        return anchorer_account(), False
    if create and not keystore.exists():
        write_keystore(keystore, new_private_key(), password(), scrypt_n=keystore_scrypt_n())
        say(f"created the anchorer's key in {keystore}")
    return anchorer_account(keystore, password()), True


def local_owner(data_dir: Path, password: PasswordSource, say: Say) -> str:
    """The address of the registry owner's key kept in the data directory (a local chain's
    only: on a real network the owner's key belongs off this machine), made if missing."""
    from custody.signatures import address_of

    path = data_dir / OWNER_KEYSTORE
    if path.exists():
        return address_of(read_keystore(path, password()))
    address = write_keystore(path, new_private_key(), password(), scrypt_n=keystore_scrypt_n())
    say(f"created the registry owner's key in {path}")
    return address


def anchoring_worker(store: Store, data_dir: Path, password: PasswordSource | None,
                     operator: OperatorConfig | None, *, reanchor: bool = False,
                     chain: tuple[Chain, AnchorTarget] | None = None) -> AnchoringWorker:
    """A worker anchoring `store`'s checkpoints on `chain` (a chain reached and the registry
    deployed on it), or else on the registry the data directory records."""
    from anchoring.operator.chain import ChainRecord, anchorer_account
    from anchoring.operator.worker import AnchoringWorker, AnchorTarget

    connect: Callable[[], Chain]
    if chain is not None:
        reached, target = chain
        connect = lambda: reached  # noqa: E731  (the chain is already reached)
    else:
        record = ChainRecord.load(data_dir)
        keystore = data_dir / record.anchorer_keystore if record.anchorer_keystore else None
        anchorer = anchorer_account(keystore, password() if keystore and password else None)
        target = AnchorTarget.of(record)
        connect = lambda: recorded_chain(data_dir, record, anchorer)  # noqa: E731
    return AnchoringWorker(store, connect, target,
                           operator=operator.address if operator else None, reanchor=reanchor)


# --- witnesses (anchoring/witness/, `carbonledger witness ...`) ------------------------------

def witness_source(source: str) -> StoreSource:
    """The operator's journal a witness follows: a store URL (scheme://...), or a data
    directory or a copy of one (its ledger.db, else the store its config.json names). The
    database must exist and hold a ledger; the witness only reads it."""
    from anchoring.witness.source import StoreSource
    from api.config import load_config
    from ledger.store.database import sqlite_url

    if "://" in source:
        return StoreSource(existing_store(source), "the operator's store")
    directory = Path(source)
    if not directory.is_dir():
        raise StoreError(StoreFailure.no_ledger, f"{source} is neither a store URL nor a "
                         "ledger's data directory")
    database = directory / "ledger.db"
    url = sqlite_url(database.resolve()) if database.is_file() else \
        load_config(directory).store_url
    return StoreSource(existing_store(url), f"the operator's journal in {directory}")


def build_witness(directory: Path, password: PasswordSource, *,
                  clock: Callable[[], int] | None = None,
                  attest_for: AttestFor | None = None) -> Witness:
    """The witness kept in `directory`, its keys read with `password`, replaying with the
    modules this registry runs (MODULES)."""
    import time

    from anchoring.witness.identity import load_keys, load_witness
    from anchoring.witness.witness import Witness

    config = load_witness(directory)
    keys = load_keys(directory, config, password())
    return Witness(directory, config, keys, operation_set(),
                   clock=clock or (lambda: int(time.time())), attest_for=attest_for)
