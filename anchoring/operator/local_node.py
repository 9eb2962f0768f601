"""The local chain node of a data directory: the managed anvil or the embedded node, whichever
runs, and the port it keeps.

    kind, running = running_local(data_dir / "chain")   # ("anvil" | "embedded-rpc", ...) or None
    port = kept_port(data_dir / "chain")                # the port the last `chain up` used

A local node listens on the same port at every start, so that a `--rpc` URL written down once
(`verify --rpc`, `audit --rpc`, a witness's configuration) stays right: the port is kept in
<dir>/port.json when a node starts, and the next start asks for it again (`chain up --port N`
changes it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from anchoring.operator.anvil import AnvilNode, RunningAnvil
from anchoring.operator.embedded_node import EmbeddedNode, RunningEmbedded

__all__ = ["LocalKind", "keep_port", "kept_port", "running_local"]

PORT_FILE = "port.json"

LocalKind = Literal["anvil", "embedded-rpc"]
"""The ChainRecord network of each local node."""


def kept_port(directory: Path) -> int | None:
    """The port the local node of `directory` listened on last; None before its first start
    (or if the file is unreadable: a new port is then as good)."""
    try:
        port = json.loads((directory / PORT_FILE).read_text())["port"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return port if isinstance(port, int) and 0 < port < 65536 else None


def keep_port(directory: Path, port: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / (PORT_FILE + ".tmp")
    temporary.write_text(json.dumps({"port": port}) + "\n")
    temporary.replace(directory / PORT_FILE)


def running_local(directory: Path) -> tuple[LocalKind, RunningAnvil | RunningEmbedded] | None:
    """The local node running for `directory`, and its kind; None if neither runs."""
    anvil = AnvilNode(directory).running()
    if anvil is not None:
        return "anvil", anvil
    embedded = EmbeddedNode(directory).running()
    if embedded is not None:
        return "embedded-rpc", embedded
    return None
