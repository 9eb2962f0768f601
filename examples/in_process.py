"""`python -m examples.in_process [DATA_DIR]`: the three in-process stories on a fresh SQLite
ledger in DATA_DIR (default .carbonledger/demo-in-process), told as they happen: the
registry's (examples/registry_story.py), the auditor's, with a tampered database caught by
the audit (examples/auditor_story.py), and the bank's on a FixedClock (examples/bank_story.py).
Each is written against the application service in this process, as a user's code embedding
the ledger would be; `python -m examples` is the served demo."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from examples.auditor_story import tell_auditor_story
from examples.bank_story import run_bank_story
from examples.registry_story import DEMO_PASSWORD, create_ledger, tell_registry_story

DEFAULT_DIR = Path(".carbonledger") / "demo-in-process"


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
