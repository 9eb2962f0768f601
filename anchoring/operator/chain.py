"""The chains checkpoints are anchored on: three ways to reach one, one interface.

    chain = EmbeddedChain()                          # py-evm in this process: EPHEMERAL
    chain = connect_anvil(data_dir / "chain", key)   # the managed local anvil (operator.anvil)
    chain = connect_embedded(data_dir / "chain", key)  # py-evm served over JSON-RPC, kept on
                                                     # disk (operator.embedded_node)
    chain = RpcChain("https://rpc.example", key)     # any JSON-RPC node: Besu, Quorum, Geth, ...

Every `Chain` gives a connected `web3.Web3`, the chain id, the anchorer account that signs
transactions locally (never a key held by the node), whether the chain is ephemeral, and a
description that says what it is; a command that uses a chain prints that description, so an
operator always sees whether the anchors it makes outlive the process.

The anchorer's key comes from the CARBONLEDGER_ANCHORER_KEY environment variable or from an
encrypted keystore file (custody.keystore), never from a command-line argument: arguments are
visible to every user of the machine in the process list.

Where a ledger's registry lives is recorded beside its config.json, in chain.json
(`ChainRecord`): the network, the chain id, the registry's address and deployment block, its
owner and anchorer. `deploy_registry` deploys one. `confirm_anchor` checks what a proof
bundle claims about an anchor against any node of its chain (for the verifier, which reaches
it through anchoring.verify_chain); `read_registry` reads what a registry holds (for the
audit).
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, cast
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractLogicError,
    TransactionNotFound,
    Web3Exception,
)
from web3.types import Wei

from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    AnchorRegistryError,
    checkpoint_commitment,
)
from anchoring.operator.errors import OperatorError, OperatorFailure
from custody.keystore import KeystoreError, read_keystore

__all__ = [
    "ANCHORER_KEY_VARIABLE",
    "CHAIN_FILE",
    "EMBEDDED_FUNDING_WEI",
    "AnchorMismatch",
    "AnchorNotConfirmed",
    "AnchorerKeyMissing",
    "Chain",
    "ChainError",
    "ChainRecord",
    "ChainRecordError",
    "ChainUnavailable",
    "ConfirmedAnchor",
    "Deployment",
    "EmbeddedChain",
    "InsufficientFunds",
    "Network",
    "RegistryReader",
    "RpcChain",
    "anchorer_account",
    "confirm_anchor",
    "deploy_registry",
    "read_registry",
    "redact_url",
    "without_url",
]

ANCHORER_KEY_VARIABLE = "CARBONLEDGER_ANCHORER_KEY"
"""Environment variable holding the anchorer's private key (hex), as an alternative to a
keystore file; read from the environment only, so it never shows in the process list."""

CHAIN_FILE = "chain.json"

EMBEDDED_FUNDING_WEI = 10**21
"""What an embedded chain gives its anchorer from a prefunded test account: ample for
thousands of anchors at py-evm's fees."""

Network = Literal["anvil", "embedded-rpc", "rpc"]
"""What chain.json can point at: the managed anvil node, the managed embedded node (py-evm
served over JSON-RPC, `chain up --embedded`), or any JSON-RPC URL. The in-process embedded
chain is never recorded: it does not outlive the process that made it."""


# ---------------------------------------------------------------------------------------------
# Errors


class ChainError(OperatorError, RuntimeError):
    """Root of the errors of reaching a chain and configuring one."""


class ChainUnavailable(ChainError):
    """The node cannot be reached (down, restarting, network): worth retrying later."""

    code = OperatorFailure.chain_unavailable


class AnchorerKeyMissing(ChainError):
    """No anchorer key: neither the environment variable nor a keystore file provides one."""

    code = OperatorFailure.anchorer_key_missing


class InsufficientFunds(ChainError):
    """The anchorer cannot pay for its transactions on this chain."""

    code = OperatorFailure.insufficient_funds


class ChainRecordError(ChainError):
    """chain.json is missing or unreadable: no registry is recorded for this ledger."""

    code = OperatorFailure.chain_record_invalid


