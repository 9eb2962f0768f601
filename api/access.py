"""Who may read what, and how a participant proves who it is to the service.

**Sessions.** A participant asks for a challenge (valid for `CHALLENGE_TTL_S`), signs it with
one of its registered keys as the EIP-712 struct `Login(bytes32 challenge, string participant,
uint64 expires)` under the ledger's own domain (so a login signature can never pass for an
instruction, nor for another ledger's login), and gets a token: the participant, its role, the
key and the expiry, MACed with the service's secret (HMAC-SHA256). A token is refused once it
expires, once its key is revoked, and by any service holding another secret.

A challenge is 16 random bytes and a MAC over them and its expiry, so issuing one stores
nothing and any worker process holding the same secret can check it. It is redeemed once: the
store records it (`Store.redeem_login_challenge`), so a second redemption fails at every
worker serving the same ledger, and it is refused after it expires.

**Reads** (`ReadPolicy`). The registry and auditors read everything. A participant reads its
own accounts, holdings and lots, and those of an account on which it holds an active pledge
(pledgee): a bank sees the collateral it lends against, which stays in the pledgor's account.
A repo gives no such sight: its units move into the buyer's own account, and each party reads
the repo itself (its terms and the lots under its lien), not the other's whole account. It
reads the pledges and repos it is a party to. Checkpoints, participants, batches,
keys and nonces, the journal head and proofs of public facts (checkpoint consistency) are
public. For a participant, an account or agreement that does not exist is refused like one it
may not read, so that a refusal does not tell whether it exists.

**Compliance** (compliance/queries.py). An emitter reads its own status, risk warning and
credit record; a bank reads the risk warnings of the emitters on whose accounts it holds an
active pledge; the registry and auditors read all. The status and risk lists are filtered,
never refused; a credit record is its entity's. A disclosure is public: it is published.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from custody.eip712 import Domain, StructType, signing_digest
from custody.signatures import SignatureError, recover_signer
from ledger.model import Role
from pledge.model import PledgeStatus

if TYPE_CHECKING:
    from api.service import LedgerService

CHALLENGE_TTL_S = 120
TOKEN_TTL_S = 15 * 60
MIN_SECRET_BYTES = 32

LOGIN = StructType("Login", (("challenge", "bytes32"), ("participant", "string"),
                             ("expires", "uint64")))

Clock = Callable[[], float]  # seconds since 1970 (time.time)


class Denial(Enum):
    """Why a read or a login is refused: (HTTP status, what is wrong). 401: the request does
    not prove who sends it; 403: it does, and that participant may not read this."""

    token_required = (401, "this read needs a token")
    token_invalid = (401, "the token is not one this service issued")
    token_expired = (401, "the token has expired")
    key_inactive = (401, "the key is not an active key of the participant")
    challenge_invalid = (401, "the challenge is unknown, used or expired")
    signature_invalid = (401, "the signature does not recover")
    account_forbidden = (403, "the participant may not read this account")
    agreement_forbidden = (403, "the participant is not a party to this agreement")
    registry_or_auditor_only = (403, "only the registry and auditors may read this")
    record_forbidden = (403, "only the participant concerned, the registry and auditors may "
                             "read this (a credit record, monthly submissions, an obligation)")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def title(self) -> str:
        return self.value[1]


class AccessDenied(Exception):
    """A refused login or read: `denial` names why (its status: 401 or 403), `detail` says
    what is wrong and what to do."""

    def __init__(self, denial: Denial, detail: str) -> None:
        super().__init__(detail)
        self.denial = denial
        self.detail = detail

    @property
    def status(self) -> int:
        return self.denial.status


@dataclass(frozen=True)
class Viewer:
    """Who is reading: a participant and its role, proven by a token."""

    participant: str
    role: Role
    key: str
    expires: int

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.registry, Role.auditor)


def login_digest(domain: Domain, challenge: bytes, participant: str, expires: int) -> bytes:
    """What a participant's key signs to log in (the client computes the same digest)."""
    return signing_digest(domain, LOGIN, {"challenge": challenge, "participant": participant,
                                          "expires": expires})


KeyLookup = Callable[[str], tuple[str, Role] | None]
"""An address -> (its participant, that participant's role) while the key is registered and
not revoked; None otherwise."""
Redeem = Callable[[bytes, int, int], bool]
"""(challenge, its expiry, now) -> True the first time a challenge is redeemed, False after:
shared by every process that holds the same secret (the store's `redeem_login_challenge`)."""

_LOGIN_AGAIN = "log in again (POST /v1/auth/challenge, sign it, POST /v1/auth/token)"


