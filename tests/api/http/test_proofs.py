"""Proof bundles over HTTP, checked as an auditor checks them: offline, with
anchoring.auditor.verify.verify_bundle against the operator key they trust, and where the
checkpoint is anchored, against the chain (the embedded py-evm chain)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anchoring.auditor.verify import verify_bundle
from api.bootstrap import App, build
from api.http import DirectCommitter, create_app
from tests.api.http.conftest import PASSWORD, Served, market, problem_of
from tests.api.http.test_reads import _pledge_and_repo


def _bundle(served: Served, kind: str, *subject: object, **params: object) -> dict[str, Any]:
    answer = served.http.get(f"/v1/proofs/{kind}",
                             params=[("subject", str(s)) for s in subject] +
                             [(name, str(value)) for name, value in params.items()])
    assert answer.status_code == 200, answer.text
    bundle: dict[str, Any] = answer.json()
    return bundle


def _verified(served: Served, bundle: dict[str, Any]) -> Any:
    operator = served.app.service.operator
    assert operator is not None
    kinds = tuple(served.app.service.operations.bundle_kinds.values())
    return verify_bundle(bundle, operator, kinds)


def test_every_kind_of_proof_is_fetched_and_verifies(reader: Served) -> None:
    served = market(reader)
    _pledge_and_repo(served)
    served.login("MEE")  # an entry proof is the registry's and auditors'
    service = served.app.service
    first = service.cut_checkpoint()
    served.accepted("huaneng", "transfer", fromAccount="HN", toAccount="ICBC", batch="A1",
                    quantity=5)
    second = service.cut_checkpoint()
    assert first is not None and second is not None
    lot = service.lots(account="ICBC")[0]
    for kind, subject, proves in (
            ("entry", (3,), "entry 3"), ("lot", (lot.id,), lot.id),
            ("holding", ("HN", "A1"), "HN"), ("account", ("ICBC",), "ICBC"),
            ("pledge", ("P1",), "P1"), ("consistency", (1, 2), "2")):
        bundle = _bundle(served, kind, *subject)
        verified = _verified(served, bundle)
        assert (bundle["kind"], verified.kind) == (kind, kind)
        assert proves in verified.statement
        assert verified.checkpoint.number == 2
    older = _bundle(served, "holding", "HN", "A1", checkpoint=1)
    assert _verified(served, older).checkpoint.number == 1


def test_a_proof_that_cannot_be_made_is_a_problem(reader: Served) -> None:
    served = market(reader).login("MEE")
    not_yet = problem_of(served.http.get("/v1/proofs/entry?subject=1"), 404)
    assert (not_yet["code"], not_yet["retryable"]) == ("not_checkpointed", True)
    served.app.service.cut_checkpoint()
    unknown_kind = problem_of(served.http.get("/v1/proofs/receipt?subject=1"), 404)
    assert unknown_kind["code"] == "unknown_proof_kind"
    assert "one of entry, lot" in unknown_kind["detail"]
    no_pledge = problem_of(served.http.get("/v1/proofs/pledge?subject=P404"), 404)
    assert no_pledge["code"] == "pledge_not_found"
    half = problem_of(served.http.get("/v1/proofs/holding?subject=HN"), 422)
    assert (half["code"], half["detail"]) == ("invalid_subject",
                                              "a holding proof names account and batch")
    not_a_number = problem_of(served.http.get("/v1/proofs/entry?subject=first"), 422)
    assert not_a_number["code"] == "invalid_subject"
    nothing = problem_of(served.http.get("/v1/proofs/entry"), 422)
    assert nothing["code"] == "invalid_parameter"
    later = problem_of(served.http.get("/v1/proofs/entry?subject=1&checkpoint=9"), 404)
    assert later["code"] == "not_checkpointed"


@pytest.fixture
def anchored(ledger_app: App) -> Iterator[Served]:
    """The ledger built with the embedded chain and a registry deployed on it."""
    from anchoring.operator.chain import EmbeddedChain, deploy_registry
    from anchoring.operator.worker import AnchorTarget

    chain = EmbeddedChain()
    _, deployment = deploy_registry(chain, owner=chain.sender.address)
    target = AnchorTarget(deployment.chain_id, deployment.registry, deployment.block_number)
    with build(ledger_app.config, ledger_app.data_dir, password=lambda: PASSWORD,
               chain=(chain, target)) as app, \
            TestClient(create_app(app.service,
                                  committer=DirectCommitter(app.service))) as http:
        from api.bootstrap import registry_wallet

        yield Served(app, http, {"MEE": registry_wallet(app.config, app.data_dir, PASSWORD)})


def test_anchored_checkpoints_and_their_bundles(anchored: Served) -> None:
    served = market(anchored)
    served.app.service.cut_checkpoint()
    (result,) = served.app.service.anchor()
    (checkpoint,) = served.http.get("/v1/checkpoints").json()["items"]
    stored = served.app.service.checkpoints()[0]
    assert checkpoint["number"] == 1 and checkpoint["signer"] == served.app.service.operator
    assert checkpoint["log_root"] == "0x" + stored.log_root.hex()
    assert checkpoint["state_root"] == "0x" + stored.state_root.hex()
    anchor = checkpoint["anchor"]
    assert stored.anchor is not None
    assert anchor == {"chain_id": stored.anchor.chain_id, "contract": stored.anchor.contract,
                      "tx_hash": "0x" + stored.anchor.tx_hash.hex(),
                      "block_number": stored.anchor.block_number,
                      "block_time": stored.anchor.block_time}
    assert anchor["tx_hash"] == "0x" + result.anchor.tx_hash.hex()
    bundle = _bundle(served.login("huaneng"), "holding", "HN", "A1")  # HN's holder
    verified = _verified(served, bundle)
    assert verified.anchor is not None
    assert verified.anchor["tx_hash"] == anchor["tx_hash"]
