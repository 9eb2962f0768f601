"""A witness run: replay what is new in the operator's journal, then cosign or refuse each
checkpoint it closes.

    witness = Witness(directory, config, keys, operations, clock=lambda: int(time.time()))
    report = witness.run(StoreSource(store, "a copy of the operator's database"))

For each checkpoint the operator has signed since the witness's last one, in order:

1. the entries up to its marker are replayed into the witness's replica (anchoring.witness.
   replica); an entry whose bytes do not hash to its stored leaf hash, whose signatures do not
   verify, which the ledger's rules refuse or which does not rebuild byte for byte is a
   refusal that names the entry;
2. the operator's note for it must be signed by the operator key the witness follows, and say
   exactly what the replay gives: the log's origin, size and root, the state root, the
   marker's time; a difference is a refusal that names the checkpoint (and, for a log root,
   the first entry the operator's journal no longer holds as the witness replayed it);
3. if it agrees, the witness cosigns the note (anchoring.auditor.cosignature) at the clock's
   time, and writes DIR/cosigned/<K>.note (the note with its cosignature line, for the
   operator's `carbonledger cosignature add`); with a registry to attest for, also
   DIR/cosigned/<K>.attestation.json (anchoring.operator.contract.attestation_digest).

Checkpoints are cosigned one by one as they are verified, in order, so that at the time of
each cosignature the witness has verified no larger checkpoint of the log: cosignature/v1's
statement ("the largest consistent tree head I have observed") holds even in a run that
catches up on many.

A refusal is recorded (DIR/progress.json) and final: the witness has seen a history it cannot
stand behind, and cosigns nothing more of this log until a person looks. Progress is recorded
after each cosignature, the files first, so a witness killed at any point resumes without
skipping a checkpoint or cosigning one twice with different content.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anchoring.auditor.cosignature import cosign, with_cosignatures
from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.note import NoteError, open_note
from anchoring.operator.contract import AnchoredCheckpoint, attestation_digest
from anchoring.witness.errors import WitnessNotReady, WitnessRefused
from anchoring.witness.identity import WitnessConfig, WitnessKeys
from anchoring.witness.replica import Replica
from anchoring.witness.source import JournalSource
from custody.signatures import to_checksum_address, unsafe_sign_digest
from ledger.modules import OperationSet
from ledger.replay import replay_rows
from ledger.state import JournalRow
from ledger.store.database import Store

PROGRESS_FILE = "progress.json"
REPLICA_FILE = "replica.db"
COSIGNED_DIR = "cosigned"
_FETCH = 1_000  # entries read from the source at once


@dataclass(frozen=True)
class AttestFor:
    """The registry the witness attests checkpoints for (an AnchorRegistry deployed with it
    among its witnesses)."""

    chain_id: int
    registry: str


@dataclass
class Progress:
    """What the witness has done: its last cosigned checkpoint, or the refusal that stopped it."""

    checkpoint: int = 0
    size: int = 0
    log_root: str = ""
    state_root: str = ""
    refused: str | None = None

    @classmethod
    def load(cls, path: Path) -> Progress:
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise WitnessNotReady(f"{path} cannot be read ({exc})") from exc
        try:
            return cls(**document)
        except TypeError as exc:
            raise WitnessNotReady(f"{path} is not a witness's progress record") from exc

    def save(self, path: Path) -> None:
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n")
        os.replace(partial, path)


@dataclass(frozen=True)
class Cosigned:
    number: int
    note_file: Path
    attestation_file: Path | None


@dataclass
class RunReport:
    entries: int = 0  # entries replayed in this run
    cosigned: list[Cosigned] = field(default_factory=list)
    up_to_date_at: int = 0  # the last checkpoint the witness has cosigned


class Witness:
    def __init__(self, directory: Path, config: WitnessConfig, keys: WitnessKeys,
                 operations: OperationSet, *, clock: Callable[[], int],
                 attest_for: AttestFor | None = None) -> None:
        self.directory = directory
        self.config = config
        self.keys = keys
        self.operations = operations
        self.clock = clock
        self.attest_for = attest_for
        self.progress_path = directory / PROGRESS_FILE

    def run(self, source: JournalSource) -> RunReport:
        """Replay and cosign up to the operator's latest checkpoint; raise `WitnessRefused`
        (recorded) on the first disagreement."""
        progress = Progress.load(self.progress_path)
        if progress.refused:
            raise WitnessRefused(f"refused before, and for good: {progress.refused}")
        replica = Replica.open(self.directory / REPLICA_FILE, self.operations)
        try:
            return self._run(source, replica, progress)
        except WitnessRefused as refusal:
            progress.refused = str(refusal)
            progress.save(self.progress_path)
            raise
        finally:
            replica.close()

    def _run(self, source: JournalSource, replica: Replica, progress: Progress) -> RunReport:
        report = RunReport(up_to_date_at=progress.checkpoint)
        markers, head = replica.markers, replica.head
        if markers == progress.checkpoint + 1:
            # Killed after replaying a marker and before recording its cosignature: the replica
            # still stands exactly at that checkpoint, so it is checked now.
            problem = self._checkpoint(source, replica, markers, head + 1, report)
            if problem:
                raise WitnessRefused(problem)
        elif markers != progress.checkpoint:
            raise WitnessNotReady(
                f"the replica has replayed {markers} checkpoint markers but the witness "
                f"recorded {progress.checkpoint} checkpoints: {self.directory} was changed by "
                "hand; move replica.db and progress.json away to start over")
        latest = source.latest_checkpoint()
        if latest is None or latest[0] <= report.up_to_date_at:
            return report
        start = replica.head + 1
        witness = self

        class _Observer:
            def started(self, scratch: Store) -> None:
                return None

            def checkpoint(self, scratch: Store, number: int, size: int) -> str | None:
                return witness._checkpoint(source, replica, number, size, report)

        checked = _Checked(source, start, latest[1])
        done, difference = replay_rows(checked.rows(), replica.store, self.operations,
                                       observer=_Observer(), start=start)
        report.entries = done - start
        difference = checked.problem or difference
        if difference is None and done < latest[1]:
            difference = (f"entry {done}: missing from the operator's journal, though "
                          f"checkpoint {latest[0]} covers entries up to {latest[1] - 1}")
        if difference:
            raise WitnessRefused(difference)
        return report

    def _checkpoint(self, source: JournalSource, replica: Replica, number: int, size: int,
                    report: RunReport) -> str | None:
        """Recompute checkpoint `number` and cosign it, or say why not."""
        mine = replica.recompute(size)
        where = f"checkpoint {number} (marker entry {size - 1})"
        note = source.note(number)
        if note is None:
            return f"{where}: the operator's journal holds its marker but no signed checkpoint"
        try:
            body = open_note(note, self.config.operator)
        except NoteError as exc:
            return f"{where}: {exc}"
        differences = [
            (what, theirs, ours) for what, theirs, ours in (
                ("log origin", body.origin, mine.origin),
                ("checkpoint number", body.number, number),
                ("log size", body.size, mine.size),
                ("time", body.time, mine.time),
                ("state root", _b64(body.state_root), _b64(mine.state_root)),
                ("log root", _b64(body.log_root), _b64(mine.log_root)))
            if theirs != ours]
        if differences:
            what, theirs, ours = differences[0]
            problem = (f"{where}: the operator signed {what} {theirs}, but the entries the "
                       f"witness replayed give {ours}")
            if what == "log root":
                problem += self._first_rewritten_entry(source, replica, body.size)
            elif what == "state root":
                problem += (": the state the operator signed is not the state its entries "
                            "give (its tables were changed, or it signed another state)")
            return problem
        self._cosign(number, note, mine.size, body.log_root, body.state_root, report)
        return None

    def _cosign(self, number: int, note: str, size: int, log_root: bytes, state_root: bytes,
                report: RunReport) -> None:
        folder = self.directory / COSIGNED_DIR
        folder.mkdir(parents=True, exist_ok=True)
        line = cosign(note, self.config.name, self.keys.cosigner_seed, self.clock())
        note_file = folder / f"{number}.note"
        _write(note_file, with_cosignatures(note, [line]))
        attestation_file = None
        if self.attest_for is not None:
            attestation_file = folder / f"{number}.attestation.json"
            _write(attestation_file, json.dumps(self.attestation(
                AnchoredCheckpoint(number, size, log_root, state_root)), indent=2) + "\n")
        progress = Progress(number, size, log_root.hex(), state_root.hex())
        progress.save(self.progress_path)
        report.cosigned.append(Cosigned(number, note_file, attestation_file))
        report.up_to_date_at = number

    def attestation(self, checkpoint: AnchoredCheckpoint) -> dict[str, Any]:
        """The witness's on-chain attestation of `checkpoint` for its registry."""
        assert self.attest_for is not None
        registry = to_checksum_address(bytes.fromhex(self.attest_for.registry[2:]))
        digest = attestation_digest(self.attest_for.chain_id, registry, checkpoint)
        signature = unsafe_sign_digest(self.keys.attester_key, digest)
        return {"checkpoint": checkpoint.number, "chain_id": self.attest_for.chain_id,
                "registry": registry, "attester": self.config.attester,
                "signature": "0x" + signature.hex()}

    def _first_rewritten_entry(self, source: JournalSource, replica: Replica,
                               size: int) -> str:
        """Where the operator's journal no longer holds what the witness replayed."""
        known = min(size, replica.head + 1)
        for start in range(0, known, _FETCH):
            stop = min(start + _FETCH, known)
            for row, mine in zip(source.rows(start, stop), replica.leaf_hashes(start, stop),
                                 strict=False):
                if leaf_hash(row.entry) != mine:
                    return (f"; entry {row.seq} in the operator's journal is not the entry "
                            "the witness replayed there: the journal was rewritten")
        return ""


class _Checked:
    """The source's rows start <= seq < stop, each checked to hash to its stored leaf hash
    (replay compares its rebuilt entry with that hash: together they hold the bytes)."""

    def __init__(self, source: JournalSource, start: int, stop: int) -> None:
        self.source, self.start, self.stop = source, start, stop
        self.problem: str | None = None

    def rows(self) -> Iterator[JournalRow]:
        for first in range(self.start, self.stop, _FETCH):
            for row in self.source.rows(first, min(first + _FETCH, self.stop)):
                if leaf_hash(row.entry) != row.leaf_hash:
                    self.problem = (f"entry {row.seq}: its bytes in the operator's journal do "
                                    "not hash to its stored leaf hash: the journal was changed")
                    return
                yield row


def _write(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


__all__ = ["AttestFor", "Cosigned", "Progress", "RunReport", "Witness"]
