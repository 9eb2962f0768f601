"""`carbonledger serve --workers 2` on PostgreSQL hands every write to one writer process:
real `serve` processes on free ports and real writer processes, talked to with httpx; the
writer is killed with SIGKILL as a crash would kill it.

What a user checks afterwards is what is asserted: every instruction has its receipt and
exactly one journal entry, receipts are distinct and in journal order, a write while the
writer is gone is a 503 problem that says so, and the journal is gapless, its invariants
hold, replay --check and the audit pass."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.http.served import ServeSettings, serve_ledger
from api.writer.supervisor import WriterProcess
from ledger.store.database import Store
from tests.api.test_serve_workers import (
    Market,
    Server,
    _assert_ledger_sound,
    _market,
    _serve,
    _until,
    needs_pg,
)
from tests.conftest import PG_URL_VARIABLE, fresh_pg_store, pg_url

pytestmark = [pytest.mark.slow, needs_pg]
WRITER_LINE = re.compile(r"writer process (\d+) applies the workers' writes")


@pytest.fixture
def pg_market(tmp_path: Path) -> Iterator[Callable[[int], Market]]:
    if not pg_url():
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (CI sets it)")
    fresh_pg_store().dispose()  # an empty schema: init creates the ledger in it
    yield lambda traders: _market(tmp_path / "ledger", pg_url(), traders)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server a test starts is gone when it ends, whatever happened: stopped as a user
    stops it (its workers and writer with it), killed only if that fails, since a killed
    `serve` leaves uvicorn's workers running (and cutting checkpoints in the next test's
    database of the same name)."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=30)


def _writer_pids(server: Server) -> list[int]:
    return [int(pid) for pid in WRITER_LINE.findall(server.output())]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Trader:
    """One client: its own HTTP connection, sending one request at a time and waiting for its
    answer; a 503 or a lost connection is retried with the SAME signed instructions."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.unavailable: list[dict[str, Any]] = []  # the 503 problems it was answered

    def post(self, document: Any) -> Any:
        for _ in range(200):
            try:
                answer = self.http.post("/v1/instructions", json=document)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if answer.status_code == 503:
                assert answer.headers["content-type"] == "application/problem+json"
                self.unavailable.append(answer.json())
                time.sleep(0.05)
                continue
            assert answer.status_code == 200, answer.text
            return answer.json()
        raise AssertionError("no answer after 200 attempts")


def test_two_workers_hand_their_writes_to_one_writer_and_receipts_follow_the_journal(
        pg_market: Callable[[int], Market], servers: list[Server], tmp_path: Path) -> None:
    market = pg_market(6)
    server = _serve(market.data_dir, tmp_path / "serve.log", "--workers", "2")
    servers.append(server)
    (writer,) = _writer_pids(server)
    traders = sorted(market.wallets)
    sent: dict[str, list[list[dict[str, Any]]]] = {}  # each trader's requests, in order

    def trade(who: str) -> list[list[dict[str, Any]]]:
        to = traders[(traders.index(who) + 1) % len(traders)]
        client = Trader(server.url)
        answers = []
        sent[who] = []
        for k in range(12):
            if k == 6:  # an array amid the singles: three in one request
                array = [market.transfer(who, to) for _ in range(3)]
                sent[who].append(array)
                answers.append([r["receipt"] for r in client.post(array)["results"]])
            else:
                document = market.transfer(who, to)
                sent[who].append([document])
                answers.append([client.post(document)["receipt"]])
        assert client.unavailable == []
        return answers

    with ThreadPoolExecutor(len(traders)) as pool:
        answered = dict(zip(traders, pool.map(trade, traders), strict=True))
    output = server.stop(signal.SIGINT)  # Ctrl-C: workers first, then the writer
    assert "with 2 workers" in output and _writer_pids(server) == [writer]
    assert not _alive(writer), "the writer process outlived serve"

    receipts = [r for who in traders for request in answered[who] for r in request]
    assert len(receipts) == 6 * 14 and not any(r["duplicate"] for r in receipts)
    with _assert_ledger_sound(market, receipts=receipts) as app:
        head = app.service.head()
        entries = {e.seq: e for e in app.service.journal(0, head + 1)}
        for who in traders:
            seqs = [r["seq"] for request in answered[who] for r in request]
            assert seqs == sorted(seqs), "a client's receipts are in the order it sent"
            for documents, request in zip(sent[who], answered[who], strict=True):
                # an array's entries are consecutive, in its order
                assert [r["seq"] for r in request] == list(
                    range(request[0]["seq"], request[0]["seq"] + len(request)))
                for document, receipt in zip(documents, request, strict=True):
                    entry = entries[receipt["seq"]]
                    assert entry.entry_hash == receipt["entry_hash"]
                    assert entry.document["instruction"]["id"] == document["id"]
            holding = app.service.holdings(account=f"{who}-C", batch=f"{who}-B")
            assert sum(h.tradable for h in holding) == 10_000 - 14


