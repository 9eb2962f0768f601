"""What stops a witness: it refuses a checkpoint (for good), or it cannot run. Both are under
the auditor's root with a code of its closed list (anchoring.auditor.errors)."""

from __future__ import annotations

from anchoring.auditor.errors import VerifyError, VerifyFailure


class WitnessRefused(VerifyError):
    """The witness does not agree with the operator's journal or a checkpoint; the text names
    the checkpoint or the entry. It is recorded: the witness cosigns nothing more of the log."""

    code = VerifyFailure.witness_refused


class WitnessNotReady(VerifyError):
    """The witness's state, keys or source are missing or unreadable."""

    code = VerifyFailure.witness_not_ready


__all__ = ["WitnessNotReady", "WitnessRefused"]
