"""`carbonledger chain ...`: the chain that checkpoints are anchored on.

    carbonledger chain up          # start the local anvil node (state kept in DATA_DIR/chain/)
    carbonledger chain up --embedded   # or serve the embedded py-evm chain (no anvil, no npm)
    carbonledger chain deploy      # deploy the AnchorRegistry; record it in DATA_DIR/chain.json
    carbonledger chain anchor      # anchor the stored checkpoints (--follow: keep at it)
    carbonledger chain status      # the chain, the registry, what is anchored and what waits
    carbonledger chain down        # stop the local node (it writes its state on the way out)

`--chain` picks the network for `deploy`: ``local`` (the default: the managed local node that
runs, ``anvil`` or ``embedded-rpc``, named explicitly too), ``embedded`` (py-evm in this
process: EPHEMERAL, every output says so, nothing is recorded), or a JSON-RPC URL (Besu,
Quorum, Geth, a public network). A local node listens on the port its data directory keeps
(DATA_DIR/chain/port.json; `chain up --port N` changes it), so its URL does not change. The
anchorer's key comes from CARBONLEDGER_ANCHORER_KEY or from a keystore file, never from an
argument.

A failure is one line exiting with its class's code (api/exit_codes.py): a node that is down,
a missing or broken chain.json or keystore, a registry not on the node are the environment (3);
a chain that disagrees with the ledger (anchoring stopped) is a refusal (1).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from api.bootstrap import (
    ANCHORER_KEYSTORE,
    LOCAL_NETWORKS,
    OWNER_KEYSTORE,
    anchorer_key,
    chain_dir,
    local_network,
    local_owner,
    reach_chain,
    recorded_chain,
)
from api.config import ConfigError, LedgerConfig, load_config
from api.exit_codes import ExitCode, Failed, exit_code_of, failed, refused

# web3 costs every command ~0.6 s to import: the chain modules are imported where used.
if TYPE_CHECKING:

    from anchoring.operator.anvil import RunningAnvil
    from anchoring.operator.chain import Chain, ChainRecord, Network
    from anchoring.operator.embedded_node import RunningEmbedded
    from anchoring.operator.worker import AnchoringWorker, AnchorResult



# anchoring.operator.chain reads it; named here too so that this module's help text costs no
# import of the chain stack (web3) at every command's start
ANCHORER_KEY_VARIABLE = "CARBONLEDGER_ANCHORER_KEY"


def _password() -> str:
    from api.bootstrap import password_from_env

    return password_from_env() or click.prompt("Keystore password", hide_input=True)


def _fail(error: Exception) -> click.ClickException:
    """`error` in one line, with its class's exit code (a refusal if it has none)."""
    return failed(error) or refused(str(error))


def _config(data_dir: Path) -> LedgerConfig:
    try:
        return load_config(data_dir)
    except ConfigError as error:
        raise _fail(error) from error


@click.group()
def chain() -> None:
    """The chain checkpoints are anchored on: a local node (anvil, or the embedded py-evm
    chain served over JSON-RPC), or any JSON-RPC network."""


# --- the local node ------------------------------------------------------------------------


@chain.command()
@click.option("--embedded", is_flag=True,
              help="Serve the embedded py-evm chain over JSON-RPC instead of running anvil "
                   "(no anvil, no npm); its chain persists in DATA_DIR/chain/.")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="The port to listen on (0: any free port). Default: the port this data "
                   "directory's node used last, kept in DATA_DIR/chain/port.json.")
