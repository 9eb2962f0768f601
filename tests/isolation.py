"""Run code in a fresh interpreter that refuses to import the named packages, to show that an
auditor's verifier needs neither the ledger nor a database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LEDGER_AND_DATABASES = frozenset({"ledger", "api", "pledge", "compliance", "sqlalchemy",
                                  "psycopg", "sqlite3", "_sqlite3", "alembic"})
VERIFY_BUNDLE = """
from anchoring.auditor.verify import verify_bundle
print(verify_bundle(json.load(open(sys.argv[1])), sys.argv[2]).statement)
"""

_SCRIPT = """
import json, sys

BLOCKED = {blocked!r}

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked: the verifier must not need it")
        return None

sys.meta_path.insert(0, Refuse())
{body}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
assert not loaded, loaded
"""


def run_without(blocked: frozenset[str], body: str,
                *args: str) -> subprocess.CompletedProcess[str]:
    """`body` (which may use json and sys.argv) with `blocked` packages unimportable."""
    script = _SCRIPT.format(blocked=set(sorted(blocked)), body=body.strip())
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=60, cwd=REPO_ROOT)
