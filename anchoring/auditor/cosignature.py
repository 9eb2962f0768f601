"""Witnesses' cosignatures of checkpoints: C2SP tlog-cosignature, `cosignature/v1` (Ed25519).

Pure: the standard library, custody's Ed25519 and the note module; the offline verifier uses
it as is. A cosignature is one more signature line on the checkpoint's signed note, by the
witness's own key, after the operator's:

    carbonledger/registry/3f1c0a9be2d47a10        the checkpoint note's text (note.py)
    ...
    time 2026-06-01T09:00:00.000Z

    — carbonledger/registry/3f1c0a9be2d47a10 <the operator's signature>
    — witness.example/w1 <base64(key ID ‖ timestamp ‖ Ed25519 signature)>

Exactly as c2sp.org/tlog-cosignature specifies for Ed25519:

- the signed message is `cosignature/v1\\n`, `time <T>\\n` (T the POSIX time of signing in
  decimal, no leading zeros) and the whole note text, final newline included, no signature line;
- the signature is a `timestamped_signature`: T as a big-endian uint64 (at most 2^63 - 1), then
  the 64-byte Ed25519 signature; the line's blob is the 4-byte key ID followed by it (76 bytes);
- the key ID is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[:4];
- a witness is named to a verifier by its vkey (c2sp.org/signed-note, verifier keys):
  `<name>+<key ID, 8 lowercase hex digits>+<base64(0x04 ‖ public key)>`.

As signed-note requires, lines whose (name, key ID) match no trusted witness are ignored (the
operator's own, other witnesses'), a matching line that fails to verify rejects the whole
note, and a note is accepted only with at least the threshold of distinct trusted witnesses.

What a carbonledger witness's cosignature states, beyond cosignature/v1's "this is the
largest consistent tree head I have seen for this log" (the first three lines), is that the
witness replayed every journal entry up to the checkpoint itself and found the log root and
the state root of the `state` line both follow from them (docs/DESIGN.md, "Witnesses"). The
Ed25519 message does not name the witness, so one key serves one witness only.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256

from anchoring.auditor.errors import VerifyError, VerifyFailure
from anchoring.auditor.note import MAX_SIGNATURE_LINES, NoteError, parse_text, split_note
from custody import ed25519

SIGNATURE_TYPE = 0x04  # signed-note's byte for timestamped Ed25519 checkpoint cosignatures
HEADER = "cosignature/v1"
MAX_TIMESTAMP = (1 << 63) - 1
BLOB_SIZE = 4 + 8 + ed25519.SIGNATURE_SIZE
_DASH = "\u2014 "
_KEY_NAME = re.compile(r"[^\s+]+")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class CosignatureError(VerifyError, ValueError):
    """A witness key is malformed (`bad_witness_key`), a trusted witness's cosignature does not
    verify (`cosignature_invalid`), or too few trusted witnesses cosigned
    (`too_few_cosignatures`)."""

    def __init__(self, code: VerifyFailure, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[CosignatureError], tuple[VerifyFailure, str]]:
        return (CosignatureError, (self.code, str(self)))


@dataclass(frozen=True)
class WitnessKey:
    """A witness as a verifier knows it: its name and its Ed25519 public key."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        if not _KEY_NAME.fullmatch(self.name):
            raise CosignatureError(VerifyFailure.bad_witness_key,
                                   f"witness name {self.name!r:.80} is empty or contains "
                                   "spaces or '+'")
        if len(self.public_key) != ed25519.PUBLIC_KEY_SIZE:
            raise CosignatureError(VerifyFailure.bad_witness_key,
                                   f"an Ed25519 public key is {ed25519.PUBLIC_KEY_SIZE} bytes, "
                                   f"got {len(self.public_key)}")

    @property
    def key_id(self) -> bytes:
        return witness_key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The verifier key: what a witness publishes and an auditor passes to --witness."""
        material = base64.b64encode(bytes([SIGNATURE_TYPE]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{material}"


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who made it, and when it says it was made (POSIX seconds)."""

    witness: WitnessKey
    timestamp: int


def witness_key_id(name: str, public_key: bytes) -> bytes:
    """tlog-cosignature's key ID for an Ed25519 cosigner."""
    return sha256(name.encode("utf-8") + b"\n" + bytes([SIGNATURE_TYPE]) + public_key).digest()[:4]


