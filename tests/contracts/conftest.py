"""Fixtures for the contract tests: one in-process py-evm chain per session (it is ephemeral:
nothing outlives the test run), with the registry and the RFC 9162 harness deployed once.
Each test runs from a snapshot taken after those deployments and is rolled back afterwards, so
every test sees a registry with no checkpoint and the chain never grows long (eth-tester slows
down as it does)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_typing import ChecksumAddress
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from anchoring.operator.contract import AnchorRegistryClient, load_artifact


@dataclass
class Chain:
    w3: Web3
    tester: Any  # eth_tester.EthereumTester
    owner: ChecksumAddress
    anchorer: ChecksumAddress
    stranger: ChecksumAddress
    registry: AnchorRegistryClient
    harness: Contract


@pytest.fixture(scope="session")
def session_chain() -> Chain:
    provider = EthereumTesterProvider()
    w3 = Web3(provider)
    accounts: list[ChecksumAddress] = list(w3.eth.accounts)
    owner, anchorer, stranger = accounts[:3]
    registry, _ = AnchorRegistryClient.deploy(w3, owner=owner, anchorer=anchorer, sender=owner)
    harness_artifact = load_artifact("RFC9162Harness")
    factory = w3.eth.contract(abi=harness_artifact.abi, bytecode=harness_artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": owner}))
    address = receipt["contractAddress"]
    assert address is not None
    harness = w3.eth.contract(address=address, abi=harness_artifact.abi)
    return Chain(
        w3=w3,
        tester=provider.ethereum_tester,
        owner=owner,
        anchorer=anchorer,
        stranger=stranger,
        registry=registry,
        harness=harness,
    )


@pytest.fixture
def chain(session_chain: Chain) -> Iterator[Chain]:
    snapshot = session_chain.tester.take_snapshot()
    try:
        yield session_chain
    finally:
        session_chain.tester.revert_to_snapshot(snapshot)


@pytest.fixture
def harness(session_chain: Chain) -> Contract:
    """The harness only has view functions: no snapshot needed."""
    return session_chain.harness
