"""Errors of the operator's side of anchoring (cutting and proving checkpoints, reaching a chain,
the anchoring worker): a closed list of codes under one root, so that an adapter (the CLI,
HTTP) maps codes to responses and never parses messages.

Each exception class carries one code (`code`, a class attribute); the exception's text names
the specifics, the code's message what a person can do. The roots (`OperatorError` and the
roots of each module's errors: `CheckpointError`, `ChainError`, `AnchorRegistryError`,
`AnvilError`, `AnchoringError`) are never raised themselves; catching one catches its module's
errors. The auditor's failures have their own root (anchoring.auditor.errors): the offline
verifier must not depend on anything that touches a database or a chain.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class OperatorFailure(enum.Enum):
    """Each member is (message a person can act on, whether the same request can succeed
    later without anyone fixing anything: a node back up, a checkpoint cut on schedule)."""

    # cutting checkpoints and proving (anchoring.operator.checkpoints, bundles)
    ledger_not_initialized = ("the ledger has no genesis entry: run `carbonledger init` first",
                              False)
    operator_key_missing = ("there is no operator key to sign checkpoints with: create one with "
                            "`carbonledger operator-key --create`", False)
    not_checkpointed = ("what was asked for is not covered by a checkpoint yet: cut one "
                        "(`carbonledger checkpoint`), or ask about an earlier checkpoint", True)
    store_inconsistent = ("the database disagrees with itself or with what was signed: it was "
                          "changed outside the ledger, and nothing is signed or proven on top "
                          "of it; `carbonledger audit` names the place", False)
    transition_differs = ("re-executing the journal's entries since the previous checkpoint "
                          "against that checkpoint's state does not give what the tables hold: "
                          "they were changed outside the ledger, and nothing is signed; the "
                          "exception names the first entry, and `carbonledger audit` the rest",
                          False)
    state_leaves_mismatch = ("the stored state leaf versions do not rebuild a signed state "
                             "root: the state_leaves table was changed outside the ledger; "
                             "`carbonledger audit` names the checkpoint", False)
    state_tree_not_stored = ("the checkpoint's state tree is not kept in the database "
                             "(pruned past the retention the operator set, or cut before the "
                             "tree was persisted): its proofs come from a rebuild of the tree "
                             "from the leaf versions, which takes seconds", False)
    pledge_not_found = ("no pledge has this id: check the id (a pledge's id is its lien's)",
                        False)
    compliance_record_not_found = ("no monthly submission has this id, or no emitter has a "
                                   "verified obligation for this year: check the id and the "
                                   "year", False)
    retirement_not_found = ("no retirement for an offsetting claim has this id: check the id "
                            "(a certificate names it)", False)
    unit_not_found = ("no CCER unit has this batch and serial: check the batch (one the "
                      "project cycle issued) and that the serial is within it", False)
    plan_not_found = ("no allocation plan of this scheme for this year at the checkpoint: "
                      "check the scheme and the year, and that the plan was set before the "
                      "checkpoint was cut", False)
    installation_allocation_not_found = ("the installation had no allocation for this year at "
                                         "the checkpoint: check the installation and the "
                                         "year", False)
    auction_not_found = ("no auction has this id, or it was not cleared at the checkpoint: "
                         "its book is disclosed once it is cleared; check the id", False)
    tiles_not_written = ("the log's tiles could not be written (the directory is not "
                         "writable, the disk is full, or an entry is too large for an entry "
                         "bundle): the checkpoint itself is stored; fix the cause and run "
                         "`carbonledger tiles write`", True)
    # reaching a chain (anchoring.operator.chain, anvil)
    chain_unavailable = ("the chain node cannot be reached: check that it is running and that "
                         "its URL is right; nothing was sent", True)
    anchorer_key_missing = ("there is no anchorer key: set CARBONLEDGER_ANCHORER_KEY or give "
                            "the anchorer keystore (and its password)", False)
    insufficient_funds = ("the anchorer's account cannot pay for its transactions on this "
                          "chain: fund it, then try again", False)
    chain_record_invalid = ("chain.json is missing or unreadable, so no registry is recorded "
                            "for this ledger: deploy one (`carbonledger chain deploy`) or "
                            "restore the file", False)
    registry_deploy_failed = ("the AnchorRegistry's constructor refused the deployment: check "
                              "the owner and anchorer addresses", False)
    anchor_not_confirmed = ("the chain does not bear out the anchor a bundle claims: the "
                            "exception's `mismatch` names the check that failed; the proof may "
                            "hold against its signed checkpoint, but not on this chain", False)
    anvil_not_installed = ("the anvil binary was not found: install the npm package, or point "
                           "CARBONLEDGER_ANVIL at the binary", False)
    anvil_start_failed = ("the managed anvil node did not start: read its log in the data "
                          "directory (a port in use, a damaged state file)", False)
    local_node_start_failed = ("the embedded chain's node did not start: read its log in the "
                               "data directory's chain/ (a port in use, a damaged or locked "
                               "state file)", False)
    anvil_not_running = ("the managed anvil node is not running: start it with `carbonledger "
                         "chain up`", True)
    anvil_command_failed = ("the managed anvil node did not do what was asked: read its log "
                            "in the data directory, then `carbonledger chain down` and `up`",
                            False)
    # the registry contract (anchoring.operator.contract)
    anchor_rejected = ("the AnchorRegistry refused the call with one of its errors: the "
                       "exception's `reason` names it and whether a later call can succeed",
                       False)
    anchor_transaction_failed = ("the transaction failed without an error of the registry (out "
                                 "of gas, a panic, another contract): check the registry's "
                                 "address and the gas limit", False)
    unexpected_registry_answer = ("the contract answered in a way an AnchorRegistry of this "
                                  "version does not: check that the address is this ledger's "
                                  "registry", False)
    # the anchoring worker (anchoring.operator.worker): it stops until an operator acts
    wrong_chain = ("the node answers for another chain than the registry's: point the worker "
                   "at a node of the registry's chain", False)
    registry_missing = ("there is no contract at the registry's address: the node was reset "
                        "or lost its state; restore it, or deploy again with --reanchor", False)
    anchorer_mismatch = ("the registry accepts anchors from another key than the worker's: "
                         "configure the registry's anchorer key, or change the registry's "
                         "anchorer", False)
    unknown_checkpoint_on_chain = ("the registry holds a checkpoint that is not this ledger's: "
                                   "another ledger anchors on it, or this database was restored "
                                   "from an older backup; run `carbonledger audit --rpc`", False)
    anchor_vanished = ("anchors the ledger recorded are no longer on chain: the node was "
                       "reset or reorganised; restore it, or anchor again with --reanchor",
                       False)
    anchored_elsewhere = ("checkpoints are recorded as anchored on another registry or chain "
                          "than the target: anchor on the recorded one, or start over with "
                          "--reanchor", False)
    anchor_refused = ("the registry refuses this checkpoint and would refuse it again: the "
                      "exception's `rejection` names the contract's error", False)
    stored_checkpoint_not_signed = ("a stored checkpoint's note does not verify against the "
                                    "operator key, or disagrees with its row: the checkpoints "
                                    "table was changed outside the checkpointer; run "
                                    "`carbonledger audit`", False)

    def __init__(self, message: str, retryable: bool) -> None:
        self.message = message
        self.retryable = retryable


class OperatorError(Exception):
    """Root of the operator side's errors; `code` says which, and whether a retry can help."""

    code: ClassVar[OperatorFailure]

    @property
    def retryable(self) -> bool:
        return self.code.retryable

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code.name, "message": self.code.message, "detail": str(self),
                "retryable": self.code.retryable}