def parse_vkey(text: object) -> WitnessKey:
    """A witness's verifier key, strictly: three parts, a key ID that matches the name and key
    (so a mistyped vkey is refused here, not silently trusting no one)."""
    if not isinstance(text, str):
        raise CosignatureError(VerifyFailure.bad_witness_key, "a witness key is text")
    parts = text.split("+", 2)  # the base64 key may hold '+' itself; name and ID cannot
    if len(parts) != 3:
        raise CosignatureError(VerifyFailure.bad_witness_key,
                               f"witness key {text!r:.80} is not name+keyid+key")
    name, key_id, material = parts
    if not _KEY_ID_HEX.fullmatch(key_id):
        raise CosignatureError(VerifyFailure.bad_witness_key,
                               f"witness key {text!r:.80}: the key ID is not 8 lowercase hex "
                               "digits")
    try:
        raw = base64.b64decode(material, validate=True)
    except binascii.Error as exc:
        raise CosignatureError(VerifyFailure.bad_witness_key,
                               f"witness key {text!r:.80}: the key is not base64") from exc
    if base64.b64encode(raw).decode("ascii") != material:
        raise CosignatureError(VerifyFailure.bad_witness_key,
                               f"witness key {text!r:.80}: the key is not canonical base64")
    if len(raw) != 1 + ed25519.PUBLIC_KEY_SIZE or raw[0] != SIGNATURE_TYPE:
        raise CosignatureError(VerifyFailure.bad_witness_key,
                               f"witness key {text!r:.80} is not a cosignature/v1 key (want "
                               f"0x04 and a 32-byte Ed25519 key)")
    witness = WitnessKey(name, raw[1:])
    if witness.key_id.hex() != key_id:
        raise CosignatureError(VerifyFailure.bad_witness_key,
                               f"witness key {text!r:.80}: key ID {key_id} does not match its "
                               f"name and key (they give {witness.key_id.hex()})")
    return witness


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header line, the time line, the note text."""
    _check_timestamp(timestamp)
    return f"{HEADER}\ntime {timestamp}\n{text}".encode()


def cosign(note: str, name: str, seed: bytes, timestamp: int) -> str:
    """The signature line (newline included) by which the witness `name`, holding the Ed25519
    `seed`, cosigns the checkpoint `note` at `timestamp`. The caller decides whether to: this
    only checks that the note is a well-formed checkpoint."""
    text = checkpoint_text(note)
    witness = WitnessKey(name, ed25519.public_key(seed))
    signature = ed25519.sign(seed, cosigned_message(text, timestamp))
    blob = witness.key_id + timestamp.to_bytes(8, "big") + signature
    return f"{_DASH}{name} {base64.b64encode(blob).decode('ascii')}\n"


def with_cosignatures(note: str, lines: Sequence[str]) -> str:
    """The note with these signature lines added after its own (each once, in the order
    given), checked to stay a note a verifier accepts."""
    text, _ = split_note(note)
    present = note[len(text) + 1:].splitlines(keepends=True)
    added = [line for line in dict.fromkeys(lines) if line not in present]
    result = note + "".join(added)
    split_note(result)  # raises if a line is malformed or there are too many
    return result


def cosignatures(note: str, witnesses: Sequence[WitnessKey]) -> list[Cosignature]:
    """The trusted witnesses' cosignatures on `note`, verified, at most one per witness.
    Lines of keys not among `witnesses` are ignored; a trusted witness's line that does not
    verify raises `cosignature_invalid`."""
    text = checkpoint_text(note)
    _, lines = split_note(note)
    by_id = {(w.name, w.key_id): w for w in witnesses}
    found: dict[WitnessKey, Cosignature] = {}
    for name, blob in lines:
        witness = by_id.get((name, blob[:4]))
        if witness is None:
            continue
        if len(blob) != BLOB_SIZE:
            raise CosignatureError(VerifyFailure.cosignature_invalid,
                                   f"the cosignature by witness {name} is {len(blob)} bytes, "
                                   f"want {BLOB_SIZE}")
        timestamp = int.from_bytes(blob[4:12], "big")
        if timestamp > MAX_TIMESTAMP:
            raise CosignatureError(VerifyFailure.cosignature_invalid,
                                   f"the cosignature by witness {name} has a timestamp past "
                                   "2^63 - 1")
        if not ed25519.verify(witness.public_key, cosigned_message(text, timestamp),
                              blob[12:]):
            raise CosignatureError(VerifyFailure.cosignature_invalid,
                                   f"the cosignature by witness {name} (key ID "
                                   f"{witness.key_id.hex()}) does not verify over this "
                                   "checkpoint")
        found.setdefault(witness, Cosignature(witness, timestamp))
    return list(found.values())


def require_cosigned(note: str, witnesses: Sequence[WitnessKey],
                     threshold: int | None = None) -> list[Cosignature]:
    """At least `threshold` (default: all) of `witnesses` cosigned `note`; their cosignatures.
    A witness named twice counts once."""
    distinct = list(dict.fromkeys(witnesses))
    wanted = check_threshold(len(distinct), threshold)
    found = cosignatures(note, distinct)
    if len(found) < wanted:
        body = parse_text(checkpoint_text(note))
        missing = [w.name for w in distinct if w not in {c.witness for c in found}]
        raise CosignatureError(VerifyFailure.too_few_cosignatures,
                               f"checkpoint {body.number} is cosigned by {len(found)} of the "
                               f"{len(distinct)} witnesses you trust, {wanted} required "
                               f"(not by {', '.join(missing)})")
    return found


def check_threshold(witnesses: int, threshold: int | None) -> int:
    """The number of cosignatures required of `witnesses` distinct witnesses (default all)."""
    if threshold is None:
        return witnesses
    if not 1 <= threshold <= witnesses:
        raise ValueError(f"a witness threshold is between 1 and the number of witnesses "
                         f"named ({witnesses}), got {threshold}")
    return threshold


def checkpoint_text(note: str) -> str:
    """The note text a cosignature covers, once the note is checked to be a checkpoint."""
    text, _ = split_note(note)
    parse_text(text)
    return text


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"a cosignature timestamp is in 0..2^63-1, got {timestamp!r}")


__all__ = [
    "BLOB_SIZE",
    "HEADER",
    "MAX_SIGNATURE_LINES",
    "SIGNATURE_TYPE",
    "Cosignature",
    "CosignatureError",
    "NoteError",
    "WitnessKey",
    "check_threshold",
    "checkpoint_text",
    "cosign",
    "cosignatures",
    "cosigned_message",
    "parse_vkey",
    "require_cosigned",
    "with_cosignatures",
    "witness_key_id",
]
