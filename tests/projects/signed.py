"""A ledger whose project cycle a checkpointer has signed: what the proof tests prove from and
verify against (tests/projects/test_provenance.py, test_unit_provenance.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from anchoring.operator.checkpoints import Checkpointer
from tests.world import OPERATIONS, World

Bundle = dict[str, Any]
KINDS = tuple(OPERATIONS.bundle_kinds.values())


@dataclass
class Signed:
    """The cycle on a ledger, with a checkpointer that signed it."""

    world: World
    checkpointer: Checkpointer

    @property
    def prover(self) -> Prover:
        return Prover(self.world.store, self.checkpointer.state)

    def verify(self, bundle: Bundle) -> str:
        return verify_bundle(as_read(bundle), self.checkpointer.operator, KINDS).statement

    def refused(self, bundle: Bundle, code: VerifyFailure, match: str) -> None:
        with pytest.raises(VerificationFailed, match=match) as refused:
            verify_bundle(as_read(bundle), self.checkpointer.operator, KINDS)
        assert refused.value.code is code, refused.value

    def entry(self, seq: int) -> dict[str, Any]:
        """Entry `seq` as a bundle's link: its text and inclusion proof."""
        bundle = self.prover.entry(seq)
        return {"entry": bundle["entry"], "inclusion": bundle["inclusion"]}


def as_read(bundle: Bundle) -> Bundle:
    result: Bundle = json.loads(json.dumps(bundle))  # as a reader receives it
    return result