@click.pass_obj
def up(data_dir: Path, embedded: bool, port: int | None) -> None:
    """Start the local chain node (anvil, or with --embedded the embedded py-evm node); its
    chain persists in DATA_DIR/chain/, and it listens on the same port at every start."""
    from anchoring.operator.anvil import ANVIL_CHAIN_ID, AnvilNode
    from anchoring.operator.chain import ChainError
    from anchoring.operator.embedded_node import EMBEDDED_NODE_CHAIN_ID, EmbeddedNode
    from anchoring.operator.local_node import keep_port, kept_port, running_local

    directory = chain_dir(data_dir)
    kind = "embedded-rpc" if embedded else "anvil"
    name = "embedded chain node" if embedded else "anvil"
    already = running_local(directory)
    if already is not None and already[0] != kind:
        other = "anvil" if already[0] == "anvil" else "the embedded chain node"
        raise refused(f"{other} is running for this data directory ({already[1].url}): stop "
                      "it with `carbonledger chain down` first")
    if already is not None and port not in (None, 0, already[1].port):
        raise refused(f"the {name} is already running on port {already[1].port}: `carbonledger "
                      f"chain down`, then `carbonledger chain up --port {port}`")
    wanted = port if port is not None else kept_port(directory) or 0
    running: RunningAnvil | RunningEmbedded
    try:
        if embedded:
            running = EmbeddedNode(directory).start(port=wanted)
        else:
            running = AnvilNode(directory).start(port=wanted)
    except ChainError as error:
        hint = (f" (port {wanted} is the one kept for this data directory: pass --port N for "
                "another, or --port 0 for any free one)" if wanted and port is None else "")
        raise Failed(f"{error}{hint}", exit_code_of(error) or ExitCode.ENVIRONMENT) \
            from error
    keep_port(directory, running.port)
    state = "already running" if already else "started"
    chain_id = EMBEDDED_NODE_CHAIN_ID if embedded else ANVIL_CHAIN_ID
    click.echo(f"{name} {state}: {running.url} (pid {running.pid}), chain id {chain_id}")
    click.echo(f"port {running.port} is kept for this data directory: every `chain up` "
               f"listens there again (--port N changes it), so --rpc {running.url} stays "
               "right")
    click.echo(f"its chain persists in {running.state_file}; log {running.log_file}")


@chain.command()
@click.pass_obj
def down(data_dir: Path) -> None:
    """Stop the local chain node (SIGTERM: it saves its chain, then exits)."""
    from anchoring.operator.anvil import AnvilNode
    from anchoring.operator.chain import ChainError
    from anchoring.operator.embedded_node import EmbeddedNode

    directory = chain_dir(data_dir)
    try:
        anvil = AnvilNode(directory).stop()
        embedded = EmbeddedNode(directory).stop()
    except ChainError as error:
        raise _fail(error) from error
    if anvil is not None:
        click.echo(f"anvil stopped (pid {anvil.pid}); its chain is saved in {anvil.state_file}")
    if embedded is not None:
        click.echo(f"embedded chain node stopped (pid {embedded.pid}); its chain is saved in "
                   f"{embedded.state_file}")
    if anvil is None and embedded is None:
        click.echo("no local chain node is running (neither anvil nor the embedded node)")


# --- deployment ----------------------------------------------------------------------------


@chain.command()
@click.option("--chain", "network", default="local", show_default=True, metavar="NETWORK",
              help="local (the local node `chain up` started, anvil or embedded), anvil, "
                   "embedded-rpc, embedded (in process, EPHEMERAL) or a JSON-RPC URL.")
@click.option("--owner", default=None, metavar="ADDRESS",
              help="The registry's owner, who alone may rotate the anchorer. Required on a "
                   "JSON-RPC network (keep its key off this machine); on a local chain a new "
                   f"key is made in DATA_DIR/{OWNER_KEYSTORE}.")
@click.option("--anchorer-keystore", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help=f"The anchorer's keystore (default DATA_DIR/{ANCHORER_KEYSTORE}; "
                                 f"{ANCHORER_KEY_VARIABLE} takes precedence).")
@click.option("--replace", is_flag=True,
              help="Deploy even though chain.json names a registry that is still on chain.")
@click.option("--witness", "witnesses", multiple=True, metavar="ADDRESS",
              help="A witness's attester address (`carbonledger witness key` prints it); "
                   "repeat for each witness.")
@click.option("--witness-threshold", type=click.IntRange(min=0), default=None,
              help="How many witnesses must attest a checkpoint before it is anchored "
                   "(default: all named; 0 without --witness).")
