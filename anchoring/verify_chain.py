"""The verifier's on-chain half: a proof bundle checked against the chain its anchor names.

    w3 = Web3(Web3.HTTPProvider("http://node:8545"))   # any node of the anchor's chain
    result = verify_bundle_on_chain(bundle, trusted_operator="0xAbC…", w3=w3,
                                    registry="0x5FbD…")  # the registry you trust, if you know it
    print(result.verified.statement, [c.block_number for c in result.confirmed])
    # raises VerificationFailed (the proof) or AnchorNotConfirmed (the anchor)

First the offline verifier (anchoring.auditor.verify) checks the bundle against the trusted operator
key; then every checkpoint the proof rests on (one, or two for a consistency proof) must be
anchored where the bundle claims: the registry's `isAnchored` view is asked with the number,
size and roots of the verified signed note — never with values from the bundle's anchor
object — and the transaction, block and time it claims are checked (anchoring.operator.chain
`confirm_anchor`). A bundle made before its checkpoint was anchored has no anchor to check,
and is refused here: ask for a new bundle once the checkpoint is anchored.

Like the offline verifier, this imports nothing of the ledger, its store or a database: an
auditor needs the bundle, the operator key, and a node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from anchoring.auditor.bundle_format import BundleKind
from anchoring.auditor.verify import STANDARD_KINDS, Verified, verify_bundle
from anchoring.operator.chain import (
    AnchorMismatch,
    AnchorNotConfirmed,
    ConfirmedAnchor,
    confirm_anchor,
)
from anchoring.operator.contract import AnchoredCheckpoint

__all__ = ["VerifiedOnChain", "verify_bundle_on_chain"]


@dataclass(frozen=True)
class VerifiedOnChain:
    verified: Verified
    """What the offline verifier established (the statement, the signed checkpoint)."""
    confirmed: tuple[ConfirmedAnchor, ...]
    """One per checkpoint the proof rests on, in the order of `Verified.anchors`."""


def verify_bundle_on_chain(bundle: Any, trusted_operator: str, w3: Web3, *,
                           registry: str | None = None,
                           chain_id: int | None = None,
                           kinds: Sequence[BundleKind] = STANDARD_KINDS) -> VerifiedOnChain:
    """Check `bundle` against the operator key the caller trusts, then its anchors against the
    chain behind ``w3``. ``registry`` and ``chain_id``, if given, pin the registry the caller
    trusts; otherwise the registry the bundle names is asked (the caller should say so).
    ``kinds`` are the bundle kinds the offline half knows, as for `verify_bundle`."""
    verified = verify_bundle(bundle, trusted_operator, kinds)
    confirmed = []
    for claim in verified.anchors:
        body = claim.checkpoint
        if claim.anchor is None:
            raise AnchorNotConfirmed(
                AnchorMismatch.NO_ANCHOR,
                f"checkpoint {body.number}: the bundle records no anchor for it (it was made "
                "before the checkpoint was anchored): ask for a new bundle once it is")
        checkpoint = AnchoredCheckpoint(body.number, body.size, body.log_root, body.state_root)
        confirmed.append(confirm_anchor(w3, claim.anchor, checkpoint, registry=registry,
                                        chain_id=chain_id))
    return VerifiedOnChain(verified, tuple(confirmed))