def test_a_writer_killed_mid_load_is_restarted_and_nothing_is_lost_or_doubled(
        pg_market: Callable[[int], Market], servers: list[Server], tmp_path: Path) -> None:
    market = pg_market(6)
    server = _serve(market.data_dir, tmp_path / "serve.log", "--workers", "2")
    servers.append(server)
    (first_writer,) = _writer_pids(server)
    traders = sorted(market.wallets)
    per_trader = 40
    documents = {who: [market.transfer(who, traders[(i + 1) % len(traders)])
                       for _ in range(per_trader)] for i, who in enumerate(traders)}
    answered: list[dict[str, Any]] = []
    clients = {who: Trader(server.url) for who in traders}

    def trade(who: str) -> list[dict[str, Any]]:
        receipts = []
        for document in documents[who]:
            receipts.append(clients[who].post(document)["receipt"])
            answered.append(receipts[-1])
        return receipts

    with ThreadPoolExecutor(len(traders)) as pool:
        trading = [pool.submit(trade, who) for who in traders]
        _until(lambda: len(answered) >= 40, "no receipts before the kill", timeout_s=60)
        os.kill(first_writer, signal.SIGKILL)  # mid-load: requests are under way
        successor = _until(lambda: [p for p in _writer_pids(server) if p != first_writer],
                           "no new writer process was started")[0]
        receipts = {who: done.result() for who, done in zip(traders, trading, strict=True)}
    output = server.stop()
    assert f"the writer process {first_writer} ended (exit -9): starting another" in output
    assert not _alive(successor)

    problems = [p for client in clients.values() for p in client.unavailable]
    assert problems, "the kill reached no request under way"
    assert {p["code"] for p in problems} == {"writer_unavailable"}
    assert all(p["retryable"] is True for p in problems)
    everyone = [r for who in traders for r in receipts[who]]
    assert len({r["seq"] for r in everyone}) == len(everyone) == 6 * per_trader
    with _assert_ledger_sound(market, receipts=everyone) as app:
        journaled = Counter(e.document["instruction"]["id"]
                            for e in app.service.journal(0, app.service.head() + 1))
        for who in traders:
            for document, receipt in zip(documents[who], receipts[who], strict=True):
                assert journaled[document["id"]] == 1, "an entry lost or doubled"
                assert receipt["instruction_id"] == document["id"]
            holding = app.service.holdings(account=f"{who}-C", batch=f"{who}-B")
            assert sum(h.tradable for h in holding) == 10_000 - per_trader


def test_a_write_under_way_when_the_writer_dies_and_while_it_is_gone_is_a_503(
        pg_market: Callable[[int], Market]) -> None:
    market = pg_market(2)
    settings = ServeSettings(str(market.data_dir), market.store_url)
    writer = WriterProcess(settings, log_level="warning")
    writer.start()
    store = Store(market.store_url)
    served = serve_ledger(replace(settings, writer_socket=writer.socket_path))
    try:
        with TestClient(served.http, raise_server_exceptions=False) as http:
            head = served.app.service.head()
            document = market.transfer("e0", "e1")
            answers: list[httpx.Response] = []
            killed = writer.pid
            assert killed is not None
            with store.write():  # the journal head held: the writer's transaction waits
                posting = threading.Thread(
                    target=lambda: answers.append(http.post("/v1/instructions",
                                                            json=document)))
                posting.start()
                _until(lambda: _waiting_on_locks() > 0, "the writer never waited for the head")
                os.kill(killed, signal.SIGKILL)
                posting.join(30)
            (under_way,) = answers
            assert under_way.status_code == 503, under_way.text
            problem = under_way.json()
            assert problem["code"] == "writer_unavailable" and problem["retryable"] is True
            assert "may or may not have been applied" in problem["detail"]
            assert "Traceback" not in under_way.text

            # the supervisor has started another: the SAME instruction gets its receipt,
            # once (the killed writer never committed it)
            _until(lambda: writer.pid != killed and _alive(writer.pid or 0),
                   "no new writer process")
            retried = _until(lambda: _receipt_or_none(http, document), "no receipt",
                             timeout_s=30)
            assert (retried["seq"], retried["duplicate"]) == (head + 1, False)

            writer.stop()  # gone: nothing is written, and the answer says so at once
            gone = http.post("/v1/instructions", json=market.transfer("e1", "e0"))
            assert gone.status_code == 503 and gone.headers["retry-after"] == "1"
            assert gone.json()["code"] == "writer_unavailable"
            assert "nothing was written" in gone.json()["detail"]
            assert served.app.service.head() == head + 1
    finally:
        writer.stop()
        store.dispose()
        served.close()
    assert not Path(writer.socket_path).parent.exists()
    _assert_ledger_sound(market).close()


def _receipt_or_none(http: TestClient, document: dict[str, Any]) -> dict[str, Any] | None:
    answer = http.post("/v1/instructions", json=document)
    if answer.status_code == 503:
        return None
    assert answer.status_code == 200, answer.text
    receipt: dict[str, Any] = answer.json()["receipt"]
    return receipt


def _waiting_on_locks() -> int:
    """Backends of this test's database waiting for a lock (the writer's, on the head)."""
    import psycopg

    url = (pg_url() or "").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                 "current_database() AND wait_event_type = 'Lock'").fetchone()
    return int(row[0]) if row else 0
