"""The operator's part of anchoring: what makes and publishes the evidence. The journal's Merkle
log in SQL, the checkpointer, the state commitment and its stored versions, the prover, the
chain backends, the AnchorRegistry binding and the anchoring worker.

It builds on anchoring.auditor and never imports the audit or the on-chain check, which stand
above both parts (docs/adr/0007-anchoring-layout.md).
"""
