"""The log's tiles, served read-only as static files under /tiles/ (C2SP tlog-tiles).

The directory is the one the checkpoint duty (or `carbonledger tiles write`) writes
(anchoring.operator.tiles); this route only reads it. A request path must be one the layout
has (anchoring.auditor.tiles.TILE_PATH), so nothing else in the data directory is reachable.

- `checkpoint` changes at every cut: `Cache-Control: no-cache`.
- Hash tiles never change once written (a partial tile is replaced by a wider one under
  another name, never rewritten): cached for a year, `immutable`. They are public: hashes
  tell nothing of the entries, and anyone may check a proof against a checkpoint.
- Entry bundles hold the journal's entries, which the read policy gives to the registry and
  auditors only (api/access.py): they need such a token, and are cached privately.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Response
from fastapi import Path as PathParameter

from anchoring.auditor.tiles import CHECKPOINT_PATH, TILE_PATH
from api.access import ReadPolicy, Viewer
from api.http.auth import ViewerOf
from api.http.problems import RequestProblem
from api.http.routing import StrictRoute

TILES_PREFIX = "/tiles"
IMMUTABLE = "max-age=31536000, immutable"


def tiles_router(directory: Path, viewer_of: ViewerOf, policy: ReadPolicy) -> APIRouter:
    router = APIRouter(prefix=TILES_PREFIX, route_class=StrictRoute)
    token = Depends(viewer_of)

    @router.get("/{path:path}", include_in_schema=False)
    def tile(path: str = PathParameter(max_length=200),
             viewer: Viewer | None = token) -> Response:
        """A file of the published log: the checkpoint, a tile or an entry bundle."""
        if not TILE_PATH.fullmatch(path):
            raise RequestProblem(404, "tile_not_found", f"/tiles/{path} is not a path of the "
                                 "tlog-tiles layout (checkpoint, tile/<L>/<N>[.p/<W>], "
                                 "tile/entries/<N>[.p/<W>])")
        entries = path.startswith("tile/entries/")
        if entries:
            policy.require_everything(viewer, "the journal's entry bundles")
        try:
            data = (directory / path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise RequestProblem(404, "tile_not_found", f"/tiles/{path} is not published "
                                 "(not yet, or a partial tile superseded by its full "
                                 "tile)") from None
        if path == CHECKPOINT_PATH:
            return Response(data, media_type="text/plain; charset=utf-8",
                            headers={"cache-control": "no-cache"})
        cache = f"private, {IMMUTABLE}" if entries else f"public, {IMMUTABLE}"
        return Response(data, media_type="application/octet-stream",
                        headers={"cache-control": cache})

    return router


__all__ = ["TILES_PREFIX", "tiles_router"]
