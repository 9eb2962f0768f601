"""The clock setting of demo and test deployments (api/ledger_clock.py, `carbonledger clock`,
GET /v1/clock): moved and followed by a running server, refused on production, never moving
the journal back; and the client's deadlines counted from the ledger's time."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from api.bootstrap import build, init_ledger
from api.cli import main
from api.client import Client, HttpTransport, LocalTransport
from api.config import ConfigError, Deployment, load_config
from api.ledger_clock import CLOCK_FILE, describe_offset, parse_duration_ms
from custody.keystore import new_private_key, read_keystore
from ledger.clock import parse_time
from ledger.errors import Reason, Rejected
from tests.api.uvicorn_thread import served_in_thread

PASSWORD = "correct horse"
LIGHT_SCRYPT_N = 2**10
DAY_MS = 86_400_000


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", PASSWORD)
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.delenv("CARBONLEDGER_SERVER", raising=False)
    return CliRunner()


def _ledger(tmp_path: Path, deployment: Deployment) -> Path:
    data_dir = tmp_path / deployment.value
    init_ledger(data_dir, registry="MEE", registry_name="Registry", password=PASSWORD,
                scrypt_n=LIGHT_SCRYPT_N, deployment=deployment)
    return data_dir


def _clock(runner: CliRunner, data_dir: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(main, ["--data-dir", str(data_dir), "clock", *args])
    assert result.exit_code == code, result.output
    return result.output


def _ledger_now(data_dir: Path) -> datetime:
    with build(load_config(data_dir), data_dir) as app:
        return app.service.ledger.clock()


def _close_to(moment: datetime, expected: datetime, slack_s: float = 5.0) -> bool:
    return abs((moment - expected).total_seconds()) < slack_s


def test_a_config_written_before_deployments_loads_unchanged_as_production(
        tmp_path: Path) -> None:
    data_dir = _ledger(tmp_path, Deployment.production)
    path = data_dir / "config.json"
    document = json.loads(path.read_text())
    assert document["deployment"] == "production"
    del document["deployment"]  # exactly the four fields of a config written before
    path.write_text(json.dumps(document))
    config = load_config(data_dir)
    assert config.deployment is Deployment.production
    with build(config, data_dir) as app:
        assert app.service.head() == 0
    path.write_text(json.dumps({**document, "deployment": "staging"}))
    with pytest.raises(ConfigError, match="'staging': it is one of production, test, demo"):
        load_config(data_dir)
    path.write_text(json.dumps({**document, "colour": "blue"}))
    with pytest.raises(ConfigError, match=r"exactly store_url, chain_id, registry, "
                                          r"registry_keystore \(and perhaps deployment, "
                                          r"state_tree\)"):
        load_config(data_dir)


def test_init_names_the_deployment(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--data-dir", str(tmp_path / "d"), "init", "--deployment",
                                  "demo"])
    assert result.exit_code == 0, result.output
    assert load_config(tmp_path / "d").deployment is Deployment.demo
    result = runner.invoke(main, ["--data-dir", str(tmp_path / "e"), "init", "--deployment",
                                  "staging"])
    assert result.exit_code == 2 and "'staging' is not one of" in result.output


def test_the_clock_commands_move_a_demo_ledgers_clock(runner: CliRunner,
                                                      tmp_path: Path) -> None:
    data_dir = _ledger(tmp_path, Deployment.demo)
    assert "the system's (not moved)" in _clock(runner, data_dir, "show")
    assert "(the system's +30d 0h 0m 0s)" in _clock(runner, data_dir, "advance", "30d")
    assert "+31d 12h 0m 0s" in _clock(runner, data_dir, "advance", "1d12h")
    assert json.loads((data_dir / CLOCK_FILE).read_text()) == {"offset_ms": 31 * DAY_MS
                                                               + DAY_MS // 2}
    assert _close_to(_ledger_now(data_dir),
                     datetime.now(UTC) + timedelta(days=31, hours=12))
    assert "the system's +31d 12h 0m 0s" in _clock(runner, data_dir, "show")

    _clock(runner, data_dir, "set", "2030-01-01T08:00:00+08:00")
    assert _close_to(_ledger_now(data_dir), datetime(2030, 1, 1, tzinfo=UTC))
    assert "is not a duration such as 30d" in _clock(runner, data_dir, "advance", "3x",
                                                      code=2)
    assert "has no UTC offset" in _clock(runner, data_dir, "set", "2030-01-01T00:00:00",
                                         code=2)
    assert "is the system's again" in _clock(runner, data_dir, "reset")
    assert not (data_dir / CLOCK_FILE).exists()
    assert _close_to(_ledger_now(data_dir), datetime.now(UTC))
    assert "was not moved" in _clock(runner, data_dir, "reset")


def test_a_production_ledger_never_moves_its_clock(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = _ledger(tmp_path, Deployment.production)
    for args in (("advance", "1d"), ("set", "2030-01-01T00:00:00Z")):
        output = _clock(runner, data_dir, *args, code=1)
        assert "is a production deployment: its clock is the system's and is never moved" \
            in output
    assert not (data_dir / CLOCK_FILE).exists()

    (data_dir / CLOCK_FILE).write_text('{"offset_ms": 86400000}')  # put there by hand
    with pytest.raises(ConfigError, match="production deployment"):
        build(load_config(data_dir), data_dir)
    result = runner.invoke(main, ["--data-dir", str(data_dir), "replay", "--check"])
    assert result.exit_code == 3
    assert f"{data_dir / CLOCK_FILE} moves the ledger's clock, but {data_dir} is a " \
           "production deployment" in result.output and "clock reset" in result.output
    assert "refuses to open with it" in _clock(runner, data_dir, "show", code=3)
    _clock(runner, data_dir, "reset")
    assert _close_to(_ledger_now(data_dir), datetime.now(UTC))


@pytest.mark.parametrize(("text", "ms"), [
    ("30d", 30 * DAY_MS), ("12h", DAY_MS // 2), ("1d12h", DAY_MS * 3 // 2), ("90m", 5_400_000),
    ("45s", 45_000), ("2w", 14 * DAY_MS), ("1d 6h", DAY_MS * 5 // 4)])
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "30", "d", "-3d", "3x", "1.5d", "3d and 2h"])
def test_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration_ms(text)


def test_offsets_in_words() -> None:
    assert describe_offset(91 * DAY_MS) == "+91d 0h 0m 0s"
    assert describe_offset(-(DAY_MS + 3_723_004)) == "-1d 1h 2m 3.004s"


@pytest.fixture
def served_demo(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A demo ledger served over HTTP by uvicorn in this process, built as `serve` builds it."""
    data_dir = _ledger(tmp_path, Deployment.demo)
    with build(load_config(data_dir), data_dir) as app, served_in_thread(app.service) as url:
        yield data_dir, url


