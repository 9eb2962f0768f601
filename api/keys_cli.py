"""`carbonledger key ...`: a participant's own signing keys, in encrypted keystores.

    carbonledger key new --name huaneng          # DATA_DIR/keystores/huaneng.json
    carbonledger key list
    carbonledger key export-address huaneng      # what the registry registers for you

A key is a Web3 Secret Storage (v3) file, encrypted with the password from
CARBONLEDGER_PASSWORD or a prompt, never a plain key file. Commands that sign take the key with
`--as KEYSTORE`: a name in DATA_DIR/keystores/, or a keystore file's path.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from api.bootstrap import password_from_env
from api.config import KEYSTORE_COST_VARIABLE, ConfigError, keystore_scrypt_n
from api.exit_codes import environment, refused
from custody.keystore import KeystoreError, new_private_key, read_keystore, write_keystore
from custody.signatures import to_checksum_address
from ledger.instructions import ID_PATTERN

KEYSTORES = "keystores"


def keystore_dir(data_dir: Path) -> Path:
    return data_dir / KEYSTORES


def keystore_path(data_dir: Path, name_or_path: str) -> Path:
    """The keystore `name_or_path` names: a file's path, or a name in DATA_DIR/keystores/.
    An environment failure (exit 3) if there is none."""
    given = Path(name_or_path)
    if given.is_file():
        return given
    if ID_PATTERN.fullmatch(name_or_path):
        named = keystore_dir(data_dir) / f"{name_or_path}.json"
        if named.is_file():
            return named
    raise environment(f"no keystore {name_or_path!r} (neither a file nor a name in "
                      f"{keystore_dir(data_dir)}): create one with `carbonledger key new "
                      "--name NAME`, or give the keystore file's path")


def recorded_address(path: Path) -> str:
    """The address a keystore records beside its encrypted key (read without the password)."""
    try:
        document = json.loads(path.read_text())
        raw = bytes.fromhex(str(document["address"]).removeprefix("0x"))
        if len(raw) != 20:
            raise ValueError("not 20 bytes")
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise KeystoreError(f"{path} is not a keystore with an address ({exc}): restore it "
                            "from your backup") from exc
    return to_checksum_address(raw)


def unlock(path: Path) -> bytes:
    """The private key in `path`, decrypted with CARBONLEDGER_PASSWORD or a prompt."""
    password = password_from_env() or click.prompt(f"Password of {path.name}", hide_input=True)
    return read_keystore(path, password)


@click.group()
def key() -> None:
    """Your signing keys: encrypted keystores in DATA_DIR/keystores/ (or anywhere)."""


@key.command("new")
@click.option("--name", default=None, help="Keep it as DATA_DIR/keystores/NAME.json.")
@click.option("--keystore", "path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Keep it in this file instead.")
@click.pass_obj
def key_new(data_dir: Path, name: str | None, path: Path | None) -> None:
    """Make a new signing key in an encrypted keystore and print its address, which the
    registry registers for your participant (`participant add-key`)."""
    if (name is None) == (path is None):
        raise click.UsageError("name the key with --name NAME, or give --keystore PATH")
    if name is not None:
        if not ID_PATTERN.fullmatch(name):
            raise click.BadParameter("letters, digits and . _ : - only, at most 64 "
                                     "characters, starting with a letter or digit",
                                     param_hint="--name")
        path = keystore_dir(data_dir) / f"{name}.json"
    assert path is not None
    if path.exists():
        raise refused(f"{path} exists already: a new key there would lose the old one; "
                      "choose another name")
    password = password_from_env() or click.prompt("Password for the new keystore",
                                                    hide_input=True, confirmation_prompt=True)
    try:
        scrypt_n = keystore_scrypt_n()
    except ConfigError as exc:
        raise environment(str(exc)) from exc
    address = write_keystore(path, new_private_key(), password, scrypt_n=scrypt_n)
    click.echo(f"{address}  (keystore {path})")
    if scrypt_n is not None:
        click.echo(f"note: its scrypt cost is {scrypt_n} ({KEYSTORE_COST_VARIABLE}), below the "
                   "default 262144: for tests and demos only", err=True)


@key.command("list")
@click.pass_obj
def key_list(data_dir: Path) -> None:
    """The keystores in DATA_DIR/keystores/ and their addresses (no password needed)."""
    found = sorted(keystore_dir(data_dir).glob("*.json"))
    if not found:
        click.echo(f"no keystores in {keystore_dir(data_dir)}: `carbonledger key new --name "
                   "NAME` makes one")
        return
    width = max(len(p.stem) for p in found)
    for path in found:
        try:
            address = recorded_address(path)
        except KeystoreError:
            address = "(not a keystore)"
        click.echo(f"{path.stem:<{width}}  {address}")


@key.command("export-address")
@click.argument("keystore")
@click.pass_obj
def key_export_address(data_dir: Path, keystore: str) -> None:
    """Print the address of KEYSTORE (a name in DATA_DIR/keystores/, or a file), as it
    records it: hand it to the registry to register."""
    click.echo(recorded_address(keystore_path(data_dir, keystore)))