class RegistryDeployFailed(ChainError):
    """The AnchorRegistry's constructor refused the deployment."""

    code = OperatorFailure.registry_deploy_failed


# ---------------------------------------------------------------------------------------------
# The interface


class Chain(Protocol):
    """A connected chain and the account that anchors on it."""

    @property
    def w3(self) -> Web3: ...

    @property
    def chain_id(self) -> int: ...

    @property
    def sender(self) -> LocalAccount:
        """The anchorer: signs transactions here and sends them raw."""
        ...

    @property
    def ephemeral(self) -> bool:
        """True if the chain, and every anchor on it, vanishes with this process."""
        ...

    @property
    def description(self) -> str:
        """What the chain is, in words, for an operator (never a secret in it)."""
        ...


class EmbeddedChain:
    """py-evm in this process (web3's EthereumTesterProvider, Prague rules).

    EPHEMERAL: it starts empty and vanishes with the process, anchors and all. For tests, a
    first run and rehearsals; never for anchors anyone relies on. The anchorer (a new key
    unless given) is funded from one of eth-tester's prefunded accounts.
    """

    ephemeral = True

    def __init__(self, anchorer: LocalAccount | None = None) -> None:
        self._provider = EthereumTesterProvider()
        self._w3 = Web3(self._provider)
        self._sender: LocalAccount = anchorer or Account.create()
        self._chain_id = int(self._w3.eth.chain_id)
        self.fund(self._sender.address, EMBEDDED_FUNDING_WEI)

    @property
    def w3(self) -> Web3:
        return self._w3

    @property
    def chain_id(self) -> int:
        return self._chain_id

    @property
    def sender(self) -> LocalAccount:
        return self._sender

    @property
    def tester(self) -> Any:
        """The eth_tester.EthereumTester behind the chain (snapshots, time travel in tests)."""
        return self._provider.ethereum_tester

    @property
    def description(self) -> str:
        return (f"embedded py-evm chain in this process (chain id {self._chain_id}) — "
                "EPHEMERAL: it and every anchor on it vanish when the process exits")

    def fund(self, address: str, wei: int) -> None:
        """Send ``wei`` to ``address`` from a prefunded test account."""
        funder = self._w3.eth.accounts[0]
        tx_hash = self._w3.eth.send_transaction(
            {"from": funder, "to": to_checksum_address(address), "value": Wei(wei)})
        self._w3.eth.wait_for_transaction_receipt(tx_hash)


class RpcChain:
    """Any node over JSON-RPC (HTTP): anvil, Besu, Quorum, Geth, a public network.

    The connection is lazy: creating one never fails; the first call that needs the node
    raises `ChainUnavailable` if it cannot be reached. web3's own retries are turned off: the
    anchoring worker retries with its own backoff, and a CLI command should fail fast.
    """

    ephemeral = False

    def __init__(self, url: str, anchorer: LocalAccount | None, *, label: str | None = None,
                 timeout_s: float = 10.0) -> None:
        """``anchorer`` None makes a read-only connection (status, audits): `sender` then
        raises `AnchorerKeyMissing`."""
        self.url = url
        self._sender = anchorer
        self._label = label or f"JSON-RPC node at {redact_url(url)}"
        self._w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout_s},
                                     exception_retry_configuration=None))
        self._chain_id: int | None = None

    @property
    def w3(self) -> Web3:
        return self._w3

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            try:
                self._chain_id = int(self._w3.eth.chain_id)
            except (OSError, Web3Exception) as error:
                raise ChainUnavailable(
                    f"cannot reach the {self._label}: {without_url(error)}. Check that the "
                    "node is up (`carbonledger chain up` starts the local one) and the URL"
                ) from error
        return self._chain_id

    @property
    def sender(self) -> LocalAccount:
        if self._sender is None:
            raise AnchorerKeyMissing("this connection to the chain is read-only: it was made "
                                     "without the anchorer's key")
        return self._sender

    @property
    def description(self) -> str:
        chain = f"chain id {self._chain_id}" if self._chain_id is not None else "not reached yet"
        return f"{self._label} ({chain})"


