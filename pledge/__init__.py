"""Pledge and repo (buyback) lifecycles, built on the ledger's lien primitive (ledger.lien).

A module of the ledger: pledge/module.py declares what it brings (its operations, field checks
and tables), and the composition root (api.bootstrap) hands it to the ledger. Importing this
package changes nothing. docs/pledge-and-repo.md describes the lifecycles and the per-scheme
rules.
"""
