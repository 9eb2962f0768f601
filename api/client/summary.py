"""What a signer agrees to: a signed instruction in words, checked against the ledger.

`carbonledger cosign` prints it before a second party adds its approval: the operation in one
sentence, every field (amounts of money in their currency as well as in minor units, an
account with its holder), how long it stays valid, and each approval so far with whether its
signature holds, whose key it is and whether its nonce can still be used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from api.client.client import Client
from api.client.errors import ServerFailed
from custody.signatures import SignatureError, recover_address_bytes
from ledger.instructions import SignedInstruction

# ISO 4217 minor-unit exponents that are not 2 (the rest, CNY, USD, EUR..., have cents)
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3,
              "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3}


def minor_exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (CNY: 2, fen)."""
    return _EXPONENTS.get(currency, 2)


def money(minor_units: int, currency: str) -> str:
    """12,000,000.00 CNY for 1,200,000,000 fen."""
    exponent = minor_exponent(currency)
    major = Decimal(minor_units).scaleb(-exponent)
    return f"{major:,.{exponent}f} {currency}"


def _units(f: Mapping[str, Any]) -> str:
    serials = "the oldest tradable serials" if not f.get("serialFirst") else \
        f"serials {f['serialFirst']}..{f['serialLast']}"
    return f"{f['quantity']:,} t of batch {f['batch']} ({serials})"


def _amount(f: Mapping[str, Any], name: str) -> str:
    return money(f[name], f["currency"])


SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "register_participant": lambda f: f"admit participant {f['participant']} "
                                      f"({f['name']}) as a {f['role']}",
    "register_key": lambda f: f"register key {f['key']} for participant {f['participant']}",
    "revoke_key": lambda f: f"revoke key {f['key']} of participant {f['participant']}",
    "rotate_key": lambda f: f"replace {f['participant']}'s key {f['oldKey']} by {f['newKey']}",
    "open_account": lambda f: f"open {f['accountType']} account {f['account']} for "
                              f"{f['participant']}",
    "freeze_account": lambda f: f"freeze account {f['account']} ({f['reason']})",
    "unfreeze_account": lambda f: f"unfreeze account {f['account']} ({f['reason']})",
    "issue_batch": lambda f: f"issue batch {f['batch']}: {f['quantity']:,} t of {f['scheme']} "
                             f"{f['kind']}s of vintage {f['vintage']} ({f['issuance']}) into "
                             f"account {f['account']}",
    "transfer": lambda f: f"move {_units(f)} from account {f['fromAccount']} to account "
                          f"{f['toAccount']}",
    "retire": lambda f: f"retire {_units(f)} of account {f['account']} for "
                        f"{f['beneficiary'] or 'its holder'} ({f['reason']}); for ever",
    "cancel": lambda f: f"cancel {_units(f)} of account {f['account']} ({f['reason']}); "
                        "for ever",
    "pledge_register": lambda f: f"pledge {f['pledge']}: account {f['account']} puts "
                                 f"{_units(f)} under a lien for bank {f['pledgee']}, securing "
                                 f"loan {f['loanReference']} of {_amount(f, 'principal')}, "
                                 f"from {f['startDate']} to maturity on {f['maturityDate']}",
    "pledge_release": lambda f: f"release {f['quantity']:,} t from pledge {f['pledge']}: "
                                "they become its pledgor's to trade again",
    "pledge_enforce": lambda f: f"enforce pledge {f['pledge']}: {f['quantity']:,} t under its "
                                f"lien go to account {f['toAccount']}",
    "pledge_amend": lambda f: f"amend pledge {f['pledge']}: loan {f['loanReference']} of "
                              f"{_amount(f, 'principal')}, maturing on {f['maturityDate']}",
    "repo_open": lambda f: f"repo {f['repo']}: account {f['sellerAccount']} sells "
                           f"{f['quantity']:,} t of batch {f['batch']} to account "
                           f"{f['buyerAccount']} for {_amount(f, 'purchasePrice')} and buys "
                           f"them back for {_amount(f, 'repurchasePrice')} by "
                           f"{f['repurchaseDate']}"
                           + ("; the buyer may use them meanwhile" if f["freeUse"] else
                              "; they stay under a lien meanwhile"),
    "repo_close": lambda f: f"close repo {f['repo']}: {f['quantity']:,} t go back to the seller",
    "repo_default": lambda f: f"record that the {f['defaulter']} of repo {f['repo']} "
                              "defaulted",
}


