"""`carbonledger serve` as a user runs it: a real process on a free port, talked to with httpx,
stopped by SIGTERM and by Ctrl-C (SIGINT), cleanly each time."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.bootstrap import App, registry_wallet
from tests.api.http.conftest import PASSWORD

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _started(data_dir: Path, port: int) -> subprocess.Popen[str]:
    cli = Path(sys.executable).with_name("carbonledger")
    server = subprocess.Popen(
        [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir",
         str(data_dir), "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"serve exited: {server.communicate()[0]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/head", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("serve did not answer within 30 s")


def _stopped(server: subprocess.Popen[str], how: signal.Signals) -> str:
    server.send_signal(how)
    output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "Traceback" not in output
    return output


def test_serve_answers_over_http_and_stops_on_sigterm(ledger_app: App) -> None:
    wallet = registry_wallet(ledger_app.config, ledger_app.data_dir, PASSWORD)
    signed = wallet.sign(ledger_app.service.operations.instruction(
        "register_participant", participant="huaneng", name="Huaneng", role="emitter"))
    port = _free_port()
    server = _started(ledger_app.data_dir, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            receipt = http.post("/v1/instructions", json=signed.as_json()).json()["receipt"]
            assert http.get("/v1/head").json() == {"head": receipt["seq"]}
            participants = http.get("/v1/participants").json()["items"]
            assert [p["id"] for p in participants] == ["MEE", "huaneng"]
            refused = http.post("/v1/instructions", content=b"{")
            assert refused.status_code == 400
            assert refused.headers["content-type"] == "application/problem+json"
            assert http.get("/v1/openapi.json").json()["info"]["title"] == "carbonledger"
    finally:
        output = _stopped(server, signal.SIGTERM)
    assert f"on http://127.0.0.1:{port}/v1" in output and "stopped" in output
    assert ledger_app.service.head() == receipt["seq"]  # written, and durable


def test_ctrl_c_stops_it_cleanly(ledger_app: App) -> None:
    port = _free_port()
    server = _started(ledger_app.data_dir, port)
    assert "stopped" in _stopped(server, signal.SIGINT)


def test_serve_without_a_ledger_says_what_to_do(tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("carbonledger")
    done = subprocess.run([str(cli), "serve", "--data-dir", str(tmp_path / "none"), "--port",
                           str(_free_port())], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "Error:" in done.stderr and "Traceback" not in done.stderr
