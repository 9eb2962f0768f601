"""Emissions data and compliance: installations and their measuring instruments, monthly key
parameters, qualified verifiers, annual reports and their verification, obligations and the
surrender of allowances and capped offsets against them.

A module of the ledger: compliance/module.py declares what it brings, and the composition
root (api.bootstrap) hands it to the ledger. Importing this package changes nothing.
docs/compliance.md describes the cycle, the rounding rule and the per-scheme rules.
"""
