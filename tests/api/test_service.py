"""The application service, as every interface uses it: built by the composition root from a
data directory, it takes signed instructions in their JSON form and answers with typed values
what a registry, a bank or an auditor asks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.bootstrap import App, build, init_ledger, registry_wallet
from api.config import load_config
from api.service import ServiceUnavailable
from ledger.client import Wallet
from ledger.errors import Reason, Rejected
from ledger.instructions import make_domain
from ledger.journal import Receipt
from ledger.model import AccountType, LotState
from pledge.reasons import PledgeReason
from tests.world import fresh_wallet

PASSWORD = "pw"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    data = tmp_path / "ledger"
    init_ledger(data, registry="MEE", registry_name="Ministry", password=PASSWORD,
                scrypt_n=2**4)
    with build(load_config(data), data, password=lambda: PASSWORD) as app:
        yield app


def _sign(app: App, wallet: Wallet, op: str, **fields: Any) -> dict[str, object]:
    return wallet.sign(app.service.operations.instruction(op, **fields)).as_json()


def _market(app: App) -> dict[str, Wallet]:
    """Huaneng (emitter) and ICBC (bank) with accounts; 1,000 t of A1 allocated to Huaneng."""
    registry = registry_wallet(app.config, app.data_dir, PASSWORD)
    wallets = {"huaneng": fresh_wallet(), "icbc": fresh_wallet()}
    for name, role, account, kind in (("huaneng", "emitter", "HN", "compliance"),
                                      ("icbc", "bank", "ICBC", "trading")):
        app.service.submit(_sign(app, registry, "register_participant", participant=name,
                                 name=name.upper(), role=role))
        app.service.submit(_sign(app, registry, "register_key", participant=name,
                                 key=wallets[name].address))
        app.service.submit(_sign(app, registry, "open_account", account=account,
                                 participant=name, accountType=kind))
    app.service.submit(_sign(app, registry, "issue_batch", batch="A1", scheme="CN-ETS",
                             kind="allowance", vintage=2025, issuance="free_allocation",
                             quantity=1000, account="HN"))
    return wallets


def test_queries_answer_with_typed_values(app: App) -> None:
    wallets = _market(app)
    service = app.service
    service.submit(_sign(app, wallets["huaneng"], "transfer", fromAccount="HN",
                         toAccount="ICBC", batch="A1", quantity=10, serialFirst=501,
                         serialLast=510))
    assert [p.id for p in service.participants()] == ["MEE", "huaneng", "icbc"]
    (huaneng_key,) = service.keys("huaneng")
    assert huaneng_key.address == wallets["huaneng"].address and huaneng_key.last_nonce == 1
    assert service.last_nonce(wallets["huaneng"].address) == 1
    assert service.last_nonce(fresh_wallet().address) == 0
    assert [(a.id, a.type) for a in service.accounts("icbc")] == [("ICBC",
                                                                 AccountType.trading)]
    (batch,) = service.batches()
    assert (batch.id, batch.quantity) == ("A1", 1000)
    holdings = {(h.account, h.batch): (h.tradable, h.total) for h in service.holdings()}
    assert holdings == {("HN", "A1"): (990, 990), ("ICBC", "A1"): (10, 10)}
    assert [(lot.first, lot.last, lot.account, lot.state) for lot in service.lots("A1")] == [
        (1, 500, "HN", LotState.tradable), (501, 510, "ICBC", LotState.tradable),
        (511, 1000, "HN", LotState.tradable)]
    assert [lot.account for lot in service.lots(account="ICBC")] == ["ICBC"]
    head = service.head()
    (last,) = service.journal(head, head + 1)
    assert last.op == "transfer" and last.document["instruction"]["fields"]["quantity"] == 10


def test_submit_many_refuses_only_what_is_wrong(app: App) -> None:
    wallets = _market(app)
    good = _sign(app, wallets["huaneng"], "transfer", fromAccount="HN", toAccount="ICBC",
                 batch="A1", quantity=5)
    too_much = _sign(app, wallets["huaneng"], "transfer", fromAccount="HN", toAccount="ICBC",
                     batch="A1", quantity=5_000)
    malformed = {"op": "transfer", "fields": {}}
    results = app.service.submit_many([good, malformed, too_much])
    assert isinstance(results[0], Receipt)
    assert isinstance(results[1], Rejected)
    assert results[1].reason is Reason.malformed_instruction
    assert isinstance(results[2], Rejected)
    assert results[2].reason is Reason.insufficient_tradable
    assert app.service.holdings("ICBC")[0].tradable == 5


def test_pledges_are_listed_and_a_module_refusal_keeps_its_name(app: App) -> None:
    wallets = _market(app)
    pledge: dict[str, Any] = dict(
        pledge="P1", account="HN", pledgee="icbc", batch="A1", quantity=400,
        loanReference="ICBC-1", principal=100_00, currency="CNY",
        startDate="2026-01-01", maturityDate="2099-12-31")
    signed = wallets["icbc"].cosign(wallets["huaneng"].sign(
        app.service.operations.instruction("pledge_register", **pledge)))
    app.service.submit(signed.as_json())
    (listed,) = app.service.pledges(account="HN")
    assert (listed.id, listed.outstanding) == ("P1", 400)
    assert app.service.pledge("P1") is not None and app.service.pledge("P404") is None
    assert app.service.repos() == []
    assert app.service.holdings("HN")[0].pledged == 400
    with pytest.raises(Rejected) as refused:
        app.service.submit(_sign(app, wallets["icbc"], "pledge_release", pledge="P404",
                                 quantity=1))
    assert refused.value.reason is PledgeReason.pledge_not_found


def test_checkpoints_proofs_verification_and_audit(app: App) -> None:
    _market(app)
    service = app.service
    cut = service.cut_checkpoint()
    assert cut is not None and service.cut_checkpoint(if_due=True) is None
    assert [c.number for c in service.checkpoints()] == [1]
    lot = service.lots("A1")[0]
    bundle = service.prove("lot", lot.id)
    assert service.verify(bundle).statement
    assert service.verify(service.prove("entry", 3)).statement
    assert service.audit().ok
    assert service.replay_check().ok
    with pytest.raises(ServiceUnavailable, match="chain deploy"):
        service.anchor()
    with pytest.raises(ValueError, match="no proof of kind 'nothing'"):
        service.prove("nothing", 1)


def test_without_an_operator_key_signing_commands_say_what_to_do(tmp_path: Path,
                                                                 app: App) -> None:
    (app.data_dir / "operator.json").unlink()
    with build(app.config, app.data_dir) as bare:
        assert bare.service.operator is None
        with pytest.raises(Exception, match="operator-key --create"):
            bare.service.cut_checkpoint()
        with pytest.raises(ServiceUnavailable, match="trusted operator key"):
            bare.service.audit()


def test_the_registry_wallet_continues_from_the_journal(app: App) -> None:
    _market(app)
    wallet = registry_wallet(app.config, app.data_dir, PASSWORD)
    assert wallet.nonce == app.service.last_nonce(wallet.address) > 0
    assert make_domain(app.config.chain_id) == wallet.domain


def test_a_proof_names_what_it_proves(app: App) -> None:
    _market(app)
    app.service.cut_checkpoint()
    with pytest.raises(ValueError, match="a holding proof names account and batch"):
        app.service.prove("holding", "HN")
    with pytest.raises(ValueError, match="invalid literal"):
        app.service.prove("entry", "first")
    assert app.service.prove("holding", "HN", "A1")["kind"] == "holding"
