"""The demo stories: a registry, an outside auditor and a bank at work, each written against
the application service (api/service.py) as any user's code would be. `make demo` runs them:
`python -m examples [DATA_DIR]`."""
