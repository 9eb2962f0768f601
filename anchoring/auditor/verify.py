"""The offline verifier: checks a proof bundle with nothing but the bundle and a trusted key.

It imports only anchoring.auditor and `custody` — never the ledger, its store or a
database — so an auditor can run it anywhere (a test imports it with ledger.store blocked).

    verified = verify_bundle(json.load(open("bundle.json")), trusted_operator="0xAbC…")
    print(verified.statement)          # what was proven, in words
    # raises VerificationFailed(code, reason) when the bundle does not hold

For every bundle (docs/proof-format.md):

- the checkpoint is a signed note; its signature must verify against the key the auditor
  trusts, and the bundle must name that same key as its operator (a bundle never chooses the
  key it is checked against);
- the log size, log root and state root all come from that one signed note;
- the kind's own proof is checked against them, by the `BundleKind` of that name among the
  kinds the verifier is handed (`STANDARD_KINDS` unless the caller says otherwise);
- given witnesses (their vkeys) and a threshold, each checkpoint the proof rests on must carry
  that many valid cosignatures of theirs (anchoring.auditor.cosignature), extra signature
  lines of the note; without witnesses those lines are ignored, as signed-note requires;
- each `anchor` claim is checked for shape only. Whether the chain holds the checkpoint takes
  a node of that chain: `anchoring.verify_chain.verify_bundle_on_chain` asks it, with the
  checkpoint's fields from the verified note (`Verified.anchors` lists them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from anchoring.auditor import jcs
from anchoring.auditor.bundle_format import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    BundleKind,
    address,
    check_anchor,
    exact_fields,
    open_checkpoint,
    typed,
)
from anchoring.auditor.cosignature import (
    Cosignature,
    CosignatureError,
    WitnessKey,
    require_cosigned,
)
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody
from anchoring.auditor.verify_allocation import ALLOCATION_KINDS
from anchoring.auditor.verify_compliance import COMPLIANCE_KINDS
from anchoring.auditor.verify_core import CORE_KINDS
from anchoring.auditor.verify_pledge import PLEDGE
from anchoring.auditor.verify_projects import PROJECT_KINDS
from custody.signatures import to_checksum_address

STANDARD_KINDS: tuple[BundleKind, ...] = (*CORE_KINDS, PLEDGE, *COMPLIANCE_KINDS,
                                           *PROJECT_KINDS, *ALLOCATION_KINDS)
"""Every kind `carbonledger proof` makes: the core's, then each module's, listed here by name.
A new kind is a `BundleKind` in a module of its own, added to this tuple."""


@dataclass(frozen=True)
class AnchorClaim:
    """A checkpoint the bundle relies on, as its verified note says, and where the bundle
    claims it is anchored (None: not anchored when the bundle was made)."""

    checkpoint: CheckpointBody
    anchor: Mapping[str, Any] | None


@dataclass(frozen=True)
class Verified:
    kind: str
    checkpoint: CheckpointBody
    operator: str  # the trusted key that signed the checkpoint, checksummed
    statement: str  # what the bundle proves, in words
    anchor: Mapping[str, Any] | None
    anchors: tuple[AnchorClaim, ...] = ()
    """Every checkpoint the proof rests on, the bundle's own first (a consistency bundle
    adds its earlier one): what a check on chain must find anchored."""
    cosigned_by: tuple[Cosignature, ...] = ()
    """The trusted witnesses' valid cosignatures of the bundle's checkpoint (empty when the
    verifier was named no witness)."""


def verify_bundle(bundle: Any, trusted_operator: str,
                  kinds: Sequence[BundleKind] = STANDARD_KINDS, *,
                  witnesses: Sequence[WitnessKey] = (),
                  witness_threshold: int | None = None) -> Verified:
    """Check `bundle` against the operator key the caller trusts (an address), with the
    bundle kinds it is handed: a kind not among them is refused as unknown. Given
    `witnesses`, every checkpoint the proof rests on must be cosigned by `witness_threshold`
    of them (default: all)."""
    known = kinds_by_name(kinds)
    if not isinstance(bundle, Mapping):
        raise VerificationFailed(VerifyFailure.not_a_bundle, "a proof bundle is a JSON object")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise VerificationFailed(VerifyFailure.not_a_bundle,
                                 f"not a proof bundle: format is {bundle.get('format')!r:.60}, "
                                 f"want {BUNDLE_FORMAT!r}")
    jcs.check_subset(bundle, "the bundle")
    if "version" not in bundle:
        raise VerificationFailed(VerifyFailure.malformed_bundle, "the bundle has no version")
    typed(bundle["version"], int, "the bundle's version")
    if bundle["version"] != BUNDLE_VERSION:
        raise VerificationFailed(VerifyFailure.unsupported,
                                 f"bundle version {bundle.get('version')!r} is not supported "
                                 f"(this verifier reads version {BUNDLE_VERSION})")
    if "kind" not in bundle:
        raise VerificationFailed(VerifyFailure.malformed_bundle, "the bundle has no kind")
    name = bundle["kind"]
    typed(name, str, "the bundle's kind")
    kind = known.get(name)
    if kind is None:
        raise VerificationFailed(VerifyFailure.unsupported,
                                 f"unknown bundle kind {name!r}: this verifier knows "
                                 f"{', '.join(sorted(known))}")
    exact_fields(bundle, kind.all_fields, "the bundle")
    typed(bundle["checkpoint"], str, "the bundle's checkpoint (the signed note's text)")
    trusted = address(trusted_operator, "the trusted operator key")
    named = address(bundle["operator"], "the bundle's operator")
    if named != trusted:
        raise VerificationFailed(
            VerifyFailure.untrusted_operator,
            f"the bundle names operator {to_checksum_address(named)}, but the key you trust "
            f"is {to_checksum_address(trusted)}: it was not issued under that key")
    checkpoint = open_checkpoint(bundle["checkpoint"], trusted_operator)
    anchor = check_anchor(bundle["anchor"], checkpoint.number)
    statement = kind.verify(bundle, checkpoint, trusted_operator)
    claims = [AnchorClaim(checkpoint, anchor)]
    if "from_checkpoint" in kind.fields:
        # Verified by the kind's verifier above; opened again here only to list its anchor.
        older = open_checkpoint(bundle["from_checkpoint"], trusted_operator)
        claims.append(AnchorClaim(older, check_anchor(bundle["from_anchor"], older.number)))
    cosigned: list[Cosignature] = []
    if witnesses:
        notes = [bundle["checkpoint"]]
        if "from_checkpoint" in kind.fields:
            notes.append(bundle["from_checkpoint"])
        cosigned = _cosigned(notes[0], witnesses, witness_threshold)
        for note in notes[1:]:
            _cosigned(note, witnesses, witness_threshold)
    return Verified(name, checkpoint, _checksummed(trusted), statement, anchor,
                    tuple(claims), tuple(cosigned))


@lru_cache(maxsize=64)
def _checksummed(address: bytes) -> str:
    return to_checksum_address(address)  # a hash: a trusted key is named in every answer


def _cosigned(note: str, witnesses: Sequence[WitnessKey],
              threshold: int | None) -> list[Cosignature]:
    try:
        return require_cosigned(note, witnesses, threshold)
    except CosignatureError as exc:
        raise VerificationFailed(exc.code, f"checkpoint not witnessed: {exc}") from exc


def read_bundle(text: str) -> Any:
    """A bundle file's text as JSON, strictly (anchoring.auditor.jcs): a duplicate key, a
    number that is not a safe integer or nesting beyond any bundle's is refused, never
    silently read one way. Text that is not JSON at all is `not_a_bundle`."""
    return jcs.parse(text, "the bundle file", malformed=VerifyFailure.not_a_bundle)


def verify_bundle_text(text: str, trusted_operator: str,
                       kinds: Sequence[BundleKind] = STANDARD_KINDS,
                       **witnessing: Any) -> Verified:
    """`verify_bundle` of a bundle file's text (`read_bundle`): what `carbonledger verify`
    checks. `witnessing`: verify_bundle's witnesses and witness_threshold."""
    return verify_bundle(read_bundle(text), trusted_operator, kinds, **witnessing)


def kinds_by_name(kinds: Sequence[BundleKind]) -> dict[str, BundleKind]:
    """The kinds by name. Two kinds of one name are refused, never one silently chosen."""
    known: dict[str, BundleKind] = {}
    for kind in kinds:
        if kind.name in known:
            raise ValueError(f"two bundle kinds are named {kind.name!r}")
        known[kind.name] = kind
    return known
