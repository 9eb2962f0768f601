"""The embedded py-evm chain served over JSON-RPC on localhost, its database kept on disk.

    python -m anchoring.operator.rpc_server --state DATA_DIR/chain/embedded-chain.bin --port 0

`carbonledger chain up --embedded` starts this process (anchoring.operator.embedded_node) and
`chain down` stops it: a node any JSON-RPC client reaches (web3, `verify --rpc`, `audit --rpc`)
with no anvil and no npm. It answers the methods web3 calls by delegating to eth-tester's
py-evm backend (Prague rules), through web3's own eth-tester endpoint table and request
formatting, so that it behaves as the in-process `EmbeddedChain` does; results are encoded as
JSON-RPC wants them (quantities as hex), and a revert is error 3 with its data, as anvil and
geth answer it.

**Its state outlives the process.** py-evm keeps the chain in a key-value database. The one
used here records every key written; after each request that wrote any, the writes are
appended to the state file as one frame (length, payload, SHA-256) and fsynced *before* the
answer is sent. So an answered transaction is on disk, a crash loses at most a request that
was never answered, and a frame cut short by a crash is recognised by its checksum and dropped
at the next start. At start the frames are read back into the database (and rewritten as one
frame), and the chain resumes at its head: blocks, receipts, hashes and times as they were.

One request is served at a time (eth-tester is not thread-safe); connections are handled in
threads so that a client holding one open does not block the others.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB

from anchoring.operator.chain import ChainError
from anchoring.operator.errors import OperatorFailure

HOST = "127.0.0.1"
MAX_REQUEST_BYTES = 8 * 2**20
LISTENING = "Listening on {host}:{port}"
"""The line the process prints once it accepts connections (the same words as anvil's)."""

_FRAME_HEAD = struct.Struct(">I")
_DIGEST_BYTES = 32
_ERROR_STRING = bytes.fromhex("08c379a0")  # the selector of Solidity's Error(string)


# ---------------------------------------------------------------------------------------------
# The chain database and its file


class RecordingDB(MemoryDB):
    """py-evm's in-memory database, remembering the keys written since the last `take`."""

    def __init__(self, kv_store: dict[bytes, bytes]) -> None:
        super().__init__(kv_store)
        self._written: dict[bytes, bytes | None] = {}

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.kv_store[key] = value
        self._written[key] = value

    def __delitem__(self, key: bytes) -> None:
        del self.kv_store[key]
        self._written[key] = None

    def take(self) -> dict[bytes, bytes | None]:
        """The writes since the last call (None: a deletion), forgotten here."""
        written, self._written = self._written, {}
        return written

    def give_back(self, written: dict[bytes, bytes | None]) -> None:
        """Writes `take` returned that could not be saved: kept for the next `take`."""
        self._written = {**written, **self._written}


class StateFile:
    """Frames of database writes, appended; each frame is the writes of one request."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[bytes, bytes] | None:
        """The database the frames add up to; None if there is no file. A last frame cut
        short (a crash while writing it) is dropped; a bad frame before it is corruption."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        store: dict[bytes, bytes] = {}
        for payload in _frames(data, self.path):
            for key, value in _records(payload):
                if value is None:
                    store.pop(key, None)
                else:
                    store[key] = value
        return store

    def rewrite(self, store: dict[bytes, bytes]) -> None:
        """Replace the file by one frame holding `store` (never a half-written file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(temporary, "wb") as out:
            out.write(_frame(dict(store)))
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.path)

    def append(self, written: dict[bytes, bytes | None]) -> None:
        if not written:
            return
        with open(self.path, "ab") as out:
            out.write(_frame(written))
            out.flush()
            os.fsync(out.fileno())


class CorruptStateFile(ChainError):
    """A frame before the last does not match its checksum: the file was damaged, and the
    node cannot start from it."""

    code = OperatorFailure.local_node_start_failed


def _frame(written: dict[bytes, bytes] | dict[bytes, bytes | None]) -> bytes:
    parts = []
    for key, value in written.items():
        if value is None:
            parts.append(b"\x00" + _FRAME_HEAD.pack(len(key)) + key)
        else:
            parts.append(b"\x01" + _FRAME_HEAD.pack(len(key)) + key
                         + _FRAME_HEAD.pack(len(value)) + value)
    payload = b"".join(parts)
    return _FRAME_HEAD.pack(len(payload)) + payload + hashlib.sha256(payload).digest()


def _frames(data: bytes, path: Path) -> Iterator[bytes]:
    at = 0
    while at < len(data):
        end = at + _FRAME_HEAD.size
        if end > len(data):
            return  # a length cut short: the last frame was being written
        (length,) = _FRAME_HEAD.unpack_from(data, at)
        payload = data[end:end + length]
        digest = data[end + length:end + length + _DIGEST_BYTES]
        complete = len(payload) == length and len(digest) == _DIGEST_BYTES
        if not complete:
            return
        if hashlib.sha256(payload).digest() != digest:
            if end + length + _DIGEST_BYTES == len(data):
                return  # the last frame, damaged as it was written
            raise CorruptStateFile(f"{path} is damaged at byte {at}: restore it from a backup")
        yield payload
        at = end + length + _DIGEST_BYTES


def _records(payload: bytes) -> Iterator[tuple[bytes, bytes | None]]:
    at = 0
    while at < len(payload):
        kind = payload[at]
        (key_length,) = _FRAME_HEAD.unpack_from(payload, at + 1)
        at += 1 + _FRAME_HEAD.size
        key = payload[at:at + key_length]
        at += key_length
        if kind == 0:
            yield key, None
            continue
        (value_length,) = _FRAME_HEAD.unpack_from(payload, at)
        at += _FRAME_HEAD.size
        yield key, payload[at:at + value_length]
        at += value_length


# ---------------------------------------------------------------------------------------------
# The chain


class _Reverted(Exception):
    """A call or gas estimate the EVM reverted: its revert data when eth-tester keeps it."""

    def __init__(self, message: str, data: bytes | None) -> None:
        super().__init__(message)
        self.data = data

    @classmethod
    def of(cls, failure: Exception) -> _Reverted:
        # eth-tester says a revert three ways: the raw bytes, their Python literal (a custom
        # error), or the decoded reason of an Error(string).
        raw = failure.args[0] if failure.args else ""
        if isinstance(raw, bytes):
            return cls("execution reverted", raw)
        text = str(raw)
        if text.startswith(("b'", 'b"')):
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                parsed = None
            if isinstance(parsed, bytes):
                return cls("execution reverted", parsed)
        from eth_abi import encode

        return cls(f"execution reverted: {text}", _ERROR_STRING + encode(["string"], [text]))


class PersistentChain:
    """eth-tester's py-evm chain over a `RecordingDB` restored from, and saved to, a file."""

    def __init__(self, state: StateFile) -> None:
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider, Web3

        self.state = state
        backend = PyEVMBackend()  # a new genesis; replaced below by the saved chain if any
        saved = state.load()
        fresh = saved is None
        if saved is None:
            saved = dict(_memory_of(backend.chain))
        self.db = RecordingDB(saved)
        backend.chain = type(backend.chain)(AtomicDB(self.db))
        state.rewrite(self.db.kv_store)  # compacted: one frame at every start
        self.db.take()
        self.fresh = fresh
        self.tester = EthereumTester(backend)
        provider = EthereumTesterProvider(self.tester, api_endpoints=_endpoints())
        w3 = Web3(provider, middleware=[])
        self._request = provider.request_func(w3, w3.middleware_onion)
        self.lock = threading.Lock()

    @property
    def head(self) -> int:
        return int(self.tester.get_block_by_number("latest")["number"])

    def answer(self, request: Any) -> dict[str, Any]:
        """The JSON-RPC response to one request object; what it wrote is on disk first."""
        ident = request.get("id") if isinstance(request, dict) else None
        if not (isinstance(request, dict) and isinstance(request.get("method"), str)):
            return _error(ident, -32600, "invalid request: an object with a method")
        params = request.get("params", [])
        if not isinstance(params, list):
            return _error(ident, -32602, "params must be an array")
        response: dict[str, Any]
        with self.lock:
            try:
                response = dict(self._request(request["method"], params))
            except _Reverted as revert:
                data = None if revert.data is None else "0x" + revert.data.hex()
                response = _error(ident, 3, str(revert), data)
            except Exception as failure:  # eth-tester's ValidationError, a bad parameter...
                response = _error(ident, -32000, f"{type(failure).__name__}: {failure}")
            written = self.db.take()
            try:
                self.state.append(written)
            except OSError as error:
                # Not on disk, so not answered as done: the writes are saved with the next
                # request's, if the disk lets them.
                self.db.give_back(written)
                return _error(ident, -32603, f"the node cannot save its chain ({error}): "
                                             "the request's outcome is not saved yet")
        if "error" in response:
            return {"jsonrpc": "2.0", "id": ident, "error": response["error"]}
        return {"jsonrpc": "2.0", "id": ident, "result": _rpc_value(response.get("result"))}


def _memory_of(chain: Any) -> dict[bytes, bytes]:
    """The key-value store under a chain eth-tester made (an AtomicDB over a MemoryDB)."""
    wrapped = chain.chaindb.db.wrapped_db
    assert isinstance(wrapped, MemoryDB), "eth-tester's chain lives in memory"
    return dict(wrapped.kv_store)


def _endpoints() -> dict[str, dict[str, Callable[..., Any]]]:
    """web3's eth-tester endpoint table, with calls and estimates that keep the revert data."""
    from eth_tester.exceptions import TransactionFailed
    from web3.providers.eth_tester.defaults import API_ENDPOINTS

    def reverting(name: str) -> Callable[..., Any]:
        def delegate(tester: Any, params: Any) -> Any:
            try:
                return getattr(tester, name)(*params)
            except TransactionFailed as failure:
                raise _Reverted.of(failure) from failure
        return delegate

    eth = {**API_ENDPOINTS["eth"], "call": reverting("call"),
           "estimateGas": reverting("estimate_gas")}
    return {**API_ENDPOINTS, "eth": eth}


def _rpc_value(value: Any) -> Any:
    """A result as JSON-RPC encodes it: quantities and bytes as 0x-prefixed hex."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {key: _rpc_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rpc_value(item) for item in value]
    return value


def _error(ident: Any, code: int, message: str, data: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": ident, "error": error}


# ---------------------------------------------------------------------------------------------
# HTTP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RpcServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._send(413, {"jsonrpc": "2.0", "id": None,
                             "error": {"code": -32600, "message": "request too large"}})
            self.close_connection = True
            return
        body = self.rfile.read(length)
        try:
            request = json.loads(body)
        except ValueError:
            self._send(200, _error(None, -32700, "parse error: the body is not JSON"))
            return
        chain = self.server.chain
        if isinstance(request, list):
            self._send(200, [chain.answer(item) for item in request])
        else:
            self._send(200, chain.answer(request))

    def do_GET(self) -> None:
        self._send(405, {"error": "POST JSON-RPC requests to this URL"})

    def _send(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every call would be a line; errors are answered in the responses


class RpcServer(ThreadingHTTPServer):
    """The HTTP server of one chain on 127.0.0.1:`port` (0: a free port)."""

    daemon_threads = True

    def __init__(self, port: int, chain: PersistentChain) -> None:
        super().__init__((HOST, port), _Handler)
        self.chain = chain

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"


def serve(state_path: Path, port: int, *, say: Callable[[str], None] = print) -> None:
    """Serve the chain saved in `state_path` on 127.0.0.1:`port` (0: a free port) until
    SIGTERM or SIGINT."""
    _hold_alone(state_path)
    chain = PersistentChain(StateFile(state_path))
    server = RpcServer(port, chain)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    origin = "a new chain" if chain.fresh else f"the chain saved in {state_path}"
    say(f"serving {origin} (chain id {chain.tester.backend.chain.chain_id}, head block "
        f"{chain.head})")
    say(LISTENING.format(host=HOST, port=server.server_address[1]))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        with chain.lock:  # a request being answered finishes (and is saved) first
            server.server_close()
    say("stopped")


def _hold_alone(state_path: Path) -> None:
    """Lock the chain's state for this process's life: two nodes appending to one file would
    interleave two chains. (POSIX advisory lock; the kernel releases it when we exit.)"""
    try:
        import fcntl
    except ImportError:  # Windows: the running node's record is the only guard
        return
    state_path.parent.mkdir(parents=True, exist_ok=True)
    lock = open(state_path.with_name(state_path.name + ".lock"), "a")  # noqa: SIM115
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise OSError(f"another node is serving the chain in {state_path}") from None
    _HELD.append(lock)


_HELD: list[Any] = []  # the lock's file stays open, so the lock held, until the process ends


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, required=True, help="the chain's state file")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    arguments = parser.parse_args(argv)
    try:
        serve(arguments.state, arguments.port, say=lambda line: print(line, flush=True))
    except OSError as error:  # the port is taken, the file cannot be written
        print(f"cannot serve the chain: {error}", file=sys.stderr, flush=True)
        return 1
    except CorruptStateFile as error:
        print(f"cannot serve the chain: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