def test_a_running_server_follows_the_clock_without_a_restart(
        runner: CliRunner, served_demo: tuple[Path, str]) -> None:
    data_dir, url = served_demo
    first = httpx.get(f"{url}/v1/clock").json()
    assert first["deployment"] == "demo"
    assert _close_to(parse_time(first["now"]), datetime.now(UTC))
    _clock(runner, data_dir, "advance", "40d")
    moved = httpx.get(f"{url}/v1/clock").json()
    assert _close_to(parse_time(moved["now"]), datetime.now(UTC) + timedelta(days=40))
    transport = HttpTransport(url)
    try:
        assert _close_to(transport.now(), datetime.now(UTC) + timedelta(days=40))
        _clock(runner, data_dir, "advance", "2d")
        assert _close_to(transport.now(), datetime.now(UTC) + timedelta(days=42))
    finally:
        transport.close()
    _clock(runner, data_dir, "reset")
    assert _close_to(parse_time(httpx.get(f"{url}/v1/clock").json()["now"]), datetime.now(UTC))


def test_the_client_counts_deadlines_from_the_ledgers_clock(runner: CliRunner,
                                                            tmp_path: Path) -> None:
    data_dir = _ledger(tmp_path, Deployment.demo)
    config = load_config(data_dir)
    _clock(runner, data_dir, "advance", "40d")
    with build(config, data_dir) as app:
        client = Client(LocalTransport(app.service), validity_s=600)
        registry = client.wallet(read_keystore(data_dir / config.registry_keystore, PASSWORD))

        def register(name: str, **deadline: int) -> object:
            instruction = client.instruction("register_participant", participant=name,
                                             name=name.title(), role="emitter", **deadline)
            return client.submit(client.sign(instruction, registry))

        # a deadline from the caller's own clock has long passed on the ledger's
        with pytest.raises(Rejected) as expired:
            register("early", deadline=int(time.time()) + 3600)
        assert expired.value.reason is Reason.deadline_expired
        accepted = register("huaneng")
        assert _close_to(parse_time(accepted.accepted_at),  # type: ignore[attr-defined]
                         datetime.now(UTC) + timedelta(days=40))

        _clock(runner, data_dir, "advance", "1d")  # past the deadlines measured before
        with pytest.raises(Rejected) as stale:
            register("baowu")
        assert stale.value.reason is Reason.deadline_expired
        assert client.refresh_clock() == pytest.approx(41 * 86_400, abs=5)
        register("baowu")


def test_a_clock_moved_back_never_moves_the_journal_back(runner: CliRunner,
                                                         tmp_path: Path) -> None:
    data_dir = _ledger(tmp_path, Deployment.test)
    config = load_config(data_dir)
    _clock(runner, data_dir, "advance", "10d")
    with build(config, data_dir) as app:
        client = Client(LocalTransport(app.service))
        wallet = client.wallet(new_private_key())
        registry = client.wallet(read_keystore(data_dir / config.registry_keystore, PASSWORD))
        ahead = client.submit(client.sign(client.instruction(
            "register_participant", participant="huaneng", name="Huaneng", role="emitter"),
            registry))
    _clock(runner, data_dir, "reset")  # ten days back
    assert "the journal's last entry is later, " + ahead.accepted_at in _clock(
        runner, data_dir, "show")
    with build(config, data_dir) as app:
        client = Client(LocalTransport(app.service))
        assert client.transport.now() == parse_time(ahead.accepted_at)
        registry = client.wallet(read_keystore(data_dir / config.registry_keystore, PASSWORD))
        after = client.submit(client.sign(client.instruction(
            "register_key", participant="huaneng", key=wallet.address), registry))
    assert after.accepted_at == ahead.accepted_at  # not ten days before it


def test_the_clock_route_is_public_and_documented(served_demo: tuple[Path, str]) -> None:
    _, url = served_demo
    document = httpx.get(f"{url}/v1/openapi.json").json()
    route = document["paths"]["/v1/clock"]["get"]
    assert route["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Clock"}
    assert "security" not in route
    schema = document["components"]["schemas"]["Clock"]
    assert schema["examples"] == [{"now": "2027-03-08T09:00:00.000Z", "deployment": "demo"}]
    assert httpx.get(f"{url}/v1/clock?x=1").status_code == 400  # as strict as every route
