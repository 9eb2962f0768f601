"""A checkpoint as a C2SP signed note (c2sp.org/tlog-checkpoint), signed with a secp256k1 key.

Pure: hashing, base64 and custody's secp256k1 code; the offline verifier uses it as is.

    carbonledger/registry/3f1c0a9be2d47a10        origin: the ledger's log identity
    1234                                          log size
    nq0bZ8pN5ZrW2fQmkJ8T3sBGgq1dBbNZ1kJxWf3mX0c=  RFC 9162 root of the first `size` entries
    checkpoint 7                                  extension lines: the checkpoint number,
    state 2N2c0u9S0yq1gJ3b8y0c6m0Jk8tD2p7m3HcVb9eWl0M=   the state commitment's root,
    time 2026-06-01T09:00:00.000Z                 and the time of the marker that closed it
                                                  (blank line: the note text ends above it)
    — carbonledger/registry/3f1c0a9be2d47a10 <base64(key id ‖ 65-byte signature)>

The first three lines are exactly tlog-checkpoint's; ours adds three extension lines, always
present, in this order. The signature is the operator's secp256k1 signature of the note text
(UTF-8, final newline included) as an Ethereum signed message (EIP-191 version 0x45,
`personal_sign`): any Ethereum tool recovers the operator's address from it. It is 65 bytes
r ‖ s ‖ v with v in {27, 28} and low s, so its bytes are unique. As signed-note recommends,
the key ID is SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4], where the signature
type is 0xff followed by the identifier below (signed-note's range for algorithms it does not
number) and the public key is the signer's 20-byte address, which is what an auditor trusts.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from hashlib import sha256

from anchoring.auditor.errors import VerifyError, VerifyFailure
from custody.eip712 import keccak256
from custody.signatures import (
    SignatureError,
    recover_address_bytes,
    to_checksum_address,
    unsafe_sign_digest,
)

SIGNATURE_TYPE = b"\xff" + b"carbonledger/eip191-secp256k1"
SIGNATURE_SIZE = 65
MAX_NOTE_BYTES = 16_384
MAX_SIGNATURE_LINES = 16
OPENED_NOTES = 256  # notes remembered as opened, with their key (`open_note`): ~4 MB at most
_DASH = "\u2014 "
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
# carbonledger/<registry id>/<genesis entry's leaf hash, first 8 bytes in hex>; the id's
# alphabet is ledger.instructions.ID_PATTERN's
_ORIGIN = re.compile(r"carbonledger/([A-Za-z0-9][A-Za-z0-9._:-]{0,63})/([0-9a-f]{16})")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_KEY_NAME = re.compile(r"[^\s+]+")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # every control character but newline


class NoteError(VerifyError, ValueError):
    """A signed checkpoint is malformed (`malformed_checkpoint`), not signed by the key it must
    be signed by (`checkpoint_not_signed`), or that key is not an address (`bad_address`)."""

    def __init__(self, code: VerifyFailure, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[NoteError], tuple[VerifyFailure, str]]:
        return (NoteError, (self.code, str(self)))


@dataclass(frozen=True)
class CheckpointBody:
    """What a checkpoint says: the text its signature covers."""

    origin: str
    size: int
    log_root: bytes
    number: int
    state_root: bytes
    time: str

    def text(self) -> str:
        return (f"{self.origin}\n{self.size}\n{_b64(self.log_root)}\n"
                f"checkpoint {self.number}\nstate {_b64(self.state_root)}\ntime {self.time}\n")


def parse_address(text: object, what: str = "operator key") -> bytes:
    """A 0x-prefixed 20-byte address; a mixed-case one must carry a valid EIP-55 checksum,
    since a typo in a trusted key must not pass unnoticed. The few addresses a verifier reads
    again and again (its trusted keys) are remembered once read: the checksum is a hash."""
    if type(text) is str:
        return _address_remembered(text, what)
    return _address(text, what)


@lru_cache(maxsize=64)
def _address_remembered(text: str, what: str) -> bytes:
    return _address(text, what)  # a refusal raises, and nothing is remembered


def _address(text: object, what: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        raise NoteError(VerifyFailure.bad_address,
                        f"{what} must be a 0x-prefixed 20-byte hex address, got {text!r:.60}")
    raw = bytes.fromhex(text[2:])
    hex_part = text[2:]
    if hex_part != hex_part.lower() and hex_part != hex_part.upper() and \
            to_checksum_address(raw) != text:
        raise NoteError(VerifyFailure.bad_address,
                        f"{what} {text} fails its EIP-55 checksum: check for a typo")
    return raw


def key_id(key_name: str, address: bytes) -> bytes:
    """signed-note's 4-byte key ID for this signature type and signer."""
    return sha256(key_name.encode() + b"\n" + SIGNATURE_TYPE + address).digest()[:4]


