"""Confidential documents sealed for their readers: envelope encryption, pure functions.

The journal commits to a document's SHA-256 (monthly data, an annual report); the document
itself is kept sealed, so that only its readers (the emitter, the registry, its verifier) learn
its figures, and whoever is given it can check it against the journal.

Format "carbonledger-sealed/1":

- a random 32-byte document key; the plaintext encrypted with AES-256-GCM under it, with a
  random 96-bit nonce and associated data = the format tag and the plaintext's SHA-256 (so
  the ciphertext cannot be passed off under another hash);
- the document key wrapped for each reader's secp256k1 public key (one of its signing keys,
  published with `document_key_publish`), by ECIES: an ephemeral key, ECDH with the reader's
  key, HKDF-SHA256 (salt: the ephemeral public key; info: the format tag and the reader's
  address) to a key-encryption key, and AES-256-GCM of the document key under it with a random
  nonce and associated data = the format tag and the document's SHA-256 (so a wrapped key
  cannot be moved to another document). A wrapped key is its nonce and that ciphertext.

Opening checks the plaintext's SHA-256 against the one recorded: what comes out is exactly the
document the journal names, or a `SealError` says why not.
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import coincurve
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from custody.signatures import public_key_to_address

FORMAT = "carbonledger-sealed/1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, GCM's own size
TAG_BYTES = 16
PUBLIC_KEY_BYTES = 33  # compressed secp256k1
WRAPPED_KEY_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES


class SealFailure(enum.Enum):
    """Why a sealed document does not open, each with what a person can do about it."""

    not_a_reader = ("the document was not sealed for this key: ask its owner or the registry "
                    "to share it with you (they wrap its key for one of your published keys)")
    tampered = ("the sealed document or its wrapped key was altered, or belongs to another "
                "document: it does not authenticate; fetch it again from the registry")
    hash_mismatch = ("the opened document's SHA-256 is not the one it was sealed under: it is "
                     "not the document the journal names; do not rely on it")
    malformed = ("this is not a carbonledger-sealed/1 document: a field is missing or of the "
                 "wrong size")
    not_a_public_key = ("a reader's public key is not a compressed secp256k1 public key")

    def __init__(self, message: str) -> None:
        self.message = message


class SealError(Exception):
    """A document that cannot be sealed or opened: `code` says why, the text the specifics."""

    def __init__(self, code: SealFailure, detail: str = "") -> None:
        super().__init__(f"{code.message}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class WrappedKey:
    """The document key wrapped for one reader's key."""

    address: str  # the reader key's address (EIP-55): whose private key unwraps it
    ephemeral_public_key: bytes  # compressed, 33 bytes
    wrapped: bytes  # nonce and AES-GCM ciphertext of the document key, 60 bytes


@dataclass(frozen=True)
class Sealed:
    """A sealed document: its plaintext's SHA-256 ("0x" and 64 hex digits, as the journal
    names it), the AES-GCM nonce and ciphertext, and its key wrapped for each reader."""

    sha256: str
    nonce: bytes
    ciphertext: bytes
    readers: tuple[WrappedKey, ...]
    format: str = FORMAT

    def for_reader(self, address: str) -> Sealed:
        """This document with only `address`'s wrapped key (what a reader is handed)."""
        return replace(self, readers=tuple(r for r in self.readers if r.address == address))


def document_hash(plaintext: bytes) -> str:
    """A document's SHA-256 as the journal carries it: 0x and 64 lower-case hex digits."""
    return "0x" + hashlib.sha256(plaintext).hexdigest()


def address_of_public_key(public_key: bytes) -> str:
    """The EIP-55 address of a compressed secp256k1 public key."""
    return public_key_to_address(_point(public_key).format(compressed=False))


def seal(plaintext: bytes, readers: Iterable[bytes]) -> Sealed:
    """`plaintext` sealed for each of `readers` (compressed public keys; a key named twice is
    wrapped once)."""
    by_address = {address_of_public_key(key): key for key in readers}
    if not by_address:
        raise ValueError("a document is sealed for at least one reader")
    sha256 = document_hash(plaintext)
    document_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(document_key).encrypt(nonce, plaintext, _document_data(sha256))
    wrapped = tuple(_wrap(document_key, sha256, key) for key in by_address.values())
    return Sealed(sha256, nonce, ciphertext, wrapped)


def open_sealed(sealed: Sealed, private_key: bytes) -> bytes:
    """The plaintext, checked against its recorded SHA-256; `SealError` if `private_key` is
    not a reader's, if anything was altered, or if the hash does not match."""
    _check_shape(sealed)
    plaintext = _decrypt(sealed.ciphertext, sealed.nonce, _document_data(sealed.sha256),
                         _unwrap(sealed, private_key), "the document")
    if document_hash(plaintext) != sealed.sha256:
        raise SealError(SealFailure.hash_mismatch,
                        f"it opens to {document_hash(plaintext)}, sealed as {sealed.sha256}")
    return plaintext


def wrap_for(sealed: Sealed, private_key: bytes, new_reader: bytes) -> WrappedKey:
    """The document key wrapped for `new_reader` (a compressed public key), by a reader who
    holds `private_key`: how a document is shared with a reader chosen later (the emitter's
    verifier). The document is opened first, so only a key that really opens it is shared."""
    open_sealed(sealed, private_key)
    return _wrap(_unwrap(sealed, private_key), sealed.sha256, new_reader)


