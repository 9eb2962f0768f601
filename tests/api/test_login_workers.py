"""Logging in to `carbonledger serve --workers 2` on PostgreSQL: a challenge is asked of
whichever worker accepts the connection and redeemed at whichever accepts the next, so the
workers must share the secret (DATA_DIR/session.key) and the record of redeemed challenges
(the store): every login succeeds once, and every replay is refused, at any worker."""

from __future__ import annotations

import signal
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from api.access import login_digest
from api.session_key import SESSION_KEY_FILE
from custody.signatures import unsafe_sign_digest
from tests.api.test_serve_workers import (  # noqa: F401 (fixtures)
    Market,
    Server,
    _serve,
    needs_pg,
    pg_market,
    servers,
)

LOGINS = 30


def _fresh(url: str, method: str, path: str, **options: Any) -> httpx.Response:
    """One request on a connection of its own: any worker may accept it."""
    with httpx.Client(base_url=url, timeout=30) as http:
        return http.request(method, path, **options)


@needs_pg
def test_workers_share_logins_and_refuse_every_replay(
        pg_market: Callable[[int], Market], servers: list[Server],  # noqa: F811 (fixtures)
        tmp_path: Path) -> None:
    market = pg_market(1)
    server = _serve(market.data_dir, tmp_path / "serve.log", "--workers", "2",
                    "--store", market.store_url)
    servers.append(server)
    wallet = market.wallets["e0"]
    logins, tokens = [], []
    for _ in range(LOGINS):
        issued = _fresh(server.url, "POST", "/v1/auth/challenge").json()
        digest = login_digest(wallet.domain, bytes.fromhex(issued["challenge"][2:]), "e0",
                              issued["expires"])
        login = {"challenge": issued["challenge"], "participant": "e0",
                 "expires": issued["expires"],
                 "signature": "0x" + unsafe_sign_digest(wallet.private_key, digest).hex()}
        answer = _fresh(server.url, "POST", "/v1/auth/token", json=login)
        assert answer.status_code == 200, answer.text
        logins.append(login)
        tokens.append(answer.json()["token"])
    for login in logins:
        replayed = _fresh(server.url, "POST", "/v1/auth/token", json=login)
        assert replayed.status_code == 401 and replayed.json()["code"] == "challenge_invalid"
    for token in tokens:
        answer = _fresh(server.url, "GET", "/v1/holdings",
                        headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert [h["account"] for h in answer.json()["items"]] == ["e0-C"]
    key = market.data_dir / SESSION_KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    output = server.stop(signal.SIGINT)
    assert output.count("Started server process") == 2
