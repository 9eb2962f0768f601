"""Proof bundles the service has built and checked, kept for when they are asked for again.

    cache = BundleCache(4096)
    cache.get(key)            # a bundle, or None
    cache.put(key, bundle)    # the least recently used one goes when it is full

A key names the proof's kind, its subject and the state of its checkpoint that can still
change (anchoring.operator.bundles.CheckpointState: the number, the cosignatures, the anchor):
a bundle at a checkpoint is a function of those, so a bundle kept under its key is what the
prover would build again, and it was checked against the operator key when it was built
(LedgerService.prove). An anchor or a cosignature added later makes a new key: the bundle is
built, and checked, again. A bundle is kept as its JSON bytes, and each `get` hands out a
copy of its own: what a caller does with it cannot change what the next one is handed.
Thread-safe: the HTTP service proves on several worker threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import orjson

DEFAULT_BUNDLES = 4096  # a lot bundle is a few KB: some 20 MB at most


class BundleCache:
    """At most `size` bundles, the least recently used dropped first."""

    def __init__(self, size: int = DEFAULT_BUNDLES) -> None:
        if size < 1:
            raise ValueError(f"a bundle cache holds at least 1 bundle, got {size}")
        self._size = size
        self._kept: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> dict[str, Any] | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            self._kept.move_to_end(key)
        bundle: dict[str, Any] = orjson.loads(kept)
        return bundle

    def put(self, key: Hashable, bundle: dict[str, Any]) -> None:
        kept = orjson.dumps(bundle)
        with self._lock:
            self._kept[key] = kept
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)


__all__ = ["DEFAULT_BUNDLES", "BundleCache"]
