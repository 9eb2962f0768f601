"""The Python client, as a bank's or a registry's software uses it: in process
(LocalTransport) and over HTTP (HttpTransport against the real app, through FastAPI's
TestClient as its httpx client). Both must answer the same typed values and raise the same
refusals."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anchoring.auditor.errors import VerificationFailed
from api.bootstrap import App, build, init_ledger, load_operator
from api.client import Client, HttpTransport, LocalTransport, ServerUnreachable
from api.http import create_app
from custody.keystore import read_keystore, write_keystore
from ledger.client import Wallet
from ledger.errors import Reason, Rejected
from ledger.journal import Receipt
from ledger.model import LotState
from ledger.store.queries import Holding
from pledge.model import PledgeStatus

PASSWORD = "correct horse"
LIGHT_SCRYPT_N = 2**10  # keystores stay encrypted; tests need not spend 0.5 s a key
EMITTER_KEY = (0xE0 + 1).to_bytes(32, "big")
BANK_KEY = (0xB0 + 2).to_bytes(32, "big")
PLEDGE: dict[str, Any] = dict(pledge="P1", account="HN", pledgee="icbc", batch="HN01", quantity=400,
              loanReference="ICBC-SZ-2026-0042", principal=12_000_000_00, currency="CNY",
              startDate="2026-06-01", maturityDate="2026-12-31")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    data_dir = tmp_path / "ledger"
    config, _ = init_ledger(data_dir, registry="registry", registry_name="Test registry",
                            password=PASSWORD, scrypt_n=LIGHT_SCRYPT_N)
    with build(config, data_dir, password=lambda: PASSWORD) as built:
        yield built


@pytest.fixture
def registry_key(app: App) -> bytes:
    return read_keystore(app.data_dir / app.config.registry_keystore, PASSWORD)


@pytest.fixture(params=["local", "http"])
def client(request: pytest.FixtureRequest, app: App) -> Iterator[Client]:
    if request.param == "local":
        yield Client(LocalTransport(app.service))
        return
    with TestClient(create_app(app.service)) as http, \
            Client(HttpTransport("http://testserver", http=http)) as over_http:
        yield over_http


def by(client: Client, wallet: Wallet, op: str, /, **fields: Any) -> Receipt:
    return client.submit(client.sign(client.instruction(op, **fields), wallet))


def onboard(client: Client, registry_key: bytes) -> tuple[Wallet, Wallet]:
    """The registry admits an emitter (huaneng, account HN) and a bank (icbc, account
    ICBC-T), and allocates 1,000 t of HN01 to the emitter."""
    registry = client.wallet(registry_key)
    emitter, bank = client.wallet(EMITTER_KEY), client.wallet(BANK_KEY)
    for participant, role, wallet, account, kind in (
            ("huaneng", "emitter", emitter, "HN", "compliance"),
            ("icbc", "bank", bank, "ICBC-T", "trading")):
        by(client, registry, "register_participant", participant=participant,
           name=participant.title(), role=role)
        by(client, registry, "register_key", participant=participant, key=wallet.address)
        by(client, registry, "open_account", account=account, participant=participant,
           accountType=kind)
    by(client, registry, "issue_batch", batch="HN01", scheme="CN-ETS", kind="allowance",
       vintage=2025, issuance="free_allocation", quantity=1_000, account="HN")
    return emitter, bank


def test_the_roles_at_work_through_the_client(client: Client, app: App,
                                              registry_key: bytes) -> None:
    emitter, bank = onboard(client, registry_key)
    assert client.login(client.wallet(registry_key)) == "registry"  # it reads everything
    by(client, emitter, "transfer", fromAccount="HN", toAccount="ICBC-T", batch="HN01",
       quantity=100)
    retired = by(client, emitter, "retire", account="HN", batch="HN01", quantity=50,
                 beneficiary="Huaneng 2025 compliance", reason="voluntary")

    # a two-party pledge: the emitter signs, the file travels as JSON, the bank co-signs
    half = client.sign(client.instruction("pledge_register", **PLEDGE), emitter)
    cosigned = client.cosign(half.as_json(), bank)
    assert cosigned.signers == (emitter.address, bank.address)
    registered = client.submit(cosigned)
    assert registered.seq == retired.seq + 1

    assert client.holdings(account="HN") == [
        Holding("HN", "HN01", tradable=450, pledged=400, retired=50, surrendered=0,
                cancelled=0)]
    pledged = [lot for lot in client.lots(batch="HN01") if lot.state is LotState.pledged]
    assert [(lot.first, lot.last, lot.account, lot.lien) for lot in pledged] == \
        [(151, 550, "HN", "P1")]
    (pledge,) = client.pledges()
    assert (pledge.status, pledge.outstanding, pledge.principal) == \
        (PledgeStatus.active, 400, 12_000_000_00)
    history = client.pledge("P1")
    assert history is not None
    assert [(e.op, e.signers) for e in history.entries] == \
        [("pledge_register", (emitter.address, bank.address))]
    assert client.pledge("P2") is None
    assert [k.last_nonce for k in client.keys("huaneng")] == [3]  # transfer, retire, pledge
    assert client.next_nonce(emitter.address) == 4
    assert [e.op for e in client.journal(retired.seq, registered.seq + 1)] == \
        ["retire", "pledge_register"]

    # every query answers what the application service itself answers
    service = app.service
    assert client.head() == service.head() == registered.seq
    assert client.participants() == service.participants()
    assert client.keys() == service.keys()
    assert client.accounts() == service.accounts()
    assert client.batches() == service.batches()
    assert client.holdings() == service.holdings()
    assert client.lots() == service.lots()
    assert client.journal(0, 100) == service.journal(0, 100)
    assert client.pledge("P1") == service.pledge("P1")
    assert client.repos() == service.repos() == []


def test_a_refusal_is_the_ledgers_own_reason(client: Client, registry_key: bytes) -> None:
    emitter, _ = onboard(client, registry_key)
    head = client.head()
    with pytest.raises(Rejected) as refused:
        by(client, emitter, "transfer", fromAccount="HN", toAccount="ICBC-T", batch="HN01",
           quantity=5_000)
    assert refused.value.reason is Reason.insufficient_tradable
    assert refused.value.retryable
    signed = client.sign(client.instruction("transfer", fromAccount="HN", toAccount="ICBC-T",
                                            batch="HN01", quantity=10), emitter)
    first = client.submit(signed)
    again = client.submit(signed.as_json())  # the same instruction: its first receipt
    assert (again.seq, again.duplicate) == (first.seq, True)
    replayed = Wallet(EMITTER_KEY, client.domain, nonce=0).sign(client.instruction(
        "transfer", fromAccount="HN", toAccount="ICBC-T", batch="HN01", quantity=10))
    with pytest.raises(Rejected) as stale:
        client.submit(replayed)
    assert stale.value.reason is Reason.stale_nonce
    assert client.head() == head + 1

    good = client.sign(client.instruction("transfer", fromAccount="HN", toAccount="ICBC-T",
                                          batch="HN01", quantity=1), emitter)
    bad = client.sign(client.instruction("transfer", fromAccount="HN", toAccount="NOWHERE",
                                         batch="HN01", quantity=1), emitter)
    results = client.submit_many([good, bad])
    assert isinstance(results[0], Receipt)
    assert isinstance(results[1], Rejected) and results[1].reason is Reason.unknown_account


def test_proofs_are_fetched_and_verified_here(client: Client, app: App,
                                              registry_key: bytes) -> None:
    emitter, bank = onboard(client, registry_key)
    client.submit(client.cosign(client.sign(client.instruction("pledge_register", **PLEDGE),
                                            emitter), bank))
    app.service.cut_checkpoint()
    operator = load_operator(app.data_dir)
    assert operator is not None
    assert client.checkpoints() == app.service.checkpoints()

    client.login(bank)  # the pledgee: it reads the account it lends against
    holding = client.verify(client.proof("holding", "HN", "HN01"), operator.address)
    assert "HN" in holding.statement and "600" in holding.statement
    pledge = client.verify(client.proof("pledge", "P1", checkpoint=1), operator.address)
    assert "P1" in pledge.statement
    with pytest.raises(VerificationFailed):  # a key the caller does not trust
        client.verify(client.proof("holding", "HN", "HN01"), emitter.address)


def test_the_next_nonce_is_fetched_across_processes(app: App, registry_key: bytes) -> None:
    """Two processes sign with one key: each signature's nonce comes from the ledger, so the
    second signs above the first's use instead of being refused as stale."""
    client = Client(LocalTransport(app.service))
    emitter, _ = onboard(client, registry_key)
    write_keystore(app.data_dir / "keystores" / "huaneng.json", EMITTER_KEY, PASSWORD,
                   scrypt_n=LIGHT_SCRYPT_N)
    by(client, emitter, "transfer", fromAccount="HN", toAccount="ICBC-T", batch="HN01",
       quantity=1)
    before = client.next_nonce(emitter.address)

    # another process, the command line, signs with the same keystore
    cli = Path(sys.executable).with_name("carbonledger")
    done = subprocess.run([str(cli), "--data-dir", str(app.data_dir), "transfer", "--from",
                           "HN", "--to", "ICBC-T", "--batch", "HN01", "--quantity", "2",
                           "--as", "huaneng"], capture_output=True, text=True,
                          env={**os.environ, "CARBONLEDGER_PASSWORD": PASSWORD}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert client.next_nonce(emitter.address) == before + 1

    # this process's wallet still counts from its own last signature; the client does not
    stale = emitter.sign(client.instruction("transfer", fromAccount="HN", toAccount="ICBC-T",
                                            batch="HN01", quantity=3))
    assert stale.approvals[0].nonce == before
    with pytest.raises(Rejected) as refused:
        client.submit(stale)
    assert refused.value.reason is Reason.stale_nonce

    second = client.wallet(EMITTER_KEY)  # a fresh wallet of the same key, nonce counter 0
    signed = client.sign(client.instruction("transfer", fromAccount="HN", toAccount="ICBC-T",
                                            batch="HN01", quantity=3), second)
    assert signed.approvals[0].nonce == before + 1
    client.submit(signed)

    ahead = client.wallet(EMITTER_KEY)  # a wallet counting ahead keeps its own count
    ahead.nonce = 1_000
    assert client.sign(client.instruction("transfer", fromAccount="HN", toAccount="ICBC-T",
                                          batch="HN01", quantity=4), ahead) \
        .approvals[0].nonce == 1_001
    assert client.login(client.wallet(BANK_KEY)) == "icbc"
    assert [h.tradable for h in client.holdings(account="ICBC-T")] == [1 + 2 + 3]


def test_an_unreachable_server_is_named(tmp_path: Path) -> None:
    with Client(HttpTransport("http://127.0.0.1:9", timeout_s=2)) as client, \
            pytest.raises(ServerUnreachable, match=re.escape("no answer from http://127.0.0.1:9")):
        client.head()


def test_a_server_that_is_not_a_ledger_is_named() -> None:
    """A web server that answers, but not with the ledger's interface (a proxy's page, a
    different service on the port): the client says so rather than misreading it."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>It works!</html>" if self.path == "/v1/head" else b'{"head": "x"}'
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with Client(HttpTransport(url)) as client:
            with pytest.raises(ServerUnreachable, match="not the ledger's interface"):
                client.head()
            with pytest.raises(ServerUnreachable, match="is this a carbonledger server"):
                client.participants()
    finally:
        server.shutdown()
