"""The role commands of `carbonledger`: every operation of every role, signed with the
signer's own keystore and sent through the Python client (api/client/), to the local data
directory's ledger or, with `--server URL` (or CARBONLEDGER_SERVER), to a carbonledger server.

    carbonledger participant register huaneng --name "Huaneng Power" --role emitter --as registry
    carbonledger participant add-key huaneng 0x5B38...        --as registry
    carbonledger account open HN-C --participant huaneng --type compliance --as registry
    carbonledger issue HN01 --scheme CN-ETS --kind allowance --vintage 2025 \\
        --issuance free_allocation --quantity 100000 --account HN-C --as registry
    carbonledger transfer --from HN-C --to BW-C --batch HN01 --quantity 500 --as huaneng

Two parties, one instruction: the first writes it half-signed to a file, the other reads
what it agrees to and co-signs, either submits:

    carbonledger pledge register P1 --account HN-C --pledgee icbc --batch HN01 \\
        --quantity 400 --loan-reference L-42 --principal 12000000.00 --currency CNY \\
        --start 2026-06-01 --maturity 2026-12-31 --as huaneng --out p1.json
    carbonledger cosign p1.json --as icbc          # prints the summary, asks, co-signs
    carbonledger submit p1.json

Queries for people: `carbonledger show holdings|lots|batches|pledges|repos|journal|
checkpoints|participants|accounts|keys` print tables; `--json` prints `{"items": [...]}`.

Every signature's nonce is fetched from the ledger (Client.sign); a refusal is one line with
the ledger's reason and exit 1 (api/exit_codes.py), an unreachable server exit 3.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from api.bootstrap import build, password_from_env
from api.client import (
    Client,
    ClientError,
    HttpTransport,
    LocalTransport,
    ServerFailed,
    ServerUnreachable,
)
from api.client.records import to_json
from api.client.summary import minor_exponent, money, summarize
from api.config import load_config
from api.exit_codes import ExitCode, environment, refused
from api.inputs import DocumentError, read_document
from api.keys_cli import keystore_path, recorded_address, unlock
from ledger.errors import Rejected
from ledger.instructions import SignedInstruction
from ledger.journal import Receipt
from ledger.model import AccountType, Issuance, Kind, Role

SERVER = "carbonledger.server"  # where the main group keeps --server (click's ctx.meta)
VIEWER = "carbonledger.viewer"  # where a show command keeps its --as (click's ctx.meta)
HALF_SIGNED_VALIDITY_S = 24 * 3600  # an instruction written for another party waits longer
MAX_VALIDITY_S = 30 * 24 * 3600


# --- reaching the ledger -------------------------------------------------------------------


def server_url() -> str | None:
    """The server `--server` (or CARBONLEDGER_SERVER) names; None: the local data directory."""
    return click.get_current_context().meta.get(SERVER)


@contextmanager
def open_client(data_dir: Path) -> Iterator[Client]:
    """A client of the server named with --server, or of the ledger in `data_dir`. A show
    command's `--as KEYSTORE` logs in to the server with that key (reads of a local data
    directory are the operator's: all). The client's own failures become one line with their
    class's exit code."""
    server = server_url()
    viewer = click.get_current_context().meta.get(VIEWER)
    try:
        if server:
            with Client(HttpTransport(server)) as client:
                if viewer:
                    client.login(client.wallet(unlock(keystore_path(data_dir, viewer))))
                yield client
        else:
            with build(load_config(data_dir), data_dir, password=_password) as app:
                yield Client(LocalTransport(app.service))
    except ServerUnreachable as exc:
        raise environment(f"{exc}: check --server (or CARBONLEDGER_SERVER)") from exc
    except ServerFailed as exc:
        if exc.status == 401:
            again = "log in with another key" if viewer else "log in with --as KEYSTORE"
            raise refused(f"{exc}: {again}") from exc
        raise (environment(str(exc)) if exc.is_unavailable else refused(str(exc))) from exc
    except ClientError as exc:
        raise refused(str(exc)) from exc


def _password() -> str:
    return password_from_env() or click.prompt("Keystore password", hide_input=True)


# --- signing: --as, --out, --valid-for -----------------------------------------------------


