"""Ed25519 keys (RFC 8032): what a witness cosigns checkpoints with (anchoring.auditor.cosignature).

pyca/cryptography does the arithmetic; this module keeps it behind a few functions on plain
bytes, as custody.signatures does for secp256k1, so that the auditor's part depends on custody
and not on a cryptography library. A private key is its 32-byte seed; a public key, its 32-byte
RFC 8032 encoding; a signature, 64 bytes.

At rest a seed is an encrypted PKCS #8 file (PEM), written with the password the ledger's
other keystores use: cryptography's best available encryption (PBES2: PBKDF2-HMAC-SHA256 and
AES-256-CBC). Web3 Secret Storage, which holds the secp256k1 keys, would store the 32 bytes as
well, but its "address" field would name a secp256k1 key that does not exist.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from custody.keystore import KeystoreError

SEED_SIZE = 32
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_SIZE)


def public_key(seed: bytes) -> bytes:
    """The RFC 8032 public key of a 32-byte seed."""
    return _private(seed).public_key().public_bytes_raw()


def sign(seed: bytes, message: bytes) -> bytes:
    """The Ed25519 signature of `message` (deterministic: one signature per key and message)."""
    return _private(seed).sign(message)


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is `public`'s signature of `message`. A malformed key or signature
    is simply not a valid signature."""
    if len(public) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def write_ed25519_keystore(path: Path, seed: bytes, password: str) -> bytes:
    """Encrypt `seed` into `path` (mode 0600, never overwritten); return its public key."""
    pem = _private(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode("utf-8")))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return public_key(seed)


def read_ed25519_keystore(path: Path, password: str) -> bytes:
    """The seed kept in `path`; `KeystoreError` if it cannot be read or decrypted."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise KeystoreError(f"cannot read keystore {path}: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(pem, password.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise KeystoreError(f"cannot decrypt keystore {path}: wrong password, or not an "
                            "Ed25519 key file") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeystoreError(f"keystore {path} does not hold an Ed25519 key")
    return key.private_bytes_raw()


def _private(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != SEED_SIZE:
        raise ValueError(f"an Ed25519 seed is {SEED_SIZE} bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


__all__ = ["PUBLIC_KEY_SIZE", "SEED_SIZE", "SIGNATURE_SIZE", "new_seed", "public_key",
           "read_ed25519_keystore", "sign", "verify", "write_ed25519_keystore"]