@click.pass_obj
def deploy(data_dir: Path, network: str, owner: str | None, anchorer_keystore: Path | None,
           replace: bool, witnesses: tuple[str, ...], witness_threshold: int | None) -> None:
    """Deploy the AnchorRegistry and record it in DATA_DIR/chain.json; with --witness, one
    that anchors a checkpoint only with the attestations of k of those witnesses."""
    from eth_utils import to_checksum_address

    from anchoring.operator.chain import ChainError, ChainRecord, deploy_registry

    _config(data_dir)
    witness_set, threshold = _witness_set(witnesses, witness_threshold)
    if network == "embedded":
        _deploy_embedded(owner, witness_set, threshold)
        return
    local = network in LOCAL_NETWORKS
    if not local and not network.startswith(("http://", "https://")):
        raise click.BadParameter("local, anvil, embedded-rpc, embedded, or an http(s):// "
                                 "JSON-RPC URL", param_hint="--chain")
    if not local and owner is None:
        raise click.UsageError("--owner ADDRESS is required on a JSON-RPC network: the "
                               "owner's key should not live on the ledger's machine")
    keystore = anchorer_keystore or data_dir / ANCHORER_KEYSTORE
    try:
        if network == "local":
            network = local_network(data_dir)
        anchorer, keystore_used = anchorer_key(keystore, _password, create=local,
                                               say=click.echo)
        target: Chain = reach_chain(data_dir, network, anchorer, fund=local)
        chain_id = target.chain_id
        _refuse_overwrite(data_dir, target, replace)
        owner_address = to_checksum_address(owner) if owner \
            else local_owner(data_dir, _password, click.echo)
        _, deployment = deploy_registry(target, owner=owner_address, witnesses=witness_set,
                                        witness_threshold=threshold)
    except (ChainError, OSError) as error:
        raise _fail(error) from error
    record = ChainRecord(
        network=cast("Network", network) if local else "rpc", chain_id=chain_id,
        registry=deployment.registry,
        deployment_block=deployment.block_number, deployment_tx=deployment.tx_hash,
        owner=deployment.owner, anchorer=deployment.anchorer,
        rpc_url=_url_of(target) if local else network,
        anchorer_keystore=_relative(keystore, data_dir) if keystore_used else None,
        witnesses=list(witness_set), witness_threshold=threshold)
    path = record.save(data_dir)
    click.echo(f"chain: {target.description}")
    click.echo(f"AnchorRegistry deployed at {deployment.registry} in block "
               f"{deployment.block_number} ({deployment.gas_used:,} gas)")
    click.echo(f"owner {deployment.owner}, anchorer {deployment.anchorer}")
    if witness_set:
        click.echo(f"anchors need {threshold} of {len(witness_set)} witnesses' attestations: "
                   + ", ".join(witness_set))
    click.echo(f"recorded in {path}")


def _witness_set(witnesses: tuple[str, ...], threshold: int | None) -> tuple[list[str], int]:
    """The witnesses' attester addresses, checksummed and in ascending order (the contract
    takes them so), and k: a usage error if an address is bad, repeated, or k exceeds them."""
    from eth_utils import is_address, to_checksum_address

    for address in witnesses:
        if not is_address(address):
            raise click.BadParameter(f"{address!r} is not an address", param_hint="--witness")
    unique = sorted({str(to_checksum_address(a)) for a in witnesses}, key=lambda a: int(a, 16))
    if len(unique) != len(witnesses):
        raise click.BadParameter("a witness is named twice", param_hint="--witness")
    k = len(unique) if threshold is None else threshold
    if k > len(unique) or (unique and k == 0):
        raise click.BadParameter(f"between 1 and {len(unique)} witnesses" if unique
                                 else "0 without --witness", param_hint="--witness-threshold")
    return unique, k