class CheckpointError(OperatorError, RuntimeError):
    """Root of the errors a checkpoint cut or a proof request can raise."""


class LedgerNotInitialized(CheckpointError):
    """The ledger has no genesis entry: there is no log to checkpoint or prove yet."""

    code = OperatorFailure.ledger_not_initialized


class StoreInconsistent(CheckpointError):
    """The database disagrees with itself or with what was signed: it was changed outside the
    ledger. Nothing is signed or proven on top of it; `carbonledger audit` names the place."""

    code = OperatorFailure.store_inconsistent


class TransitionDiffers(StoreInconsistent):
    """The entries since the previous checkpoint, re-executed against its committed state, do
    not give the state the tables hold (anchoring.operator.transition): the checkpoint is not
    signed. The message names the first entry (its seq) and what differs."""

    code = OperatorFailure.transition_differs


class NotCheckpointed(CheckpointError, LookupError):
    """What was asked for is not covered by a checkpoint (yet): cut one, or ask for another."""

    code = OperatorFailure.not_checkpointed


class OperatorKeyMissing(CheckpointError):
    """There is no operator key to sign checkpoints with."""

    code = OperatorFailure.operator_key_missing


class TilesNotWritten(CheckpointError):
    """The log's tiles (anchoring.operator.tiles) could not be written; the checkpoint they
    publish is stored all the same."""

    code = OperatorFailure.tiles_not_written
