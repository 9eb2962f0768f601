"""The auditor's part of anchoring: what checks evidence with nothing but the evidence and a
trusted key. RFC 9162 log math, the sparse Merkle state tree and its keys, what journal entries
touch, signed checkpoint notes, the proof bundle format and its kinds, the offline verifier.

It imports only itself, custody and the standard library: no ledger, no database, no web3
(docs/adr/0007-anchoring-layout.md; tests/anchoring/test_layout.py checks it from the source).
"""
