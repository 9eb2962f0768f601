"""A batch of changes applied to the persisted tree, and a tree built from scratch: pure.

    batch = Batch(version, changes)              # sorted (key, value_hash or None) pairs
    root = batch.apply(base_version, base_root, load)
    batch.written, batch.stale                   # the nodes to insert, the nodes replaced

`load` is handed the nodes the batch needs, one level of the tree at a time (one batched read
per level, never one per node): exactly the nodes on the changed keys' paths. The result is
smt.SparseMerkleTree.update's tree, node for node: a leaf sits at the shortest prefix no other
key shares, a delete collapses a path back into its last leaf.

Paths are nibble paths, one nibble per byte (b"" is the root).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from anchoring.operator.state_tree.nodes import (
    MAX_DEPTH,
    SLOTS,
    Child,
    Leaf,
    Node,
    Slot,
    is_leaf,
    nibble,
    node_hash,
    only_leaf,
)

NodeKey = tuple[int, bytes]
"""(version, path): where a node is stored."""
Loader = Callable[[list[NodeKey]], dict[NodeKey, Node]]


class Batch:
    """One version's changes: `keys` sorted, `hashes` aligned (None: delete)."""

    def __init__(self, version: int, changes: Sequence[tuple[bytes, bytes | None]]) -> None:
        self.version = version
        self.keys = [key for key, _ in changes]
        self.hashes = [value_hash for _, value_hash in changes]
        assert all(a < b for a, b in zip(self.keys, self.keys[1:], strict=False)), \
            "changes must be sorted by key, each key once"
        self.written: list[tuple[bytes, Node]] = []
        self.stale: list[NodeKey] = []
        self._loaded: dict[bytes, Node] = {}

    def apply(self, base_version: int, base_root: Node, load: Loader) -> Node:
        """The new root node (always written at `version`, even when nothing changed, so that
        every version has its root). The root at `base_version` becomes stale."""
        self._prefetch(base_root, load)
        slots = list(base_root)
        for index, lo, hi in self._groups(0, len(self.keys), 0):
            slots[index] = self._slot(bytes([index]), slots[index], lo, hi)
        root = tuple(slots)
        if base_version > 0:
            self.stale.append((base_version, b""))
        self.written.append((b"", root))
        return root

    # --- reads: the nodes on the changed paths, one level at a time ---------------------------

    def _prefetch(self, root: Node, load: Loader) -> None:
        level = [(b"", root, 0, len(self.keys))]
        while level:
            wanted: list[tuple[NodeKey, int, int]] = []
            for path, node, lo, hi in level:
                for index, child_lo, child_hi in self._groups(lo, hi, len(path)):
                    slot = node[index]
                    if slot is not None and not is_leaf(slot):
                        wanted.append(((slot[1], path + bytes([index])),  # type: ignore[arg-type]
                                       child_lo, child_hi))
            if not wanted:
                return
            found = load([key for key, _, _ in wanted])
            level = []
            for key, lo, hi in wanted:
                node = found[key]
                self._loaded[key[1]] = node
                level.append((key[1], node, lo, hi))

    # --- the update, in memory --------------------------------------------------------------

    def _slot(self, path: bytes, slot: Slot, lo: int, hi: int) -> Slot:
        """What a slot at `path` becomes with changes lo..hi-1, which all lie below it."""
        if slot is None:
            return self.build(path, self._present(lo, hi))
        if is_leaf(slot):
            leaf: Leaf = slot  # type: ignore[assignment]
            entries = self._present(lo, hi)
            if leaf[0] not in self.keys[lo:hi]:
                entries.append(leaf)
                entries.sort()
            built = self.build(path, entries)
            return slot if built == slot else built
        child: Child = slot  # type: ignore[assignment]
        return self._node(path, child, self._loaded[path], lo, hi)

    def _node(self, path: bytes, child: Child, node: Node, lo: int, hi: int) -> Slot:
        slots = list(node)
        for index, child_lo, child_hi in self._groups(lo, hi, len(path)):
            slots[index] = self._slot(path + bytes([index]), slots[index], child_lo, child_hi)
        if tuple(slots) == node:
            return child  # only deletes of absent keys, or values set to what they were
        self.stale.append((child[1], path))
        return self.finish(path, tuple(slots))

    def _present(self, lo: int, hi: int) -> list[Leaf]:
        return [(self.keys[i], h) for i in range(lo, hi)
                if (h := self.hashes[i]) is not None]

    def build(self, path: bytes, entries: list[Leaf]) -> Slot:
        """The slot at `path` holding exactly `entries` (sorted, all below `path`)."""
        if len(entries) < 2:
            return entries[0] if entries else None
        depth = len(path)
        assert depth < MAX_DEPTH, "two entries with one key"
        slots: list[Slot] = [None] * SLOTS
        start = 0
        while start < len(entries):
            index = nibble(entries[start][0], depth)
            end = start + 1
            while end < len(entries) and nibble(entries[end][0], depth) == index:
                end += 1
            slots[index] = self.build(path + bytes([index]), entries[start:end])
            start = end
        return self.finish(path, tuple(slots))

    def finish(self, path: bytes, node: Node) -> Slot:
        """A node below the root after a change: written if it still holds two keys or more,
        else collapsed into its one leaf (or nothing) in its parent's slot."""
        alone = only_leaf(node)
        if alone is not None or all(slot is None for slot in node):
            return alone
        self.written.append((path, node))
        return (node_hash(node), self.version)

    def _groups(self, lo: int, hi: int, depth: int) -> Iterator[tuple[int, int, int]]:
        """The changes lo..hi-1 split by their nibble at `depth`: (nibble, lo, hi) runs."""
        keys = self.keys
        start = lo
        while start < hi:
            index = nibble(keys[start], depth)
            end = start + 1
            while end < hi and nibble(keys[end], depth) == index:
                end += 1
            yield index, start, end
            start = end


def build_group(version: int, byte: int,
                entries: list[Leaf]) -> tuple[Slot, list[tuple[bytes, Node]]]:
    """The slot, and the nodes to write at `version`, of the keys whose first byte is `byte`
    (`entries`, sorted, distinct): one 256th of a whole tree, built on its own."""
    batch = Batch(version, [])
    slot = batch.build(bytes([byte >> 4, byte & 0x0F]), entries)
    return slot, batch.written


def build_top(version: int, groups: list[Slot]) -> tuple[Node, list[tuple[bytes, Node]]]:
    """The root, and the nodes of the top two levels to write at `version` (root last), over
    the 256 slots `build_group` gave, in first-byte order."""
    assert len(groups) == SLOTS * SLOTS
    batch = Batch(version, [])
    root: Node = tuple(batch.finish(bytes([high]), tuple(groups[high * SLOTS:(high + 1) * SLOTS]))
                       for high in range(SLOTS))
    batch.written.append((b"", root))
    return root, batch.written
