"""Why evidence does not verify: a closed list of codes under one root, so that an adapter (the
CLI, HTTP) maps codes to responses and never parses messages.

Every failure here is final: the same bundle, note or proof never verifies on a retry, so a
code carries no retry flag. The exception keeps the sentence that names the specifics (which
entry, which key, which field); the code's message says what a person can do about it.

Pure like the rest of anchoring.auditor: the standard library only.
"""

from __future__ import annotations

import enum


class VerifyFailure(enum.Enum):
    """What kind of evidence failed, each with what the person holding it can do."""

    # the bundle as a document
    not_a_bundle = ("this is not a carbonledger proof bundle: check that the file is one that "
                    "`carbonledger proof` wrote")
    unsupported = ("the bundle's version or kind, or a journal entry's format, is newer than "
                   "this verifier: upgrade carbonledger, or ask for a bundle of a kind it reads")
    malformed_bundle = ("a field of the bundle is missing, unknown or of the wrong shape: ask "
                        "its issuer for a new bundle made by `carbonledger proof`")
    wrong_type = ("a value of the bundle or of a journal entry in it has the wrong JSON type "
                  "(true where a number belongs, a string where an object does): ask its "
                  "issuer for a new bundle made by `carbonledger proof`")
    duplicate_key = ("a JSON object in the bundle names one key twice, so that two readers "
                     "could see two different bundles: the file was altered")
    bad_number = ("a number in the bundle is not an integer within ±(2^53-1), the only "
                  "numbers the format has: the file was altered or not made by carbonledger")
    not_canonical = ("a journal entry or a record in the bundle is not in its RFC 8785 "
                     "canonical form, which is the form the log and the state tree commit "
                     "to: the text was altered")
    malformed_record = ("a record (lot, holding or account) in the bundle lacks a field, has "
                        "an unknown one, or one of the wrong type or outside its values: the "
                        "record was altered, or the ledger that committed it is broken")
    bad_time = ("a time is not a real UTC instant written as YYYY-MM-DDTHH:MM:SS.sssZ: the "
                "checkpoint or entry was altered, or its signer is broken")
    bad_address = ("an address is not 0x and 40 hex digits with a valid EIP-55 checksum: check "
                   "it for a typo")
    untrusted_operator = ("the bundle was issued under another operator key than the one you "
                          "trust: check the key you passed (--operator-key) against the "
                          "ledger's published key")
    # the signed checkpoint
    malformed_checkpoint = ("the signed checkpoint is not a well-formed carbonledger checkpoint "
                            "note: it was damaged in transit or is not a checkpoint")
    checkpoint_not_signed = ("the checkpoint carries no valid signature by the key you trust: "
                             "it was changed after it was signed, or another key signed it")
    wrong_ledger = ("the checkpoint's origin names another ledger than its log's genesis "
                    "entry does: the evidence mixes two ledgers")
    bad_marker = ("the checkpoint's log does not end with that checkpoint's marker entry, or "
                  "a marker in it claims a later checkpoint: the signer of the checkpoint is "
                  "broken or dishonest")
    bad_anchor = ("the bundle's anchor claim is malformed or names another checkpoint: ask for "
                  "a new bundle (the chain was not asked)")
    # witnesses' cosignatures (anchoring.auditor.cosignature)
    bad_witness_key = ("a witness key is not a cosignature/v1 verifier key (name+keyid+base64 "
                       "of 0x04 and an Ed25519 key, with the key ID that name and key give): "
                       "check it for a typo against the key the witness published")
    cosignature_invalid = ("a cosignature by a witness you trust does not verify: the "
                           "checkpoint was changed after it was cosigned, or the cosignature "
                           "was forged or damaged")
    too_few_cosignatures = ("the checkpoint is not cosigned by as many of the witnesses you "
                            "trust as you require: ask its issuer for a bundle made after the "
                            "witnesses cosigned, or find out why they did not")
    # a witness (anchoring.witness)
    witness_refused = ("the witness replayed the operator's journal and does not agree with a "
                       "signed checkpoint, so it cosigns nothing more of this log: the history "
                       "or the state it signs is not what the entries give; investigate")
    witness_not_ready = ("the witness cannot run: its state directory, its keys or the "
                         "operator's journal it follows are missing or unreadable; `carbonledger "
                         "witness init` makes a witness, --source names the journal")
    # the proofs
    wrong_subject = ("the proof is about another item than the bundle names: a proof about one "
                     "record cannot stand for another's")
    log_proof_failed = ("a Merkle log proof does not lead to the signed log root: the entry is "
                        "not in that log, or one checkpoint's log does not extend the other's")
    state_proof_failed = ("a state proof does not lead to the signed state root: the record "
                          "did not have this value at that checkpoint")
    incomplete_evidence = ("the evidence does not add up: an entry or a lot is missing, "
                           "repeated, out of order or not the one the pack is about")

    def __init__(self, message: str) -> None:
        self.message = message


class VerifyError(Exception):
    """Root of the auditor's failures. `code` says what failed; the text, the specifics."""

    code: VerifyFailure

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code.name, "message": self.code.message, "detail": str(self)}


class VerificationFailed(VerifyError):
    """The bundle does not prove what it claims; `reason` says why, in words."""

    def __init__(self, code: VerifyFailure, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def __reduce__(self) -> tuple[type[VerificationFailed], tuple[VerifyFailure, str]]:
        # keeps the code across processes (pickle would otherwise pass only the message)
        return (VerificationFailed, (self.code, self.reason))
