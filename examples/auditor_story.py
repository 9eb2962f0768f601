"""The demo's auditor story: checkpoints anchored on a chain, proofs checked against it by an
outside auditor, and a tampered copy of the database caught by the audit against the chain.

It runs on the ledger the registry's story (examples/registry_story.py) leaves behind, through
the application service like any user's code; only the insider's tampering edits a copy of the
database directly, as an insider would. The chain is a managed anvil
node in the demo's data directory when the anvil binary is installed (`make chain`), stopped at
the end with its chain saved to disk; otherwise the embedded py-evm chain, which vanishes with
the process. The auditor's side uses nothing of the ledger but the bundles written to disk:
the operator key, the registry's address and a node of the chain are what it trusts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchoring.auditor.merkle import leaf_hash
from anchoring.operator.anvil import (
    AnvilNode,
    AnvilNotInstalled,
    connect_anvil,
    find_anvil,
    set_balance,
)
from anchoring.operator.bundles import Bundle
from anchoring.operator.chain import (
    AnchorNotConfirmed,
    Chain,
    ChainRecord,
    EmbeddedChain,
    RpcChain,
    deploy_registry,
    read_registry,
)
from anchoring.operator.worker import AnchorResult, AnchorTarget
from anchoring.verify_chain import VerifiedOnChain, verify_bundle_on_chain
from api.bootstrap import (
    ANCHORER_KEYSTORE,
    LOCAL_FUNDING_WEI,
    OWNER_KEYSTORE,
    build,
    chain_dir,
    registry_wallet,
)
from api.config import LedgerConfig, load_config
from api.service import LedgerService
from custody.keystore import new_private_key, write_keystore
from ledger.store.database import sqlite_url

Say = Callable[[str], None]
DEMO_SCRYPT_N = 2**12  # demo keystores only: a light scrypt cost


class AuditorStoryError(RuntimeError):
    """The story did not go as it must: a proof that should hold did not, or a forgery passed."""


@dataclass(frozen=True)
class _Chain:
    chain: Chain
    auditor_w3: Web3
    """How the auditor reaches the chain: its own JSON-RPC connection on anvil."""
    rpc_url: str | None


def tell_auditor_story(data_dir: Path, password: str, say: Say = print) -> None:
    """Checkpoints, anchors, proofs verified against the chain, and a forgery caught."""
    with _a_chain(data_dir, password, say) as reached:
        _story(data_dir, load_config(data_dir), password, reached, say)


@contextmanager
def _a_chain(data_dir: Path, password: str, say: Say) -> Iterator[_Chain]:
    """anvil in data_dir/chain if installed (stopped on the way out), else the embedded chain."""
    try:
        find_anvil()
    except AnvilNotInstalled:
        embedded = EmbeddedChain()
        say(f"\nAnchoring, and an outside auditor — on the {embedded.description}. (Install "
            "anvil with `make chain` for a local chain that persists.)")
        yield _Chain(embedded, embedded.w3, None)
        return
    node = AnvilNode(chain_dir(data_dir))
    running = node.start()
    try:
        anchorer = cast(LocalAccount, Account.from_key(new_private_key()))
        write_keystore(data_dir / ANCHORER_KEYSTORE, anchorer.key, password,
                       scrypt_n=DEMO_SCRYPT_N)
        chain = connect_anvil(node.directory, anchorer)
        set_balance(chain, anchorer.address, LOCAL_FUNDING_WEI)
        say(f"\nAnchoring, and an outside auditor — on a {running.description}.")
        yield _Chain(chain, RpcChain(running.url, None).w3, running.url)
    finally:
        stopped = node.stop()
        if stopped is not None:
            say(f"   anvil stopped; its chain is saved: `carbonledger --data-dir {data_dir} "
                "chain up` brings it back, with the registry recorded in chain.json.")


def _story(data_dir: Path, config: LedgerConfig, password: str, reached: _Chain,
           say: Say) -> None:
    chain = reached.chain
    owner = write_keystore(data_dir / OWNER_KEYSTORE, new_private_key(), password,
                           scrypt_n=DEMO_SCRYPT_N) if reached.rpc_url else chain.sender.address
    _, deployment = deploy_registry(chain, owner=owner)
    if reached.rpc_url:  # what `carbonledger chain deploy` records, so the chain commands work
        ChainRecord(network="anvil", chain_id=deployment.chain_id, registry=deployment.registry,
                    deployment_block=deployment.block_number, deployment_tx=deployment.tx_hash,
                    owner=deployment.owner, anchorer=deployment.anchorer,
                    anchorer_keystore=str(ANCHORER_KEYSTORE)).save(data_dir)
    registry, chain_id = deployment.registry, deployment.chain_id
    target = AnchorTarget(chain_id, registry, deployment.block_number)
    with build(config, data_dir, password=lambda: password, chain=(chain, target)) as app:
        _anchor_and_audit(app.service, data_dir, config, password, reached, target, say)


def _anchor_and_audit(service: LedgerService, data_dir: Path, config: LedgerConfig,
                      password: str, reached: _Chain, target: AnchorTarget, say: Say) -> None:
    registry, chain_id = target.registry, target.chain_id
    operator = service.operator
    if operator is None:
        raise AuditorStoryError(f"no operator key in {data_dir}")
    first = service.cut_checkpoint()
    assert first is not None, "a cut that is not `if_due` always cuts"
    (anchored,) = service.anchor()
    say(f"a. The operator cuts checkpoint 1 over the journal's {first.log_size} entries and "
        f"signs it with its key {operator}. The anchoring worker anchors it in the "
        f"AnchorRegistry {registry}: {_where(anchored)}, {anchored.gas_used:,} gas.")
    seq = service.submit(registry_wallet(config, data_dir, password).sign(
        service.operations.instruction(
            "issue_batch", batch="HN02", scheme="CN-ETS", kind="allowance", vintage=2025,
            issuance="free_allocation", quantity=5_000, account="HN-C")).as_json()).seq
    second = service.cut_checkpoint()
    assert second is not None
    (anchored,) = service.anchor()
    say(f"b. Huaneng gets a 5,000 t top-up allocation (entry {seq}); checkpoint 2 "
        f"({second.log_size} entries) is cut and anchored: {_where(anchored)}.")

    bundles = _bundles(data_dir, service)
    how = ("over JSON-RPC, as `carbonledger verify FILE --operator-key KEY --anchor-registry "
           "ADDRESS --rpc URL` does" if reached.rpc_url else "through the embedded chain's web3")
    say(f"c. Three proof bundles go to an outside auditor ({data_dir / 'bundles'}), who trusts "
        f"the operator key and the registry's address and asks the chain {how}:")
    for story, path in bundles:
        result = _as_the_auditor(path, operator, reached, registry, chain_id)
        blocks = " and ".join(str(c.block_number) for c in result.confirmed)
        say(f"   - {story}: VERIFIED, {result.verified.statement}; anchored as signed in "
            f"block{'s' if len(result.confirmed) > 1 else ''} {blocks} of chain {chain_id}.")
    forged = {**json.loads(bundles[0][1].read_text())}
    forged["anchor"] = {**forged["anchor"], "contract": Web3.to_checksum_address("0x" + "ab" * 20)}
    try:
        verify_bundle_on_chain(forged, operator, reached.auditor_w3, registry=registry,
                               chain_id=chain_id)
    except AnchorNotConfirmed as refused:
        say(f"   - the same holding, its anchor claiming another registry: NOT VERIFIED "
            f"({refused.mismatch.value}).")
    else:
        raise AuditorStoryError("a bundle claiming another registry was accepted")

    reader = read_registry(reached.auditor_w3, registry, chain_id=chain_id)
    report = service.audit(chain=reader)
    if not report.ok:
        raise AuditorStoryError(f"the audit failed: {report.first_discrepancy}")
    say(f"d. The full audit replays {report.entries} entries and recomputes both checkpoints; "
        f"the registry holds both exactly as recomputed ({report.elapsed_s:.2f} s).")
    copy, seq = _tampered_copy(data_dir, config.store_url)
    with build(replace(config, store_url=sqlite_url(copy)), data_dir) as tampered:
        report = tampered.service.audit(chain=reader)
    if report.ok:
        raise AuditorStoryError("the audit passed a tampered database")
    say(f"e. In a copy of the database an insider back-dates Baowu's retirement (entry {seq}) "
        "by one second and fixes the row's hash. No entry is ever accepted before the one "
        "ahead of it, so the replay rebuilds it at another time, and the audit names it:\n"
        f"   audit FAILED: {report.first_discrepancy}.")


def _where(result: AnchorResult) -> str:
    when = datetime.fromtimestamp(result.anchor.block_time, UTC).strftime("%H:%M:%S UTC")
    return f"block {result.anchor.block_number} ({when})"


def _bundles(data_dir: Path, service: LedgerService) -> list[tuple[str, Path]]:
    """Baowu's allowances bought from Huaneng (a lot), Li Wei's retirement (an entry), and
    checkpoint 2 extending checkpoint 1, written where an auditor would receive them."""
    (lot,) = service.lots(batch="HN01", account="BW-C")
    li_wei = next(entry.seq for entry in service.journal(0, service.head() + 1)
                  if entry.op == "retire"
                  and entry.document["instruction"]["fields"]["account"] == "LI-I")
    made: list[tuple[str, str, Bundle]] = [
        ("Baowu's holding of Huaneng's allowances, as a lot", "holding-lot.json",
         service.prove("lot", lot.id)),
        ("Li Wei's retirement, as a journal entry", "retirement-entry.json",
         service.prove("entry", li_wei)),
        ("the log between the two anchors", "consistency.json",
         service.prove("consistency", 1, 2)),
    ]
    directory = data_dir / "bundles"
    directory.mkdir(exist_ok=True)
    written = []
    for story, name, bundle in made:
        (directory / name).write_text(json.dumps(bundle, indent=2) + "\n")
        written.append((story, directory / name))
    return written


def _as_the_auditor(path: Path, operator: str, reached: _Chain, registry: str,
                    chain_id: int) -> VerifiedOnChain:
    """What an auditor does with a bundle: the file, the keys it trusts, its own node."""
    bundle: Any = json.loads(path.read_text())
    return verify_bundle_on_chain(bundle, operator, reached.auditor_w3, registry=registry,
                                  chain_id=chain_id)


def _tampered_copy(data_dir: Path, url: str) -> tuple[Path, int]:
    """A copy of the database with Baowu's retirement back-dated by one second (one byte of
    the entry) and its time and hash columns made to match; returns (copy, entry seq)."""
    copy = data_dir / "tampered-copy.db"
    copy.unlink(missing_ok=True)
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as source, \
            closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # a consistent copy, whatever the WAL still holds
    with closing(sqlite3.connect(copy)) as db, db:
        rows = db.execute("SELECT seq, entry, accepted_at FROM journal WHERE op = 'retire' "
                          "ORDER BY seq").fetchall()
        seq, entry, accepted_at = next(
            row for row in rows
            if json.loads(row[1])["instruction"]["fields"]["account"] == "BW-C")
        earlier = _one_second_earlier(accepted_at)
        changed = bytes(entry).replace(accepted_at.encode(), earlier.encode(), 1)
        db.execute("UPDATE journal SET entry = ?, leaf_hash = ?, accepted_at = ? WHERE seq = ?",
                   (changed, leaf_hash(changed), earlier, seq))
    return copy, int(seq)


def _one_second_earlier(stamp: str) -> str:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    earlier = datetime.fromtimestamp(moment.timestamp() - 1, UTC)
    return earlier.strftime("%Y-%m-%dT%H:%M:%S.") + f"{earlier.microsecond // 1000:03d}Z"

