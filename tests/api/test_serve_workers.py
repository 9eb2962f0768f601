"""`carbonledger serve` with several workers, and the checkpoint duty one process holds: real
`serve` processes on free ports, talked to with httpx, over real PostgreSQL (when
CARBONLEDGER_TEST_PG_URL is set) and SQLite; workers are killed with SIGKILL as a crash would.

What a user checks afterwards is what is asserted: every submission has its receipt, the
journal is gapless, the invariants hold, replay --check and the audit pass, and no two
checkpoints share a number."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from anchoring.operator.checkpoints import CheckpointPolicy
from api.bootstrap import App, build, init_ledger, registry_wallet
from api.config import load_config
from api.duty import LOCK_NAME, CheckpointDuty
from bench._http_load import connections_by_process
from ledger.client import Wallet
from ledger.store.database import Store, sqlite_url
from ledger.store.leader import advisory_key
from tests.conftest import PG_URL_VARIABLE, fresh_pg_store, pg_url
from tests.world import OPERATIONS, fresh_wallet

pytestmark = pytest.mark.slow
PASSWORD = "pw"
CLI = Path(sys.executable).with_name("carbonledger")
DUTY_LINE = re.compile(r"worker (\d+) cuts and anchors checkpoints")
needs_pg = pytest.mark.skipif(not pg_url(), reason=f"PostgreSQL tests need {PG_URL_VARIABLE}")


# --- a ledger with traders, and `serve` processes over it ---------------------------------

@dataclass
class Market:
    """A ledger in `data_dir` with emitters e0, e1, ..., each holding 10,000 t of its own
    batch eN-B in its account eN-C."""

    data_dir: Path
    store_url: str
    wallets: dict[str, Wallet] = field(default_factory=dict)

    def app(self) -> App:
        config = replace(load_config(self.data_dir), store_url=self.store_url)
        return build(config, self.data_dir, password=lambda: PASSWORD)

    def transfer(self, who: str, to: str) -> dict[str, Any]:
        """`who`'s signed transfer of 1 t of its batch to `to`'s account (its JSON form)."""
        instruction = OPERATIONS.instruction("transfer", fromAccount=f"{who}-C",
                                             toAccount=f"{to}-C", batch=f"{who}-B",
                                             quantity=1)
        return self.wallets[who].sign(instruction).as_json()


def _market(data_dir: Path, store_url: str | None, traders: int) -> Market:
    init_ledger(data_dir, registry="MEE", registry_name="Ministry", password=PASSWORD,
                store_url=store_url, scrypt_n=2**4)
    market = Market(data_dir, store_url or load_config(data_dir).store_url)
    with market.app() as app:
        registry = registry_wallet(app.config, data_dir, PASSWORD)

        def by_registry(op: str, **fields: Any) -> None:
            app.service.submit(registry.sign(app.service.operations.instruction(op, **fields))
                               .as_json())

        for n in range(traders):
            name = f"e{n}"
            market.wallets[name] = fresh_wallet()
            by_registry("register_participant", participant=name, name=name.upper(),
                        role="emitter")
            by_registry("register_key", participant=name, key=market.wallets[name].address)
            by_registry("open_account", account=f"{name}-C", participant=name,
                        accountType="compliance")
            by_registry("issue_batch", batch=f"{name}-B", scheme="CN-ETS", kind="allowance",
                        vintage=2025, issuance="free_allocation", quantity=10_000,
                        account=f"{name}-C")
    return market


@pytest.fixture
def pg_market(tmp_path: Path) -> Iterator[Callable[[int], Market]]:
    if not pg_url():
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (CI sets it)")
    fresh_pg_store().dispose()  # an empty schema: init creates the ledger in it
    yield lambda traders: _market(tmp_path / "ledger", pg_url(), traders)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def duty_pids(self) -> list[int]:
        return [int(pid) for pid in DUTY_LINE.findall(self.output())]

    def stop(self, how: signal.Signals = signal.SIGTERM) -> str:
        self.process.send_signal(how)
        self.process.wait(timeout=30)
        output = self.output()
        assert self.process.returncode == 0, output
        assert "Traceback" not in output, output
        assert output.rstrip().endswith("stopped"), output
        return output


def _serve(data_dir: Path, log: Path, *options: str, password: bool = True) -> Server:
    return _answering(_started(data_dir, log, *options, password=password))


def _started(data_dir: Path, log: Path, *options: str, password: bool = True) -> Server:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("CARBONLEDGER_PASSWORD", "CARBONLEDGER_STORE_URL")}
    if password:
        environment["CARBONLEDGER_PASSWORD"] = PASSWORD
    # the log goes to a file: a pipe nobody reads would stall a busy server
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(CLI), "serve", "--data-dir", str(data_dir), "--port", str(port),
             "--log-level", "info", *options],
            stdout=sink, stderr=subprocess.STDOUT, env=environment)
    return Server(process, port, log)


def _answering(server: Server) -> Server:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"serve exited {server.process.returncode}: "
                                 f"{server.output()}")
        try:
            httpx.get(f"{server.url}/v1/head", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.process.kill()
    raise AssertionError(f"serve did not answer within 60 s: {server.output()}")


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server a test starts is gone when it ends, whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            # SIGTERM first: uvicorn's supervisor stops its workers (a SIGKILL would leave
            # them running, cutting checkpoints in whatever database next has this name)
            server.process.terminate()
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=30)


def _until(what: Callable[[], Any], message: str, timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(message)


def _posted(http: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    """The receipt of one signed instruction. A worker killed under the request loses it:
    the SAME signed instruction is sent again, and a receipt marked duplicate says the
    first attempt had committed."""
    for _ in range(50):
        try:
            answer = http.post("/v1/instructions", json=document)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if answer.status_code == 503:
            time.sleep(0.1)
            continue
        assert answer.status_code == 200, answer.text
        receipt: dict[str, Any] = answer.json()["receipt"]
        return receipt
    raise AssertionError("no receipt after 50 attempts")


def _assert_ledger_sound(market: Market, *, receipts: Sequence[dict[str, Any]] = ()) -> App:
    """Gapless journal holding every receipt, invariants, replay --check, the audit."""
    app = market.app()
    service = app.service
    head = service.head()
    seqs = [entry.seq for entry in service.journal(0, head + 1)]
    assert seqs == list(range(head + 1)), "the journal has a gap"
    received = [r["seq"] for r in receipts]
    assert len(set(received)) == len(received) and all(seq <= head for seq in received)
    assert service.check_invariants() == []
    replayed = service.replay_check()
    assert replayed.ok, replayed.first_difference
    audited = service.audit()
    assert audited.ok, audited.first_discrepancy
    assert audited.checkpoints == len(service.checkpoints())
    return app


# --- several workers on PostgreSQL ----------------------------------------------------------

@needs_pg
def test_two_workers_on_postgresql_give_every_transfer_a_receipt(
        pg_market: Callable[[int], Market], servers: list[Server], tmp_path: Path) -> None:
    market = pg_market(6)
    # config.json names a store that does not exist: --store is what is served
    config = json.loads((market.data_dir / "config.json").read_text())
    config["store_url"] = sqlite_url(tmp_path / "elsewhere.db")
    (market.data_dir / "config.json").write_text(json.dumps(config))
    server = _serve(market.data_dir, tmp_path / "serve.log", "--workers", "2",
                    "--store", market.store_url)
    servers.append(server)
    traders = sorted(market.wallets)

    def trade(who: str) -> list[dict[str, Any]]:
        to = traders[(traders.index(who) + 1) % len(traders)]
        with httpx.Client(base_url=server.url, timeout=30) as http:
            return [_posted(http, market.transfer(who, to)) for _ in range(15)]

    with ThreadPoolExecutor(len(traders)) as pool:
        receipts = [r for batch in pool.map(trade, traders) for r in batch]
    output = server.stop(signal.SIGINT)  # Ctrl-C: the supervisor stops every worker

    assert len(receipts) == 90 and not any(r.get("duplicate") for r in receipts)
    assert len(re.findall(r"Started server process \[(\d+)\]", output)) == 2
    assert "with 2 workers" in output
    with _assert_ledger_sound(market, receipts=receipts) as app:
        for who in traders:  # each sent 15 and received 15
            holding = app.service.holdings(account=f"{who}-C", batch=f"{who}-B")
            assert sum(h.tradable for h in holding) == 10_000 - 15


@needs_pg
def test_one_worker_holds_the_checkpoint_duty_and_another_takes_it_when_it_dies(
        pg_market: Callable[[int], Market], servers: list[Server], tmp_path: Path) -> None:
    market = pg_market(2)
    server = _serve(market.data_dir, tmp_path / "serve.log", "--workers", "2",
                    "--checkpoint-every", "1")
    servers.append(server)
    receipts: list[dict[str, Any]] = []
    writing = threading.Event()
    writing.set()

    def write() -> None:  # the journal grows while checkpoints are cut in other processes
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while writing.is_set():
                receipts.append(_posted(http, market.transfer("e0", "e1")))
                time.sleep(0.05)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with market.app() as app:
            (leader,) = _until(server.duty_pids, "no worker took the checkpoint duty")
            _until(lambda: app.service.checkpoints(), "no checkpoint was cut")
            assert _advisory_holders() == [leader]
            time.sleep(1.2)  # the other worker keeps trying, and never gets it
            assert server.duty_pids() == [leader]

            os.kill(leader, signal.SIGKILL)
            successor = _until(lambda: [p for p in server.duty_pids() if p != leader],
                               "nobody took the duty over")[0]
            taken_over_at = len(app.service.checkpoints())
            _until(lambda: len(app.service.checkpoints()) > taken_over_at,
                   "the new holder cut no checkpoint")
            assert _advisory_holders() == [successor]
    finally:
        writing.clear()
        writer.join()
    server.stop()

    assert len(receipts) > 10
    with _assert_ledger_sound(market, receipts=receipts) as app:
        numbers = [c.number for c in app.service.checkpoints()]
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 3
        assert all(c.signer == app.service.operator for c in app.service.checkpoints())


def _advisory_holders() -> list[int]:
    """The process ids (from the lock connection's application_name) holding the duty's
    advisory lock, as the server sees it."""
    import psycopg

    key = advisory_key(LOCK_NAME)
    url = (pg_url() or "").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
            "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = %s AND l.objid = %s AND l.objsubid = 1 AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchall()
    return [int(str(row[0]).rsplit(" ", 1)[1]) for row in rows]


@needs_pg
def test_two_checkpointers_racing_never_share_a_number(
        pg_market: Callable[[int], Market]) -> None:
    """Were two processes to cut at once (the lock lost and taken over in between), each cut
    holds the journal head: the numbers stay distinct and every checkpoint verifies."""
    market = pg_market(2)
    first, second = market.app(), market.app()  # two stores: two sets of connections
    try:
        def cut(app: App) -> list[int]:
            cuts = [app.service.cut_checkpoint() for _ in range(6)]
            return [c.number for c in cuts if c is not None]

        def write() -> None:
            for _ in range(30):
                first.service.submit(market.transfer("e0", "e1"))

        with ThreadPoolExecutor(3) as pool:
            cuts = [pool.submit(cut, first), pool.submit(cut, second)]
            pool.submit(write).result()
            numbers = sorted(n for done in cuts for n in done.result())
        assert numbers == list(range(1, 13))
    finally:
        first.close()
        second.close()
    _assert_ledger_sound(market).close()


@needs_pg
def test_the_advisory_lock_is_held_once_and_freed_when_its_session_dies() -> None:
    store = fresh_pg_store()
    other = Store(store.url)
    try:
        with store.leader_lock("duty-test") as held, \
                other.leader_lock("duty-test") as waiting:
            assert held.try_take() and held.still_held()
            assert not any(waiting.try_take() for _ in range(5))
            assert not waiting.still_held()
            assert _lock_connections("duty-test") == 2  # one each, however often tried
            with other.leader_lock("another-lock") as unrelated:
                assert unrelated.try_take()
            _terminate_holders(advisory_key("duty-test"))  # as when its process dies
            assert not held.still_held()
            assert waiting.try_take()
            assert not held.try_take()  # on a new connection: the lock is taken
        with other.leader_lock("duty-test") as after:  # closing released it
            assert after.try_take()
    finally:
        store.dispose()
        other.dispose()


def _lock_connections(name: str) -> int:
    import psycopg

    url = (pg_url() or "").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE "
                                 "application_name = %s",
                                 (f"carbonledger {name} pid {os.getpid()}",)).fetchone()
    return int(row[0]) if row else 0


def _terminate_holders(key: int) -> None:
    import psycopg

    url = (pg_url() or "").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = "
                           "'advisory' AND classid = %s AND objid = %s AND database = "
                           "(SELECT oid FROM pg_database WHERE datname = current_database())",
                           ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF))


# --- SQLite: one worker, one duty holder ----------------------------------------------------

def test_a_file_lock_beside_the_sqlite_database_is_held_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "ledger.db")
    one, two = Store(url), Store(url)
    try:
        with one.leader_lock("duty-test") as held:
            assert held.try_take() and held.still_held()
            with two.leader_lock("duty-test") as waiting:
                assert not waiting.try_take() and not waiting.still_held()
        assert (tmp_path / "ledger.db.duty-test.lock").exists()
        with two.leader_lock("duty-test") as after:  # closing released it
            assert after.try_take()
    finally:
        one.dispose()
        two.dispose()


def test_two_serve_processes_on_one_sqlite_file_share_one_duty(
        tmp_path: Path, servers: list[Server]) -> None:
    market = _market(tmp_path / "ledger", None, 2)
    first = _started(market.data_dir, tmp_path / "first.log", "--checkpoint-every", "1")
    servers.append(first)
    second = _started(market.data_dir, tmp_path / "second.log", "--checkpoint-every", "1")
    servers.append(second)
    for server in (first, second):  # started together: they start up side by side
        _answering(server)
    _until(lambda: first.duty_pids() or second.duty_pids(),
           "no serve process took the checkpoint duty")
    holder, other = (first, second) if first.duty_pids() else (second, first)
    time.sleep(1.2)
    assert len(holder.duty_pids()) == 1 and other.duty_pids() == []
    _until(lambda: "checkpoint 1 cut" in holder.output(), "no checkpoint was cut")

    holder.stop()  # a clean stop releases the lock: the other takes the duty
    _until(other.duty_pids, "the second process did not take the duty over")
    with httpx.Client(base_url=other.url, timeout=30) as http:
        receipt = _posted(http, market.transfer("e0", "e1"))
    _until(lambda: "checkpoint 2 cut" in other.output(), "the new holder cut no checkpoint")
    other.stop()
    with _assert_ledger_sound(market, receipts=[receipt]) as app:
        assert [c.number for c in app.service.checkpoints()] == [1, 2]


@needs_pg
def test_connections_are_spread_over_the_workers_and_outlive_one_that_dies(
        pg_market: Callable[[int], Market], servers: list[Server], tmp_path: Path) -> None:
    """Each worker listens on a socket of its own (api/worker_sockets.py): 16 clients that
    connect at once land on both workers, not on whichever woke first; a worker killed takes
    only its own socket with it, and every new connection is answered."""
    market = pg_market(1)
    server = _serve(market.data_dir, tmp_path / "serve.log", "--workers", "2")
    servers.append(server)
    _until(lambda: server.output().count("Application startup complete") == 2,
           "the two workers did not both start")
    # connected one after the other before any asks: all waiting to be accepted at once
    clients = [socket.create_connection(("127.0.0.1", server.port), timeout=10)
               for _ in range(16)]
    try:
        for client in clients:
            client.sendall(b"GET /v1/head HTTP/1.1\r\nHost: ledger\r\n\r\n")
        for client in clients:
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        held = connections_by_process(server.port)
        assert sum(held.values()) == 16 and len(held) == 2, held
    finally:
        for client in clients:
            client.close()

    killed = min(held)
    os.kill(killed, signal.SIGKILL)
    # gone, and its socket with it (connections waiting in its queue when it died were
    # reset: net.ipv4.tcp_migrate_req, off by default, would hand them to the others)
    _until(lambda: not Path(f"/proc/{killed}").exists()
           or "zombie" in Path(f"/proc/{killed}/status").read_text(),
           "the killed worker is still there")
    for _ in range(32):  # new connections, each to whichever socket the kernel picks
        with httpx.Client(base_url=server.url, timeout=10) as fresh:
            assert fresh.get("/v1/head").status_code == 200
    server.stop()


@needs_pg
def test_a_port_held_by_anything_else_is_refused(pg_market: Callable[[int], Market],
                                                 servers: list[Server],
                                                 tmp_path: Path) -> None:
    """Not only by a plain listener: another server's workers bind with SO_REUSEPORT, which
    would take a second server's sockets in beside theirs and share its connections."""
    market = pg_market(0)
    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen()
    shared = socket.socket()
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    shared.bind(("127.0.0.1", 0))
    shared.listen()
    environment = {**os.environ, "CARBONLEDGER_PASSWORD": PASSWORD}
    try:
        for holder in (plain, shared):
            port = holder.getsockname()[1]
            done = subprocess.run([str(CLI), "serve", "--data-dir", str(market.data_dir),
                                   "--workers", "2", "--port", str(port)],
                                  capture_output=True, text=True, timeout=60, env=environment)
            assert done.returncode != 0, done.stdout
            assert f"cannot listen on 127.0.0.1:{port}" in done.stderr, done.stderr
            assert "Traceback" not in done.stderr
    finally:
        plain.close()
        shared.close()


def test_several_workers_on_sqlite_are_refused(tmp_path: Path) -> None:
    market = _market(tmp_path / "ledger", None, 0)
    done = subprocess.run([str(CLI), "serve", "--data-dir", str(market.data_dir), "--workers",
                           "2", "--port", str(_free_port())],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "--workers 2 needs the store on PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_duty_without_a_password_is_refused(tmp_path: Path) -> None:
    market = _market(tmp_path / "ledger", None, 0)
    environment = {k: v for k, v in os.environ.items() if k != "CARBONLEDGER_PASSWORD"}
    done = subprocess.run([str(CLI), "serve", "--data-dir", str(market.data_dir),
                           "--checkpoint-every", "5", "--port", str(_free_port())],
                          capture_output=True, text=True, timeout=60, env=environment)
    assert done.returncode == 3, done.stderr
    assert "set CARBONLEDGER_PASSWORD" in done.stderr and "Traceback" not in done.stderr


# --- the duty itself, in process: anchoring, and failures that never stop it -----------------

def test_the_duty_holder_cuts_and_anchors_and_a_second_duty_waits(tmp_path: Path) -> None:
    from anchoring.operator.chain import EmbeddedChain, deploy_registry
    from anchoring.operator.worker import AnchorTarget

    market = _market(tmp_path / "ledger", None, 2)
    chain = EmbeddedChain()
    _, deployment = deploy_registry(chain, owner=chain.sender.address)
    target = AnchorTarget(deployment.chain_id, deployment.registry, deployment.block_number)
    config = load_config(market.data_dir)
    with build(config, market.data_dir, password=lambda: PASSWORD, chain=(chain, target),
               policy=CheckpointPolicy(every_s=0.2)) as app, market.app() as other:
        holder = CheckpointDuty(app.service, every_s=0.2, anchors=True, retry_s=0.1)
        waiting = CheckpointDuty(other.service, every_s=0.2, anchors=False, retry_s=0.1)
        holder.start()
        _until(lambda: holder.leading, "the first duty did not take the lock")
        waiting.start()
        try:
            app.service.submit(market.transfer("e0", "e1"))
            _until(lambda: [c for c in app.service.checkpoints() if c.anchor], "nothing anchored")
            assert not waiting.leading
        finally:
            holder.stop()
            waiting.stop()
        assert not holder.leading
        checkpoints = app.service.checkpoints()
        assert checkpoints and all(c.anchor is not None for c in checkpoints)


def test_a_failing_anchor_is_logged_and_the_duty_goes_on_cutting(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    market = _market(tmp_path / "ledger", None, 2)
    config = load_config(market.data_dir)
    with build(config, market.data_dir, password=lambda: PASSWORD,
               policy=CheckpointPolicy(every_s=0.2)) as app:
        duty = CheckpointDuty(app.service, every_s=0.2, anchors=True, retry_s=0.1)
        with caplog.at_level("INFO", logger="uvicorn.error"):
            duty.start()
            try:
                _until(lambda: app.service.checkpoints(), "no checkpoint was cut")
                app.service.submit(market.transfer("e0", "e1"))
                _until(lambda: len(app.service.checkpoints()) == 2, "no second checkpoint")
            finally:
                duty.stop()
    failures = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert failures and all(f.startswith("anchoring failed, trying again in 0.2 s: no chain is "
                                         "configured to anchor on") for f in failures)
    assert all("\n" not in f for f in failures)
