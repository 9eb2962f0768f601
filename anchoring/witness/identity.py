"""A witness's identity: its name, its two keys, and the operator key it follows.

    DIR/witness.json                   name, public keys, keystore paths, the operator followed
    DIR/keystores/cosigner.pem         the Ed25519 key that cosigns notes (custody.ed25519)
    DIR/keystores/attester.json        the secp256k1 key that attests on chain (Web3 Secret Storage)

A witness is known to a note verifier by its vkey (name and Ed25519 key) and to an
AnchorRegistry by its attester address: Ed25519 has no EVM precompile, so on chain the witness
signs an EIP-712 attestation with a secp256k1 key instead (anchoring.operator.contract). The
witness's identity is the pair; both keys are made together and published together
(`carbonledger witness key`). Both keystores are encrypted with the same password source as
the ledger's keys (CARBONLEDGER_PASSWORD, or a prompt).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from anchoring.auditor.cosignature import WitnessKey, parse_vkey
from anchoring.auditor.errors import VerifyError
from anchoring.auditor.note import parse_address
from anchoring.witness.errors import WitnessNotReady
from custody import ed25519
from custody.keystore import new_private_key, read_keystore, write_keystore
from custody.signatures import address_of, to_checksum_address

CONFIG_FILE = "witness.json"
COSIGNER_KEYSTORE = "keystores/cosigner.pem"
ATTESTER_KEYSTORE = "keystores/attester.json"


@dataclass(frozen=True)
class WitnessConfig:
    name: str  # the key name of its cosignatures: a schema-less URL, say
    vkey: str  # its verifier key (name, key ID, Ed25519 public key)
    attester: str  # the address of its on-chain attestation key, checksummed
    operator: str  # the operator key whose checkpoints it follows, checksummed
    cosigner_keystore: str = COSIGNER_KEYSTORE
    attester_keystore: str = ATTESTER_KEYSTORE

    @property
    def witness(self) -> WitnessKey:
        return parse_vkey(self.vkey)


@dataclass(frozen=True)
class WitnessKeys:
    cosigner_seed: bytes
    attester_key: bytes


def create_witness(directory: Path, name: str, operator: str, password: str, *,
                   scrypt_n: int | None = None) -> WitnessConfig:
    """Make a witness in `directory`: its keys, then its configuration. Every argument is
    checked before anything is written; an existing witness is never overwritten."""
    if (directory / CONFIG_FILE).exists():
        raise WitnessNotReady(f"{directory} already holds a witness ({CONFIG_FILE})")
    if directory.exists() and not directory.is_dir():
        raise WitnessNotReady(f"{directory} is a file: name a directory for the witness")
    try:
        WitnessKey(name, bytes(32))  # the name's shape
        followed = to_checksum_address(parse_address(operator, "the operator key"))
    except VerifyError as exc:
        raise WitnessNotReady(str(exc)) from exc
    for keystore in (COSIGNER_KEYSTORE, ATTESTER_KEYSTORE):
        if (directory / keystore).exists():
            raise WitnessNotReady(f"{directory / keystore} exists: move it away first")
    seed = ed25519.new_seed()
    public = ed25519.write_ed25519_keystore(directory / COSIGNER_KEYSTORE, seed, password)
    attester = write_keystore(directory / ATTESTER_KEYSTORE, new_private_key(), password,
                              scrypt_n=scrypt_n)
    config = WitnessConfig(name, WitnessKey(name, public).vkey, attester, followed)
    _write_json(directory / CONFIG_FILE, asdict(config))
    return config


def load_witness(directory: Path) -> WitnessConfig:
    path = directory / CONFIG_FILE
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise WitnessNotReady(f"no witness in {directory}: make one with `carbonledger "
                              "witness init`") from exc
    except (OSError, ValueError) as exc:
        raise WitnessNotReady(f"{path} cannot be read as JSON ({exc})") from exc
    fields = set(WitnessConfig.__dataclass_fields__)
    if not isinstance(document, dict) or not {"name", "vkey", "attester", "operator"} \
            <= set(document) <= fields:
        raise WitnessNotReady(f"{path} is not a witness configuration")
    try:
        config = WitnessConfig(**document)
        if config.witness.name != config.name:
            raise WitnessNotReady(f"{path}: its vkey is not named {config.name}")
        parse_address(config.attester, "the attester")
        parse_address(config.operator, "the operator key")
    except (VerifyError, TypeError) as exc:
        raise WitnessNotReady(f"{path} is damaged: {exc}") from exc
    return config


def load_keys(directory: Path, config: WitnessConfig, password: str) -> WitnessKeys:
    """Both keys, checked against the public keys the configuration publishes."""
    seed = ed25519.read_ed25519_keystore(directory / config.cosigner_keystore, password)
    attester = read_keystore(directory / config.attester_keystore, password)
    if ed25519.public_key(seed) != config.witness.public_key:
        raise WitnessNotReady(f"{config.cosigner_keystore} does not hold the key of {config.vkey}")
    if address_of(attester) != config.attester:
        raise WitnessNotReady(f"{config.attester_keystore} does not hold {config.attester}")
    return WitnessKeys(seed, attester)


def _write_json(path: Path, document: object) -> None:
    """Write a file whole or not at all (a witness killed mid-write keeps the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)


__all__ = ["CONFIG_FILE", "WitnessConfig", "WitnessKeys", "create_witness", "load_keys",
           "load_witness"]
