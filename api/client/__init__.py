"""The Python client of a carbonledger ledger: builds, signs, co-signs and submits
instructions, fetches nonces, runs queries, fetches and verifies proof bundles; in process
(`LocalTransport`) or over HTTP (`HttpTransport`). The `carbonledger` CLI's role commands use
it (api/roles_cli.py)."""

from api.client.client import Client, Signed
from api.client.errors import ClientError, ServerFailed, ServerUnreachable
from api.client.http import HttpTransport
from api.client.transport import LocalTransport, Transport

__all__ = ["Client", "ClientError", "HttpTransport", "LocalTransport", "ServerFailed",
           "ServerUnreachable", "Signed", "Transport"]
