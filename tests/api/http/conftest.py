"""A ledger served over HTTP: a data directory made by `init`, built by the composition root,
and FastAPI's TestClient in front of the app; writes go through the group committer or,
for the routes' own tests, straight to the service."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.access import login_digest
from api.bootstrap import App, build, init_ledger, registry_wallet
from api.config import load_config
from api.group_commit import GroupCommitter
from api.http import DirectCommitter, create_app
from custody.signatures import unsafe_sign_digest
from ledger.client import Wallet
from tests.world import fresh_wallet

PASSWORD = "pw"


@dataclass
class Served:
    """The ledger, its HTTP client, and the wallets that sign for its participants."""

    app: App
    http: TestClient
    wallets: dict[str, Wallet]

    def signed(self, who: str, op: str, /, **fields: Any) -> dict[str, Any]:
        instruction = self.app.service.operations.instruction(op, **fields)
        return self.wallets[who].sign(instruction).as_json()

    def post(self, document: Any) -> Any:
        return self.http.post("/v1/instructions", json=document)

    def accepted(self, who: str, op: str, /, **fields: Any) -> dict[str, Any]:
        answer = self.post(self.signed(who, op, **fields))
        assert answer.status_code == 200, answer.text
        receipt: dict[str, Any] = answer.json()["receipt"]
        return receipt

    def head(self) -> int:
        return self.app.service.head()

    def token(self, who: str) -> str:
        """A token for participant `who`, logged in with its wallet over HTTP."""
        return login_over(self.http, self.wallets[who], who)

    def login(self, who: str) -> Served:
        """Every later request carries `who`'s token."""
        self.http.headers["Authorization"] = f"Bearer {self.token(who)}"
        return self

    def logout(self) -> Served:
        self.http.headers.pop("Authorization", None)
        return self


def login_over(http: Any, wallet: Wallet, participant: str) -> str:
    """Ask `http` for a challenge, sign it with `wallet` for `participant`, redeem it."""
    challenge = http.post("/v1/auth/challenge")
    assert challenge.status_code == 200, challenge.text
    issued = challenge.json()
    signature = unsafe_sign_digest(wallet.private_key, login_digest(
        wallet.domain, bytes.fromhex(issued["challenge"][2:]), participant, issued["expires"]))
    answer = http.post("/v1/auth/token", json={
        "challenge": issued["challenge"], "participant": participant,
        "expires": issued["expires"], "signature": "0x" + signature.hex()})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


@pytest.fixture
def ledger_app(tmp_path: Path, migrated_template: Path) -> Iterator[App]:
    data = tmp_path / "ledger"
    data.mkdir()
    # init finds its database file already migrated (a copy of the session's migrated file,
    # tests/conftest.py) and skips Alembic, nine tenths of its time; it still writes the keys,
    # the genesis and the configuration, as for any ledger
    shutil.copy(migrated_template, data / "ledger.db")
    init_ledger(data, registry="MEE", registry_name="Ministry", password=PASSWORD,
                scrypt_n=2**4)
    with build(load_config(data), data, password=lambda: PASSWORD) as app:
        yield app
        assert app.service.check_invariants() == []


@pytest.fixture(params=["group", "direct"])
def served(request: pytest.FixtureRequest, ledger_app: App) -> Iterator[Served]:
    """The service with each committer: the group committer `serve` runs, and the direct
    one (each request its own transaction)."""
    yield from _serve(ledger_app, GroupCommitter(ledger_app.service)
                      if request.param == "group" else DirectCommitter(ledger_app.service))


@pytest.fixture
def reader(ledger_app: App) -> Iterator[Served]:
    """The service as the reads' tests need it (writes straight to the ledger)."""
    yield from _serve(ledger_app, DirectCommitter(ledger_app.service))


def _serve(app: App, committer: GroupCommitter | DirectCommitter) -> Iterator[Served]:
    wallets = {"MEE": registry_wallet(app.config, app.data_dir, PASSWORD)}
    try:
        with TestClient(create_app(app.service, committer=committer)) as http:
            yield Served(app, http, wallets)
    finally:
        committer.close()


def market(served: Served) -> Served:
    """Huaneng (emitter, account HN) and ICBC (bank, account ICBC), onboarded over HTTP; 1,000 t
    of allowances A1 allocated to HN."""
    for name, role, account, kind in (("huaneng", "emitter", "HN", "compliance"),
                                      ("icbc", "bank", "ICBC", "trading")):
        served.wallets[name] = fresh_wallet()
        served.accepted("MEE", "register_participant", participant=name, name=name.upper(),
                        role=role)
        served.accepted("MEE", "register_key", participant=name,
                        key=served.wallets[name].address)
        served.accepted("MEE", "open_account", account=account, participant=name,
                        accountType=kind)
    served.accepted("MEE", "issue_batch", batch="A1", scheme="CN-ETS", kind="allowance",
                    vintage=2025, issuance="free_allocation", quantity=1000, account="HN")
    return served


def problem_of(answer: Any, status: int) -> dict[str, Any]:
    """The problem+json an answer carries, checked for its form: RFC 9457 members, the status
    repeated, and nothing of the server's insides (no traceback, no file path)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= problem.keys()
    assert ("reason" in problem) != ("code" in problem)
    assert "Traceback" not in answer.text and ".py" not in answer.text
    return problem
