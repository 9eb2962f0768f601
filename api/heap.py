"""The garbage collector in a long-running server process.

CPython's full collection walks every object the process tracks. A server that has built its
ledger, its HTTP app and its caches holds hundreds of thousands of them that live as long as
it does, and each full collection walked them all: 70-95 ms with every request of the process
waiting (measured in `carbonledger serve`'s workers and writer under bench/api_load.py's paced
load, with a gc.callbacks probe), the whole of the 99th percentile's excess. Once a process is
ready to serve, what it has built is moved out of the collector's sight (`gc.freeze`, as the
Python documentation advises for a server's startup objects); what it allocates while serving
is collected as before.
"""

from __future__ import annotations

import gc


def settle_startup_objects() -> None:
    """Collect once, then keep every surviving object out of later collections."""
    gc.collect()
    gc.freeze()


__all__ = ["settle_startup_objects"]