_URL_IN_MESSAGE = re.compile(r"(url: ?)\S+|https?://\S+")


def without_url(error: BaseException) -> str:
    """An error's message without the URLs in it: requests names the URL's path in its errors
    ("Max retries exceeded with url: /v3/KEY"), and hosted nodes put API keys there."""
    return _URL_IN_MESSAGE.sub(lambda m: (m.group(1) or "") + "…", str(error))


def redact_url(url: str) -> str:
    """The URL without what may carry credentials (user info, path, query): hosted nodes put
    API keys there, and descriptions end up in logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    hidden = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


# ---------------------------------------------------------------------------------------------
# The anchorer's key


def anchorer_account(keystore: Path | None = None, password: str | None = None) -> LocalAccount:
    """The anchorer: from CARBONLEDGER_ANCHORER_KEY if set, else from ``keystore`` (decrypted
    with ``password``)."""
    from_env = os.environ.get(ANCHORER_KEY_VARIABLE)
    if from_env:
        try:
            return cast(LocalAccount, Account.from_key(from_env.strip()))
        except (ValueError, TypeError) as error:
            raise AnchorerKeyMissing(
                f"{ANCHORER_KEY_VARIABLE} is not a private key (64 hex digits, 0x optional)"
            ) from error
    if keystore is None or not keystore.is_file():
        where = f" and there is no keystore at {keystore}" if keystore else ""
        raise AnchorerKeyMissing(
            f"no anchorer key: {ANCHORER_KEY_VARIABLE} is not set{where}. Set the variable, or "
            "give the anchorer's keystore file (`carbonledger chain deploy` creates one for a "
            "local chain)")
    if password is None:
        raise AnchorerKeyMissing(f"the anchorer keystore {keystore} needs its password "
                                 "(CARBONLEDGER_PASSWORD)")
    try:
        return cast(LocalAccount, Account.from_key(read_keystore(keystore, password)))
    except KeystoreError as error:
        raise AnchorerKeyMissing(str(error)) from error


# ---------------------------------------------------------------------------------------------
# chain.json


@dataclass(frozen=True)
class ChainRecord:
    """Where this ledger's AnchorRegistry lives (chain.json in the data directory)."""

    network: Network
    chain_id: int
    registry: str
    deployment_block: int
    """Reading the registry's events never needs to start earlier than this block."""
    deployment_tx: str
    owner: str
    anchorer: str
    rpc_url: str | None = None
    """The node's URL: for network "rpc", the one used; for a local node, where it listened at
    deployment (its port is kept across restarts; the running node's record, anvil.json or
    embedded.json, is what is connected to)."""
    anchorer_keystore: str | None = None
    """Relative to the data directory; None when the key comes from the environment."""
    witnesses: list[str] = field(default_factory=list)
    """The witnesses' attester addresses the registry was deployed with (none: it needs no
    attestation; chain.json files written before witnesses existed have none)."""
    witness_threshold: int = 0
    """How many of them must attest a checkpoint before the registry anchors it."""

    def save(self, data_dir: Path) -> Path:
        path = data_dir / CHAIN_FILE
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")
        temporary.replace(path)  # never a half-written record
        return path

    @classmethod
    def load(cls, data_dir: Path) -> ChainRecord:
        path = data_dir / CHAIN_FILE
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError as error:
            raise ChainRecordError(
                f"no registry recorded in {data_dir}: deploy one with "
                "`carbonledger chain deploy`") from error
        except (ValueError, RecursionError) as error:
            raise ChainRecordError(f"{path} is not valid JSON: {error}") from error
        try:
            return cls(**document)
        except TypeError as error:
            raise ChainRecordError(f"{path} is not a chain record: {error}") from error

    @classmethod
    def load_if_present(cls, data_dir: Path) -> ChainRecord | None:
        return cls.load(data_dir) if (data_dir / CHAIN_FILE).exists() else None


# ---------------------------------------------------------------------------------------------
# Deployment


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    registry: str
    block_number: int
    tx_hash: str
    gas_used: int
    owner: str
    anchorer: str


