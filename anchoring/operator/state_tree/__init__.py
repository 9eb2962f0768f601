"""The state commitment's sparse Merkle tree, persisted in the ledger's database (nodes.py: the
16-ary node; update.py: a batch applied, a tree built; store.py: the tables and the cache).
See docs/adr/0010-persisted-state-tree.md."""

from anchoring.operator.state_tree.store import (
    DEFAULT_CACHE_BYTES,
    PRUNE_PER_CUT,
    Pruned,
    TreeRetention,
    TreeStore,
    VersionNotStored,
)

__all__ = ["DEFAULT_CACHE_BYTES", "PRUNE_PER_CUT", "Pruned", "TreeRetention", "TreeStore",
           "VersionNotStored"]
