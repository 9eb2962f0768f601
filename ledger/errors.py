"""Why the ledger refuses an instruction: a closed list of named reasons under one exception.

Each reason carries a message a person can act on and whether a retry could ever succeed
(a retry can succeed once the state changes: funds arrive, a freeze is lifted; it cannot for a
bad signature or an expired deadline). A refused instruction changes nothing and is not journaled.
"""

from __future__ import annotations

import enum


class ReasonCode(enum.Enum):
    """A closed list of named reasons: the core's (`Reason`) or a module's own (ledger.modules).
    Each member is (message a person can act on, whether a retry could ever succeed); its name
    is its identity on the wire, unique across every module of a ledger."""

    def __init__(self, message: str, retryable: bool) -> None:
        self.message = message
        self.retryable = retryable


class Reason(ReasonCode):
    """The core's reasons."""

    # shape of the instruction (checked without the store)
    malformed_instruction = ("the instruction is not well formed", False)
    unknown_operation = ("the ledger has no such operation", False)
    quantity_not_positive = ("quantities must be positive whole tonnes", False)
    quantity_out_of_range = ("the quantity exceeds the largest accepted (2^53-1 t)", False)
    serial_range_mismatch = ("the quantity does not match the length of the serial range", False)
    same_account = ("the source and destination accounts are the same", False)
    invalid_rules = ("the scheme rules document is not valid", False)
    invalid_text = ("a text field holds a lone surrogate, a control or bidi-override character, "
                    "or text not in Unicode NFC; normalize it (NFC) and remove those characters",
                    False)
    invalid_date = ("a date is not a real calendar date YYYY-MM-DD", False)
    # signatures and authority
    deadline_expired = ("the instruction's deadline has passed; sign a new one", False)
    bad_signature = ("a signature does not match the instruction and its claimed signer", False)
    duplicate_signer = ("the same key signed the instruction twice", False)
    unregistered_key = ("a signing key is not registered to any participant", True)
    key_revoked = ("a signing key has been revoked", False)
    stale_nonce = ("a signer's nonce is not greater than its last used nonce", False)
    nonce_out_of_range = ("a signer's nonce is more than 2^42 beyond its last used nonce; "
                          "count nonces up from the last one", False)
    instruction_id_reused = ("this instruction id was used for a different instruction", False)
    role_not_permitted = ("the signer's role may not perform this operation", False)
    not_account_holder = ("the instruction is not signed by the account's holder", False)
    missing_signature = ("a party whose consent this operation needs has not signed", False)
    # participants, keys, accounts
    ledger_not_initialized = ("the ledger has no genesis entry yet", True)
    ledger_already_initialized = ("the ledger already has a genesis entry", False)
    unknown_participant = ("no participant has this id", True)
    participant_exists = ("a participant with this id already exists", False)
    key_exists = ("this signing key is already registered", False)
    unknown_key = ("this signing key is not registered to the participant", False)
    last_registry_key = ("the registry's last active key cannot be revoked; register another "
                         "key first, or rotate this one with rotate_key", False)
    unknown_account = ("no account has this id", True)
    account_exists = ("an account with this id already exists", False)
    account_type_not_for_role = ("this participant's role may not own this type of account", False)
    account_frozen = ("the account is frozen", True)
    account_not_frozen = ("the account is not frozen", False)
    account_already_frozen = ("the account is already frozen", False)
    # schemes and batches
    unknown_scheme = ("the ledger has no rules for this scheme", True)
    kind_not_in_scheme = ("this scheme does not issue units of this kind", False)
    account_type_cannot_hold = ("the scheme's rules bar this account type from this kind", False)
    individual_cannot_hold_allowances = (
        "individual accounts hold credits, never allowances", False)
    unknown_batch = ("no batch has this id", True)
    batch_exists = ("a batch with this id already exists", False)
    issued_by_another_operation = ("this scheme's units are issued by another operation, with "
                                   "what stands behind them (its rules' issue_operation)",
                                   False)
    invalid_batch = ("the batch description is incomplete or inconsistent", False)
    # units
    serial_range_outside_batch = ("the serial range lies outside 1..quantity of the batch", False)
    insufficient_tradable = ("the account does not hold enough tradable units of this batch", True)
    serials_not_held = ("some serials in the range are not held by this account", True)
    serials_not_tradable = (
        "some serials in the range are retired, surrendered or cancelled", False)
    lot_under_lien = ("some units are under a lien; its holder must release it first", True)
    # liens (the primitive the pledge and repo lifecycles build on)
    unknown_lien = ("no lien has this id", False)
    lien_exists = ("a lien with this id already exists", False)
    not_lien_holder = ("only the lien's holder may release or enforce it", False)
    insufficient_under_lien = ("the lien covers fewer units than the quantity asked for", False)
class Rejected(Exception):
    """The ledger refused an instruction. `reason` is the named cause, `detail` the specifics."""

    def __init__(self, reason: ReasonCode, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.name}: {reason.message}" + (f" ({detail})" if detail else ""))

    def __reduce__(self) -> tuple[type[Rejected], tuple[ReasonCode, str]]:
        # keeps the reason across processes (pickle would otherwise pass only the message)
        return (Rejected, (self.reason, self.detail))

    @property
    def retryable(self) -> bool:
        return self.reason.retryable

    def as_dict(self) -> dict[str, object]:
        return {
            "reason": self.reason.name,
            "message": self.reason.message,
            "detail": self.detail,
            "retryable": self.retryable,
        }


def require(condition: bool, reason: ReasonCode, detail: str = "") -> None:
    """One line of a validation checklist: refuse with `reason` unless `condition` holds."""
    if not condition:
        raise Rejected(reason, detail)
