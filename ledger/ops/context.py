"""What an operation handler is given: the state to read, who signed, where and when it lands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ledger.effects import LotIds
from ledger.errors import Reason, Rejected, require
from ledger.model import Account, Batch, Participant, Role
from ledger.schemes import SchemeRules
from ledger.state import WorkingSet


@dataclass(frozen=True)
class Signer:
    address: str
    participant: Participant


@dataclass
class Context:
    op: str
    roles: frozenset[str]  # the roles whose signature may perform `op` (its module says)
    ws: WorkingSet
    seq: int
    now: datetime
    signers: tuple[Signer, ...]
    lot_ids: LotIds
    # every module's check of its section of a scheme's rules (OperationSet.check_rules)
    check_rules: Callable[[SchemeRules], None]

    # --- authority ------------------------------------------------------------------------

    def require_role(self, role: Role) -> Participant:
        """A signer of `role` that may perform this operation."""
        for signer in self.signers:
            if signer.participant.role == role and role.value in self.roles:
                return signer.participant
        raise Rejected(Reason.role_not_permitted, f"{self.op} needs a {role.value} signature")

    def require_registry(self) -> Participant:
        return self.require_role(Role.registry)

    def require_holder(self, account: Account) -> Participant:
        """The account's holder signed, and its role may perform this operation."""
        for signer in self.signers:
            if signer.participant.id == account.participant:
                require(signer.participant.role.value in self.roles,
                        Reason.role_not_permitted,
                        f"a {signer.participant.role.value} may not {self.op}")
                return signer.participant
        raise Rejected(Reason.not_account_holder,
                       f"account {account.id} is held by {account.participant}")

    def is_signed_by(self, participant_id: str) -> bool:
        return any(s.participant.id == participant_id for s in self.signers)

    # --- lookups that refuse with a named reason ------------------------------------------

    def account(self, account_id: str) -> Account:
        account = self.ws.accounts.get(account_id)
        if account is None:
            raise Rejected(Reason.unknown_account, account_id)
        return account

    def unfrozen_account(self, account_id: str) -> Account:
        """The account, refused if it is frozen (a frozen one neither sends nor receives)."""
        account = self.account(account_id)
        require(not account.frozen, Reason.account_frozen,
                f"{account_id}: {account.freeze_reason}")
        return account

    def participant(self, participant_id: str) -> Participant:
        participant = self.ws.participants.get(participant_id)
        if participant is None:
            raise Rejected(Reason.unknown_participant, participant_id)
        return participant

    def batch(self, batch_id: str) -> Batch:
        batch = self.ws.batches.get(batch_id)
        if batch is None:
            raise Rejected(Reason.unknown_batch, batch_id)
        return batch

    def rules(self, scheme: str) -> SchemeRules:
        rules = self.ws.rules(scheme)
        if rules is None:
            raise Rejected(Reason.unknown_scheme, scheme)
        return rules
