"""`python -m examples [DATA_DIR]` (what `make demo` runs): the three stories on a fresh
SQLite ledger in DATA_DIR (default .carbonledger/demo), told as they happen."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from examples.auditor_story import tell_auditor_story
from examples.bank_story import run_bank_story
from examples.registry_story import DEMO_PASSWORD, create_ledger, tell_registry_story

DEFAULT_DIR = Path(".carbonledger") / "demo"


def run_demo(data_dir: Path, say: Callable[[str], None] = print) -> None:
    with create_ledger(data_dir, say) as app:
        wallets = tell_registry_story(app, say)
    tell_auditor_story(data_dir, DEMO_PASSWORD, say)
    run_bank_story(data_dir, DEMO_PASSWORD, wallets, say)


def main(argv: list[str]) -> int:
    data_dir = Path(argv[0]) if argv else DEFAULT_DIR
    try:
        run_demo(data_dir)
    except Exception as failure:  # a person reads this: one line, what broke, where to look
        print(f"demo FAILED: {type(failure).__name__}: {failure} (the ledger is left in "
              f"{data_dir} to look at)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
