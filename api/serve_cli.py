"""`carbonledger serve`: the HTTP service (api/http/) on uvicorn, over the ledger in the data
directory.

The server asks for no password: it answers queries and proofs and applies signed
instructions, none of which needs a key of the data directory. Checkpoints are cut and
anchored by `carbonledger checkpoint` and `carbonledger chain anchor` meanwhile.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import click

from api.bootstrap import build
from api.config import ConfigError, load_config, resolve_data_dir
from api.exit_codes import environment
from api.group_commit import GroupCommitter


@click.command(epilog="One worker process for now: several workers on PostgreSQL, with one "
                      "of them cutting and anchoring checkpoints under an advisory lock, "
                      "come later.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data-dir", "serve_data_dir", default=None,
              help="Ledger data directory (default: carbonledger's --data-dir).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.pass_obj
def serve(data_dir: Path, host: str, port: int, serve_data_dir: str | None,
          log_level: str) -> None:
    """Serve the ledger over HTTP (OpenAPI at /v1/openapi.json, docs at /v1/docs) until
    Ctrl-C or SIGTERM, which finish the requests under way and stop."""
    import uvicorn

    from api.http import create_app

    directory = resolve_data_dir(serve_data_dir) if serve_data_dir else data_dir
    try:
        config = load_config(directory)
    except ConfigError as exc:
        raise environment(str(exc)) from exc
    with build(config, directory) as app:
        committer = GroupCommitter(app.service)  # concurrent submissions share commits
        try:
            http = create_app(app.service, committer=committer)
            click.echo(f"serving the ledger in {directory} on http://{host}:{port}/v1 "
                       f"(OpenAPI: http://{host}:{port}/v1/openapi.json)")
            server = uvicorn.Server(uvicorn.Config(http, host=host, port=port, workers=1,
                                                   log_level=log_level))
            with _stopped_by_signals():
                server.run()
        finally:
            committer.close()
    click.echo("stopped")


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """uvicorn handles SIGINT and SIGTERM itself (it stops accepting, lets the requests under
    way finish, runs the app's shutdown), then raises the signal again for the handler that
    was there before it. That handler is this no-op while the server runs, so that a stop is
    a normal return: the committer and the store are closed, and the exit code is 0."""
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda _sig, _frame: None) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
