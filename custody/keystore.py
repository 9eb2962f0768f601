"""Private keys at rest: Web3 Secret Storage (v3) keystore files, never plain key files."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account

from custody.signatures import address_of


class KeystoreError(ValueError):
    """A keystore cannot be read or decrypted."""


def new_private_key() -> bytes:
    return secrets.token_bytes(32)


def write_keystore(
    path: Path, private_key: bytes, password: str, *, scrypt_n: int | None = None
) -> str:
    """Encrypt `private_key` into `path` (mode 0600) and return its address.

    `scrypt_n` lowers the work factor; tests and the demo use it to stay fast, production keeps
    eth-account's default (2**18).
    """
    kwargs = {"kdf": "scrypt"} if scrypt_n is None else {"kdf": "scrypt", "iterations": scrypt_n}
    document = Account.encrypt(private_key, password, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
    return address_of(private_key)


def read_keystore(path: Path, password: str) -> bytes:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as exc:
        raise KeystoreError(f"cannot read keystore {path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("crypto"), dict):
        raise KeystoreError(f"{path} is not a keystore (an encrypted key file, Web3 Secret "
                            "Storage v3): restore it from your backup")
    try:
        return bytes(Account.decrypt(document, password))
    except ValueError as exc:
        raise KeystoreError(f"cannot decrypt keystore {path}: wrong password?") from exc
    except (KeyError, TypeError) as exc:  # a field missing or of the wrong type
        raise KeystoreError(f"{path} is not a valid keystore ({exc}): restore it from your "
                            "backup") from exc