def signing_digest(text: str) -> bytes:
    """EIP-191 `personal_sign` digest of the note text: keccak256 of
    "\\x19Ethereum Signed Message:\\n" ‖ decimal byte length ‖ text."""
    data = text.encode("utf-8")
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


def sign_note(body: CheckpointBody, private_key: bytes) -> str:
    """The signed note: text, blank line, one signature line named after the origin."""
    text = body.text()
    check_body(body)
    signature = unsafe_sign_digest(private_key, signing_digest(text))
    address = recover_address_bytes(signing_digest(text), signature)
    line = f"{_DASH}{body.origin} {_b64(key_id(body.origin, address) + signature)}\n"
    return f"{text}\n{line}"


def open_note(note: str, trusted: str) -> CheckpointBody:
    """Parse a signed checkpoint and check that the key `trusted` (an address) signed it.

    As signed-note requires: signature lines of other keys are ignored, a line with the
    trusted key's name and ID must verify, and a note with none is refused.

    Opening is a function of the note's exact text and the key's exact text, so the last
    OPENED_NOTES notes opened are remembered under those two strings: a service that checks
    every bundle it hands out recovers the signature of each checkpoint once, not once per
    bundle. Only an opened note is remembered; a note that differs from it in any character
    (or the same note under another key) is opened, and refused, as if it were new.
    """
    if type(note) is str and type(trusted) is str:  # exact types: compared by content
        return _open_remembered(note, trusted)
    return _open(note, trusted)


@lru_cache(maxsize=OPENED_NOTES)
def _open_remembered(note: str, trusted: str) -> CheckpointBody:
    return _open(note, trusted)  # a refusal raises, and nothing is remembered


