"""`python -m examples [DATA_DIR]` (what `make demo` runs): the served demo
(examples/served_demo.py) in DATA_DIR, made afresh (default .carbonledger/demo). It prints
the story as it happens and what was verified; it exits 0 when every step went as it must,
1 otherwise, saying which step failed and why."""

from __future__ import annotations

import sys
from pathlib import Path

from examples.served_demo import run_demo

DEFAULT_DIR = Path(".carbonledger") / "demo"


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python -m examples [DATA_DIR]  (default .carbonledger/demo)",
              file=sys.stderr)
        return 2
    data_dir = Path(argv[0]) if argv else DEFAULT_DIR
    try:
        run_demo(data_dir, replace=not argv)  # the default directory is the demo's own
    except Exception as failure:  # a person reads this: one line, what broke, where to look
        print(f"\ndemo FAILED at {failure} (the ledger is left in {data_dir}, the server's "
              f"log in {data_dir / 'serve.log'})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
