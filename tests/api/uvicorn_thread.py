"""A ledger's HTTP service on a real uvicorn server in a thread of the test's process: real
sockets and HTTP, with the test still able to reach the service and its store directly."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from api.service import LedgerService


@contextmanager
def served_in_thread(service: LedgerService, **app_options: Any) -> Iterator[str]:
    """The service's app (built with `app_options`: create_app's) on a free localhost port
    until the block ends: its base URL."""
    import uvicorn

    from api.http import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(service, **app_options),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
