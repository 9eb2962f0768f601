"""RFC 9162 §2.1.1-§2.1.4 written out literally: the yardstick for anchoring.auditor.merkle.

Slow on purpose (recursive, copies slices, rehashes whole subtrees) so that it reads line for
line like the RFC. It works on the entries D[n] themselves, not on leaf hashes, so it also
checks the leaf hashing. Nothing here imports the code under test.
"""

from __future__ import annotations

from hashlib import sha256


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1."""
    n = len(entries)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return sha256(b"\x00" + entries[0]).digest()
    k = _k(n)
    return sha256(b"\x01" + mth(entries[0:k]) + mth(entries[k:n])).digest()


def path(m: int, entries: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1: the inclusion proof of entry m."""
    n = len(entries)
    assert 0 <= m < n
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, entries[0:k]), mth(entries[k:n])]
    return [*path(m - k, entries[k:n]), mth(entries[0:k])]


def proof(m: int, entries: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the consistency proof from size m (0 < m <= n)."""
    assert 0 < m <= len(entries)
    return subproof(m, entries, True)


def subproof(m: int, entries: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(entries)
    if m == n:
        return [] if b else [mth(entries)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, entries[0:k], b), mth(entries[k:n])]
    return [*subproof(m - k, entries[k:n], False), mth(entries[0:k])]