def deploy_registry(chain: Chain, *, owner: str, witnesses: Sequence[str] = (),
                    witness_threshold: int = 0) -> tuple[AnchorRegistryClient, Deployment]:
    """Deploy an AnchorRegistry whose anchorer is the chain's sender (who also pays) and whose
    owner (who alone may rotate the anchorer) is ``owner``; with ``witnesses`` (their attester
    addresses) and a threshold k > 0, one that anchors a checkpoint only with k of their
    attestations."""
    sender = chain.sender
    try:
        if chain.w3.eth.get_balance(sender.address) == 0:
            raise InsufficientFunds(
                f"the anchorer {sender.address} has no funds on the {chain.description}: fund "
                "it before deploying; it pays for the deployment and every anchor")
        client, receipt = AnchorRegistryClient.deploy(
            chain.w3, owner=owner, anchorer=sender.address, sender=sender,
            witnesses=witnesses, witness_threshold=witness_threshold)
    except (OSError, Web3Exception) as error:
        raise ChainUnavailable(f"deployment failed on the {chain.description}: "
                               f"{without_url(error)}") \
            from error
    except AnchorRegistryError as error:
        raise RegistryDeployFailed(f"the registry's constructor refused: {error}") from error
    return client, Deployment(
        chain_id=chain.chain_id,
        registry=client.address,
        block_number=int(receipt["blockNumber"]),
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        gas_used=int(receipt["gasUsed"]),
        owner=to_checksum_address(owner),
        anchorer=sender.address,
    )


# ---------------------------------------------------------------------------------------------
# Checking an anchor against the chain


class AnchorMismatch(enum.Enum):
    """Why the chain does not bear out an anchor claim: one named reason per check, so that a
    tool can act on it without parsing the message."""

    NO_ANCHOR = "no_anchor"
    """The bundle claims no anchor for a checkpoint it relies on (not anchored when made)."""
    WRONG_CHAIN = "wrong_chain"
    """The node is on another chain than the claim (or the registry trusted) names."""
    UNTRUSTED_REGISTRY = "untrusted_registry"
    """The claim names another registry than the one the auditor trusts."""
    NO_REGISTRY = "no_registry"
    """No AnchorRegistry at the claimed address on this chain."""
    NOT_ANCHORED = "not_anchored"
    """The registry holds no checkpoint with this number."""
    ROOTS_DIFFER = "roots_differ"
    """The registry holds this checkpoint number with another log size or other roots."""
    WRONG_CHECKPOINT = "wrong_checkpoint"
    """The claim is for another checkpoint number than the signed note's."""
    NO_TRANSACTION = "no_transaction"
    """The chain has no transaction with the claimed hash."""
    WRONG_TRANSACTION = "wrong_transaction"
    """The claimed transaction did not anchor this checkpoint on this registry."""
    WRONG_BLOCK = "wrong_block"
    """The transaction is in another block than claimed."""
    WRONG_BLOCK_TIME = "wrong_block_time"
    """The block's time is not the claimed one."""


class AnchorNotConfirmed(ChainError):
    """The chain does not hold the anchor a proof bundle claims, or not as claimed.
    ``mismatch`` names the check that failed; the message says it in words."""

    code = OperatorFailure.anchor_not_confirmed

    def __init__(self, mismatch: AnchorMismatch, message: str) -> None:
        super().__init__(message)
        self.mismatch = mismatch


@dataclass(frozen=True)
class ConfirmedAnchor:
    chain_id: int
    contract: str
    block_number: int
    block_time: int
    confirmations: int
    """Blocks on top of the anchor's, its own included."""


