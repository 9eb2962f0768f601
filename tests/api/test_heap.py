"""A serving process's startup objects are kept out of the collector's full collections
(api/heap.py): a full collection then walks only what serving allocated."""

from __future__ import annotations

import gc
import weakref

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

        made_while_serving = weakref.ref(Cycle())  # a cycle only the collector can free
        assert made_while_serving() is not None
        gc.collect()
        assert made_while_serving() is None
    finally:
        gc.unfreeze()  # the tests after this one collect as usual