def _open(note: str, trusted: str) -> CheckpointBody:
    address = parse_address(trusted)
    text, signature_lines = split_note(note)
    body = parse_text(text)
    wanted = key_id(body.origin, address)
    digest = signing_digest(text)
    for name, blob in signature_lines:
        if name != body.origin or blob[:4] != wanted:
            continue
        if len(blob) != 4 + SIGNATURE_SIZE:
            raise NoteError(VerifyFailure.checkpoint_not_signed,
                            f"the signature by {to_checksum_address(address)} is "
                            f"{len(blob) - 4} bytes, want {SIGNATURE_SIZE}")
        try:
            signer = recover_address_bytes(digest, blob[4:])
        except SignatureError as exc:
            raise NoteError(VerifyFailure.checkpoint_not_signed,
                            f"the checkpoint signature is invalid: {exc}") from exc
        if signer != address:
            raise NoteError(VerifyFailure.checkpoint_not_signed,
                            f"checkpoint {body.number} is not signed by "
                            f"{to_checksum_address(address)}: its signature recovers "
                            f"{to_checksum_address(signer)} (the note was changed after "
                            "signing, or signed by another key)")
        return body
    raise NoteError(VerifyFailure.checkpoint_not_signed,
                    f"checkpoint {body.number} carries no signature by the trusted operator "
                    f"key {to_checksum_address(address)} (key name {body.origin}, key ID "
                    f"{wanted.hex()})")


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(text, [(key name, decoded signature)]) of a signed note, checked for shape only."""
    if not isinstance(note, str):
        raise NoteError(VerifyFailure.malformed_checkpoint, "a signed checkpoint must be text")
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"signed checkpoint is over {MAX_NOTE_BYTES} bytes")
    if _CONTROL.search(note):
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        "signed checkpoint contains control characters")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        "not a signed note: want text, a blank line, signature lines")
    text, lines = note[:cut + 1], note[cut + 2:-1].split("\n")
    if len(lines) > MAX_SIGNATURE_LINES:
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"more than {MAX_SIGNATURE_LINES} signature lines")
    signatures = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH.strip() or not _KEY_NAME.fullmatch(parts[1]):
            raise NoteError(VerifyFailure.malformed_checkpoint,
                            f"malformed signature line {line!r:.80}")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError as exc:  # binascii.Error, or a character beyond ASCII
            raise NoteError(VerifyFailure.malformed_checkpoint,
                            f"signature line is not base64: {line!r:.80}") from exc
        if len(blob) < 5:
            raise NoteError(VerifyFailure.malformed_checkpoint,
                            "signature line too short for a key ID and a signature")
        signatures.append((parts[1], blob))
    return text, signatures


def parse_text(text: str) -> CheckpointBody:
    """The note text, strictly: exactly the six lines our checkpoints have, canonical values."""
    lines = text.split("\n")
    if len(lines) != 7 or lines[-1] != "":
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"checkpoint text has {len(lines) - 1} lines, want 6")
    origin, size, log_root, number, state_root, moment = lines[:6]
    if not _KEY_NAME.fullmatch(origin):
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"origin {origin!r:.80} is empty or contains spaces or '+'")
    body = CheckpointBody(
        origin=origin,
        size=_decimal(size, "log size"),
        log_root=_root(log_root, "log root"),
        number=_decimal(_field(number, "checkpoint"), "checkpoint number"),
        state_root=_root(_field(state_root, "state"), "state root"),
        time=_field(moment, "time"),
    )
    check_body(body)
    return body


def check_body(body: CheckpointBody) -> None:
    if not _ORIGIN.fullmatch(body.origin):
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"origin {body.origin!r:.80} is not carbonledger/<registry id>/<16 "
                        "lowercase hex digits of the genesis entry's leaf hash>")
    if not is_utc_instant(body.time):
        raise NoteError(VerifyFailure.bad_time,
                        f"time {body.time!r:.40} is not a real instant in RFC 3339 UTC with "
                        "milliseconds")
    if body.number < 1 or body.size < 1:
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        "checkpoints are numbered from 1 and hold at least their marker")
    if len(body.log_root) != 32 or len(body.state_root) != 32:
        raise NoteError(VerifyFailure.malformed_checkpoint, "roots are 32 bytes")


def origin_parts(origin: str) -> tuple[str, str]:
    """(registry id, genesis leaf hash prefix in hex) of a well-formed origin."""
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        raise NoteError(VerifyFailure.malformed_checkpoint, f"origin {origin!r:.80} is malformed")
    return match[1], match[2]


def is_utc_instant(text: object) -> bool:
    """YYYY-MM-DDTHH:MM:SS.sssZ naming a real instant: no 2024-02-30, no 24:00, no leap
    second (the ledger's clock never writes one)."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def _field(line: str, name: str) -> str:
    prefix = name + " "
    if not line.startswith(prefix):
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"expected the line '{name} ...', got {line!r:.80}")
    return line[len(prefix):]


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text) or int(text) >= 1 << 64:
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"{what} {text!r:.40} is not a decimal uint64 without leading zeros")
    return int(text)


def _root(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:  # binascii.Error, or a character beyond ASCII
        raise NoteError(VerifyFailure.malformed_checkpoint, f"{what} is not base64") from exc
    if len(raw) != 32 or _b64(raw) != text:
        raise NoteError(VerifyFailure.malformed_checkpoint,
                        f"{what} must be the base64 of 32 bytes")
    return raw


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