def signing(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that signs an instruction."""
    for option in reversed((
        click.option("--as", "signer", required=True, metavar="KEYSTORE",
                     help="Who signs: a keystore's name in DATA_DIR/keystores/, or its path."),
        click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write the signed instruction to FILE instead of submitting it: "
                          "another party co-signs it (`cosign FILE`), either submits it "
                          "(`submit FILE`)."),
        click.option("--valid-for", "valid_for_s", type=click.IntRange(60, MAX_VALIDITY_S),
                     default=None, metavar="SECONDS",
                     help="How long the instruction may wait to be applied (default one "
                          "hour; a day with --out)."),
    )):
        function = option(function)
    return function


def act(data_dir: Path, op: str, fields: dict[str, Any], *, signer: str, out: Path | None,
        valid_for_s: int | None) -> None:
    """Sign `op` with `signer`'s key (its nonce fetched from the ledger) and submit it, or
    write it to `out` for another party."""
    if out is not None and out.exists():
        raise refused(f"{out} exists already: name a new file for the instruction")
    private_key = unlock(keystore_path(data_dir, signer))
    with open_client(data_dir) as client:
        validity = valid_for_s or (HALF_SIGNED_VALIDITY_S if out else client.validity_s)
        instruction = client.instruction(op, valid_for_s=validity, **fields)
        signed = client.sign(instruction, client.wallet(private_key))
        if out is None:
            say_accepted(op, client.submit(signed))
            return
    _write_signed(out, signed)
    click.echo(f"{op} signed by {signed.signers[0]} and written to {out}. The other party "
               f"runs `carbonledger cosign {out} --as KEYSTORE`; then either runs "
               f"`carbonledger submit {out}`.")


def _write_signed(path: Path, signed: SignedInstruction) -> None:
    path.write_text(json.dumps(signed.as_json(), indent=2, ensure_ascii=False) + "\n")


def say_accepted(op: str, receipt: Receipt) -> None:
    again = " (submitted before: its first receipt)" if receipt.duplicate else ""
    click.echo(f"{op} accepted: journal entry {receipt.seq}, {receipt.entry_hash}{again}")


def _key_address(data_dir: Path, key: str) -> str:
    """An address given as is (0x...), or the address of a keystore (a name or a path)."""
    if key.startswith("0x") and len(key) == 42:
        return key
    return recorded_address(keystore_path(data_dir, key))


# --- units and money ------------------------------------------------------------------------


class SerialRange(click.ParamType):
    name = "FIRST-LAST"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        first, dash, last = str(value).partition("-")
        if not dash or not first.isdigit() or not last.isdigit() or int(first) < 1 \
                or int(last) < int(first):
            self.fail(f"{value!r} is not a serial range such as 1-500", param, ctx)
        return int(first), int(last)


def units_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--batch, --quantity and --serials: which units of a batch."""
    for option in reversed((
        click.option("--batch", required=True, help="The batch the units are of."),
        click.option("--quantity", type=click.IntRange(min=1), default=None, metavar="TONNES",
                     help="How many (the oldest tradable serials, unless --serials)."),
        click.option("--serials", type=SerialRange(), default=None,
                     help="These serials exactly, e.g. 1-500."),
    )):
        function = option(function)
    return function


def units(batch: str, quantity: int | None, serials: tuple[int, int] | None) -> dict[str, Any]:
    if quantity is None and serials is None:
        raise click.UsageError("say how many with --quantity, or which with --serials")
    first, last = serials or (0, 0)
    if quantity is None:
        quantity = last - first + 1
    return {"batch": batch, "quantity": quantity, "serialFirst": first, "serialLast": last}


def minor_units(amount: str, currency: str, option: str) -> int:
    """An amount of money written in the currency (12000000.00 CNY) as an exact integer of
    its minor unit (1200000000 fen); never a float."""
    exponent = minor_exponent(currency)
    try:
        value = Decimal(amount.replace(",", "").replace("_", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0 or -value.as_tuple().exponent > exponent:  # type: ignore[operator]
        raise click.BadParameter(f"{amount!r} is not a positive amount of {currency} with at "
                                 f"most {exponent} decimals", param_hint=option)
    return int(value.scaleb(exponent))


def _choice(values: type) -> click.Choice:
    return click.Choice([member.value for member in values])  # type: ignore[attr-defined]


# --- participants and keys ------------------------------------------------------------------


@click.group()
def participant() -> None:
    """Participants and their keys (the registry signs)."""


@participant.command("register")
@click.argument("participant_id", metavar="PARTICIPANT")
@click.option("--name", required=True, help="Its name, as people know it.")
@click.option("--role", required=True, type=_choice(Role))
@signing
@click.pass_obj
def participant_register(data_dir: Path, participant_id: str, name: str, role: str,
                         **signing_: Any) -> None:
    """Admit a participant (registry)."""
    act(data_dir, "register_participant",
        {"participant": participant_id, "name": name, "role": role}, **signing_)


@participant.command("add-key")
@click.argument("participant_id", metavar="PARTICIPANT")
@click.argument("key", metavar="ADDRESS|KEYSTORE")
@signing
@click.pass_obj
def participant_add_key(data_dir: Path, participant_id: str, key: str,
                        **signing_: Any) -> None:
    """Register a signing key for a participant (registry): its address, or a keystore here
    whose address to take."""
    act(data_dir, "register_key",
        {"participant": participant_id, "key": _key_address(data_dir, key)}, **signing_)


@participant.command("revoke-key")
@click.argument("participant_id", metavar="PARTICIPANT")
@click.argument("key", metavar="ADDRESS|KEYSTORE")
@signing
@click.pass_obj
def participant_revoke_key(data_dir: Path, participant_id: str, key: str,
                           **signing_: Any) -> None:
    """Revoke a participant's signing key (registry)."""
    act(data_dir, "revoke_key",
        {"participant": participant_id, "key": _key_address(data_dir, key)}, **signing_)


@click.command("rotate-key")
@click.option("--new", "new_key", required=True, metavar="ADDRESS|KEYSTORE",
              help="The key that replaces the one signing (--as).")
@click.option("--participant", "participant_id", default=None,
              help="Whose key it is (default: the participant the signing key is "
                   "registered to).")
@signing
@click.pass_obj
def rotate_key(data_dir: Path, new_key: str, participant_id: str | None,
               **signing_: Any) -> None:
    """Replace the signing key by a new one in one entry, signed by the old key: the
    participant is never without an active key in between."""
    old_key = recorded_address(keystore_path(data_dir, signing_["signer"]))
    if participant_id is None:
        with open_client(data_dir) as client:
            registered = client.key(old_key)
        if registered is None:
            raise refused(f"{old_key} is not a registered key: name --participant")
        participant_id = registered.participant
    act(data_dir, "rotate_key", {"participant": participant_id, "oldKey": old_key,
                                 "newKey": _key_address(data_dir, new_key)}, **signing_)


# --- accounts -------------------------------------------------------------------------------


@click.group()
def account() -> None:
    """Accounts: open, freeze, unfreeze (the registry signs)."""


@account.command("open")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--participant", "participant_id", required=True, help="Whose account it is.")
@click.option("--type", "account_type", required=True, type=_choice(AccountType))
@signing
@click.pass_obj
def account_open(data_dir: Path, account_id: str, participant_id: str, account_type: str,
                 **signing_: Any) -> None:
    """Open an account for a participant."""
    act(data_dir, "open_account", {"account": account_id, "participant": participant_id,
                                   "accountType": account_type}, **signing_)


@account.command("freeze")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--reason", required=True, help="Why, in words the holder will read.")
@signing
@click.pass_obj
def account_freeze(data_dir: Path, account_id: str, reason: str, **signing_: Any) -> None:
    """Freeze an account: nothing moves in or out until it is unfrozen."""
    act(data_dir, "freeze_account", {"account": account_id, "reason": reason}, **signing_)


@account.command("unfreeze")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--reason", required=True, help="Why, in words the holder will read.")
@signing
@click.pass_obj
def account_unfreeze(data_dir: Path, account_id: str, reason: str, **signing_: Any) -> None:
    """Lift an account's freeze."""
    act(data_dir, "unfreeze_account", {"account": account_id, "reason": reason}, **signing_)


# --- units: issue, transfer, retire, cancel -------------------------------------------------


@click.command("issue")
@click.argument("batch")
@click.option("--scheme", required=True, help="CN-ETS, CCER, ... (the ledger's schemes).")
@click.option("--kind", required=True, type=_choice(Kind))
@click.option("--vintage", required=True, type=click.IntRange(1990, 2200))
@click.option("--issuance", required=True, type=_choice(Issuance))
@click.option("--quantity", required=True, type=click.IntRange(min=1), metavar="TONNES")
@click.option("--account", "account_id", required=True, help="The account that receives it.")
@click.option("--project", default="", help="Credits: the project they come from.")
@click.option("--monitoring-start", default="", metavar="YYYY-MM-DD", help="Credits.")
@click.option("--monitoring-end", default="", metavar="YYYY-MM-DD", help="Credits.")
@signing
@click.pass_obj
def issue(data_dir: Path, batch: str, scheme: str, kind: str, vintage: int, issuance: str,
          quantity: int, account_id: str, project: str, monitoring_start: str,
          monitoring_end: str, **signing_: Any) -> None:
    """Issue a batch into an account (registry): allowances or credits, serials 1..QUANTITY."""
    act(data_dir, "issue_batch", {
        "batch": batch, "scheme": scheme, "kind": kind, "vintage": vintage,
        "project": project, "monitoringStart": monitoring_start,
        "monitoringEnd": monitoring_end, "issuance": issuance, "quantity": quantity,
        "account": account_id}, **signing_)


@click.command("transfer")
@click.option("--from", "from_account", required=True, metavar="ACCOUNT")
@click.option("--to", "to_account", required=True, metavar="ACCOUNT")
@units_options
@signing
@click.pass_obj
def transfer(data_dir: Path, from_account: str, to_account: str, batch: str,
             quantity: int | None, serials: tuple[int, int] | None, **signing_: Any) -> None:
    """Move units from one account to another (the holder of --from signs)."""
    act(data_dir, "transfer", {"fromAccount": from_account, "toAccount": to_account,
                               **units(batch, quantity, serials)}, **signing_)


@click.command("retire")
@click.option("--account", "account_id", required=True)
@units_options
@click.option("--beneficiary", default="", help="On whose behalf (default: the holder).")
@click.option("--reason", default="", help="Why: the claim's purpose, in words.")
@click.option("--claim", default="", help="The claim the retirement backs, if any.")
@signing
@click.pass_obj
def retire(data_dir: Path, account_id: str, batch: str, quantity: int | None,
           serials: tuple[int, int] | None, beneficiary: str, reason: str, claim: str,
           **signing_: Any) -> None:
    """Retire units for ever (the holder signs)."""
    act(data_dir, "retire", {"account": account_id, **units(batch, quantity, serials),
                             "beneficiary": beneficiary, "reason": reason, "claim": claim},
        **signing_)


@click.command("cancel")
@click.option("--account", "account_id", required=True)
@units_options
@click.option("--reason", required=True)
@signing
@click.pass_obj
def cancel(data_dir: Path, account_id: str, batch: str, quantity: int | None,
           serials: tuple[int, int] | None, reason: str, **signing_: Any) -> None:
    """Cancel units for ever (registry)."""
    act(data_dir, "cancel", {"account": account_id, **units(batch, quantity, serials),
                             "reason": reason}, **signing_)


# --- pledges and repos ----------------------------------------------------------------------


@click.group()
def pledge() -> None:
    """Pledges: units under a bank's lien securing a loan (pledgor and bank both sign)."""


@pledge.command("register")
@click.argument("pledge_id", metavar="PLEDGE")
@click.option("--account", "account_id", required=True, help="The pledgor's account.")
@click.option("--pledgee", required=True, help="The bank (a participant).")
@units_options
@click.option("--loan-reference", required=True)
@click.option("--principal", required=True, metavar="AMOUNT",
              help="In the currency, e.g. 12000000.00.")
@click.option("--currency", required=True, metavar="ISO4217", help="e.g. CNY.")
@click.option("--start", "start_date", required=True, metavar="YYYY-MM-DD")
@click.option("--maturity", "maturity_date", required=True, metavar="YYYY-MM-DD")
@signing
@click.pass_obj
def pledge_register(data_dir: Path, pledge_id: str, account_id: str, pledgee: str,
                    batch: str, quantity: int | None, serials: tuple[int, int] | None,
                    loan_reference: str, principal: str, currency: str, start_date: str,
                    maturity_date: str, **signing_: Any) -> None:
    """Register a pledge. Both the pledgor and the bank sign: one writes it with --out, the
    other co-signs (`cosign FILE`)."""
    act(data_dir, "pledge_register", {
        "pledge": pledge_id, "account": account_id, "pledgee": pledgee,
        **units(batch, quantity, serials), "loanReference": loan_reference,
        "principal": minor_units(principal, currency, "--principal"), "currency": currency,
        "startDate": start_date, "maturityDate": maturity_date}, **signing_)


@pledge.command("release")
@click.argument("pledge_id", metavar="PLEDGE")
@click.option("--quantity", required=True, type=click.IntRange(min=1), metavar="TONNES")
@signing
@click.pass_obj
def pledge_release(data_dir: Path, pledge_id: str, quantity: int, **signing_: Any) -> None:
    """Release units from a pledge back to the pledgor (the bank signs)."""
    act(data_dir, "pledge_release", {"pledge": pledge_id, "quantity": quantity}, **signing_)


@pledge.command("enforce")
@click.argument("pledge_id", metavar="PLEDGE")
@click.option("--quantity", required=True, type=click.IntRange(min=1), metavar="TONNES")
@click.option("--to", "to_account", required=True, metavar="ACCOUNT",
              help="Where the enforced units go.")
@signing
@click.pass_obj
def pledge_enforce(data_dir: Path, pledge_id: str, quantity: int, to_account: str,
                   **signing_: Any) -> None:
    """Enforce a pledge after default (the bank signs; before maturity, the registry
    co-signs)."""
    act(data_dir, "pledge_enforce",
        {"pledge": pledge_id, "quantity": quantity, "toAccount": to_account}, **signing_)


@pledge.command("amend")
@click.argument("pledge_id", metavar="PLEDGE")
@click.option("--loan-reference", required=True)
@click.option("--principal", required=True, metavar="AMOUNT")
@click.option("--currency", required=True, metavar="ISO4217")
@click.option("--maturity", "maturity_date", required=True, metavar="YYYY-MM-DD")
@signing
@click.pass_obj
def pledge_amend(data_dir: Path, pledge_id: str, loan_reference: str, principal: str,
                 currency: str, maturity_date: str, **signing_: Any) -> None:
    """Amend a pledge's loan terms (both parties sign)."""
    act(data_dir, "pledge_amend", {
        "pledge": pledge_id, "loanReference": loan_reference,
        "principal": minor_units(principal, currency, "--principal"), "currency": currency,
        "maturityDate": maturity_date}, **signing_)


@click.group()
def repo() -> None:
    """Repos: a sale with a repurchase agreed (seller and buyer both sign)."""


@repo.command("open")
@click.argument("repo_id", metavar="REPO")
@click.option("--seller-account", required=True)
@click.option("--buyer-account", required=True)
@click.option("--batch", required=True)
@click.option("--quantity", required=True, type=click.IntRange(min=1), metavar="TONNES")
@click.option("--purchase-price", required=True, metavar="AMOUNT")
@click.option("--repurchase-price", required=True, metavar="AMOUNT")
@click.option("--currency", required=True, metavar="ISO4217")
@click.option("--repurchase-date", required=True, metavar="YYYY-MM-DD")
@click.option("--free-use", is_flag=True, help="The buyer may use the units meanwhile.")
@signing
@click.pass_obj
def repo_open(data_dir: Path, repo_id: str, seller_account: str, buyer_account: str,
              batch: str, quantity: int, purchase_price: str, repurchase_price: str,
              currency: str, repurchase_date: str, free_use: bool, **signing_: Any) -> None:
    """Open a repo: one party writes it with --out, the other co-signs."""
    act(data_dir, "repo_open", {
        "repo": repo_id, "sellerAccount": seller_account, "buyerAccount": buyer_account,
        "batch": batch, "quantity": quantity,
        "purchasePrice": minor_units(purchase_price, currency, "--purchase-price"),
        "repurchasePrice": minor_units(repurchase_price, currency, "--repurchase-price"),
        "currency": currency, "repurchaseDate": repurchase_date, "freeUse": free_use},
        **signing_)


@repo.command("close")
@click.argument("repo_id", metavar="REPO")
@click.option("--quantity", required=True, type=click.IntRange(min=1), metavar="TONNES")
@signing
@click.pass_obj
def repo_close(data_dir: Path, repo_id: str, quantity: int, **signing_: Any) -> None:
    """Deliver units back to the seller: the repurchase."""
    act(data_dir, "repo_close", {"repo": repo_id, "quantity": quantity}, **signing_)


@repo.command("default")
@click.argument("repo_id", metavar="REPO")
@click.option("--defaulter", required=True, type=click.Choice(["seller", "buyer"]))
@signing
@click.pass_obj
def repo_default(data_dir: Path, repo_id: str, defaulter: str, **signing_: Any) -> None:
    """Record that a party did not perform (the other party signs)."""
    act(data_dir, "repo_default", {"repo": repo_id, "defaulter": defaulter}, **signing_)


# --- two parties: cosign ----------------------------------------------------------------------


@click.command("cosign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "signer", required=True, metavar="KEYSTORE",
              help="Who co-signs: a keystore's name in DATA_DIR/keystores/, or its path.")
@click.option("--yes", is_flag=True, help="Do not ask: co-sign what the summary says.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the co-signed instruction here (default: back to FILE).")
@click.option("--submit", "and_submit", is_flag=True,
              help="Submit it once co-signed (it is written too).")
@click.pass_obj
def cosign(data_dir: Path, file: Path, signer: str, yes: bool, out: Path | None,
           and_submit: bool) -> None:
    """Read a signed instruction another party wrote, see what it does and who signed it,
    and add your approval. Refused (exit 1), without signing, if it has expired or an
    approval in it would be refused (a signature that does not hold, a stale nonce)."""
    try:
        with file.open() as handle:
            document = read_document(handle)
    except DocumentError as exc:
        raise click.BadParameter(f"{exc}: give a signed instruction's file",
                                 param_hint="FILE") from exc
    keystore = keystore_path(data_dir, signer)
    with open_client(data_dir) as client:
        signed = client.read_signed(document)
        summary = summarize(client, signed)
        me = recorded_address(keystore)
        mine = client.key(me)
        click.echo(summary.text())
        click.echo(f"You sign as {me}"
                   + (f" (participant {mine.participant})." if mine else
                      ": NOT a registered key; the ledger will refuse it."))
        if summary.problems:
            raise refused("not co-signed: " + "; ".join(summary.problems))
        if not yes:
            click.confirm("Co-sign this instruction?", abort=True)
        cosigned = client.cosign(signed, client.wallet(unlock(keystore)))
        target = out or file
        _write_signed(target, cosigned)
        click.echo(f"co-signed by {me}: written to {target}")
        if and_submit:
            say_accepted(cosigned.instruction.op, client.submit(cosigned))


def submit_to_server(server: str, document: Any) -> None:
    """`carbonledger --server URL submit FILE`: the file's instruction (or array of them) to
    the server, answered as the local `submit` answers."""
    click.get_current_context().meta[SERVER] = server
    with open_client(Path(".")) as client:
        if isinstance(document, list):
            results = client.submit_many(document)
            click.echo(json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False))
            if any(isinstance(r, Rejected) for r in results):
                raise SystemExit(ExitCode.REFUSED)
            return
        try:
            receipt = client.submit(document)
        except Rejected as refusal:
            click.echo(json.dumps(refusal.as_dict(), indent=2), err=True)
            raise SystemExit(ExitCode.REFUSED) from refusal
    click.echo(json.dumps(receipt.as_dict(), indent=2))


# --- queries for people -----------------------------------------------------------------------


Column = tuple[str, Callable[[Any], Any]]


def table(columns: Sequence[Column], records: Sequence[Any]) -> str:
    """Records as an aligned table: numbers right-aligned with thousands separators."""
    if not records:
        return "(none)"
    cells = [[_cell(get(r)) for _, get in columns] for r in records]
    numeric = [all(isinstance(get(r), int) and not isinstance(get(r), bool) for r in records)
               for _, get in columns]
    widths = [max(len(name), *(len(row[i]) for row in cells))
              for i, (name, _) in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w)
                         for v, w, n in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line([name for name, _ in columns]),
                      line(["-" * w for w in widths]), *(line(row) for row in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(getattr(value, "value", value))


def show_records(records: Sequence[Any], columns: Sequence[Column], as_json: bool) -> None:
    """Records as a table, or with --json as {"items": [...]}: every show command's output."""
    if as_json:
        click.echo(json.dumps({"items": to_json(list(records))}, indent=2, ensure_ascii=False))
    else:
        click.echo(table(columns, records))


def _json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """A show command's options: --json, and --as to read a server as a participant."""
    function = click.option(
        "--as", "viewer", metavar="KEYSTORE", default=None, expose_value=False,
        callback=lambda ctx, _param, value: ctx.meta.__setitem__(VIEWER, value),
        help="With --server: read as the participant whose key this keystore holds (a name "
             "in DATA_DIR/keystores/, or a path). Its own accounts, those under its "
             "agreements; the registry and auditors read everything.")(function)
    return click.option("--json", "as_json", is_flag=True,
                        help='Print {"items": [...]} for machines.')(function)


@click.group()
def show() -> None:
    """What the ledger holds, as tables (--json for machines)."""


@show.command("participants")
@_json_option
@click.pass_obj
def show_participants(data_dir: Path, as_json: bool) -> None:
    """Every participant and its role."""
    with open_client(data_dir) as client:
        found = client.participants()
    show_records(found, [("participant", lambda p: p.id), ("name", lambda p: p.name),
                  ("role", lambda p: p.role), ("since entry", lambda p: p.registered_seq)],
          as_json)


@show.command("keys")
@click.option("--participant", "participant_id", default=None)
@_json_option
@click.pass_obj
def show_keys(data_dir: Path, participant_id: str | None, as_json: bool) -> None:
    """Registered signing keys, with the nonce each signs with next."""
    with open_client(data_dir) as client:
        found = client.keys(participant_id)
    show_records(found, [("address", lambda k: k.address), ("participant", lambda k: k.participant),
                  ("last nonce", lambda k: k.last_nonce),
                  ("since entry", lambda k: k.registered_seq),
                  ("revoked at entry", lambda k: k.revoked_seq)], as_json)


@show.command("accounts")
@click.option("--participant", "participant_id", default=None)
@_json_option
@click.pass_obj
def show_accounts(data_dir: Path, participant_id: str | None, as_json: bool) -> None:
    """Accounts, their holders and whether they are frozen."""
    with open_client(data_dir) as client:
        found = client.accounts(participant_id)
    show_records(found, [("account", lambda a: a.id), ("participant", lambda a: a.participant),
                  ("type", lambda a: a.type),
                  ("frozen", lambda a: f"yes: {a.freeze_reason}" if a.frozen else "no"),
                  ("since entry", lambda a: a.opened_seq)], as_json)


@show.command("batches")
@click.option("--scheme", default=None)
@_json_option
@click.pass_obj
def show_batches(data_dir: Path, scheme: str | None, as_json: bool) -> None:
    """Issued batches."""
    with open_client(data_dir) as client:
        found = client.batches(scheme)
    show_records(found, [("batch", lambda b: b.id), ("scheme", lambda b: b.scheme),
                  ("kind", lambda b: b.kind), ("vintage", lambda b: str(b.vintage)),
                  ("issuance", lambda b: b.issuance), ("quantity t", lambda b: b.quantity),
                  ("project", lambda b: b.project), ("serial prefix", lambda b: b.serial_prefix),
                  ("entry", lambda b: b.issued_seq)], as_json)


@show.command("holdings")
@click.option("--account", "account_id", default=None)
@click.option("--batch", default=None)
@_json_option
@click.pass_obj
def show_holdings(data_dir: Path, account_id: str | None, batch: str | None,
                  as_json: bool) -> None:
    """What each account holds of each batch, in tonnes by state."""
    with open_client(data_dir) as client:
        found = client.holdings(account_id, batch)
    show_records(found, [("account", lambda h: h.account), ("batch", lambda h: h.batch),
                  ("tradable", lambda h: h.tradable), ("under lien", lambda h: h.pledged),
                  ("retired", lambda h: h.retired), ("surrendered", lambda h: h.surrendered),
                  ("cancelled", lambda h: h.cancelled), ("total", lambda h: h.total)],
          as_json)


@show.command("lots")
@click.option("--batch", default=None)
@click.option("--account", "account_id", default=None)
@_json_option
@click.pass_obj
def show_lots(data_dir: Path, batch: str | None, account_id: str | None,
              as_json: bool) -> None:
    """Live lots: serial ranges, holders, states and liens."""
    with open_client(data_dir) as client:
        found = client.lots(batch, account_id)
    show_records(found, LOT_COLUMNS, as_json)


LOT_COLUMNS: tuple[Column, ...] = (
    ("lot", lambda lot: lot.id), ("batch", lambda lot: lot.batch),
    ("serials", lambda lot: f"{lot.first}..{lot.last}"),
    ("quantity t", lambda lot: lot.quantity), ("account", lambda lot: lot.account),
    ("state", lambda lot: lot.state), ("lien", lambda lot: lot.lien))


@show.command("pledges")
@click.option("--account", "account_id", default=None, help="The pledgor's account.")
@_json_option
@click.pass_obj
def show_pledges(data_dir: Path, account_id: str | None, as_json: bool) -> None:
    """Pledges, their loans and what is still under their liens."""
    with open_client(data_dir) as client:
        found = client.pledges(account_id)
    show_records(found, [("pledge", lambda p: p.id), ("pledgor", lambda p: p.pledgor),
                  ("bank", lambda p: p.pledgee), ("account", lambda p: p.account),
                  ("batch", lambda p: p.batch), ("pledged t", lambda p: p.quantity),
                  ("released t", lambda p: p.released), ("enforced t", lambda p: p.enforced),
                  ("outstanding t", lambda p: p.outstanding),
                  ("loan", lambda p: f"{p.loan_reference}: {money(p.principal, p.currency)}"),
                  ("maturity", lambda p: p.maturity_date), ("status", lambda p: p.status)],
          as_json)


@show.command("repos")
@click.option("--account", "account_id", default=None, help="The seller's or buyer's account.")
@_json_option
@click.pass_obj
def show_repos(data_dir: Path, account_id: str | None, as_json: bool) -> None:
    """Repos, their prices and what is still to be bought back."""
    with open_client(data_dir) as client:
        found = client.repos(account_id)
    show_records(found, [("repo", lambda r: r.id), ("seller account", lambda r: r.seller_account),
                  ("buyer account", lambda r: r.buyer_account), ("batch", lambda r: r.batch),
                  ("sold t", lambda r: r.quantity), ("returned t", lambda r: r.returned),
                  ("repurchase", lambda r: f"{money(r.repurchase_price, r.currency)} by "
                                           f"{r.repurchase_date}"),
                  ("free use", lambda r: r.free_use), ("status", lambda r: r.status)],
          as_json)


@show.command("pledge")
@click.argument("pledge_id", metavar="PLEDGE")
@_json_option
@click.pass_obj
def show_pledge(data_dir: Path, pledge_id: str, as_json: bool) -> None:
    """One pledge: its terms, the lots under its lien and every entry that acted on it."""
    with open_client(data_dir) as client:
        found = client.pledge(pledge_id)
    if found is None:
        raise refused(f"no pledge {pledge_id}: `carbonledger show pledges` lists them")
    _show_history(found, found.pledge, as_json)


@show.command("repo")
@click.argument("repo_id", metavar="REPO")
@_json_option
@click.pass_obj
def show_repo(data_dir: Path, repo_id: str, as_json: bool) -> None:
    """One repo: its terms, the lots under its lien and every entry that acted on it."""
    with open_client(data_dir) as client:
        found = client.repo(repo_id)
    if found is None:
        raise refused(f"no repo {repo_id}: `carbonledger show repos` lists them")
    _show_history(found, found.repo, as_json)


def _show_history(history: Any, terms: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(to_json(history), indent=2, ensure_ascii=False))
        return
    for name, value in to_json(terms).items():
        if name in ("principal", "purchase_price", "repurchase_price"):
            value = f"{value:,} minor units = {money(value, terms.currency)}"
        click.echo(f"{name:<17} {value}")
    click.echo("\nunder its lien:")
    click.echo(table(LOT_COLUMNS, history.lots))
    click.echo("\nits entries:")
    click.echo(table([("entry", lambda e: e.seq), ("accepted at", lambda e: e.accepted_at),
                      ("operation", lambda e: e.op), ("quantity t", lambda e: e.quantity),
                      ("signed by", lambda e: ", ".join(s[:10] + "…" for s in e.signers))],
                     history.entries))


@show.command("journal")
@click.option("--start", type=click.IntRange(min=0), default=None,
              help="The first entry (default: the last --last entries).")
@click.option("--stop", type=click.IntRange(min=0), default=None,
              help="Before this entry (default: the head).")
@click.option("--last", type=click.IntRange(1, 10_000), default=20, show_default=True)
@_json_option
@click.pass_obj
def show_journal(data_dir: Path, start: int | None, stop: int | None, last: int,
                 as_json: bool) -> None:
    """Journal entries: who signed what, when."""
    with open_client(data_dir) as client:
        if stop is None:
            stop = client.head() + 1
        if start is None:
            start = max(0, stop - last)
        if stop < start:
            raise click.BadParameter("--stop is before --start", param_hint="--stop")
        found = client.journal(start, stop)
    show_records(found, [("entry", lambda e: e.seq), ("accepted at", lambda e: e.accepted_at),
                  ("operation", lambda e: e.op), ("signed by", _signers),
                  ("hash", lambda e: e.entry_hash[:18] + "…")], as_json)


def _signers(entry: Any) -> str:
    instruction = entry.document.get("instruction")
    if not isinstance(instruction, dict):  # a checkpoint's marker
        return "(operator)"
    return ", ".join(a["signer"][:10] + "…" for a in instruction.get("approvals", []))


@show.command("checkpoints")
@_json_option
@click.pass_obj
def show_checkpoints(data_dir: Path, as_json: bool) -> None:
    """Signed checkpoints and where each is anchored."""
    with open_client(data_dir) as client:
        found = client.checkpoints()
    show_records(found, [("checkpoint", lambda c: c.number), ("log size", lambda c: c.log_size),
                  ("time", lambda c: c.time), ("log root", lambda c: c.log_root.hex()[:16] + "…"),
                  ("state root", lambda c: c.state_root.hex()[:16] + "…"),
                  ("anchored", lambda c: f"chain {c.anchor.chain_id}, block "
                                         f"{c.anchor.block_number}" if c.anchor else "not yet")],
          as_json)


ROLE_COMMANDS: tuple[click.Command, ...] = (
    participant, account, issue, transfer, retire, cancel, pledge, repo, rotate_key, cosign,
    show,
)
"""The commands api/cli.py adds to `carbonledger` (with `key`, api/keys_cli.py)."""


# --- the remaining queries: the journal's head, a key's nonce ---------------------------------


@show.command("head")
@_json_option
@click.pass_obj
def show_head(data_dir: Path, as_json: bool) -> None:
    """The last journal entry, and how much of the journal the latest checkpoint covers."""
    with open_client(data_dir) as client:
        head = client.head()
        checkpoints = client.checkpoints()
    latest = checkpoints[-1] if checkpoints else None
    if as_json:
        click.echo(json.dumps({"head": head, "checkpoint": latest.number if latest else None,
                               "checkpointed_entries": latest.log_size if latest else 0}))
        return
    click.echo(f"journal head: entry {head} ({head + 1:,} entries)")
    if latest is None:
        click.echo("no checkpoint yet: `carbonledger checkpoint` cuts one")
    else:
        click.echo(f"latest checkpoint: {latest.number}, covering entries 0-{latest.log_size - 1}"
                   f" ({max(0, head + 1 - latest.log_size):,} entries after it)")


@show.command("nonce")
@click.argument("key", metavar="ADDRESS|KEYSTORE")
@_json_option
@click.pass_obj
def show_nonce(data_dir: Path, key: str, as_json: bool) -> None:
    """The last nonce a key signed with, and the one its next signature takes (a key that
    has signed nothing, or is not registered: 0 and 1)."""
    address = _key_address(data_dir, key)
    with open_client(data_dir) as client:
        last = client.next_nonce(address) - 1
    if as_json:
        click.echo(json.dumps({"address": address, "last_nonce": last,
                               "next_nonce": last + 1}))
        return
    click.echo(f"{address}: last nonce {last}, next nonce {last + 1}")
