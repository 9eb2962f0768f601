"""A witness: replays an operator's journal on its own and cosigns the checkpoints it agrees
with (docs/DESIGN.md, "Witnesses").

    identity.py   the witness's keys and configuration (witness.json, its keystores)
    source.py     the operator's journal and signed checkpoints, as the witness reads them
    replica.py    the witness's own replay of that journal: a store, a log and a state tree
                  kept between runs, and the recomputation of each checkpoint
    witness.py    a run: replay what is new, cosign or refuse each checkpoint, record progress

It stands beside anchoring.audit, above both the auditor's and the operator's parts: like the
audit it replays the journal (ledger.replay), and it reads the operator's store through the
operator's store layer; nothing in anchoring.auditor or anchoring.operator imports it.
"""
