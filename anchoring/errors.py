"""Errors of the checkpointer and the proof builder: one root, each with an actionable message.

(The offline verifier has its own, `anchoring.verify.VerificationFailed`: it must not depend
on anything that touches a database.)
"""

from __future__ import annotations


class CheckpointError(RuntimeError):
    """Root of the errors a checkpoint cut or a proof request can raise."""


class StoreInconsistent(CheckpointError):
    """The database disagrees with itself or with what was signed: it was changed outside the
    ledger. Nothing is signed or proven on top of it; `carbonledger audit` names the place."""


class NotCheckpointed(CheckpointError, LookupError):
    """What was asked for is not covered by a checkpoint (yet): cut one, or ask for another."""


class OperatorKeyMissing(CheckpointError):
    """There is no operator key to sign checkpoints with."""