class Sessions:
    """Challenges and tokens of a service. Processes that share `secret` and `redeem` accept
    each other's challenges and tokens; without a secret a random one is made, and tokens die
    with the process."""

    def __init__(self, domain: Domain | Callable[[], Domain], active_key: KeyLookup,
                 redeem: Redeem, *, secret: bytes | None = None,
                 clock: Clock = time.time) -> None:
        """`domain`, or how to read it when first needed (the ledger's genesis: a service
        starts while its store is out of reach)."""
        if secret is not None and len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"a session secret is at least {MIN_SECRET_BYTES} bytes")
        self._domain = domain
        self._active_key = active_key
        self._redeem = redeem
        root = secret or secrets.token_bytes(MIN_SECRET_BYTES)
        # one key per use, so that no challenge's MAC can ever pass for a token's
        self._token_key = hmac.new(root, b"carbonledger token", hashlib.sha256).digest()
        self._challenge_key = hmac.new(root, b"carbonledger login challenge",
                                       hashlib.sha256).digest()
        self._clock = clock

    @property
    def domain(self) -> Domain:
        if not isinstance(self._domain, Domain):
            self._domain = self._domain()
        return self._domain

    def challenge(self) -> tuple[bytes, int]:
        """A fresh challenge and the time it expires (unix seconds)."""
        expires = int(self._clock()) + CHALLENGE_TTL_S
        nonce = secrets.token_bytes(16)
        return nonce + self._challenge_mac(nonce, expires), expires

    def token(self, challenge: bytes, participant: str, expires: int,
              signature: bytes) -> tuple[str, Viewer]:
        """A token for `participant`, whose key signed `challenge` (once, before it expires)."""
        now = int(self._clock())
        if (len(challenge) != 32 or not 0 <= expires < 2**64
                or not hmac.compare_digest(challenge[16:],
                                           self._challenge_mac(challenge[:16], expires))):
            raise AccessDenied(Denial.challenge_invalid, "this service did not issue this "
                               "challenge with this expiry: log in again with a new one "
                               "(POST /v1/auth/challenge)")
        if expires < now:
            raise AccessDenied(Denial.challenge_invalid, "the challenge expired: log in again "
                               "with a new one (POST /v1/auth/challenge), signed within "
                               f"{CHALLENGE_TTL_S} s")
        try:
            signer = recover_signer(login_digest(self.domain, challenge, participant, expires),
                                    signature)
        except SignatureError as exc:
            raise AccessDenied(Denial.signature_invalid, f"the signature does not recover "
                               f"({exc}): log in by signing the Login struct under the "
                               "ledger's domain"
                               ) from exc
        holder = self._active_key(signer)
        if holder is None or holder[0] != participant:
            raise AccessDenied(Denial.key_inactive, f"{signer} is not an active key of "
                               f"{participant}: log in with one of its registered keys")
        if not self._redeem(challenge, expires, now):
            raise AccessDenied(Denial.challenge_invalid, "the challenge was used already: "
                               "log in again with a new one (POST /v1/auth/challenge)")
        viewer = Viewer(participant, holder[1], signer, now + TOKEN_TTL_S)
        return self._seal(viewer), viewer

    def viewer(self, token: str) -> Viewer:
        """The participant a token was issued to, while it is valid and its key active."""
        try:
            body_text, mac_text = token.split(".")
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError:
            raise AccessDenied(Denial.token_invalid, f"the token is not one: {_LOGIN_AGAIN}"
                               ) from None
        if not hmac.compare_digest(mac, self._token_mac(body)):
            raise AccessDenied(Denial.token_invalid, "the token was not issued by this "
                               f"service, or was changed: {_LOGIN_AGAIN}")
        fields = json.loads(body)  # ours: the MAC holds
        viewer = Viewer(fields["p"], Role(fields["r"]), fields["k"], fields["e"])
        if viewer.expires < self._clock():
            raise AccessDenied(Denial.token_expired, f"the token has expired: {_LOGIN_AGAIN}")
        holder = self._active_key(viewer.key)
        if holder is None or holder[0] != viewer.participant:
            raise AccessDenied(Denial.key_inactive, f"the key {viewer.key} the token was "
                               "issued for is no longer active: log in with an active key")
        return viewer

    def _seal(self, viewer: Viewer) -> str:
        body = json.dumps({"p": viewer.participant, "r": viewer.role.value, "k": viewer.key,
                           "e": viewer.expires}, sort_keys=True,
                          separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._token_mac(body))}"

    def _token_mac(self, body: bytes) -> bytes:
        return hmac.new(self._token_key, body, hashlib.sha256).digest()

    def _challenge_mac(self, nonce: bytes, expires: int) -> bytes:
        if not 0 <= expires < 2**64:
            return b""  # no challenge has it: compare_digest refuses
        return hmac.new(self._challenge_key, nonce + expires.to_bytes(8, "big"),
                        hashlib.sha256).digest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or len(text) > 4096:
        raise ValueError("not a token part")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


CounterpartiesOf = Callable[[str], set[str]]
"""An account -> the participants holding an active pledge on it."""
HolderOf = Callable[[str], str | None]
"""An account -> the participant that holds it (None: no such account)."""
ReadableBy = Callable[[str], set[str]]
"""A participant -> the accounts it may read: its own and those under its agreements."""


