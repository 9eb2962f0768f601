"""Who may read what, and how a participant proves who it is to the service.

**Sessions.** A participant asks for a challenge (32 random bytes, single use, valid for
`CHALLENGE_TTL_S`), signs it with one of its registered keys as the EIP-712 struct
`Login(bytes32 challenge, string participant, uint64 expires)` under the ledger's own domain
(so a login signature can never pass for an instruction, nor for another ledger's login), and
gets a token: the participant, its role, the key and the expiry, MACed with the service's
secret (HMAC-SHA256). A token is refused once it expires, once its key is revoked, and by
any service holding another secret. A challenge is refused the second time, and after it
expires.

**Reads** (`ReadPolicy`). The registry and auditors read everything. A participant reads its
own participant record, keys, accounts, holdings and lots, and those of an account on which
it holds a pledge (pledgee) or is party to a repo (seller or buyer): a bank sees the
collateral it lends against. Checkpoints, anchors, the journal head and proofs of public
facts (checkpoint consistency) are public.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from custody.eip712 import Domain, StructType, signing_digest
from custody.signatures import SignatureError, recover_signer
from ledger.model import Role
from pledge.model import PledgeStatus, RepoStatus

if TYPE_CHECKING:
    from api.service import LedgerService

CHALLENGE_TTL_S = 120
TOKEN_TTL_S = 15 * 60
MAX_OPEN_CHALLENGES = 10_000  # beyond it the oldest are forgotten: challenges cost nothing

LOGIN = StructType("Login", (("challenge", "bytes32"), ("participant", "string"),
                             ("expires", "uint64")))

Clock = Callable[[], float]  # seconds since 1970 (time.time)


class AccessDenied(Exception):
    """The request is not authenticated (`status` 401) or not allowed (403); `detail` says
    what is wrong and what to do."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


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