def confirm_anchor(w3: Web3, anchor: Mapping[str, Any], checkpoint: AnchoredCheckpoint, *,
                   registry: str | None = None,
                   chain_id: int | None = None) -> ConfirmedAnchor:
    """Check against the chain what a proof bundle's ``anchor`` object claims (chain_id,
    contract, checkpoint, tx_hash, block_number, block_time) for ``checkpoint``, whose fields
    come from the verified signed note, never from the bundle's anchor. Raises
    `AnchorNotConfirmed` naming the first claim the chain does not bear out.

    ``registry`` and ``chain_id``, when given, are the registry the auditor trusts and its
    chain: a claim naming any other is refused, since a registry anyone can deploy proves only
    that someone anchored the checkpoint there, not that it is the ledger's public record.

    Five reads, no event scan: the chain id, the registry's view (is exactly this checkpoint
    anchored?), the transaction's receipt and block (is that where and when it happened?),
    and the latest block number (how deep it is). A refusal costs a read or two more, to say
    why (is there a registry at all? what does it hold for this number?)."""

    def refuse(mismatch: AnchorMismatch, reason: str) -> AnchorNotConfirmed:
        return AnchorNotConfirmed(mismatch, f"checkpoint {checkpoint.number}: {reason}")

    try:
        node_chain = int(w3.eth.chain_id)
        if node_chain != int(anchor["chain_id"]):
            raise refuse(AnchorMismatch.WRONG_CHAIN,
                         f"the node is on chain {node_chain}, the anchor claims chain "
                         f"{anchor['chain_id']}: ask a node of that chain")
        if chain_id is not None and node_chain != chain_id:
            raise refuse(AnchorMismatch.WRONG_CHAIN,
                         f"the anchor and the node are on chain {node_chain}, but the registry "
                         f"you trust is on chain {chain_id}")
        if int(anchor["checkpoint"]) != checkpoint.number:
            raise refuse(AnchorMismatch.WRONG_CHECKPOINT,
                         f"the anchor is for checkpoint {anchor['checkpoint']}")
        address = to_checksum_address(str(anchor["contract"]))
        if registry is not None and address != to_checksum_address(registry):
            raise refuse(AnchorMismatch.UNTRUSTED_REGISTRY,
                         f"the anchor names the registry {address}, but the registry you "
                         f"trust is {to_checksum_address(registry)}")
        client = AnchorRegistryClient(w3, address)
        if not _holds(client, checkpoint):
            raise _why_not_held(client, checkpoint, node_chain, refuse)
        try:
            receipt = w3.eth.get_transaction_receipt(HexBytes(str(anchor["tx_hash"])))
        except TransactionNotFound:
            raise refuse(AnchorMismatch.NO_TRANSACTION,
                         f"the chain has no transaction {anchor['tx_hash']}") from None
        if receipt["status"] != 1 or receipt["to"] != client.address:
            raise refuse(AnchorMismatch.WRONG_TRANSACTION,
                         f"transaction {anchor['tx_hash']} is not a successful call of the "
                         "registry")
        try:
            anchored = client.checkpoint_from_receipt(receipt)
        except AnchorRegistryError as error:
            raise refuse(AnchorMismatch.WRONG_TRANSACTION,
                         f"transaction {anchor['tx_hash']}: {error}") from error
        if anchored != checkpoint:
            raise refuse(AnchorMismatch.WRONG_TRANSACTION,
                         f"transaction {anchor['tx_hash']} anchored another checkpoint")
        block_number = int(receipt["blockNumber"])
        if block_number != int(anchor["block_number"]):
            raise refuse(AnchorMismatch.WRONG_BLOCK,
                         f"the transaction is in block {block_number}, not "
                         f"{anchor['block_number']} as claimed")
        block_time = int(w3.eth.get_block(block_number)["timestamp"])
        if block_time != int(anchor["block_time"]):
            raise refuse(AnchorMismatch.WRONG_BLOCK_TIME,
                         f"block {block_number}'s time is {block_time}, not "
                         f"{anchor['block_time']} as claimed")
        latest = int(w3.eth.block_number)
    except (OSError, Web3Exception) as error:
        raise ChainUnavailable(f"cannot check the anchor: {without_url(error)}") from error
    return ConfirmedAnchor(node_chain, client.address, block_number, block_time,
                           latest - block_number + 1)


def _call_refused(error: BaseException) -> bool:
    """A view call that the code at the address refused or could not answer (no contract,
    or not a registry), as web3 says it over HTTP and eth-tester says it in process."""
    return isinstance(error, (BadFunctionCallOutput, ContractLogicError)) or \
        type(error).__name__ == "TransactionFailed"


