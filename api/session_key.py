"""The secret that signs login challenges and tokens (api/access.py), shared by every worker
process serving one ledger, so that a challenge issued by one is redeemed at another and a
token is good at all of them.

CARBONLEDGER_SESSION_SECRET (at least 64 hex digits) wins: the way to give the same secret to
servers on several machines. Otherwise DATA_DIR/session.key, made (mode 0600) by the first
process that needs it; the others read the same file. A new secret logs every participant out,
nothing else: tokens live minutes, and nothing stored depends on it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from api.access import MIN_SECRET_BYTES
from api.config import ConfigError

SESSION_KEY_FILE = "session.key"
SECRET_ENV = "CARBONLEDGER_SESSION_SECRET"


def session_secret(data_dir: Path, environ: Mapping[str, str] = os.environ) -> bytes:
    """The session secret: from the environment, else from DATA_DIR/session.key (made now
    if there is none)."""
    given = environ.get(SECRET_ENV)
    if given:
        return _from_hex(given, SECRET_ENV)
    path = data_dir / SESSION_KEY_FILE
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} can be read by others (mode {stat.filemode(mode)}): run "
                          f"`chmod 600 {path}`, or delete it to make a new one (every "
                          "participant then logs in again)")
    return _from_hex(path.read_text().strip(), str(path))


def _create(path: Path) -> None:
    """Write a new secret to a file of our own, then link it into place: of several workers
    starting at once, one link wins and every worker reads the winner's whole file."""
    spare = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(MIN_SECRET_BYTES) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another worker made it first: theirs
            os.link(spare, path)
    finally:
        spare.unlink(missing_ok=True)


def _from_hex(text: str, where: str) -> bytes:
    try:
        secret = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        secret = b""
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(f"{where} is not a session secret: give at least "
                          f"{2 * MIN_SECRET_BYTES} hex digits (e.g. the output of `python -c "
                          "'import secrets; print(secrets.token_hex(32))'`)")
    return secret
