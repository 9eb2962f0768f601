"""Gas of AnchorRegistry on py-evm (Prague), in process: deployment, anchors at several log
sizes, and one ERC-20-style transfer for comparison.

    .venv/bin/python bench/contract_gas.py

Each extension is measured on a fresh registry: checkpoint 1 at the first size, then
checkpoint 2 at the second. Logs of a billion entries cannot be hashed leaf by leaf here, so
the log is a run of identical entries with a checkpoint marker at the end of each checkpoint:
the hash of a run of n identical leaves depends on n alone and is computed once per n, and the
proofs have exactly the shape and length of a real log's (gas depends on that shape and on the
zero bytes in the calldata, which are as rare in these hashes as in any).

For each anchor the receipt's gasUsed is printed with the calldata's part of it, Prague's
EIP-7623 calldata floor (a receipt shows the floor when it is higher than the execution cost),
and the gas of the proof checks alone measured inside the EVM with gasleft().

Then the same extension (1,000 -> 2,000 entries) on registries deployed with 1, 2, 3 and 5
witnesses, each requiring all of them: anchorWitnessed() with that many EIP-712 attestations
(65 bytes of calldata, one ecrecover and one cold witness-set read each), beside anchor() on a
registry without witnesses, and what each witness adds.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from hashlib import sha256
from pathlib import Path

from eth_typing import ChecksumAddress
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.types import TxReceipt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from anchoring.auditor import merkle
from anchoring.operator.contract import (
    AnchoredCheckpoint,
    AnchorRegistryClient,
    anchor_proof,
    attestation_digest,
    load_artifact,
    marker_leaf_hash,
)
from custody.signatures import address_of, unsafe_sign_digest

EXTENSIONS = [
    (1_000, 2_000),
    (1_000_000, 1_001_000),
    (1_000_000_000, 1_000_001_000),
    ((1 << 30) - 1, 1 << 30),  # the longest consistency proof below 2^30 leaves
    ((1 << 63) - 1, (1 << 64) - 1),  # the longest proofs uint64 sizes allow (65 + 62 hashes)
]
BUDGET_GAS = 80_000
WITNESS_COUNTS = (0, 1, 2, 3, 5)
WITNESSED_EXTENSION = (1_000, 2_000)
FILLER_LEAF = merkle.leaf_hash(b'{"filler":true}')


class UniformLog:
    """A log of identical entries except the leaves set with `set_leaf` (the markers).

    Answers the same proofs as `anchoring.auditor.merkle_log.MerkleLog` would for that log, from
    `anchoring.auditor.merkle`'s proof layouts.
    """

    def __init__(self) -> None:
        self._leaves: dict[int, bytes] = {}

    def set_leaf(self, index: int, leaf_hash: bytes) -> None:
        self._leaves[index] = leaf_hash

    def root(self, size: int) -> bytes:
        return self._range_root(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return [self._range_root(*r) for r in merkle.inclusion_proof_ranges(index, size)]

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return [self._range_root(*r) for r in merkle.consistency_proof_ranges(size1, size2)]

    def _range_root(self, begin: int, end: int) -> bytes:
        if not any(begin <= index < end for index in self._leaves):
            return _uniform_root(end - begin)
        if end - begin == 1:
            return self._leaves[begin]
        split = begin + (1 << ((end - begin - 1).bit_length() - 1))
        return merkle.node_hash(self._range_root(begin, split), self._range_root(split, end))


@cache
def _uniform_root(count: int) -> bytes:
    if count == 1:
        return FILLER_LEAF
    split = 1 << ((count - 1).bit_length() - 1)
    return merkle.node_hash(_uniform_root(split), _uniform_root(count - split))


@dataclass(frozen=True)
class AnchorGas:
    label: str
    gas_used: int
    calldata_gas: int
    floor_gas: int
    check_gas: int | None
    consistency_length: int
    marker_length: int


@dataclass(frozen=True)
class Figures:
    deployment_gas: int
    first: AnchorGas
    extension: AnchorGas


class Bench:
    def __init__(self) -> None:
        self.w3 = Web3(EthereumTesterProvider())
        self.accounts: list[ChecksumAddress] = list(self.w3.eth.accounts)
        self.owner, self.anchorer = self.accounts[0], self.accounts[1]
        harness = load_artifact("RFC9162Harness")
        self.harness: Contract = self._deploy(harness.abi, harness.bytecode)

    def _deploy(self, abi: list[dict[str, object]], bytecode: str, *args: object) -> Contract:
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        tx_hash = factory.constructor(*args).transact({"from": self.owner})
        address = self.w3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"]
        assert address is not None
        return self.w3.eth.contract(address=address, abi=abi)

    def anchors(self, previous_size: int, size: int, witnesses: int = 0) -> Figures:
        """Deploys a registry, anchors checkpoint 1 at previous_size and 2 at size. With
        `witnesses`, the registry requires that many witnesses' attestations, and gets them."""
        keys = [(0xA77E57 + n).to_bytes(32, "big") for n in range(witnesses)]
        registry, deployment = AnchorRegistryClient.deploy(
            self.w3, owner=self.owner, anchorer=self.anchorer, sender=self.owner,
            witnesses=[address_of(key) for key in keys], witness_threshold=witnesses,
        )
        log = UniformLog()
        first = self._anchor(registry, log, None, 1, previous_size, keys)
        second = self._anchor(registry, log, first, 2, size, keys)
        assert registry.latest_size() == size
        return Figures(deployment["gasUsed"], first[2], second[2])

    def _anchor(
        self,
        registry: AnchorRegistryClient,
        log: UniformLog,
        previous: tuple[AnchoredCheckpoint, TxReceipt, AnchorGas] | None,
        number: int,
        size: int,
        witness_keys: list[bytes],
    ) -> tuple[AnchoredCheckpoint, TxReceipt, AnchorGas]:
        log.set_leaf(size - 1, marker_leaf_hash(number, size - 1))
        checkpoint = AnchoredCheckpoint(
            number, size, log.root(size), sha256(b"state %d" % number).digest()
        )
        previous_checkpoint = previous[0] if previous else None
        previous_size = previous_checkpoint.size if previous_checkpoint else 0
        proof = anchor_proof(log, previous_size, size)
        attestations = None
        if witness_keys:
            digest = attestation_digest(self.w3.eth.chain_id, registry.address, checkpoint)
            attestations = {address_of(key): unsafe_sign_digest(key, digest)
                            for key in witness_keys}
        receipt = registry.anchor(
            checkpoint, proof, previous=previous_checkpoint, sender=self.anchorer,
            attestations=attestations,
        )
        check_gas = None
        if previous_checkpoint:
            check_gas, root, marker_ok = self.harness.functions.extensionCheckGas(
                number,
                previous_size,
                size,
                previous_checkpoint.log_root,
                list(proof.consistency),
                list(proof.marker),
            ).call()
            assert bytes(root) == checkpoint.log_root and marker_ok
        label = (
            f"anchor {_count(previous_size)} -> {_count(size)} entries"
            if previous_checkpoint
            else f"first anchor, log of {_count(size)} entries"
        )
        data = bytes(self.w3.eth.get_transaction(receipt["transactionHash"])["input"])
        zeros = data.count(0)
        gas = AnchorGas(
            label=label,
            gas_used=receipt["gasUsed"],
            calldata_gas=4 * zeros + 16 * (len(data) - zeros),
            floor_gas=21_000 + 10 * (zeros + 4 * (len(data) - zeros)),
            check_gas=check_gas,
            consistency_length=len(proof.consistency),
            marker_length=len(proof.marker),
        )
        return checkpoint, receipt, gas

    def token_transfers(self) -> tuple[int, int]:
        """Gas of MinimalToken.transfer to a new holder, then to the same holder again."""
        token = load_artifact("MinimalToken")
        contract = self._deploy(token.abi, token.bytecode, 10**24)
        holder = self.accounts[3]
        gas = []
        for _ in range(2):
            tx_hash = contract.functions.transfer(holder, 10**18).transact({"from": self.owner})
            gas.append(self.w3.eth.wait_for_transaction_receipt(tx_hash)["gasUsed"])
        return gas[0], gas[1]


