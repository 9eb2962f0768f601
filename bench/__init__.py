"""Benchmarks: each file but the _-prefixed ones is a script run by itself (`make bench`).

The folder is a package only for the type checker, which then names the scripts bench.<name>:
as top-level modules, bench/anchoring.py would clash with the anchoring package. The modules
the scripts import from here (`from _ledger import ...`, `from ledger_throughput import ...`)
are found through the checker's mypy_path, under the names the scripts use (pyproject.toml).
"""
