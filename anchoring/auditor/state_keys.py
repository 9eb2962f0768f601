"""Keys of the state commitment's leaves: SHA-256 of a typed id.

Pure (hashlib only): the offline verifier derives a key from the id a bundle names and checks
that the proof is about that key, so a proof for one lot cannot be passed off as another's.

    lot        SHA-256("lot" 0x00 lot id)
    holding    SHA-256("holding" 0x00 account 0x00 batch)
    account    SHA-256("account" 0x00 account id)

Ids are ASCII without NUL (ledger.instructions.ID_PATTERN; lot ids are "seq.k"), so the 0x00
separators make every typed id one unambiguous byte string. A module's own leaf kind
(ledger.modules.LeafKind) derives its keys the same way, `typed_key(its kind's name, *ids)`.
"""

from __future__ import annotations

from hashlib import sha256

LOT = "lot"
HOLDING = "holding"
ACCOUNT = "account"


def lot_key(lot_id: str) -> bytes:
    return typed_key(LOT, lot_id)


def holding_key(account: str, batch: str) -> bytes:
    return typed_key(HOLDING, account, batch)


def account_key(account_id: str) -> bytes:
    return typed_key(ACCOUNT, account_id)


def typed_key(kind: str, *ids: str) -> bytes:
    parts = [kind.encode()]
    for item in ids:
        encoded = item.encode("utf-8")
        if b"\x00" in encoded:
            raise ValueError(f"an id may not contain NUL: {item!r}")
        parts.append(encoded)
    return sha256(b"\x00".join(parts)).digest()
