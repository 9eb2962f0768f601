"""The demo's processes: the `carbonledger` command line, run as a person runs it (a process of
its own, its output read back), and the server and chain node it starts and always stops.

Every command runs with the demo's data directory and its keystore password in the
environment (CARBONLEDGER_PASSWORD); a ledger's store URL from the caller's environment is
dropped, so that the demo's ledger is the SQLite file in its own data directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from api.client import HttpTransport, ServerFailed, ServerUnreachable
from api.config import KEYSTORE_COST_VARIABLE

# The console script `carbonledger` is this, run by the interpreter the demo runs in (so
# that `python -m examples` needs no activated virtualenv).
_RUN_CLI = "import sys; from api.cli import main; sys.exit(main(prog_name='carbonledger'))"
DEMO_SCRYPT_N = 2**12  # demo keystores only: a light scrypt cost
COMMAND_TIMEOUT_S = 120.0
SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 15.0


class DemoError(RuntimeError):
    """A step of the demo did not go as it must: the message says which, and what happened."""


@dataclass(frozen=True)
class Output:
    """What a command printed, and how it exited."""

    stdout: str
    stderr: str
    code: int

    @property
    def text(self) -> str:
        return (self.stdout + self.stderr).strip()


@dataclass
class Cli:
    """`carbonledger --data-dir DATA_DIR [--server URL] ...`, as a subprocess."""

    data_dir: Path
    password: str
    server: str | None = None

    def environment(self) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("CARBONLEDGER_")}
        env["CARBONLEDGER_PASSWORD"] = self.password
        # the demo's keys guard nothing: keystores (`init`, `key new`, `chain deploy`) take a
        # light scrypt cost, so that each command opens its keystore in milliseconds
        env[KEYSTORE_COST_VARIABLE] = str(DEMO_SCRYPT_N)
        return env

    def run(self, *args: str, remote: bool = False, expect: int = 0,
            data_dir: Path | None = None) -> Output:
        """Run the command; a DemoError unless it exits with `expect`. `remote`: through the
        server (--server URL), as a participant's desk would."""
        command = ["--data-dir", str(data_dir or self.data_dir)]
        if remote:
            assert self.server is not None, "the server runs before a command is sent to it"
            command += ["--server", self.server]
        command += list(args)
        try:
            done = subprocess.run([sys.executable, "-c", _RUN_CLI, *command], text=True,
                                  capture_output=True, env=self.environment(),
                                  stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise DemoError(f"`{shown(args)}` did not finish in {COMMAND_TIMEOUT_S:.0f} s") \
                from exc
        output = Output(done.stdout, done.stderr, done.returncode)
        if output.code != expect:
            raise DemoError(f"`{shown(args)}` exited {output.code} (expected {expect}): "
                            f"{output.text[-1500:] or 'no output'}")
        return output


def shown(args: Sequence[str]) -> str:
    """A command as the story prints it (its data directory and server said once, above)."""
    quoted = [f'"{a}"' if " " in a else a for a in args]
    return "carbonledger " + " ".join(quoted)


def free_port() -> int:
    """A port nothing listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def chain_node(cli: Cli) -> Iterator[Output]:
    """`carbonledger chain up --embedded` (the embedded py-evm node served over JSON-RPC, on
    any free port), stopped with `chain down` on the way out, whatever happened."""
    try:
        yield cli.run("chain", "up", "--embedded", "--port", "0")
    finally:
        with contextlib.suppress(DemoError):  # nothing ran, or it stopped already
            cli.run("chain", "down")


@contextlib.contextmanager
def served(cli: Cli, port: int) -> Iterator[str]:
    """`carbonledger serve --port PORT` until the block ends (SIGTERM: it finishes the
    requests under way and stops); yields its URL once it answers. Its log is
    DATA_DIR/serve.log."""
    url = f"http://127.0.0.1:{port}"
    log = (cli.data_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN_CLI, "--data-dir", str(cli.data_dir), "serve", "--port",
         str(port), "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=cli.environment())
    try:
        _wait_until_serving(process, url, cli.data_dir / "serve.log")
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    transport = HttpTransport(url, timeout_s=2.0)
    try:
        while True:
            if process.poll() is not None:
                raise DemoError(f"`carbonledger serve` exited {process.returncode} before it "
                                f"answered: {log.read_text()[-1500:].strip() or 'no output'}")
            try:
                transport.now()
                return
            except (ServerUnreachable, ServerFailed):
                if time.monotonic() > deadline:
                    raise DemoError(f"`carbonledger serve` did not answer at {url} within "
                                    f"{SERVER_START_TIMEOUT_S:.0f} s (its log: {log})") from None
                time.sleep(0.1)
    finally:
        transport.close()
