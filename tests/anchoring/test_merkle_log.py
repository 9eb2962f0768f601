"""MerkleLog and MemoryNodeStore: storage layout, reopening, and refusing bad writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from anchoring.auditor.merkle import (
    EMPTY_ROOT,
    NodeKey,
    consistency_proof,
    inclusion_proof,
    root_from_leaf_hashes,
)
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog, NodeRow, NodeStore
from tests.anchoring.merkle_strategies import leaf_hashes

HASHES = leaf_hashes(1100, b"log")


class FailingStore:
    """Wraps a store and refuses the next ``put_many`` after ``arm()``, as a database might."""

    def __init__(self, inner: NodeStore) -> None:
        self.inner = inner
        self.armed = False

    def arm(self) -> None:
        self.armed = True

    def leaf_count(self) -> int:
        return self.inner.leaf_count()

    def get_many(self, keys: Sequence[NodeKey]) -> list[bytes]:
        return self.inner.get_many(keys)

    def put_many(self, rows: Iterable[NodeRow]) -> None:
        if self.armed:
            self.armed = False
            raise OSError("disk full")
        self.inner.put_many(rows)


def _appended(count: int, store: NodeStore | None = None) -> MerkleLog:
    log = MerkleLog(store if store is not None else MemoryNodeStore())
    for value in HASHES[:count]:
        log.append(value)
    return log


def test_empty_log() -> None:
    log = MerkleLog(MemoryNodeStore())
    assert log.size == 0
    assert log.root() == log.root(0) == EMPTY_ROOT
    assert log.extend([]) == 0


def test_append_returns_the_index_and_extend_the_new_size() -> None:
    log = MerkleLog(MemoryNodeStore())
    assert [log.append(value) for value in HASHES[:5]] == [0, 1, 2, 3, 4]
    assert log.extend(HASHES[5:12]) == 12 == log.size
    assert log.append(HASHES[12]) == 12


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 1023, 1024, 1025])
def test_store_holds_exactly_the_complete_perfect_subtrees(size: int) -> None:
    store = MemoryNodeStore()
    _appended(size, store)
    for level in range(size.bit_length()):
        complete = size >> level
        width = 1 << level
        expected = [
            root_from_leaf_hashes(HASHES[index * width : (index + 1) * width])
            for index in range(complete)
        ]
        assert store.get_many([(level, index) for index in range(complete)]) == expected
        with pytest.raises(KeyError):
            store.get_many([(level, complete)])  # the incomplete right edge is never stored
    assert store.leaf_count() == size


def test_append_and_extend_store_the_same_rows() -> None:
    appended, extended = MemoryNodeStore(), MemoryNodeStore()
    _appended(1025, appended)
    log = MerkleLog(extended)
    log.extend(HASHES[:3])
    log.extend(HASHES[3:1000])
    log.extend(HASHES[1000:1025])
    keys = [(level, index) for level in range(11) for index in range(1025 >> level)]
    assert appended.get_many(keys) == extended.get_many(keys)


@pytest.mark.parametrize("size", [0, 1, 6, 8, 1000])
def test_reopened_log_continues_where_it_stopped(size: int) -> None:
    store = MemoryNodeStore()
    _appended(size, store)
    reopened = MerkleLog(store)
    assert reopened.size == size
    for value in HASHES[size : size + 70]:
        reopened.append(value)
    reopened.extend(HASHES[size + 70 : size + 100])
    assert reopened.root() == root_from_leaf_hashes(HASHES[: size + 100])


def test_earlier_sizes_stay_answerable_after_growth() -> None:
    log = _appended(1100)
    for size in (1, 2, 5, 64, 999, 1024, 1100):
        assert log.root(size) == root_from_leaf_hashes(HASHES[:size])
    assert log.inclusion_proof(17, 999) == inclusion_proof(HASHES, 17, 999)
    assert log.consistency_proof(999, 1100) == consistency_proof(HASHES, 999, 1100)


def test_requests_beyond_the_head_are_refused() -> None:
    log = _appended(10)
    for call in (
        lambda: log.root(11),
        lambda: log.root(-1),
        lambda: log.inclusion_proof(3, 11),
        lambda: log.inclusion_proof(10, 10),
        lambda: log.consistency_proof(3, 11),
        lambda: log.consistency_proof(0, 10),
    ):
        with pytest.raises(ValueError):
            call()


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33, "00" * 16, bytearray(32)])
def test_leaf_hashes_must_be_32_bytes(bad: object) -> None:
    log = _appended(3)
    with pytest.raises(ValueError, match="leaf hash"):
        log.append(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="leaf hash 1"):
        log.extend([HASHES[3], bad])  # type: ignore[list-item]
    assert log.size == 3
    assert log.root() == root_from_leaf_hashes(HASHES[:3])


@pytest.mark.parametrize("size", [0, 1, 3, 7, 8])
def test_a_refused_append_leaves_the_log_as_it_was(size: int) -> None:
    store = FailingStore(MemoryNodeStore())
    log = _appended(size, store)
    store.arm()
    with pytest.raises(OSError):
        log.append(HASHES[size])
    assert log.size == size
    for value in HASHES[size:40]:
        log.append(value)
    assert log.root() == root_from_leaf_hashes(HASHES[:40])


@pytest.mark.parametrize("size", [0, 1, 3, 7, 8])
def test_a_refused_extend_leaves_the_log_as_it_was(size: int) -> None:
    store = FailingStore(MemoryNodeStore())
    log = _appended(size, store)
    store.arm()
    with pytest.raises(OSError):
        log.extend(HASHES[size:37])
    assert log.size == size
    log.extend(HASHES[size:37])
    log.append(HASHES[37])
    assert log.root() == root_from_leaf_hashes(HASHES[:38])


def test_memory_store_refuses_rows_out_of_order_and_keeps_nothing_of_the_batch() -> None:
    store = MemoryNodeStore()
    _appended(5, store)
    keys = [(0, index) for index in range(5)] + [(1, 0), (1, 1), (2, 0)]
    before = store.get_many(keys)
    for batch in (
        [(0, 5, HASHES[5]), (0, 7, HASHES[7])],  # a gap
        [(0, 5, HASHES[5]), (1, 2, HASHES[0]), (0, 5, HASHES[5])],  # a rewrite
        [(0, 4, HASHES[0])],  # overwriting a stored leaf
        [(0, 5, HASHES[5]), (5, 0, HASHES[0])],  # a level that skips levels
    ):
        with pytest.raises(ValueError):
            store.put_many(batch)
        assert store.leaf_count() == 5
        assert store.get_many(keys) == before
        with pytest.raises(KeyError):
            store.get_many([(1, 2)])
    assert MerkleLog(store).root() == root_from_leaf_hashes(HASHES[:5])