@dataclass(frozen=True)
class ApprovalCheck:
    """One approval of an instruction, checked against the ledger."""

    signer: str
    nonce: int
    participant: str | None  # None: not a registered key
    signature_holds: bool
    last_nonce: int  # the key's last used nonce in the ledger
    revoked: bool = False

    @property
    def usable(self) -> bool:
        """The ledger would accept this approval now (as far as it is the approval's)."""
        return self.signature_holds and self.participant is not None and \
            not self.revoked and self.nonce > self.last_nonce

    def words(self) -> str:
        who = f"participant {self.participant}" if self.participant else \
            "NOT a registered key"
        if self.revoked:
            who += "'s REVOKED key"
        signature = "signature holds" if self.signature_holds else \
            "signature does NOT hold: the instruction was changed after it was signed"
        nonce = "" if self.nonce > self.last_nonce else \
            f"; STALE: the key has signed nonce {self.last_nonce} since, so the ledger " \
            "will refuse it (stale_nonce)"
        return f"{self.signer} (nonce {self.nonce}) — {who}, {signature}{nonce}"


@dataclass(frozen=True)
class Summary:
    """A signed instruction in words, with its approvals checked."""

    lines: tuple[str, ...]
    approvals: tuple[ApprovalCheck, ...]
    expired: bool

    @property
    def problems(self) -> list[str]:
        """Why the ledger would refuse it whoever signs next, in words (none: it may pass)."""
        found = ["its deadline has passed"] if self.expired else []
        found += [f"the approval of {a.signer}: {a.words()}" for a in self.approvals
                  if not a.usable]
        return found

    def text(self) -> str:
        return "\n".join(self.lines)


def summarize(client: Client, signed: SignedInstruction, *, now: float | None = None) -> Summary:
    """`signed` in words: what it does, its fields, its validity and its approvals so far."""
    ins = signed.instruction
    now = time.time() if now is None else now
    fields = dict(ins.fields)
    holders = _holders(client)
    deadline = datetime.fromtimestamp(ins.deadline, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    left_s = ins.deadline - now
    validity = f"valid until {deadline} ({_duration(left_s)} from now)" if left_s >= 0 else \
        f"EXPIRED at {deadline}: the ledger refuses it (deadline_expired)"
    sentence = SENTENCES.get(ins.op)
    what = sentence(fields) if sentence else f"{ins.op}, with the fields below"
    lines = [f"{ins.op} {'0x' + ins.id.hex()}", f"  {validity}", f"  What it does: {what}.",
             "  Fields:"]
    width = max((len(name) for name in fields), default=0)
    for spec in ins.schema.fields:
        value = fields[spec.name]
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        else:
            shown = f"{value:,}" if isinstance(value, int) else str(value)
        if spec.check == "amount":
            shown += f" minor units = {money(value, fields['currency'])}"
        elif spec.check == "quantity":
            shown += " t"
        elif spec.check == "id" and value in holders:
            shown += f"  (account of {holders[value]})"
        lines.append(f"    {spec.name:<{width}}  {shown}")
    checks = tuple(_check(client, signed, a.signer, a.nonce, a.signature)
                   for a in signed.approvals)
    lines.append("  Signed so far by:")
    lines += [f"    {check.words()}" for check in checks]
    return Summary(tuple(lines), checks, left_s < 0)


def _holders(client: Client) -> dict[str, str]:
    """Who holds each account the client may read: over HTTP without a login, none (the
    summary then names no account's holder)."""
    try:
        return {a.id: a.participant for a in client.accounts()}
    except ServerFailed as failed:
        if failed.status == 401:
            return {}
        raise


def _check(client: Client, signed: SignedInstruction, signer: str, nonce: int,
           signature: bytes) -> ApprovalCheck:
    digest = signed.instruction.digest(client.domain, signer, nonce)
    try:
        holds = recover_address_bytes(digest, signature) == bytes.fromhex(signer[2:])
    except SignatureError:
        holds = False
    key = client.key(signer)
    return ApprovalCheck(signer, nonce, key.participant if key else None, holds,
                         key.last_nonce if key else 0, bool(key and key.revoked))


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} days"
