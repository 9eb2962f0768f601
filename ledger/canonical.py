"""Canonical bytes and hashes of journal entries (RFC 8785 JSON, RFC 9162 leaf hashing)."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes: the same value always gives the same bytes, in any language."""
    return rfc8785.dumps(value)


def leaf_hash(entry_bytes: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 ‖ entry bytes)."""
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