@dataclass(frozen=True)
class ReadPolicy:
    """Which accounts' holdings, lots and records, and which agreements, a viewer may read."""

    holder_of: HolderOf
    counterparties_of: CounterpartiesOf
    readable_by: ReadableBy

    def may_read_account(self, viewer: Viewer, account: str) -> bool:
        if viewer.sees_everything:
            return True
        holder = self.holder_of(account)
        return holder is not None and (holder == viewer.participant
                                       or viewer.participant in self.counterparties_of(account))

    def readable_accounts(self, viewer: Viewer) -> set[str] | None:
        """The accounts `viewer` may read; None: every account."""
        return None if viewer.sees_everything else self.readable_by(viewer.participant)

    def require_viewer(self, viewer: Viewer | None, what: str) -> Viewer:
        if viewer is None:
            raise AccessDenied(Denial.token_required, f"reading {what} needs a token: log in "
                               "(POST /v1/auth/challenge, then /v1/auth/token) and send "
                               "`Authorization: Bearer TOKEN`")
        return viewer

    def require_account(self, viewer: Viewer | None, account: str) -> Viewer:
        found = self.require_viewer(viewer, f"account {account}")
        if not self.may_read_account(found, account):
            raise AccessDenied(Denial.account_forbidden, f"{found.participant} may not read "
                               f"account {account} (or there is none): only its holder, a "
                               "bank with an active pledge on it, the registry and auditors "
                               "may")
        return found

    def may_read_agreement(self, viewer: Viewer, parties: Iterable[str]) -> bool:
        return viewer.sees_everything or viewer.participant in set(parties)

    def require_agreement(self, viewer: Viewer | None, what: str,
                          parties: Iterable[str] | None) -> Viewer:
        """`parties`: the agreement's (None: there is no such agreement)."""
        found = self.require_viewer(viewer, what)
        if not found.sees_everything and (parties is None
                                          or not self.may_read_agreement(found, parties)):
            raise AccessDenied(Denial.agreement_forbidden, f"{found.participant} may not read "
                               f"{what} (or there is none): only its parties, the registry "
                               "and auditors may")
        return found

    def may_read_compliance(self, viewer: Viewer, emitter: str,
                            banks: Iterable[str] = ()) -> bool:
        """An emitter's status or risk warning: its own; with `banks` (those holding an active
        pledge on its accounts, for a risk warning), theirs too."""
        return viewer.sees_everything or viewer.participant == emitter \
            or viewer.participant in set(banks)

    def require_credit_record(self, viewer: Viewer | None, entity: str) -> Viewer:
        return self.require_own(viewer, entity, f"the credit record of {entity}")

    def require_own(self, viewer: Viewer | None, entity: str, what: str) -> Viewer:
        """What concerns one participant (its credit record, its monthly submissions): that
        participant's, the registry's and auditors'."""
        found = self.require_viewer(viewer, what)
        if not (found.sees_everything or found.participant == entity):
            raise AccessDenied(Denial.record_forbidden, f"{found.participant} may not read "
                               f"{what}: only {entity} itself, the registry and auditors may")
        return found

    def require_everything(self, viewer: Viewer | None, what: str) -> Viewer:
        """Reads across every account (the whole journal, any entry): the registry's and
        auditors'."""
        found = self.require_viewer(viewer, what)
        if not found.sees_everything:
            raise AccessDenied(Denial.registry_or_auditor_only, f"only the registry and "
                               f"auditors may read {what}; {found.participant} reads its "
                               "own accounts' holdings, lots and proofs")
        return found


# --- built from the application service -------------------------------------------------------

def sessions_for(service: LedgerService, *, secret: bytes | None = None,
                 clock: Clock = time.time) -> Sessions:
    """The sessions of a service over `service`'s ledger: its domain, its registered keys,
    its store keeping redeemed challenges."""
    def active_key(address: str) -> tuple[str, Role] | None:
        found = service.signer(address)
        if found is None or found[0].revoked:
            return None
        return found[1].id, found[1].role

    return Sessions(lambda: service.ledger.domain, active_key,
                    service.store.redeem_login_challenge,
                    secret=secret, clock=clock)


def policy_for(service: LedgerService) -> ReadPolicy:
    """The read policy over `service`'s accounts and its open agreements."""
    def holder_of(account: str) -> str | None:
        found = service.account(account)
        return found.participant if found else None

    def counterparties_of(account: str) -> set[str]:
        return {p.pledgee for p in service.pledges(account=account)
                if p.status == PledgeStatus.active}

    def readable_by(participant: str) -> set[str]:
        own = {a.id for a in service.accounts(participant)}
        pledged = {p.account for p in service.pledges()
                   if p.status == PledgeStatus.active and p.pledgee == participant}
        return own | pledged

    return ReadPolicy(holder_of, counterparties_of, readable_by)
