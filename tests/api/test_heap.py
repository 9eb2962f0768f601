"""A serving process's startup objects are kept out of the collector's full collections
(api/heap.py): a full collection then walks only what serving allocated."""

from __future__ import annotations

import gc

from api.heap import settle_startup_objects


def test_startup_objects_are_frozen_and_later_garbage_is_still_collected() -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    try:
        settle_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # this process's modules, functions, classes ...
        assert gc.get_count()[2] == 0  # the collection before the freeze left nothing pending

        Cycle()  # garbage made while serving: a cycle only the collector can free
        assert gc.collect() >= 1
        assert gc.get_freeze_count() == frozen  # and the frozen objects stayed out of it
    finally:
        gc.unfreeze()  # the tests after this one collect as usual