def _deploy_embedded(owner: str | None, witnesses: list[str], threshold: int) -> None:
    from eth_utils import to_checksum_address

    from anchoring.operator.chain import ChainError, EmbeddedChain, deploy_registry

    target = EmbeddedChain()
    click.echo(f"chain: {target.description}")
    try:
        owner_address = to_checksum_address(owner) if owner else list(target.w3.eth.accounts)[1]
        _, deployment = deploy_registry(target, owner=owner_address, witnesses=witnesses,
                                        witness_threshold=threshold)
    except ChainError as error:
        raise _fail(error) from error
    click.echo(f"AnchorRegistry deployed at {deployment.registry} in block "
               f"{deployment.block_number} ({deployment.gas_used:,} gas)")
    click.echo("EPHEMERAL: this chain ends with this command; nothing was recorded. Use "
               "the local node (after `carbonledger chain up`, or `chain up --embedded` for "
               "no anvil) or a JSON-RPC URL for a registry that lasts.")


def _refuse_overwrite(data_dir: Path, target: Chain, replace: bool) -> None:
    from eth_utils import to_checksum_address

    from anchoring.operator.chain import ChainRecord

    existing = ChainRecord.load_if_present(data_dir)
    if existing is None or replace or existing.chain_id != target.chain_id:
        return
    if target.w3.eth.get_code(to_checksum_address(existing.registry)):
        raise refused(
            f"chain.json already names the registry {existing.registry} on chain "
            f"{existing.chain_id}, and it is still there: keep anchoring on it, or pass "
            "--replace to deploy a new one (its checkpoints are then anchored again with "
            "`carbonledger chain anchor --reanchor`)")


def _url_of(target: Chain) -> str | None:
    """The URL a chain over JSON-RPC was reached at."""
    return getattr(target, "url", None)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


# --- anchoring and status --------------------------------------------------------------------


def _reached(target: Chain) -> str:
    """The chain's description once it has been reached (it then carries the chain id)."""
    _ = target.chain_id
    return target.description


def _record(data_dir: Path) -> ChainRecord:
    from anchoring.operator.chain import ChainError, ChainRecord

    try:
        return ChainRecord.load(data_dir)
    except ChainError as error:
        raise _fail(error) from error


@chain.command()
@click.option("--follow", is_flag=True,
              help="Keep anchoring new checkpoints as they are cut, until interrupted; a chain "
                   "that is down is waited for with backoff.")
@click.option("--poll-seconds", type=click.FloatRange(min=0.05), default=1.0, show_default=True)
@click.option("--reanchor", is_flag=True,
              help="Anchor again the checkpoints whose recorded anchors are gone from the "
                   "chain or are on another registry (after a reset node or a new registry).")
@click.pass_obj
def anchor(data_dir: Path, follow: bool, poll_seconds: float, reanchor: bool) -> None:
    """Anchor the stored checkpoints not yet on chain, in order, recording where each lies."""
    from anchoring.operator.chain import ChainError
    from anchoring.operator.worker import AnchoringStopped
    from api.bootstrap import anchoring_worker, build, load_operator

    config = _config(data_dir)
    record = _record(data_dir)
    with build(config, data_dir, password=_password, reanchor=reanchor) as app:
        try:
            if follow:
                # The chain may be down now: the worker waits for it, with backoff.
                worker = anchoring_worker(app.service.store, data_dir, _password,
                                          load_operator(data_dir), reanchor=reanchor)
                click.echo(f"registry {record.registry} on chain {record.chain_id} "
                           f"({record.network}); anchoring new checkpoints as they are cut, "
                           "Ctrl-C to stop")
                _follow(worker, poll_seconds)
                return
            click.echo(f"chain: {_reached(recorded_chain(data_dir, record, None))}; "
                       f"registry {record.registry}")
            results = app.service.anchor()
            for result in results:
                _say(result)
            waiting = app.service.waiting_for_witnesses
            if waiting is not None:
                number, kept, required = waiting
                click.echo(f"checkpoint {number} waits for its witnesses: {kept} of the "
                           f"{required} attestations the registry requires are stored; add "
                           "them with `carbonledger cosignature add`, then run this again")
            elif not results:
                click.echo("nothing to anchor: every stored checkpoint is on chain")
        except AnchoringStopped as error:
            click.echo(f"ANCHORING STOPPED: {error}", err=True)
            sys.exit(exit_code_of(error) or ExitCode.REFUSED)
        except ChainError as error:
            raise Failed(f"{error}. Nothing is lost: the checkpoints wait in the ledger; run "
                         "this again when the chain is back",
                         exit_code_of(error) or ExitCode.REFUSED) from error


