"""secp256k1 signatures over EIP-712 digests: recovery for the ledger, signing for clients.

Recovery goes straight to libsecp256k1 through coincurve (~0.1 ms); eth-account would do the same
work through several layers. Signatures are Ethereum's 65 bytes r ‖ s ‖ v with v in {27, 28}.
"""

from __future__ import annotations

import coincurve

from custody.eip712 import keccak256

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2


class SignatureError(ValueError):
    """The bytes are not a valid, canonical signature of the digest."""


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The checksummed address whose key produced `signature` over `digest`."""
    return to_checksum_address(recover_address_bytes(digest, signature))


def recover_address_bytes(digest: bytes, signature: bytes) -> bytes:
    """The 20-byte address whose key produced `signature` over `digest`.

    High-s signatures are refused: each (message, key) has exactly one accepted signature, so a
    signature's bytes cannot be altered into a second valid one (EIP-2).
    """
    if len(digest) != 32:
        raise SignatureError("digest must be 32 bytes")
    if len(signature) != 65:
        raise SignatureError("signature must be 65 bytes (r ‖ s ‖ v)")
    v = signature[64]
    if v not in (27, 28):
        raise SignatureError("signature v must be 27 or 28")
    s = int.from_bytes(signature[32:64], "big")
    r = int.from_bytes(signature[0:32], "big")
    if not (0 < r < SECP256K1_N and 0 < s <= _HALF_N):
        raise SignatureError("signature r or s out of range (high-s signatures are refused)")
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
    except Exception as exc:  # coincurve raises a bare Exception on an unrecoverable signature
        raise SignatureError(f"signature does not recover a key: {exc}") from exc
    return keccak256(public_key.format(compressed=False)[1:])[-20:]


def public_key_to_address(uncompressed: bytes) -> str:
    return to_checksum_address(keccak256(uncompressed[1:])[-20:])


def to_checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case checksum encoding of a 20-byte address."""
    hex_address = raw.hex()
    hashed = keccak256(hex_address.encode()).hex()
    return "0x" + "".join(
        ch.upper() if int(hashed[i], 16) >= 8 else ch for i, ch in enumerate(hex_address)
    )


def unsafe_sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """Sign a raw 32-byte digest. Unsafe by name: it signs whatever it is given, so call it only
    with a digest you computed yourself from typed data (see custody.signing)."""
    recoverable = coincurve.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return recoverable[:64] + bytes([recoverable[64] + 27])


def address_of(private_key: bytes) -> str:
    return public_key_to_address(coincurve.PrivateKey(private_key).public_key.format(False))
