"""The checkpoint duty of a served ledger: cut a checkpoint when one is due and anchor what is
not anchored yet, run by exactly one process among all those serving the ledger.

Every worker of `carbonledger serve --checkpoint-every` runs a `CheckpointDuty` thread. It
tries to take the store's leader lock (`Store.leader_lock`: a PostgreSQL advisory lock, or a
file lock beside a SQLite database); the one that holds it cuts and anchors, the others try
again every `retry_s`. When the holder dies its lock frees and another worker takes the duty
over. Two holders at once would still be correct (each cut holds the journal head, and a
checkpointer that finds a newer checkpoint than its own rebuilds its state), but would waste
work and race on the chain; the lock makes it one. With a tiles directory, the holder also
publishes each cut's log there as C2SP tlog-tiles (anchoring/operator/tiles.py), after the cut
is committed.

A failure (the store or the chain out of reach, a key that will not open) is logged as one
line and tried again at the next round: it never stops the worker serving requests.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from api.exit_codes import one_line
from api.service import LedgerService
from ledger.store.leader import LeaderLock

LOCK_NAME = "checkpoint-duty"
RETRY_S = 1.0  # how often a worker without the duty tries to take it
# uvicorn's error log: the server's own lines, with its level and format in every worker
logger = logging.getLogger("uvicorn.error")


class CheckpointDuty:
    """The duty thread of one worker (see the module's docstring). The service is built with
    the checkpoint policy (every `every_s` seconds, or sooner by entries) and, when the data
    directory records a chain, its anchoring worker (`anchors`)."""

    def __init__(self, service: LedgerService, *, every_s: float, anchors: bool,
                 retry_s: float = RETRY_S, tiles_dir: Path | None = None) -> None:
        if every_s <= 0 or retry_s <= 0:
            raise ValueError("every_s and retry_s must be positive")
        self._service = service
        self._anchors = anchors
        self._tiles_dir = tiles_dir  # where each cut's log is published as tiles; None: not
        # a due checkpoint is looked for at least every second, so that a policy by entries
        # is followed too; the time policy itself is the checkpointer's
        self._round_s = min(every_s, 1.0)
        self._retry_s = retry_s
        self._stopping = threading.Event()
        self._leading = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpoint duty", daemon=True)

    @property
    def leading(self) -> bool:
        """Whether this process holds the duty now."""
        return self._leading.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the round under way, release the lock and end the thread."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self._service.store.leader_lock(LOCK_NAME) as lock:
                    while not self._stopping.is_set():
                        if lock.try_take():
                            self._lead(lock)  # until stopped, or the lock is lost
                        else:
                            self._stopping.wait(self._retry_s)
            except Exception as failure:  # the store out of reach: try again
                logger.warning("worker %d could not try for the checkpoint duty, trying again "
                               "in %g s: %s", os.getpid(), self._retry_s, _line(failure))
                self._stopping.wait(self._retry_s)

    def _lead(self, lock: LeaderLock) -> None:
        self._leading.set()
        logger.info("worker %d cuts and anchors checkpoints", os.getpid())
        anchor_due = True  # checkpoints a previous holder cut may be waiting for their anchor
        tiles_due = True  # and its last cut's tiles may not be written
        try:
            while not self._stopping.is_set():
                if not lock.still_held():
                    logger.warning("worker %d lost the checkpoint duty (its lock's connection "
                                   "is gone); trying to take it again", os.getpid())
                    return
                cut = self._cut()
                anchor_due = cut or anchor_due
                tiles_due = cut or tiles_due
                if self._tiles_dir is not None and tiles_due:
                    tiles_due = not self._publish_tiles(self._tiles_dir)
                if self._anchors and anchor_due:
                    anchor_due = not self._anchor()
                self._stopping.wait(self._round_s)
        finally:
            self._leading.clear()

    def _cut(self) -> bool:
        """Cut a checkpoint if one is due; whether one was cut."""
        try:
            cut = self._service.cut_checkpoint(if_due=True)
        except Exception as failure:
            logger.warning("cutting a checkpoint failed, trying again in %g s: %s",
                           self._round_s, _line(failure))
            return False
        if cut is None:
            return False
        logger.info("checkpoint %d cut: log size %d", cut.number, cut.log_size)
        return True

    def _publish_tiles(self, directory: Path) -> bool:
        """Write the latest checkpoint's tiles; whether that is done (or there is none yet)."""
        from anchoring.operator.errors import NotCheckpointed

        try:
            written = self._service.publish_tiles(directory)
        except NotCheckpointed:
            return True
        except Exception as failure:
            logger.warning("writing the log's tiles failed, trying again in %g s: %s",
                           self._round_s, _line(failure))
            return False
        if written.files:
            logger.info("checkpoint %d published as tiles in %s: %d files", written.checkpoint,
                        directory, written.files)
        return True

    def _anchor(self) -> bool:
        """Anchor every checkpoint not anchored yet; whether nothing is left to do now."""
        try:
            anchored = self._service.anchor()
        except Exception as failure:
            logger.warning("anchoring failed, trying again in %g s: %s", self._round_s,
                           _line(failure))
            return False
        for result in anchored:
            logger.info("checkpoint %d anchored: transaction 0x%s, block %d", result.number,
                        result.anchor.tx_hash.hex(), result.anchor.block_number)
        # a checkpoint waiting for its witnesses' attestations is tried again each round
        return self._service.waiting_for_witnesses is None


def _line(failure: Exception) -> str:
    return one_line(str(failure)) or type(failure).__name__


__all__ = ["LOCK_NAME", "CheckpointDuty"]
