"""Witnesses' cosignatures (c2sp.org/tlog-cosignature, cosignature/v1): the signed message, the
key ID, the timestamp, the signature line and the vkey exactly as specified, checked against an
independent construction; k-of-n checks refuse missing, forged, wrong-key and damaged
cosignatures by name; and `verify_bundle(..., witnesses=...)` requires them on bundles."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anchoring.auditor.cosignature import (
    CosignatureError,
    WitnessKey,
    cosign,
    cosignatures,
    parse_vkey,
    require_cosigned,
    with_cosignatures,
)
from anchoring.auditor.errors import VerificationFailed, VerifyFailure
from anchoring.auditor.note import CheckpointBody, open_note, sign_note
from anchoring.auditor.verify import verify_bundle
from anchoring.operator.bundles import Prover
from custody import ed25519
from custody.signatures import address_of
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.anchoring.ledger_history import build_history

OPERATOR = (0x0DE7A70B).to_bytes(32, "big")
SEEDS = [bytes([n]) * 32 for n in range(1, 6)]
NAMES = [f"witness.example/w{n}" for n in range(1, 6)]
WITNESSES = [WitnessKey(name, ed25519.public_key(seed)) for name, seed in zip(NAMES, SEEDS,
                                                                              strict=True)]
BODY = CheckpointBody("carbonledger/registry/0011223344556677", 18, bytes(range(32)), 3,
                      bytes(range(32, 64)), "2026-06-01T09:00:30.000Z")
NOTE = sign_note(BODY, OPERATOR)
TIME = 1_780_000_000


def _cosigned(note: str, *indexes: int, timestamp: int = TIME) -> str:
    return with_cosignatures(note, [cosign(note, NAMES[i], SEEDS[i], timestamp)
                                    for i in indexes])


def test_ed25519_signs_as_rfc_8032_says() -> None:
    # RFC 8032, section 7.1, TEST 1 (the empty message)
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    assert ed25519.public_key(seed).hex() == \
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert ed25519.sign(seed, b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")


def test_the_cosignature_line_is_built_exactly_as_the_specification_says() -> None:
    line = cosign(NOTE, NAMES[0], SEEDS[0], TIME)
    dash, name, blob_text = line.rstrip("\n").split(" ")
    assert (dash, name) == ("\u2014", NAMES[0]) and line.endswith("\n")
    blob = base64.b64decode(blob_text)
    public = Ed25519PrivateKey.from_private_bytes(SEEDS[0]).public_key().public_bytes_raw()
    # key ID = SHA-256(name || "\n" || 0x04 || public key)[:4]
    assert blob[:4] == hashlib.sha256(NAMES[0].encode() + b"\n\x04" + public).digest()[:4]
    # timestamped_signature: big-endian u64 timestamp, then the 64-byte signature
    assert len(blob) == 4 + 8 + 64 and int.from_bytes(blob[4:12], "big") == TIME
    # over "cosignature/v1\ntime T\n" and the whole note text (extension lines included)
    message = b"cosignature/v1\ntime 1780000000\n" + BODY.text().encode()
    Ed25519PrivateKey.from_private_bytes(SEEDS[0]).public_key().verify(blob[12:], message)
    # vkey: name+hex(key ID)+base64(0x04 || public key)
    material = base64.b64encode(bytes([4]) + public).decode()
    vkey = WITNESSES[0].vkey
    assert vkey == f"{NAMES[0]}+{blob[:4].hex()}+{material}"
    assert parse_vkey(vkey) == WITNESSES[0]


def test_a_cosigned_note_still_opens_for_the_operator_and_any_signed_note_verifier() -> None:
    note = _cosigned(NOTE, 0, 1)
    assert note.startswith(NOTE) and note.count("\u2014 ") == 3
    assert open_note(note, address_of(OPERATOR)) == BODY  # the witnesses' lines are ignored
    assert [c.witness for c in cosignatures(note, WITNESSES)] == WITNESSES[:2]
    assert _cosigned(note, 0) == note  # the same line is not added twice


def test_a_vkey_whose_base64_holds_a_plus_parses() -> None:
    # signed-note splits a vkey at its first two '+': base64 may contain more
    keys = [WitnessKey("w.example/x", ed25519.public_key(bytes([n]) * 32)) for n in range(40)]
    with_plus = [key for key in keys if "+" in key.vkey.split("+", 2)[2]]
    assert with_plus
    assert all(parse_vkey(key.vkey) == key for key in keys)


@pytest.mark.parametrize("vkey", [
    "",
    "witness.example/w1",
    WITNESSES[0].vkey + "+x=",
    WITNESSES[0].vkey.replace("+", "+0", 1),  # a key ID of 9 digits
    WITNESSES[0].vkey.replace(WITNESSES[0].key_id.hex(), WITNESSES[1].key_id.hex()),
    WITNESSES[0].vkey.replace("w1+", "w2+"),  # the key ID no longer matches the name
    WITNESSES[0].vkey[:-4] + "AAA=",  # the key changed under its key ID
    WITNESSES[0].vkey.replace("+B", "+A", 1),  # signature type 0x01, not 0x04
    "name with space+00000000+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
])
def test_a_malformed_or_mistyped_vkey_is_refused_by_name(vkey: str) -> None:
    with pytest.raises(CosignatureError) as refused:
        parse_vkey(vkey)
    assert refused.value.code is VerifyFailure.bad_witness_key


def test_k_of_n_counts_distinct_trusted_witnesses_with_valid_cosignatures() -> None:
    note = _cosigned(NOTE, 0, 2)
    assert len(require_cosigned(note, WITNESSES[:3], 2)) == 2
    assert len(require_cosigned(note, [WITNESSES[0], WITNESSES[0]])) == 1  # named twice: once
    with pytest.raises(CosignatureError, match=r"2 of the 3 witnesses you trust, 3 required "
                                               r"\(not by witness.example/w2\)") as refused:
        require_cosigned(note, WITNESSES[:3])
    assert refused.value.code is VerifyFailure.too_few_cosignatures
    with pytest.raises(CosignatureError, match="0 of the 2"):
        require_cosigned(NOTE, WITNESSES[:2], 1)
    with pytest.raises(ValueError, match="between 1 and the number of witnesses"):
        require_cosigned(note, WITNESSES[:2], 3)


def _invalid(note: str) -> CosignatureError:
    with pytest.raises(CosignatureError) as refused:
        cosignatures(note, WITNESSES)
    assert refused.value.code is VerifyFailure.cosignature_invalid
    return refused.value


def test_forged_damaged_or_transplanted_cosignatures_are_refused() -> None:
    good = cosign(NOTE, NAMES[0], SEEDS[0], TIME)
    blob = bytearray(base64.b64decode(good.split(" ")[2]))
    # another key signing under the witness's name and key ID
    forged = base64.b64decode(cosign(NOTE, NAMES[0], SEEDS[4], TIME).split(" ")[2])
    forged_line = f"\u2014 {NAMES[0]} " \
                  f"{base64.b64encode(bytes(blob[:4]) + forged[4:]).decode()}\n"
    assert "does not verify" in str(_invalid(NOTE + forged_line))
    # the timestamp changed after signing
    blob[11] ^= 1
    _invalid(NOTE + f"\u2014 {NAMES[0]} {base64.b64encode(bytes(blob)).decode()}\n")
    # cut short
    _invalid(NOTE + f"\u2014 {NAMES[0]} {base64.b64encode(bytes(blob[:40])).decode()}\n")
    # a cosignature of another checkpoint, moved onto this one
    other = sign_note(CheckpointBody(BODY.origin, 19, BODY.log_root, 3, BODY.state_root,
                                     BODY.time), OPERATOR)
    _invalid(NOTE + cosign(other, NAMES[0], SEEDS[0], TIME))
    # a line of a key the verifier does not know is ignored, as signed-note requires
    stranger = cosign(NOTE, "witness.example/other", SEEDS[0], TIME)
    assert cosignatures(NOTE + stranger, WITNESSES) == []


def test_verify_with_witnesses_accepts_cosigned_bundles_and_refuses_the_rest(
        sqlite_store: Store, clock: FixedClock) -> None:
    history = build_history(sqlite_store, clock)
    bundle = Prover(sqlite_store).entry(7)
    cosigned = {**bundle, "checkpoint": _cosigned(bundle["checkpoint"], 0, 1)}
    # an older verifier, and one named no witness, read it as before
    assert verify_bundle(json.loads(json.dumps(cosigned)), history.operator).cosigned_by == ()
    verified = verify_bundle(cosigned, history.operator, witnesses=WITNESSES[:2])
    assert {c.witness.name for c in verified.cosigned_by} == set(NAMES[:2])
    assert verify_bundle(cosigned, history.operator, witnesses=WITNESSES[:3],
                         witness_threshold=2).cosigned_by

    def refused(document: dict[str, object], **options: object) -> VerifyFailure:
        with pytest.raises(VerificationFailed) as failure:
            verify_bundle(document, history.operator, **options)  # type: ignore[arg-type]
        return failure.value.code

    assert refused(bundle, witnesses=WITNESSES[:1]) is VerifyFailure.too_few_cosignatures
    assert refused(cosigned, witnesses=WITNESSES[2:4]) is VerifyFailure.too_few_cosignatures
    wrong_key = {**bundle, "checkpoint": bundle["checkpoint"] + cosign(
        bundle["checkpoint"], NAMES[0], SEEDS[3], TIME)}
    assert refused(wrong_key, witnesses=WITNESSES[:1]) is VerifyFailure.too_few_cosignatures
    forged = {**bundle, "checkpoint": bundle["checkpoint"] + cosign(
        history.checkpoints[1].note, NAMES[0], SEEDS[0], TIME)}
    assert refused(forged, witnesses=WITNESSES[:1]) is VerifyFailure.cosignature_invalid
    # a consistency bundle needs both its checkpoints cosigned
    consistency = Prover(sqlite_store).consistency(1, 3)
    half = {**consistency, "checkpoint": _cosigned(consistency["checkpoint"], 0)}
    assert refused(half, witnesses=WITNESSES[:1]) is VerifyFailure.too_few_cosignatures
    both = {**half, "from_checkpoint": _cosigned(consistency["from_checkpoint"], 0)}
    assert verify_bundle(both, history.operator, witnesses=WITNESSES[:1]).cosigned_by


def test_the_format_is_pinned_byte_for_byte() -> None:
    # A golden vector (Ed25519 is deterministic): any change to these bytes is a change of
    # format that every cosignature already handed out would no longer match.
    assert WITNESSES[0].vkey == \
        "witness.example/w1+0ad7d35e+BIqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
    assert cosign(NOTE, NAMES[0], SEEDS[0], TIME) == (
        "\u2014 witness.example/w1 CtfTXgAAAABqGKUA/ccAOnRsfljcfCsoO2Eg4wBeADt6nV2XWEY77qOH93A2On78"
        "/LxC+D9/vUXZEpFe4ZCvjCqCoN7Nr6qwQigtCw==\n")
