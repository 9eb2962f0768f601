"""The CCER project cycle: methodologies, project registration after a public comment period
and validation, monitoring periods and their verification, issuance of credits linked to
them (with a buffer share), suspension and deregistration, and retirement for offsetting
claims with certificates anyone can check against the chain.

A module of the ledger (projects/module.py). It uses the compliance module's verifier
qualifications and declared conflicts: validation and verification bodies are the verifiers
the registry qualified, per sector. Importing this package changes nothing.
docs/projects.md describes the cycle and the per-scheme rules.
"""
