"""Sealed documents (compliance/sealing.py): what a reader's key opens, what nobody else's
does, and that any change to the ciphertext, its nonce, a wrapped key or the recorded hash is
refused by name rather than opened into something else."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import coincurve
import pytest

from compliance.sealing import (
    FORMAT,
    Sealed,
    SealError,
    SealFailure,
    WrappedKey,
    address_of_public_key,
    open_sealed,
    seal,
    sealed_as_json,
    sealed_from_json,
    wrap_for,
)
from custody.signatures import address_of

FIGURES = b'{"installation":"HN-1","month":"2025-01","lines":[{"activity":"98765.4321"}]}'


def key(n: int) -> coincurve.PrivateKey:
    return coincurve.PrivateKey((0x5EA1 + n).to_bytes(32, "big"))


EMITTER, REGISTRY, VERIFIER, STRANGER = key(1), key(2), key(3), key(4)


def public(private: coincurve.PrivateKey) -> bytes:
    return private.public_key.format(compressed=True)


def sealed_for_emitter_and_registry() -> Sealed:
    return seal(FIGURES, [public(EMITTER), public(REGISTRY)])


def refused(code: SealFailure, sealed: Sealed, private: coincurve.PrivateKey) -> None:
    with pytest.raises(SealError) as caught:
        open_sealed(sealed, private.secret)
    assert caught.value.code is code, caught.value


def flip(data: bytes, at: int = 0) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def test_each_reader_opens_the_exact_document() -> None:
    sealed = sealed_for_emitter_and_registry()
    assert sealed.format == FORMAT
    assert sealed.sha256 == "0x" + hashlib.sha256(FIGURES).hexdigest()
    assert FIGURES not in sealed.ciphertext
    assert {r.address for r in sealed.readers} == {address_of(EMITTER.secret),
                                                   address_of(REGISTRY.secret)}
    assert open_sealed(sealed, EMITTER.secret) == FIGURES
    assert open_sealed(sealed, REGISTRY.secret) == FIGURES


def test_each_sealing_has_its_own_key_and_nonce() -> None:
    one, two = sealed_for_emitter_and_registry(), sealed_for_emitter_and_registry()
    assert one.sha256 == two.sha256
    assert one.nonce != two.nonce and one.ciphertext != two.ciphertext


def test_a_key_it_was_not_sealed_for_cannot_open_it() -> None:
    refused(SealFailure.not_a_reader, sealed_for_emitter_and_registry(), STRANGER)


def test_a_wrapped_key_claimed_for_another_address_does_not_open() -> None:
    sealed = sealed_for_emitter_and_registry()
    stolen = replace(sealed.readers[0], address=address_of(STRANGER.secret))
    # the key-encryption key is derived for the address too: claiming another's fails
    refused(SealFailure.tampered, replace(sealed, readers=(stolen,)), STRANGER)


@pytest.mark.parametrize("part", ["ciphertext", "nonce", "tag"])
def test_a_changed_ciphertext_or_nonce_is_refused(part: str) -> None:
    sealed = sealed_for_emitter_and_registry()
    changed = {"ciphertext": replace(sealed, ciphertext=flip(sealed.ciphertext, 3)),
               "nonce": replace(sealed, nonce=flip(sealed.nonce)),
               "tag": replace(sealed, ciphertext=flip(sealed.ciphertext,
                                                      len(sealed.ciphertext) - 1))}[part]
    refused(SealFailure.tampered, changed, EMITTER)


@pytest.mark.parametrize("part", ["wrapped", "its nonce", "ephemeral_public_key"])
def test_a_changed_wrapped_key_is_refused(part: str) -> None:
    sealed = sealed_for_emitter_and_registry()
    mine = next(r for r in sealed.readers if r.address == address_of(EMITTER.secret))
    other = public(STRANGER)  # a valid point, not the one the key was wrapped with
    changed = {"wrapped": replace(mine, wrapped=flip(mine.wrapped, 20)),
               "its nonce": replace(mine, wrapped=flip(mine.wrapped, 0)),
               "ephemeral_public_key": replace(mine, ephemeral_public_key=other)}[part]
    refused(SealFailure.tampered, replace(sealed, readers=(changed,)), EMITTER)


def test_a_wrapped_key_moved_to_another_document_is_refused() -> None:
    sealed = sealed_for_emitter_and_registry()
    other = seal(b"another month", [public(EMITTER)])
    refused(SealFailure.tampered, replace(other, readers=sealed.readers), EMITTER)


def test_a_ciphertext_passed_off_under_another_hash_is_refused() -> None:
    sealed = sealed_for_emitter_and_registry()
    other_hash = "0x" + hashlib.sha256(b"another month").hexdigest()
    refused(SealFailure.tampered, replace(sealed, sha256=other_hash), EMITTER)


def test_a_reader_who_reseals_another_document_under_the_hash_is_caught() -> None:
    """A reader holds the document key and could encrypt other bytes under the recorded
    hash; opening checks the plaintext's SHA-256, so the forgery is named."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from compliance.sealing import _document_data, _unwrap

    sealed = sealed_for_emitter_and_registry()
    document_key = _unwrap(sealed, REGISTRY.secret)
    forged = AESGCM(document_key).encrypt(sealed.nonce, b"other figures",
                                          _document_data(sealed.sha256))
    refused(SealFailure.hash_mismatch, replace(sealed, ciphertext=forged), EMITTER)


def test_a_reader_added_later_opens_it_and_no_one_else_does() -> None:
    sealed = sealed_for_emitter_and_registry()
    added = wrap_for(sealed, EMITTER.secret, public(VERIFIER))
    assert added.address == address_of_public_key(public(VERIFIER))
    shared = replace(sealed, readers=(*sealed.readers, added))
    assert open_sealed(shared, VERIFIER.secret) == FIGURES
    refused(SealFailure.not_a_reader, shared, STRANGER)
    # only a key that opens the document can share it
    with pytest.raises(SealError) as caught:
        wrap_for(sealed, STRANGER.secret, public(STRANGER))
    assert caught.value.code is SealFailure.not_a_reader


def test_the_json_form_round_trips_and_refuses_what_is_not_one() -> None:
    sealed = sealed_for_emitter_and_registry()
    assert sealed_from_json(sealed_as_json(sealed)) == sealed
    document = sealed_as_json(sealed)
    for broken in ({**document, "nonce": "0x00"}, {**document, "ciphertext": "zz"},
                   {**document, "extra": 1}, {**document, "format": "other/1"},
                   {**document, "readers": [{"address": "0x00"}]}):
        with pytest.raises(SealError) as caught:
            sealed_from_json(broken)
        assert caught.value.code is SealFailure.malformed


def test_a_reader_key_that_is_no_point_is_refused() -> None:
    with pytest.raises(SealError) as caught:
        seal(FIGURES, [b"\x02" + b"\xff" * 32])
    assert caught.value.code is SealFailure.not_a_public_key


def test_a_wrapped_key_holds_the_document_key_only() -> None:
    key_ = sealed_for_emitter_and_registry().readers[0]
    assert isinstance(key_, WrappedKey)
    assert len(key_.wrapped) == 12 + 32 + 16 and len(key_.ephemeral_public_key) == 33
