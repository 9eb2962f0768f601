"""Several workers on one port, each accepting on a listening socket of its own.

uvicorn's supervisor binds one socket and hands it to every worker. Each worker's event loop
then waits on that one socket, and the first to wake accepts every connection waiting: 16
clients connecting at once mostly landed on one worker, which answered them all on one core
while the other worker idled (docs/DESIGN.md, "Several workers"). Here each worker gets a
socket of its own, bound to the same port with SO_REUSEPORT, and the kernel spreads new
connections over the listening sockets by their addresses, as nginx's `reuseport` does. The
supervisor keeps one socket bound, never listening, so that the port stays this server's and
a port already taken is refused at start; a worker's socket lives and dies with its process.
"""

from __future__ import annotations

import socket
from typing import Any

from uvicorn.config import Config
from uvicorn.supervisors import Multiprocess


def reserve_port(host: str, port: int) -> socket.socket:
    """The supervisor's socket on `host`:`port`; OSError when anything holds the port, another
    server's workers included: their sockets would take ours in (SO_REUSEPORT joins any
    socket of the same user), and connections would be shared between two servers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family=family) as alone:  # bound without SO_REUSEPORT: no sharing
        alone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        alone.bind((host, port))
    return reuse_port_socket(host, port)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` that others of this user may bind too (not yet
    listening); OSError when the port is held otherwise."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class SocketPerWorker(Multiprocess):
    """uvicorn's supervisor (start, health checks, replacement of a worker that dies,
    signals), each worker started with a socket of its own: the supervisor reads
    `sockets` for every worker it starts, and gets a new one each time. Its reference to
    it ends once the worker has started (multiprocessing drops a started process's
    arguments), so a worker's socket closes with the worker."""

    def __init__(self, config: Config, reserved: socket.socket) -> None:
        host, port = reserved.getsockname()[:2]
        self._address = (host, port)
        super().__init__(config, sockets=[reserved])

    @property
    def sockets(self) -> list[socket.socket]:
        return [reuse_port_socket(*self._address)]

    @sockets.setter
    def sockets(self, _reserved: Any) -> None:
        pass  # the supervisor's own stays with the caller, which closes it


__all__ = ["SocketPerWorker", "reserve_port", "reuse_port_socket"]
