"""The demos. `python -m examples` (what `make demo` runs) is the served demo
(examples/served_demo.py): a ledger served over HTTP, every role through the Python client and
the command line, an outside auditor checking against the chain. `python -m examples.in_process`
tells the registry's, the auditor's and the bank's stories written against the application
service in process (registry_story.py, auditor_story.py, bank_story.py)."""
