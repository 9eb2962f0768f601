"""The stateless check of a signed instruction's signatures, wherever it runs.

Recovering each approval's signer is the costliest step of admitting an instruction (~0.1 ms
a signature with coincurve) and needs no state, so it need not run where the journal is
written: an HTTP worker checks what it hands the writer process (api/writer/), a pool of
processes checks a large submission beside the writer (ledger/parallel_signatures.py). What
such a stage hands the engine with the documents is one *verdict* per document:

    CHECKED          every signature recovers its claimed signer, against this ledger's domain
    a Rejected       refused for its signatures (or because it does not parse)
    UNCHECKED        not checked here: the engine checks it itself (a genesis, whose domain
                     is its own; a ledger whose domain is not known yet)

The engine trusts a verdict only from a caller that passes it explicitly
(`Ledger.submit_documents(documents, verdicts)`): a stage of the operator's own service, never
an outside party. Nothing is weakened for anyone else: the checkpointer re-executes every
journaled entry, signatures included, before it signs a checkpoint, and replay and the audit
do so again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, Final

from custody.eip712 import Domain
from custody.signatures import SignatureError, recover_address_bytes, to_checksum_address
from ledger.errors import Reason, Rejected, require
from ledger.instructions import SignedInstruction, make_domain


class Verdict(Enum):
    """A signature check's outcome other than a refusal."""

    checked = "checked"
    unchecked = "unchecked"


CHECKED: Final = Verdict.checked
UNCHECKED: Final = Verdict.unchecked
SignatureVerdict = Verdict | Rejected


def check_signatures(signed: SignedInstruction, domain: Domain | Rejected) -> Rejected | None:
    """Stateless: every approval's signature recovers its claimed signer, and no signer
    approves twice. `domain` is the ledger's (a genesis is checked against its own)."""
    try:
        ins = signed.instruction
        if ins.op == "genesis":
            domain = make_domain(ins.fields["chainId"])
        if isinstance(domain, Rejected):
            raise domain
        signers = signed.signers
        require(len(set(signers)) == len(signers), Reason.duplicate_signer)
        for approval in signed.approvals:
            digest = ins.digest(domain, approval.signer, approval.nonce)
            try:
                recovered = recover_address_bytes(digest, approval.signature)
            except SignatureError as exc:
                raise Rejected(Reason.bad_signature, str(exc)) from exc
            if recovered != bytes.fromhex(approval.signer[2:]):
                raise Rejected(Reason.bad_signature, f"signature is by "
                               f"{to_checksum_address(recovered)}, claimed {approval.signer}")
    except Rejected as rejected:
        return rejected
    return None


def verdicts_of(documents: Sequence[Any], parse: Callable[[Any], SignedInstruction],
                domain: Domain | None) -> list[SignatureVerdict]:
    """Each document's verdict: parsed with `parse` (the ledger's operation set) and checked
    against `domain`, the ledger's (None: not known yet, so every document is UNCHECKED)."""
    verdicts: list[SignatureVerdict] = []
    for document in documents:
        if domain is None:
            verdicts.append(UNCHECKED)
            continue
        try:
            signed = parse(document)
        except Rejected as refused:
            verdicts.append(refused)
            continue
        if signed.instruction.op == "genesis":
            verdicts.append(UNCHECKED)
            continue
        failure = check_signatures(signed, domain)
        verdicts.append(CHECKED if failure is None else failure)
    return verdicts


__all__ = ["CHECKED", "UNCHECKED", "SignatureVerdict", "Verdict", "check_signatures",
           "verdicts_of"]