class Sessions:
    """Challenges and tokens of one service (its secret is its own: tokens do not outlive a
    restart unless the secret is kept)."""

    def __init__(self, domain: Domain, active_key: KeyLookup, *, secret: bytes | None = None,
                 clock: Clock = time.time) -> None:
        self.domain = domain
        self._active_key = active_key
        self._secret = secret or secrets.token_bytes(32)
        self._clock = clock
        self._challenges: dict[bytes, int] = {}  # challenge -> expiry (unix seconds)
        self._lock = threading.Lock()

    def challenge(self) -> tuple[bytes, int]:
        """A fresh challenge and the time it expires."""
        now = int(self._clock())
        challenge, expires = secrets.token_bytes(32), now + CHALLENGE_TTL_S
        with self._lock:
            self._forget_expired(now)
            if len(self._challenges) >= MAX_OPEN_CHALLENGES:
                del self._challenges[next(iter(self._challenges))]
            self._challenges[challenge] = expires
        return challenge, expires

    def token(self, challenge: bytes, participant: str, expires: int,
              signature: bytes) -> tuple[str, Viewer]:
        """A token for `participant`, whose key signed `challenge` (once, before it expires)."""
        now = int(self._clock())
        with self._lock:
            issued_expiry = self._challenges.pop(challenge, None)  # single use, whatever follows
        if issued_expiry is None or issued_expiry != expires or expires < now:
            raise AccessDenied(401, "the challenge is unknown, used or expired: ask for a new "
                                    "one (POST /v1/auth/challenge) and sign it")
        try:
            signer = recover_signer(login_digest(self.domain, challenge, participant, expires),
                                    signature)
        except SignatureError as exc:
            raise AccessDenied(401, f"the signature does not recover: {exc}") from exc
        holder = self._active_key(signer)
        if holder is None or holder[0] != participant:
            raise AccessDenied(401, f"{signer} is not an active key of {participant}: sign "
                                    "with one of its registered keys")
        viewer = Viewer(participant, holder[1], signer, now + TOKEN_TTL_S)
        return self._seal(viewer), viewer

    def viewer(self, token: str) -> Viewer:
        """The participant a token was issued to, while it is valid and its key active."""
        try:
            body_text, mac_text = token.split(".")
            body = _unb64(body_text)
            mac = _unb64(mac_text)
        except ValueError:
            raise AccessDenied(401, "the token is not one: log in again") from None
        if not hmac.compare_digest(mac, self._mac(body)):
            raise AccessDenied(401, "the token was not issued by this service: log in again")
        fields = json.loads(body)
        viewer = Viewer(fields["p"], Role(fields["r"]), fields["k"], fields["e"])
        if viewer.expires < self._clock():
            raise AccessDenied(401, "the token has expired: log in again")
        holder = self._active_key(viewer.key)
        if holder is None or holder[0] != viewer.participant:
            raise AccessDenied(401, f"the key {viewer.key} the token was issued for is no "
                                    "longer active: log in with an active key")
        return viewer

    def _seal(self, viewer: Viewer) -> str:
        body = json.dumps({"p": viewer.participant, "r": viewer.role.value, "k": viewer.key,
                           "e": viewer.expires}, sort_keys=True,
                          separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()

    def _forget_expired(self, now: int) -> None:
        for challenge in [c for c, expiry in self._challenges.items() if expiry < now]:
            del self._challenges[challenge]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or len(text) > 4096:
        raise ValueError("not a token part")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


CounterpartiesOf = Callable[[str], set[str]]
"""An account -> the participants holding a pledge on it or party to a repo over it."""
HolderOf = Callable[[str], str | None]
"""An account -> the participant that holds it (None: no such account)."""


@dataclass(frozen=True)
class ReadPolicy:
    """Which accounts' holdings, lots and records a viewer may read."""

    holder_of: HolderOf
    counterparties_of: CounterpartiesOf

    def may_read_account(self, viewer: Viewer, account: str) -> bool:
        if viewer.sees_everything:
            return True
        holder = self.holder_of(account)
        return holder is not None and (holder == viewer.participant
                                       or viewer.participant in self.counterparties_of(account))

    def require_account(self, viewer: Viewer | None, account: str) -> None:
        if viewer is None:
            raise AccessDenied(401, "reading an account's holdings needs a token: log in "
                                    "(POST /v1/auth/challenge, then /v1/auth/token)")
        if not self.may_read_account(viewer, account):
            raise AccessDenied(403, f"{viewer.participant} may not read account {account}: "
                                    "only its holder, a bank with a pledge or repo on it, the "
                                    "registry and auditors may")

    def require_everything(self, viewer: Viewer | None, what: str) -> None:
        """Reads across every account (all holdings, the whole journal): the registry's and
        auditors'."""
        if viewer is None:
            raise AccessDenied(401, f"reading {what} needs a token: log in")
        if not viewer.sees_everything:
            raise AccessDenied(403, f"only the registry and auditors may read {what}; name "
                                    "an account you may read")


# --- built from the application service -------------------------------------------------------

def sessions_for(service: LedgerService, *, secret: bytes | None = None,
                 clock: Clock = time.time) -> Sessions:
    """The sessions of a service over `service`'s ledger: its domain, its registered keys."""
    def active_key(address: str) -> tuple[str, Role] | None:
        found = service.signer(address)
        if found is None or found[0].revoked:
            return None
        return found[1].id, found[1].role

    return Sessions(service.ledger.domain, active_key, secret=secret, clock=clock)


def policy_for(service: LedgerService) -> ReadPolicy:
    """The read policy over `service`'s accounts and its open agreements."""
    def holder_of(account: str) -> str | None:
        found = service.account(account)
        return found.participant if found else None

    def counterparties_of(account: str) -> set[str]:
        pledgees = {p.pledgee for p in service.pledges(account=account)
                    if p.status == PledgeStatus.active}
        parties = {party for r in service.repos(account=account)
                   if r.status == RepoStatus.open for party in (r.seller, r.buyer)}
        return pledgees | parties

    return ReadPolicy(holder_of, counterparties_of)
