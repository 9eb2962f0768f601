"""The HTTP service (FastAPI): an adapter of the application service, like the CLI.

`create_app(service, committer=...)` builds the app (api/http/app.py); `carbonledger serve`
(api/serve_cli.py) runs it on uvicorn."""

from api.http.app import create_app
from api.http.committer import Committer, DirectCommitter

__all__ = ["Committer", "DirectCommitter", "create_app"]