def _count(value: int) -> str:
    """1,000,000 as such; 2^30 and 2^30-1 as powers of two once they stop being readable."""
    if value > 10**10:
        for offset, suffix in ((0, ""), (1, "-1")):
            if (value + offset).bit_count() == 1:
                return f"2^{(value + offset).bit_length() - 1}{suffix}"
    return f"{value:,}"


def _line(gas: AnchorGas) -> str:
    parts = [f"consistency proof {gas.consistency_length}", f"marker proof {gas.marker_length}"]
    parts.append(f"calldata {gas.calldata_gas:,}")
    binds = "binds" if gas.floor_gas >= gas.gas_used else "not binding"
    parts.append(f"EIP-7623 floor {gas.floor_gas:,} ({binds})")
    if gas.check_gas is not None:
        parts.append(f"proof checks {gas.check_gas:,} by gasleft")
    return f"{gas.label:<48} {gas.gas_used:>9,} gas  ({'; '.join(parts)})"


def main() -> None:
    artifact = load_artifact()
    print(f"AnchorRegistry on py-evm (Prague), {artifact.compiler_version}; gasUsed from receipts")
    bench = Bench()
    budget_failures = []
    deployment_gas = None
    for previous_size, size in EXTENSIONS:
        figures = bench.anchors(previous_size, size)
        deployment_gas = figures.deployment_gas
        print(_line(figures.first))
        print(_line(figures.extension))
        if previous_size in (1_000, 1_000_000) and figures.extension.gas_used > BUDGET_GAS:
            budget_failures.append(figures.extension.label)
    print(f"{'deployment':<48} {deployment_gas:>9,} gas")
    print(f"witnesses, anchor {_count(WITNESSED_EXTENSION[0])} -> "
          f"{_count(WITNESSED_EXTENSION[1])} entries, every witness required:")
    baseline = None
    for count in WITNESS_COUNTS:
        extension = bench.anchors(*WITNESSED_EXTENSION, witnesses=count).extension
        baseline = extension.gas_used if baseline is None else baseline
        added = extension.gas_used - baseline
        per_witness = f", {added // count:,} per witness" if count else ""
        call = "anchorWitnessed" if count else "anchor (no witnesses)"
        print(f"  {count} witness{'es' if count != 1 else '':<2} {call:<24} "
              f"{extension.gas_used:>9,} gas  (+{added:,}{per_witness}; calldata "
              f"{extension.calldata_gas:,})")
    new_holder, existing_holder = bench.token_transfers()
    print(f"{'MinimalToken.transfer to a new holder':<48} {new_holder:>9,} gas")
    print(f"{'MinimalToken.transfer to an existing holder':<48} {existing_holder:>9,} gas")
    if budget_failures:
        print(f"over the {BUDGET_GAS:,}-gas budget: {', '.join(budget_failures)}")
        raise SystemExit(1)
    print(f"budget: anchors at 1,000 and 1,000,000 entries within {BUDGET_GAS:,} gas")


if __name__ == "__main__":
    main()
