"""The compliance reads over HTTP, with real signatures against the real app: status, risk
warning and credit record by who reads them (the registry, auditors, the emitter, a bank that
holds a pledge from it, one that does not); the public disclosure; and the client reading them
back into the service's own values."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

import pytest

from api.client import Client, HttpTransport
from compliance.figures import figures_json
from tests.api.http.conftest import Served, market, problem_of
from tests.world import fresh_wallet

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
DOCUMENT_HASH = "0x" + "ab" * 32


def _participant(served: Served, name: str, role: str, account: str | None = None,
                 kind: str = "trading") -> None:
    served.wallets[name] = fresh_wallet()
    served.accepted("MEE", "register_participant", participant=name, name=name.upper(),
                    role=role)
    served.accepted("MEE", "register_key", participant=name, key=served.wallets[name].address)
    if account:
        served.accepted("MEE", "open_account", account=account, participant=name,
                        accountType=kind)


@pytest.fixture
def ledger(reader: Served) -> Served:
    """Huaneng (HN: 1,000 t of 2025 allowances A1, 400 t pledged to ICBC) reported 120 t for
    2025 and CEC verified 800 t (flagged): it owes 800 t and has 600 t free, 200 t at risk.
    BOC is a bank without a pledge; Audit an auditor."""
    served = market(reader)
    _participant(served, "boc", "bank", "BOC")
    _participant(served, "cec", "verifier")
    _participant(served, "audit", "auditor")
    pledge = served.app.service.operations.instruction(
        "pledge_register", pledge="P1", account="HN", pledgee="icbc", batch="A1",
        quantity=400, loanReference="ICBC-1", principal=100_00, currency="CNY",
        startDate="2026-01-01", maturityDate="2099-12-31")
    signed = served.wallets["icbc"].cosign(served.wallets["huaneng"].sign(pledge))
    assert served.post(signed.as_json()).status_code == 200
    served.accepted("MEE", "installation_register", installation="HN-1", emitter="huaneng",
                    scheme="CN-ETS", sector="power", name="Shidongkou 1")
    figures = figures_json([{"source": "coal", "activity": "10000", "activityUnit": "t",
                             "factor": "1", "factorUnit": "kgCO2/t", "instrument": ""}])
    for month in MONTHS:
        served.accepted("huaneng", "monthly_submit", submission=f"HN-1:{month}",
                        installation="HN-1", month=month, documentHash=DOCUMENT_HASH,
                        documentFormat="json", figures=figures, totalKg=10_000,
                        supersedes="")
    served.accepted("huaneng", "annual_report_submit", report="R1", emitter="huaneng",
                    year=2025, scheme="CN-ETS", documentHash=DOCUMENT_HASH,
                    submissions=json.dumps([f"HN-1:{m}" for m in MONTHS]))
    served.accepted("MEE", "verifier_qualify", verifier="cec", sector="power", action="grant",
                    reason="accredited")
    served.accepted("cec", "verification_sign", verifier="cec", emitter="huaneng", year=2025,
                    report="R1", verifiedEmissions=800)
    return served


def _items(served: Served, path: str, who: str) -> list[dict[str, Any]]:
    answer = served.login(who).http.get(path)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_status_is_the_emitters_own_and_the_registrys(ledger: Served) -> None:
    path = "/v1/compliance/status/2025"
    problem_of(ledger.http.get(path), 401)
    (status,) = _items(ledger, path, "MEE")
    assert (status["emitter"], status["state"], status["obligation"], status["shortfall"]) == \
        ("huaneng", "due", 800, 800)
    assert _items(ledger, path, "audit") == [status]
    assert _items(ledger, path, "huaneng") == [status]
    assert _items(ledger, path, "icbc") == []


def test_risk_is_also_for_the_bank_holding_a_pledge(ledger: Served) -> None:
    path = "/v1/compliance/risk/2025"
    (warning,) = _items(ledger, path, "MEE")
    assert (warning["owed"], warning["available"], warning["shortfall_risk"]) == (800, 600, 200)
    assert warning["pledgees"] == [{"bank": "icbc", "quantity": 400}]
    assert _items(ledger, path, "icbc") == [warning]
    assert _items(ledger, path, "huaneng") == [warning]
    assert _items(ledger, path, "boc") == []
    problem_of(ledger.logout().http.get(path), 401)


def test_a_credit_record_is_its_entitys(ledger: Served) -> None:
    path = "/v1/compliance/credit-records/huaneng"
    answer = ledger.login("huaneng").http.get(path)
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert record["entity"] == "huaneng"
    assert "flagged_verification" in {i["event"] for i in record["items"]}
    audited = ledger.login("audit").http.get(path).json()
    assert audited | {"as_of": ""} == record | {"as_of": ""}  # read a moment apart
    problem = problem_of(ledger.login("icbc").http.get(path), 403)
    assert "huaneng" in problem["detail"]
    problem_of(ledger.logout().http.get(path), 401)


def test_the_disclosure_is_public_and_names_its_checkpoint(ledger: Served) -> None:
    service = ledger.app.service
    path = "/v1/compliance/disclosures/2025"
    answer = ledger.http.get(path)  # no token
    assert answer.status_code == 200, answer.text
    assert answer.json() == json.loads(json.dumps(asdict(service.disclosure(2025))))
    assert answer.json()["checkpoint"] is None
    stored = service.cut_checkpoint()
    assert stored is not None
    found = ledger.http.get(path, params={"scheme": "CN-ETS"}).json()
    assert (found["checkpoint"], found["checkpoint_log_size"], found["head"]) == \
        (stored.number, stored.log_size, service.head())
    assert found["emitters"][0]["pledged"] == 400
    problem_of(ledger.http.get(path, params={"scheme": "CCER"}), 422)
    problem_of(ledger.http.get("/v1/compliance/disclosures/1066"), 422)


def test_the_client_reads_back_the_services_values(ledger: Served) -> None:
    service = ledger.app.service
    with Client(HttpTransport("http://testserver", http=ledger.http)) as client:
        registry = ledger.wallets["MEE"]
        client.login(client.wallet(registry.private_key))
        assert client.compliance_status(2025) == service.compliance_status(2025)
        assert client.compliance_risk(2025) == service.compliance_risk(2025)
        # read a moment apart: the same but for the time
        assert replace(client.credit_record("huaneng"), as_of="") == \
            replace(service.credit_record("huaneng"), as_of="")
        assert client.disclosure(2025) == service.disclosure(2025)


def test_compliance_proofs_are_read_by_whom_they_concern(ledger: Served) -> None:
    """A submission's and an obligation's proof: the emitter's own, the registry's and
    auditors'; a disclosure's proof is public, as the disclosure is."""
    _participant(ledger, "baowu", "emitter", "BW", "compliance")
    ledger.app.service.cut_checkpoint()
    paths = ("/v1/proofs/emissions?subject=HN-1:2025-03",
             "/v1/proofs/obligation?subject=huaneng&subject=2025")
    for path in paths:
        problem_of(ledger.http.get(path), 401)
    disclosure = ledger.http.get("/v1/proofs/disclosure?subject=2025")  # no token
    assert disclosure.status_code == 200, disclosure.text
    assert [row["emitter"] for row in disclosure.json()["disclosure"]] == ["huaneng"]
    for path in paths:
        for who in ("huaneng", "MEE", "audit"):
            answer = ledger.login(who).http.get(path)
            assert answer.status_code == 200, (who, path, answer.text)
        for who in ("baowu", "icbc", "cec"):
            problem = problem_of(ledger.login(who).http.get(path), 403)
            assert "huaneng" in problem["detail"], problem