def _say(result: AnchorResult) -> None:
    anchor = result.anchor
    when = datetime.fromtimestamp(anchor.block_time, UTC).isoformat()
    click.echo(f"checkpoint {result.number} anchored: transaction 0x{anchor.tx_hash.hex()}, "
               f"block {anchor.block_number} ({when}), {result.gas_used:,} gas")


def _follow(worker: AnchoringWorker, poll_seconds: float) -> None:
    # SIGTERM (a service manager stopping us) ends the loop between two anchors, never in the
    # middle of one; an anchor cut short anyway is found on chain and recorded at the next
    # start.
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the same, from a terminal
        worker.run(poll_s=poll_seconds, on_anchor=_say)
    click.echo("stopped")


@chain.command()
@click.pass_obj
def status(data_dir: Path) -> None:
    """The chain, the registry, and how far the ledger's checkpoints are anchored."""
    from eth_utils import to_checksum_address

    from anchoring.operator.chain import ChainError, ChainRecord
    from anchoring.operator.contract import AnchorRegistryClient
    from anchoring.operator.local_node import kept_port, running_local

    directory = chain_dir(data_dir)
    running = running_local(directory)
    port = kept_port(directory)
    kept = f"; port {port} kept for this data directory" if port else ""
    click.echo(f"local node: {running[1].description if running else 'not running'}{kept}")
    record = ChainRecord.load_if_present(data_dir)
    if record is None:
        click.echo("registry: none recorded (deploy one with `carbonledger chain deploy`)")
        return
    click.echo(f"registry: {record.registry} on chain {record.chain_id} ({record.network}), "
               f"deployed in block {record.deployment_block}; anchorer {record.anchorer}, "
               f"owner {record.owner}")
    click.echo(_ledger_progress(data_dir, record))
    try:
        target = recorded_chain(data_dir, record, None)
        registry = to_checksum_address(record.registry)
        if target.chain_id != record.chain_id:
            click.echo(f"chain: {target.description} — NOT the registry's chain "
                       f"{record.chain_id}")
            return
        if not target.w3.eth.get_code(registry):
            click.echo(f"chain: {target.description} — the registry is NOT on it: the node "
                       "was reset or lost its state")
            return
        client = AnchorRegistryClient(target.w3, registry)
        anchorer = client.anchorer()
        balance_eth = target.w3.eth.get_balance(anchorer) / 10**18
        click.echo(f"chain: {target.description}, block {target.w3.eth.block_number}")
        click.echo(f"on chain: latest checkpoint {client.latest_number()} (log size "
                   f"{client.latest_size()}); anchorer {anchorer} holds {balance_eth:.6f} ETH")
    except (ChainError, OSError) as error:
        click.echo(f"chain: unreachable ({error})")


def _ledger_progress(data_dir: Path, record: ChainRecord) -> str:
    from eth_utils import to_checksum_address

    from api.bootstrap import build

    try:
        config = load_config(data_dir)
    except ConfigError as error:
        return f"ledger: {error}"
    registry = to_checksum_address(record.registry)
    with build(config, data_dir) as app:
        checkpoints = app.service.checkpoints()
    here = sum(1 for c in checkpoints if c.anchor is not None
               and (c.anchor.chain_id, c.anchor.contract) == (record.chain_id, registry))
    return (f"ledger: {len(checkpoints)} checkpoints stored, {here} recorded as anchored on "
            f"this registry, {len(checkpoints) - here} waiting")
