"""A lean HTTP load generator for the benchmarks of `carbonledger serve` (bench/api_load.py,
bench/api_proofs.py; not a benchmark itself).

Each client is a thread with one keep-alive HTTP/1.1 connection, sending requests built as
bytes before the clock starts, one at a time, and reading each answer whole (its status line,
its Content-Length, its body) before it sends the next. An HTTP library in threads (httpx)
spends more CPU per request than the server's route does, and on a machine of two cores the
generator's CPU is taken from the server: the figures would measure the generator. This one
spends a few tens of microseconds per request; its CPU is measured and printed all the same.
"""

from __future__ import annotations

import gc
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

Schedule = Callable[[int, int], float]  # (client, k) -> seconds after the start it is due
Check = Callable[[int, bytes], None]  # (status, body) -> raises when the answer is wrong


def request_bytes(method: str, path: str, port: int, body: bytes | None = None,
                  headers: Sequence[tuple[str, str]] = ()) -> bytes:
    """One HTTP/1.1 request, as it is sent on a keep-alive connection to 127.0.0.1:`port`."""
    lines = [f"{method} {path} HTTP/1.1", f"host: 127.0.0.1:{port}",
             *(f"{name}: {value}" for name, value in headers)]
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + (body or b"")


class Connection:
    """One keep-alive connection; `exchange` sends a request and reads its whole answer."""

    def __init__(self, port: int) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=60)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._pending = b""

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        self._socket.sendall(request)
        data = self._pending
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._receive()
        head, data = data[:end], data[end + 4:]
        status_line, *fields = head.split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = next((int(line.split(b":", 1)[1]) for line in fields
                       if line[:15].lower() == b"content-length:"), None)
        if length is None:
            raise RuntimeError(f"HTTP {status}: an answer without Content-Length "
                               "(this generator reads only sized bodies)")
        while len(data) < length:
            data += self._receive()
        self._pending = data[length:]
        return status, data[:length]

    def _receive(self) -> bytes:
        chunk = self._socket.recv(262_144)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self._socket.close()


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and the processes it started
    that still run (a server's worker processes), from Linux's /proc."""
    used: dict[int, tuple[int, float]] = {}  # pid -> (parent, CPU s)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it has just ended
        used[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12]))
                                 / os.sysconf("SC_CLK_TCK"))
    children: dict[int, list[int]] = {}
    for child, (parent, _) in used.items():
        children.setdefault(parent, []).append(child)
    total, reached = 0.0, [pid]
    while reached:
        member = reached.pop()
        total += used.get(member, (0, 0.0))[1]
        reached += children.get(member, [])
    return total


@dataclass(frozen=True)
class Run:
    requests: int
    elapsed_s: float
    latencies_s: list[float]
    client_cpu_s: float  # this process: every client thread
    server_cpu_s: float
    split: str = ""  # connections held by each server process, "9/7" (several workers)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies_s)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed_s

    def line(self, label: str, unit: str) -> str:
        per_s = 1 / self.elapsed_s
        return (f"   {label:<22}: {self.rate:,.0f} {unit}/s, latency p50 "
                f"{self.percentile_ms(0.50):.1f} ms, p99 {self.percentile_ms(0.99):.1f} ms; "
                f"CPU s per s: load generator {self.client_cpu_s * per_s:.2f}, "
                f"server {self.server_cpu_s * per_s:.2f}"
                + (f"; connections per worker {self.split}" if "/" in self.split else ""))


def load(port: int, server_pid: int, requests: list[list[bytes]], check: Check,
         due: Schedule | None = None) -> Run:
    """Client t sends requests[t] one by one, each when it is due (None: at once), and
    `check`s every answer; a latency runs from when the request was due (or sent) to the end
    of its answer, so a client that falls behind its schedule sees it in its figures."""
    latencies: list[list[float]] = [[] for _ in requests]
    failures: list[BaseException] = []
    connections = [Connection(port) for _ in requests]
    start = threading.Barrier(len(requests) + 1)
    began = 0.0

    def client(t: int) -> None:
        connection, took = connections[t], latencies[t]
        start.wait()
        try:
            for k, request in enumerate(requests[t]):
                if due is None:
                    sent = time.perf_counter()
                else:
                    sent = began + due(t, k)
                    pause_s = sent - time.perf_counter()
                    if pause_s > 0:
                        time.sleep(pause_s)
                status, body = connection.exchange(request)
                took.append(time.perf_counter() - sent)
                check(status, body)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(t,)) for t in range(len(requests))]
    for thread in threads:
        thread.start()
    # the requests and whatever this process built to make them, out of the collector's
    # sight: a full collection of this process (~75 ms measured) would stall every client
    # and be read as the server's latency
    gc.collect()
    gc.freeze()
    client_cpu, server_cpu = time.process_time(), cpu_s(server_pid)
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed_s = time.perf_counter() - began
    client_cpu, server_cpu = time.process_time() - client_cpu, cpu_s(server_pid) - server_cpu
    held = connections_by_process(port)  # while they are still open
    split = "/".join(str(n) for n in sorted(held.values(), reverse=True))  # "9/7"
    for connection in connections:
        connection.close()
    if failures:
        raise failures[0]
    return Run(sum(len(r) for r in requests), elapsed_s,
               [x for each in latencies for x in each], client_cpu, server_cpu, split)


def connections_by_process(port: int) -> dict[int, int]:
    """pid -> the established connections it holds on `port`'s server side: the kernel spreads
    them over the workers by hash (api/worker_sockets.py), and a worker with more of them can
    bound a run. Read with `ss` (iproute2); {} where it is missing."""
    try:
        listed = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                                capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    held: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", listed):
        held[int(pid)] = held.get(int(pid), 0) + 1
    return held


def evenly(rate: float, clients: int) -> Schedule:
    """Requests spread evenly in time: client t's k-th is due at (k * clients + t) / rate."""
    return lambda t, k: (k * clients + t) / rate


def expect_ok(status: int, body: bytes) -> None:
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