# --- the envelope ---------------------------------------------------------------------------

def _document_data(sha256: str) -> bytes:
    return f"{FORMAT}\n{sha256}".encode()


def _point(public_key: bytes) -> coincurve.PublicKey:
    if len(public_key) != PUBLIC_KEY_BYTES or public_key[0] not in (2, 3):
        raise SealError(SealFailure.not_a_public_key, f"{len(public_key)} bytes")
    try:
        return coincurve.PublicKey(public_key)
    except ValueError:
        raise SealError(SealFailure.not_a_public_key, "not a point of the curve") from None


def _key_encryption_key(shared: bytes, ephemeral_public_key: bytes, address: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=ephemeral_public_key,
                info=f"{FORMAT}\n{address}".encode()).derive(shared)


def _wrap(document_key: bytes, sha256: str, reader: bytes) -> WrappedKey:
    address = address_of_public_key(reader)
    ephemeral = coincurve.PrivateKey()
    ephemeral_public_key = ephemeral.public_key.format(compressed=True)
    kek = _key_encryption_key(ephemeral.ecdh(reader), ephemeral_public_key, address)
    nonce = os.urandom(NONCE_BYTES)
    wrapped = nonce + AESGCM(kek).encrypt(nonce, document_key, _document_data(sha256))
    return WrappedKey(address, ephemeral_public_key, wrapped)


def _unwrap(sealed: Sealed, private_key: bytes) -> bytes:
    key = coincurve.PrivateKey(private_key)
    address = public_key_to_address(key.public_key.format(compressed=False))
    mine = [r for r in sealed.readers if r.address == address]
    if not mine:
        raise SealError(SealFailure.not_a_reader, f"no key is wrapped for {address}")
    wrapped = mine[0]
    if len(wrapped.wrapped) != WRAPPED_KEY_BYTES:
        raise SealError(SealFailure.malformed, f"a wrapped key is {WRAPPED_KEY_BYTES} bytes")
    try:
        shared = key.ecdh(wrapped.ephemeral_public_key)
    except ValueError:
        raise SealError(SealFailure.tampered, "the ephemeral public key is not one") from None
    kek = _key_encryption_key(shared, wrapped.ephemeral_public_key, address)
    nonce, body = wrapped.wrapped[:NONCE_BYTES], wrapped.wrapped[NONCE_BYTES:]
    return _decrypt(body, nonce, _document_data(sealed.sha256), kek,
                    f"the key wrapped for {address}")


def _decrypt(ciphertext: bytes, nonce: bytes, associated: bytes, key: bytes, what: str
             ) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated)
    except InvalidTag:
        raise SealError(SealFailure.tampered, f"{what} does not authenticate") from None


def _check_shape(sealed: Sealed) -> None:
    if sealed.format != FORMAT:
        raise SealError(SealFailure.malformed, f"format {sealed.format!r:.60}, want {FORMAT}")
    if len(sealed.nonce) != NONCE_BYTES or len(sealed.ciphertext) < TAG_BYTES \
            or len(sealed.sha256) != 66 or not sealed.sha256.startswith("0x"):
        raise SealError(SealFailure.malformed, "its hash, nonce or ciphertext")


# --- the JSON form (the HTTP interface's; bytes as 0x-hex) ------------------------------------

def sealed_as_json(sealed: Sealed) -> dict[str, Any]:
    return {"format": sealed.format, "sha256": sealed.sha256, "nonce": _hex(sealed.nonce),
            "ciphertext": _hex(sealed.ciphertext),
            "readers": [wrapped_key_as_json(r) for r in sealed.readers]}


def wrapped_key_as_json(key: WrappedKey) -> dict[str, str]:
    return {"address": key.address, "ephemeral_public_key": _hex(key.ephemeral_public_key),
            "wrapped_key": _hex(key.wrapped)}


def sealed_from_json(document: Any) -> Sealed:
    """A sealed document from its JSON form; `SealError` (malformed) if it is not one."""
    fields = {"format", "sha256", "nonce", "ciphertext", "readers"}
    if not isinstance(document, dict) or set(document) != fields \
            or not isinstance(document["readers"], list):
        raise SealError(SealFailure.malformed, f"an object with exactly {sorted(fields)}")
    sealed = Sealed(_text(document["sha256"]), _bytes(document["nonce"]),
                    _bytes(document["ciphertext"]),
                    tuple(wrapped_key_from_json(r) for r in document["readers"]),
                    _text(document["format"]))
    _check_shape(sealed)
    return sealed


def wrapped_key_from_json(document: Any) -> WrappedKey:
    fields = {"address", "ephemeral_public_key", "wrapped_key"}
    if not isinstance(document, dict) or set(document) != fields:
        raise SealError(SealFailure.malformed, f"a wrapped key has exactly {sorted(fields)}")
    return WrappedKey(_text(document["address"]), _bytes(document["ephemeral_public_key"]),
                      _bytes(document["wrapped_key"]))


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise SealError(SealFailure.malformed, "a field that is text is not")
    return value


def _bytes(value: Any) -> bytes:
    text = _text(value)
    try:
        if not text.startswith("0x"):
            raise ValueError(text[:10])
        return bytes.fromhex(text[2:])
    except ValueError:
        raise SealError(SealFailure.malformed, "bytes are 0x and hex digits") from None