def _holds(client: AnchorRegistryClient, checkpoint: AnchoredCheckpoint) -> bool:
    try:
        return client.is_anchored(checkpoint)
    except Exception as error:
        if _call_refused(error):
            return False  # no contract there, or not a registry: _why_not_held says which
        raise


def _why_not_held(client: AnchorRegistryClient, checkpoint: AnchoredCheckpoint, chain_id: int,
                  refuse: Callable[[AnchorMismatch, str], AnchorNotConfirmed]
                  ) -> AnchorNotConfirmed:
    """Why the registry's view said no. Read only after a refusal, so that a verification
    that succeeds costs no extra call."""
    if not client.w3.eth.get_code(client.address):
        return refuse(AnchorMismatch.NO_REGISTRY,
                      f"there is no contract at {client.address} on chain {chain_id}")
    try:
        held = client.commitment_of(checkpoint.number)
        latest = client.latest_number()
    except Exception as error:
        if not _call_refused(error):
            raise
        return refuse(AnchorMismatch.NO_REGISTRY,
                      f"the contract at {client.address} on chain {chain_id} is not an "
                      "AnchorRegistry")
    if held == bytes(32):
        return refuse(AnchorMismatch.NOT_ANCHORED,
                      f"the registry {client.address} has not anchored checkpoint "
                      f"{checkpoint.number} (its latest is {latest})")
    return refuse(AnchorMismatch.ROOTS_DIFFER,
                  f"the registry {client.address} does not hold this checkpoint as signed: "
                  f"its checkpoint {checkpoint.number} has another log size or other roots "
                  f"(commitment 0x{held.hex()}, the signed note's is "
                  f"0x{checkpoint_commitment(checkpoint).hex()})")


# ---------------------------------------------------------------------------------------------
# Reading a registry for an audit


class RegistryReader:
    """What an audit reads of a registry: its latest checkpoint number and the commitment
    stored for each number. Made by `read_registry`, which checks that the node is on the
    expected chain and that a registry is at the address. A node that fails raises
    `ChainUnavailable`."""

    def __init__(self, client: AnchorRegistryClient, chain_id: int) -> None:
        self.client = client
        self.chain_id = chain_id

    @property
    def address(self) -> str:
        return self.client.address

    @property
    def description(self) -> str:
        return f"registry {self.client.address} on chain {self.chain_id}"

    def latest_number(self) -> int:
        with _node_calls("read the registry"):
            return self.client.latest_number()

    def commitment_of(self, number: int) -> bytes:
        with _node_calls("read the registry"):
            return self.client.commitment_of(number)


def read_registry(w3: Web3, address: str, *, chain_id: int | None = None) -> RegistryReader:
    """The registry at ``address``, on a node whose chain is ``chain_id`` (if given). Raises
    `AnchorNotConfirmed` (WRONG_CHAIN, NO_REGISTRY) when it is not there to read."""
    client = AnchorRegistryClient(w3, address)
    with _node_calls("reach the registry"):
        node_chain = int(w3.eth.chain_id)
        if chain_id is not None and node_chain != chain_id:
            raise AnchorNotConfirmed(
                AnchorMismatch.WRONG_CHAIN,
                f"the node is on chain {node_chain}, the registry {client.address} is on "
                f"chain {chain_id}: give a node of that chain")
        if not w3.eth.get_code(client.address):
            raise AnchorNotConfirmed(
                AnchorMismatch.NO_REGISTRY,
                f"there is no contract at {client.address} on chain {node_chain}: a wrong "
                "address, or a node that was reset")
        try:
            client.latest_number()
        except Exception as error:
            if not _call_refused(error):
                raise
            raise AnchorNotConfirmed(
                AnchorMismatch.NO_REGISTRY,
                f"the contract at {client.address} on chain {node_chain} is not an "
                "AnchorRegistry") from error
    return RegistryReader(client, node_chain)


@contextmanager
def _node_calls(doing: str) -> Iterator[None]:
    try:
        yield
    except (OSError, Web3Exception) as error:
        raise ChainUnavailable(f"cannot {doing}: {without_url(error)}") from error
