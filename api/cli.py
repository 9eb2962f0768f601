"""The `carbonledger` command line: an adapter of the application service (api/service.py),
which the composition root builds (`api.bootstrap.build`). Commands parse arguments, call the
service and say what happened; they open no store and read no table themselves. `verify` is
the auditor's: it needs no ledger at all, only the bundle, a trusted key and perhaps a node.

Every failure is one line and exits with the code of its class (api/exit_codes.py: 1 refused,
2 usage, 3 environment)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import click

from api.bootstrap import (
    DEFAULT_CHAIN_ID,
    App,
    build,
    init_ledger,
    password_from_env,
    upgrade_store,
)
from api.config import ConfigError, Deployment, LedgerConfig, load_config, resolve_data_dir
from api.exit_codes import HELP, ExitCode, Failed, environment, failed, refused
from api.inputs import MAX_DOCUMENT_CHARS, DocumentError, parse_document, read_document
from api.roles_cli import SERVER, submit_to_server
from ledger.errors import Rejected
from ledger.instructions import ID_PATTERN, check_text
from ledger.store.errors import StoreError


class _Commands(click.Group):
    """Every command: a failure of the store, the data directory's files, a key, the chain or
    a check is one line that says what to do, never a traceback, and exits with its class's
    code (api/exit_codes.py). A refusal a command answers in its own form exits 1 there."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as failure:
            answer = failed(failure)
            if answer is None:
                raise  # a bug: its traceback is what a report needs
            raise answer from failure


@click.group(cls=_Commands, epilog=HELP)
@click.version_option(package_name="carbonledger", prog_name="carbonledger",
                      message="%(prog)s %(version)s")
@click.option("--data-dir", default=None, help="Ledger data directory (default ./.carbonledger; "
              "or CARBONLEDGER_DATA_DIR).")
@click.option("--server", default=None, envvar="CARBONLEDGER_SERVER", metavar="URL",
              help="A carbonledger server (http://host:port, or CARBONLEDGER_SERVER): the "
                   "role commands, queries and submit go there instead of the data "
                   "directory's ledger.")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, server: str | None) -> None:
    """carbonledger: a permissioned carbon allowance and credit registry."""
    ctx.obj = resolve_data_dir(data_dir)
    ctx.meta[SERVER] = server  # read by the commands that can reach a server (api/roles_cli)


def _password(confirm: bool = False) -> str:
    return password_from_env() or click.prompt("Keystore password", hide_input=True,
                                                confirmation_prompt=confirm)


def _config(data_dir: Path) -> LedgerConfig:
    try:
        return load_config(data_dir)
    except ConfigError as exc:
        raise environment(str(exc)) from exc


def _app(data_dir: Path, **options: Any) -> App:
    """The ledger in `data_dir`, built by the composition root; keys are asked for (or read
    from CARBONLEDGER_PASSWORD) only when a command needs one."""
    return build(_config(data_dir), data_dir, password=_password, **options)


def _progress_bar(label: str) -> Any:
    """A progress bar on standard error, which is drawn only on a terminal (piped or
    captured, the label is printed once): standard output keeps the result alone."""
    return click.progressbar(length=1, label=label, file=sys.stderr)


def _progress(bar: Any) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        bar.length = total
        bar.update(done - bar.pos)

    return progress


@main.command()
@click.option("--registry-id", default="registry", show_default=True,
              help="Registry participant id.")
@click.option("--registry-name", default="Carbon registry", show_default=True)
@click.option("--chain-id", default=DEFAULT_CHAIN_ID, show_default=True,
              type=click.IntRange(1, 2**64 - 1),
              help="EIP-712 chain id the ledger's signatures are bound to.")
@click.option("--rules-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Directory of scheme rule files (*.toml).")
@click.option("--deployment", type=click.Choice([d.value for d in Deployment]),
              default=Deployment.production.value, show_default=True,
              help="What the ledger is run for: only on demo or test may its clock be moved "
                   "(`carbonledger clock`).")
@click.pass_obj
def init(data_dir: Path, registry_id: str, registry_name: str, chain_id: int,
         rules_dir: Path | None, deployment: str) -> None:
    """Create a ledger: data directory, registry key (encrypted keystore), schema, genesis."""
    if data_dir.exists() and not data_dir.is_dir():
        raise click.BadParameter(f"{data_dir} is a file: name a directory for the ledger",
                                 param_hint="--data-dir")
    if (data_dir / "config.json").exists():
        raise refused(f"{data_dir} already holds a ledger: name another --data-dir")
    if not ID_PATTERN.fullmatch(registry_id):
        raise click.BadParameter("letters, digits and . _ : - only, at most 64 characters, "
                                 "starting with a letter or digit", param_hint="--registry-id")
    try:
        check_text("registry name", registry_name)
    except Rejected as bad:
        raise click.BadParameter(f"{bad.detail}: use printable text in Unicode NFC",
                                 param_hint="--registry-name") from bad
    try:
        config, receipt = init_ledger(data_dir, registry=registry_id, registry_name=registry_name,
                                      password=_password(confirm=True), chain_id=chain_id,
                                      rules_dir=rules_dir, deployment=Deployment(deployment))
    except Rejected as refusal:
        raise refused(str(refusal)) from refusal
    click.echo(f"ledger created in {data_dir}: genesis entry {receipt.seq} "
               f"{receipt.entry_hash}; store {config.store_url}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.pass_obj
def upgrade(data_dir: Path) -> None:
    """Apply the schema migrations not yet applied."""
    upgrade_store(_config(data_dir))
    click.echo("schema is up to date")


POOL_FROM_ARRAY = 20_000
"""The smallest array whose signatures `submit` checks in a pool by default. The pool's
processes take seconds of CPU to start (each imports the ledger and builds its operation set),
during which they slow the writer down; the writer checks in process meanwhile, and gains
back ~90 µs an instruction once they are ready (bench/ledger_throughput.py)."""


@main.command()
@click.argument("instruction", type=click.File("r"))
@click.option("--per-transaction", type=click.IntRange(min=1), default=None, metavar="N",
              help="Apply an array in transactions of at most N instructions, in order "
                   "(default: the whole array in one).")
@click.option("--signature-processes", type=click.IntRange(min=0), default=None,
              metavar="N", help="Check an array's signatures in N processes beside the "
                                "writer (0: none; default: one per CPU for an array of "
                                f"{POOL_FROM_ARRAY:,} or more in several transactions).")
@click.pass_obj
def submit(data_dir: Path, instruction: TextIO, per_transaction: int | None,
           signature_processes: int | None) -> None:
    """Submit a signed instruction, or a JSON array of them applied in one transaction (JSON
    file, or - for standard input); print the receipt of each, or why it was refused. A refused
    instruction in an array refuses nothing else; the exit code is 1 if any was refused."""
    try:
        document = read_document(instruction)
    except DocumentError as exc:
        raise Failed(f"{exc}: submit one signed instruction, or an array of them",
                     ExitCode.USAGE) from exc
    server = click.get_current_context().meta.get(SERVER)
    if server:
        if per_transaction is not None or signature_processes is not None:
            raise Failed("--per-transaction and --signature-processes apply to the data "
                         "directory's ledger, not to a server's", ExitCode.USAGE)
        submit_to_server(server, document)
        return
    with _app(data_dir) as app:
        if isinstance(document, list):
            results = _submit_array(app.service, document, per_transaction,
                                    signature_processes)
            click.echo(json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False))
            if any(isinstance(r, Rejected) for r in results):
                sys.exit(ExitCode.REFUSED)
            return
        try:
            receipt = app.service.submit(document)
        except Rejected as refusal:
            click.echo(json.dumps(refusal.as_dict(), indent=2), err=True)
            sys.exit(ExitCode.REFUSED)
    click.echo(json.dumps(receipt.as_dict(), indent=2))


def _submit_array(service: Any, documents: list[Any], per_transaction: int | None,
                  processes: int | None) -> list[Any]:
    """An array's results, applied in transactions of `per_transaction` (all in one by
    default), its signatures checked in a pool of `processes` beside the writer (None: the
    default, above). Asked for explicitly, the pool is waited for; by default the writer
    checks in process until the pool is ready. A transaction that fails as a whole stops the
    array there: what was applied before it is printed, and the failure said."""
    from api.bootstrap import operation_set
    from ledger.parallel_signatures import SignaturePool, SignaturePoolError

    size = per_transaction or max(len(documents), 1)
    submissions = [documents[start:start + size] for start in range(0, len(documents), size)]
    asked = processes is not None
    if processes is None:
        processes = (0 if len(submissions) < 2 or len(documents) < POOL_FROM_ARRAY
                     else os.cpu_count() or 1)
    try:
        domain = service.ledger.domain if processes and documents else None
    except Rejected:
        domain = None  # no genesis yet: the writer checks the signatures itself
    results: list[Any] = []
    try:
        if domain is None:
            for results_of_one in service.submit_stream(submissions):
                results += results_of_one
            return results
        with SignaturePool(domain, operation_set, processes=processes) as pool:
            if asked:
                pool.wait_ready()
            for results_of_one in service.submit_stream(submissions, pool):
                results += results_of_one
        return results
    except (SignaturePoolError, StoreError) as failure:
        if results:
            click.echo(json.dumps([r.as_dict() for r in results], indent=2,
                                  ensure_ascii=False))
        if isinstance(failure, SignaturePoolError):
            raise environment(f"{failure} (the first {len(results)} of the array were "
                              "applied)") from failure
        raise


def _store_option(function: Any) -> Any:
    return click.option(
        "--store", default=None, metavar="URL|FILE",
        help="Check this store instead of the data directory's ledger: a store URL "
             "(postgresql+psycopg://..., sqlite:///...) or a SQLite database file. A copy of "
             "the database is all it takes: no `init`, no config.json; name the operator key "
             "you trust with --operator-key.")(function)


def _ledger_service(data_dir: Path, store: str | None, operator: str | None) -> Any:
    """The service over `store` alone (trusting `operator`), or over the data directory's
    ledger; closed by `contextlib.closing`."""
    from api.bootstrap import build_from_store

    if store is not None:
        return build_from_store(store, operator)
    return _app(data_dir).service


def _operator_for_store(service: Any, operator: str | None) -> None:
    """A store with signed checkpoints is checked against a key the auditor names."""
    from anchoring.auditor.note import NoteError, parse_address

    if operator is not None:
        try:
            parse_address(operator, "--operator-key")
        except NoteError as exc:
            raise click.BadParameter(str(exc), param_hint="--operator-key") from exc
        return
    signed = len(service.checkpoints())
    if signed:
        raise click.UsageError(
            f"the store holds {signed} signed checkpoints: pass --operator-key ADDRESS, the "
            "operator key whose checkpoints you trust")


@main.command()
@click.option("--check", is_flag=True, required=True,
              help="Rebuild from the journal in a scratch database and compare.")
@_store_option
@click.option("--operator-key", default=None, metavar="ADDRESS",
              help="With --store: the operator key whose signed checkpoints you trust "
                   "(required when the store holds checkpoints).")
@click.pass_obj
def replay(data_dir: Path, check: bool, store: str | None, operator_key: str | None) -> None:
    """Rebuild every projection from the journal, re-verify every signature, compare; and
    hold every signed checkpoint to the journal (its signature by the ledger's operator key,
    its marker's position, its log root from the entries' bytes, its time, which never goes
    back). An empty journal or one shorter than its checkpoints say fails. Exit 1 on a
    difference. With --store, a copy of a ledger's database alone is checked."""
    from contextlib import closing

    if operator_key is not None and store is None:
        raise click.UsageError("--operator-key goes with --store: inside a data directory "
                               "its own operator key is used")
    with closing(_ledger_service(data_dir, store, operator_key)) as service:
        if store is not None:
            _operator_for_store(service, operator_key)
        with _progress_bar("replaying") as bar:
            report = service.replay_check(_progress(bar))
        problems = service.check_invariants() if report.ok else []
    if report.ok and not problems:
        click.echo(f"replay --check passed: {report.entries} entries, {report.checkpoints} "
                   f"signed checkpoints agree with them ({report.elapsed_s:.2f} s)")
        _say_step_back(report.largest_step_back)
        return
    click.echo(f"replay --check FAILED: {report.first_difference or problems[0]}", err=True)
    sys.exit(ExitCode.REFUSED)


def _say_step_back(step: tuple[int, float] | None) -> None:
    """Times that go back are no discrepancy (writers' clocks differ), but worth a look."""
    if step is not None:
        click.echo(f"note: entry {step[0]} was accepted {step[1]:.3f} s before an earlier "
                   "entry's time, the largest step back in the journal (writers' clocks "
                   "differ; an entry after the last checkpoint is covered by no signature yet)")


# --- checkpoints, proof bundles, the offline verifier and the audit (anchoring/) -------------

def _trusted_operator(data_dir: Path, option: str | None) -> tuple[str, str]:
    """The operator key to check checkpoints against, and where it came from."""
    from api.bootstrap import OPERATOR_FILE, load_operator

    if option:
        return option, "given with --operator-key"
    operator = load_operator(data_dir)
    if operator is None:
        raise click.UsageError(
            "no trusted operator key: pass --operator-key ADDRESS, the key whose checkpoints "
            "you trust (or run inside the ledger's data directory to use its configured key)")
    return operator.address, f"the ledger's configured operator key, {data_dir / OPERATOR_FILE}"


@main.command("operator-key")
@click.option("--create", is_flag=True, help="Create the operator key if the ledger has none.")
@click.pass_obj
def operator_key(data_dir: Path, create: bool) -> None:
    """Print the address of the operator key that signs checkpoints."""
    from api.bootstrap import create_operator_key, load_operator

    operator = load_operator(data_dir)
    if operator is None and create:
        _config(data_dir)
        operator = create_operator_key(data_dir, _password(confirm=True))
    if operator is None:
        raise environment(f"no operator key in {data_dir}: create one with "
                          "`carbonledger operator-key --create`")
    click.echo(operator.address)


@main.command()
@click.option("--if-due", is_flag=True,
              help="Cut only if --every-entries entries or --every-seconds have passed.")
@click.option("--every-entries", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--every-seconds", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True)
@click.pass_obj
def checkpoint(data_dir: Path, if_due: bool, every_entries: int, every_seconds: float) -> None:
    """Cut a checkpoint: append its marker, compute its log and state roots, sign it."""
    from anchoring.operator.checkpoints import CheckpointPolicy

    with _app(data_dir, policy=CheckpointPolicy(every_entries, every_seconds)) as app:
        cut = app.service.cut_checkpoint(if_due=if_due)  # a failure: one line, by its class
    if cut is None:
        click.echo("no checkpoint due")
        return
    click.echo(f"checkpoint {cut.number}: log size {cut.log_size}, log root "
               f"{cut.log_root.hex()}, state root {cut.state_root.hex()}, signed by "
               f"{cut.signer}\n")
    click.echo(cut.note, nl=False)


@main.group()
def proof() -> None:
    """Proof bundles: self-contained JSON evidence, checked offline by `carbonledger verify`."""


def _checkpoint_option(function: Any) -> Any:
    return click.option("--checkpoint", "number", type=click.IntRange(min=1), default=None,
                        help="Prove against this checkpoint (default: the latest).")(function)


def _output_option(function: Any) -> Any:
    return click.option("-o", "--output", type=click.File("w"), default="-",
                        help="Write the bundle here (default: standard output).")(function)


def _source_options(function: Any) -> Any:
    """Where a bundle comes from: the data directory's ledger, or a server, whose bundle is
    checked here against the operator key the user trusts before it is written."""
    for option in reversed((
        click.option("--server", "server", default=None, metavar="URL",
                     help="Fetch the bundle from this carbonledger server (default: "
                          "carbonledger's --server, or CARBONLEDGER_SERVER) instead of the "
                          "data directory's ledger."),
        click.option("--operator-key", default=None, metavar="ADDRESS",
                     help="The operator key you trust: the bundle must verify against it "
                          "before it is written. Required with a server unless the data "
                          "directory holds the ledger's operator key."),
        click.option("--as", "reader", default=None, metavar="KEYSTORE",
                     help="With a server: log in as this keystore's participant (a name in "
                          "DATA_DIR/keystores/, or a path), for a proof only it may read."),
    )):
        function = option(function)
    return function


def _served_from(server: str | None) -> str | None:
    """The server a proof command fetches from: its own --server, else carbonledger's."""
    return server or click.get_current_context().meta.get(SERVER)


def _emit_bundle(data_dir: Path, kind: str, *subject: Any, number: int | None = None,
                 output: TextIO, server: str | None = None, operator_key: str | None = None,
                 reader: str | None = None, live_lot: bool = False) -> dict[str, Any]:
    """Make a bundle (the service checks it against the ledger's operator key before handing
    it out) and write it; or fetch it from a server and write it only once it verifies here
    against the operator key the user trusts: a server is not trusted."""
    from anchoring.auditor.errors import VerificationFailed

    if _served_from(server):
        return _emit_served_bundle(data_dir, kind, *subject, number=number, output=output,
                                   server=_served_from(server), operator_key=operator_key,
                                   reader=reader, live_lot=live_lot)
    if reader is not None:
        raise click.UsageError("--as logs in to a server: give --server URL too")
    with _app(data_dir) as app:
        try:
            bundle = app.service.prove(kind, *subject, checkpoint=number)
        except VerificationFailed as exc:
            raise refused(
                f"the bundle does not verify against the operator key {app.service.operator}: "
                f"{exc.reason}. The database may have been changed: run `carbonledger audit`"
            ) from exc
        if operator_key is not None:  # the user names the key: hold the bundle to it too
            _check_bundle(lambda b: app.service.verify(b, operator_key), bundle,
                          operator_key, "given with --operator-key", "the ledger here")
    output.write(json.dumps(bundle, indent=2) + "\n")
    return bundle


def _emit_served_bundle(data_dir: Path, kind: str, *subject: Any, number: int | None,
                        output: TextIO, server: str | None, operator_key: str | None,
                        reader: str | None, live_lot: bool) -> dict[str, Any]:
    from api.roles_cli import open_client

    trusted, source = _trusted_operator(data_dir, operator_key)
    _reach(server, reader)
    with open_client(data_dir) as client:
        if live_lot:
            _refuse_ended_lot(client, subject[0], number)
        bundle = dict(client.proof(kind, *subject, checkpoint=number))
        statement = _check_bundle(lambda b: client.verify(b, trusted), bundle, trusted,
                                  source, str(server))
    if live_lot and bundle.get("state", {}).get("value") is None:
        # the journal that says which lots replaced it was not readable to this login
        raise refused(f"lot {subject[0]} was not live at the checkpoint (the bundle proves "
                      "its absence): it was split or closed before it, or never existed. "
                      "`carbonledger show lots` lists the live ones; pass --absent to keep "
                      "the proof that it was not live")
    output.write(json.dumps(bundle, indent=2) + "\n")
    # plain words on standard error: standard output may be the bundle itself
    click.echo(f"checked against operator key {trusted} ({source}): {statement}.", err=True)
    return bundle


def _refuse_ended_lot(client: Any, lot_id: str, number: int | None) -> None:
    """`_lot_ended` from the server's journal, where the login may read it."""
    from api.client import ServerFailed

    try:
        ended = _lot_ended(client, lot_id, number)
    except ServerFailed as exc:
        if exc.status not in (401, 403):
            raise
        return  # not this login's to read: the bundle, once fetched, says whether it was live
    if ended is not None:
        raise refused(ended)


def _check_bundle(verify: Callable[[Any], Any], bundle: dict[str, Any], trusted: str,
                  source: str, where: str) -> str:
    """What `bundle` proves, verified against `trusted`; refused (nothing written) if it does
    not verify."""
    from anchoring.auditor.errors import VerificationFailed

    try:
        return str(verify(bundle).statement)
    except VerificationFailed as exc:
        raise refused(f"the bundle from {where} does not verify against the operator key "
                      f"{trusted} ({source}): ({exc.code.name}) {exc.reason}. Nothing was "
                      "written: ask the operator, or check that you trust the right key") \
            from exc


def _reach(server: str | None, reader: str | None) -> None:
    """Let `open_client` (api/roles_cli.py) reach `server`, logged in as `reader`'s key."""
    from api.roles_cli import VIEWER

    meta = click.get_current_context().meta
    meta[SERVER] = server
    if reader is not None:
        meta[VIEWER] = reader


@proof.command("entry")
@click.argument("seq", type=click.IntRange(min=0))
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_entry(data_dir: Path, seq: int, number: int | None, output: TextIO,
                **source: Any) -> None:
    """A journal entry and its inclusion proof in a checkpoint's log."""
    _emit_bundle(data_dir, "entry", seq, number=number, output=output, **source)


@proof.command("lot")
@click.argument("lot_id")
@_checkpoint_option
@_output_option
@click.option("--absent", is_flag=True,
              help="Prove that the lot was not live at the checkpoint, even if it was split "
                   "or closed before it (without this flag that is refused, naming the lots "
                   "that replaced it).")
@_source_options
@click.pass_obj
def proof_lot(data_dir: Path, lot_id: str, number: int | None, output: TextIO,
              absent: bool, **source: Any) -> None:
    """A lot's state at a checkpoint. A lot split or closed before the checkpoint is refused
    (exit 1) naming the lots that replaced it; --absent proves that it was not a live lot."""
    if not absent and not _served_from(source.get("server")):  # a server's: as it is fetched
        with _app(data_dir) as app:
            ended = _lot_ended(app.service, lot_id, number)
        if ended is not None:
            raise refused(ended)
    _emit_bundle(data_dir, "lot", lot_id, number=number, output=output, live_lot=not absent,
                 **source)


def _lot_ended(service: Any, lot_id: str, number: int | None) -> str | None:
    """Why lot `lot_id` is no live lot at checkpoint `number` (default: the latest) when an
    entry before it closed the lot: that entry, and the lots it created in the closed lot's
    serials (the journal entry's effects); None if no entry before the checkpoint closed it."""
    created_at, _, _ = lot_id.partition(".")
    checkpoints = service.checkpoints()
    checkpoint = next((c for c in checkpoints if c.number == number), None) if number \
        else (checkpoints[-1] if checkpoints else None)
    if not created_at.isdigit() or checkpoint is None:
        return None  # not an id the ledger makes, or no checkpoint: the prover says so
    lot = None
    start = int(created_at)
    while start < checkpoint.log_size:
        entries = service.journal(start, checkpoint.log_size)
        for entry in entries:
            effects = entry.document.get("effects", {})
            if lot is None:
                lot = next((c for c in effects.get("created", []) if c["id"] == lot_id), None)
                if lot is None:
                    return None  # the entry its id names did not create it
            elif lot_id in effects.get("closed", []):
                parts = [c for c in effects.get("created", []) if c["batch"] == lot["batch"]
                         and c["first"] <= lot["last"] and c["last"] >= lot["first"]]
                replaced = "; ".join(f"{c['id']} (serials {c['first']}-{c['last']}, "
                                     f"{c['account']}, {c['state']})" for c in parts)
                return (f"lot {lot_id} (serials {lot['first']}-{lot['last']} of {lot['batch']}) "
                        f"is not live at checkpoint {checkpoint.number}: entry {entry.seq} "
                        f"({entry.op}) closed it"
                        + (f" and replaced it with {replaced}" if parts else "")
                        + ". Prove those lots, or pass --absent to prove that this one is "
                        "not live")
        if not entries:
            break
        start = entries[-1].seq + 1
    return None


@proof.command("holding")
@click.argument("account")
@click.argument("batch")
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_holding(data_dir: Path, account: str, batch: str, number: int | None,
                  output: TextIO, **source: Any) -> None:
    """What an account held of a batch at a checkpoint, bucket by bucket."""
    _emit_bundle(data_dir, "holding", account, batch, number=number, output=output, **source)


@proof.command("account")
@click.argument("account")
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_account(data_dir: Path, account: str, number: int | None, output: TextIO,
                  **source: Any) -> None:
    """An account's holder, type and frozen flag at a checkpoint."""
    _emit_bundle(data_dir, "account", account, number=number, output=output, **source)


@proof.command("consistency")
@click.argument("first", type=click.IntRange(min=1))
@click.argument("second", type=click.IntRange(min=1))
@_output_option
@_source_options
@click.pass_obj
def proof_consistency(data_dir: Path, first: int, second: int, output: TextIO,
                      **source: Any) -> None:
    """Proof that checkpoint SECOND's log extends checkpoint FIRST's."""
    _emit_bundle(data_dir, "consistency", first, second, output=output, **source)


@proof.command("pledge")
@click.argument("pledge_id")
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_pledge(data_dir: Path, pledge_id: str, number: int | None, output: TextIO,
                 **source: Any) -> None:
    """A pledge's evidence pack: its registration and later entries, its pledgor's account and
    every lot under its lien at a checkpoint, in one bundle — what a bank shows a court or
    another lender."""
    pack = _emit_bundle(data_dir, "pledge", pledge_id, number=number, output=output, **source)
    _say_what_it_proves(data_dir, pack, source, "pack")


def _say_what_it_proves(data_dir: Path, bundle: dict[str, Any], source: dict[str, Any],
                        what: str = "bundle") -> None:
    """What a module's bundle just written proves, checked against the ledger's operator key:
    its statement is what a reader of the evidence wants to see."""
    from api.bootstrap import load_operator

    if _served_from(source.get("server")):
        return  # checked against the trusted key, and said so, as it was fetched
    # Plain words on standard error: standard output may be the bundle itself.
    operator = load_operator(data_dir)
    if operator is None:
        click.echo(f"{what} written; no operator key is configured here to check it with: "
                   "run `carbonledger verify --operator-key ADDRESS` on it", err=True)
        return
    with _app(data_dir) as app:
        statement = app.service.verify(bundle).statement
    click.echo(f"checked against operator key {operator.address}: {statement}.", err=True)


@proof.command("emissions")
@click.argument("submission")
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_emissions(data_dir: Path, submission: str, number: int | None, output: TextIO,
                    **source: Any) -> None:
    """A monthly submission's emissions record at a checkpoint (installation, month,
    kilograms, document hash, flags, whether a correction superseded it) with the
    monthly_submit entry that journaled it."""
    bundle = _emit_bundle(data_dir, "emissions", submission, number=number, output=output,
                          **source)
    _say_what_it_proves(data_dir, bundle, source)


@proof.command("obligation")
@click.argument("emitter")
@click.argument("year", type=click.IntRange(1990, 2200))
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_obligation(data_dir: Path, emitter: str, year: int, number: int | None,
                     output: TextIO, **source: Any) -> None:
    """An emitter's verified obligation for YEAR and what it surrendered against it at a
    checkpoint, or the proof that it had none."""
    bundle = _emit_bundle(data_dir, "obligation", emitter, year, number=number,
                          output=output, **source)
    _say_what_it_proves(data_dir, bundle, source)


@proof.command("disclosure")
@click.argument("year", type=click.IntRange(1990, 2200))
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_disclosure(data_dir: Path, year: int, number: int | None, output: TextIO,
                     **source: Any) -> None:
    """YEAR's disclosure of verified emissions and surrendered allowances and credits, one
    row per emitter, each with the state proof of its obligation at a checkpoint."""
    bundle = _emit_bundle(data_dir, "disclosure", year, number=number, output=output,
                          **source)
    _say_what_it_proves(data_dir, bundle, source)


@proof.command("retirement")
@click.argument("retirement")
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_retirement(data_dir: Path, retirement: str, number: int | None, output: TextIO,
                     **source: Any) -> None:
    """A retirement for an offsetting claim and the provenance of its units at a checkpoint:
    its entry, the entries of the issuance, the verification, the project's submission,
    validation and registration and its methodology, and the state of every lot it retired,
    in one bundle — what a certificate's holder checks."""
    bundle = _emit_bundle(data_dir, "retirement", retirement, number=number, output=output,
                          **source)
    _say_what_it_proves(data_dir, bundle, source)


@proof.command("provenance")
@click.argument("batch")
@click.argument("serial", type=click.IntRange(1, 2**53 - 1))
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_provenance(data_dir: Path, batch: str, serial: int, number: int | None,
                     output: TextIO, **source: Any) -> None:
    """Where a CCER unit comes from, at a checkpoint: the lot that holds SERIAL of BATCH
    (whatever its state) and the entries of the batch's issuance, its monitoring period's
    report and verification, its project's submission, validation and registration and its
    methodology, in one bundle."""
    bundle = _emit_bundle(data_dir, "provenance", batch, serial, number=number, output=output,
                          **source)
    _say_what_it_proves(data_dir, bundle, source)


@proof.command("auction")
@click.argument("auction")
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_auction(data_dir: Path, auction: str, number: int | None, output: TextIO,
                  **source: Any) -> None:
    """A cleared auction's record at a checkpoint (its terms, the digest committing to every
    bid, its results), its disclosed book and results: `carbonledger verify FILE --bid BID`
    recomputes the digest and the clearing from the bids and finds the bidder's own."""
    bundle = _emit_bundle(data_dir, "auction", auction, number=number, output=output,
                          **source)
    _say_what_it_proves(data_dir, bundle, source)


@proof.command("allocation")
@click.argument("scheme")
@click.argument("year", type=click.IntRange(1990, 2200))
@click.option("--installation", default=None, metavar="ID",
              help="Also this installation's allocation for YEAR and the journal entries its "
                   "figures rest on (its emitter's, the registry's and auditors' to read).")
@_checkpoint_option
@_output_option
@_source_options
@click.pass_obj
def proof_allocation(data_dir: Path, scheme: str, year: int, installation: str | None,
                     number: int | None, output: TextIO, **source: Any) -> None:
    """A scheme's allocation plan for YEAR at a checkpoint: its cap, its counters (issued,
    taken back, reserve, to auction, on offer) and each sector's free allocation so far.
    `carbonledger verify FILE` checks that the plan keeps its cap and each sector its free
    cap; with --installation, it recomputes the installation's pre-allocation and final
    figure from the verified outputs and the scheme's rules in the bundle."""
    subject = (scheme, year) if installation is None else (scheme, year, installation)
    bundle = _emit_bundle(data_dir, "allocation", *subject, number=number, output=output,
                          **source)
    _say_what_it_proves(data_dir, bundle, source)


def trust_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """What a verifying command trusts: the operator key, a chain node and the registry on
    it, witnesses (`verify` and `verify-document`)."""
    for option in reversed((
        click.option("--operator-key", default=None, metavar="ADDRESS",
                     help="The operator key you trust (default: the ledger's configured one, "
                          "when run inside its data directory)."),
        click.option("--rpc", "rpc_url", default=None, metavar="URL",
                     help="A JSON-RPC node of the anchor's chain: confirm there that the "
                          "checkpoint is anchored as the bundle claims. Without it the check "
                          "is offline and the anchor claim is not checked."),
        click.option("--anchor-registry", default=None, metavar="ADDRESS",
                     help="With --rpc: the AnchorRegistry you trust (default: the ledger's "
                          "chain.json when run inside its data directory, else the one the "
                          "bundle names)."),
        click.option("--witness", "witness_vkeys", multiple=True, metavar="VKEY",
                     help="A witness you trust, by its vkey (repeatable): the checkpoint must "
                          "carry its cosignature (`carbonledger witness key` prints a "
                          "witness's vkey)."),
        click.option("--witness-threshold", type=click.IntRange(min=1), default=None,
                     metavar="K", help="With --witness: how many of the named witnesses must "
                                       "have cosigned (default: all of them)."),
    )):
        function = option(function)
    return function


@main.command("verify")
@click.argument("bundle", type=click.File("r"), required=False)
@trust_options
@click.option("--tiles", "tiles_location", default=None, metavar="DIR|URL",
              help="Instead of a bundle: the log published as C2SP tlog-tiles (a directory, "
                   "or an http(s) URL prefix such as a mirror or SERVER/tiles). Its checkpoint "
                   "is checked, and the proofs asked for are built from its tiles alone.")
@click.option("--entry", "entries", type=click.IntRange(min=0), multiple=True, metavar="SEQ",
              help="With --tiles: prove that entry SEQ is in the log (repeatable). Entry "
                   "bundles a service guards need a token in CARBONLEDGER_TOKEN.")
@click.option("--since", type=click.File("r"), default=None, metavar="CHECKPOINT_FILE",
              help="With --tiles: prove that the published log extends this earlier signed "
                   "checkpoint (a note you kept).")
@click.option("--bid", "bid_id", default=None, metavar="BID",
              help="With an auction's bundle: your bid, which must be in its verified book; "
                   "say what it won.")
@click.pass_obj
def verify_command(data_dir: Path, bundle: TextIO | None, operator_key: str | None,
                   rpc_url: str | None, anchor_registry: str | None,
                   witness_vkeys: tuple[str, ...], witness_threshold: int | None,
                   tiles_location: str | None, entries: tuple[int, ...],
                   since: TextIO | None, bid_id: str | None) -> None:
    """Check a proof bundle; say what it proves. Or, with --tiles, check the published log's
    checkpoint and build proofs from its tiles alone. Exit 1 when it does not hold, 2 when
    the bundle cannot be read, 3 when the node given with --rpc (or a tile) cannot be
    reached."""
    from anchoring.auditor.errors import VerificationFailed
    from anchoring.auditor.verify import verify_bundle

    if (bundle is None) == (tiles_location is None):
        raise click.UsageError("name a BUNDLE to check, or the log's tiles with --tiles")
    if tiles_location is None and (entries or since is not None):
        raise click.UsageError("--entry and --since build proofs from tiles: give --tiles")
    if tiles_location is not None:
        if rpc_url is not None or witness_vkeys or bid_id is not None:
            raise click.UsageError("--tiles checks proofs against the signed checkpoint; "
                                   "--rpc, --witness and --bid go with a bundle")
        trusted, source = _trusted_operator(data_dir, operator_key)
        click.echo(f"trusting operator key {trusted} ({source})")
        verify_from_tiles(tiles_location, trusted, entries, since)
        return
    assert bundle is not None
    if anchor_registry is not None and rpc_url is None:
        raise click.UsageError("--anchor-registry is checked on chain: give --rpc URL too")
    witnesses = _trusted_witnesses(witness_vkeys, witness_threshold)
    trusted, source = _trusted_operator(data_dir, operator_key)
    click.echo(f"trusting operator key {trusted} ({source})")
    document = _read_bundle_file(bundle)
    if bid_id is not None and (not isinstance(document, dict)
                               or document.get("kind") != "auction"):
        raise click.UsageError("--bid goes with an auction's bundle (`carbonledger proof "
                               "auction AUCTION`)")
    try:
        verified = verify_bundle(document, trusted, witnesses=witnesses,
                                 witness_threshold=witness_threshold)
    except VerificationFailed as exc:
        raise _not_verified(f"({exc.code.name}) {exc.reason}") from exc
    if rpc_url is not None:
        _verify_on_chain(data_dir, document, trusted, rpc_url, anchor_registry)
        _say_witnessed(verified, len(witnesses))
    else:
        _say_verified(verified)
        _say_witnessed(verified, len(witnesses))
        _say_anchors_unchecked(verified)
    if bid_id is not None:
        _say_bid(document, bid_id)


def _say_bid(document: Any, bid_id: str) -> None:
    """The bidder's own bid in a verified auction book, and what it won; exit 1 if the book
    does not hold it (the bid was left out of what the auction committed to)."""
    from anchoring.auditor.verify_allocation import describe_bid

    try:
        click.echo(f"YOUR BID: {describe_bid(document, bid_id)}.")
    except ValueError as exc:
        raise _not_verified(f"{exc}: the auction's committed book does not hold your bid") \
            from exc


@main.command("verify-document")
@click.argument("file", type=click.File("rb"))
@click.argument("bundle", type=click.File("r"))
@trust_options
@click.pass_obj
def verify_document_command(data_dir: Path, file: BinaryIO, bundle: TextIO,
                            operator_key: str | None, rpc_url: str | None,
                            anchor_registry: str | None, witness_vkeys: tuple[str, ...],
                            witness_threshold: int | None) -> None:
    """Check that FILE is exactly the document a journal entry commits to (monthly data, an
    annual report: its SHA-256) and that the entry is in a checkpoint signed by the operator
    key you trust. BUNDLE is that entry's proof (`carbonledger proof entry SEQ`). Exit 1 when
    it does not hold (a file changed by one byte does not), 2 when a file cannot be read, 3
    when the node given with --rpc cannot be reached."""
    from anchoring.auditor.errors import VerificationFailed
    from anchoring.auditor.verify_document import verify_document

    if anchor_registry is not None and rpc_url is None:
        raise click.UsageError("--anchor-registry is checked on chain: give --rpc URL too")
    witnesses = _trusted_witnesses(witness_vkeys, witness_threshold)
    trusted, source = _trusted_operator(data_dir, operator_key)
    click.echo(f"trusting operator key {trusted} ({source})")
    try:
        data = file.read()
    except OSError as exc:
        raise _not_verified(f"the file cannot be read: {exc}", ExitCode.USAGE) from exc
    document = _read_bundle_file(bundle)
    try:
        checked = verify_document(document, data, trusted, witnesses=witnesses,
                                  witness_threshold=witness_threshold)
    except VerificationFailed as exc:
        raise _not_verified(f"({exc.code.name}) {exc.reason}") from exc
    click.echo(f"DOCUMENT VERIFIED: {checked.statement}.")
    if rpc_url is not None:
        _verify_on_chain(data_dir, document, trusted, rpc_url, anchor_registry)
        _say_witnessed(checked.verified, len(witnesses))
        return
    _say_verified(checked.verified)
    _say_witnessed(checked.verified, len(witnesses))
    _say_anchors_unchecked(checked.verified)


def _read_bundle_file(bundle: TextIO) -> Any:
    """A bundle file as JSON, strictly (a duplicate key is refused, not one chosen); exit 2
    when it cannot be read as one, 1 when it is JSON but not the format's."""
    from anchoring.auditor.errors import VerificationFailed, VerifyFailure
    from anchoring.auditor.verify import read_bundle

    try:
        text = bundle.read(MAX_DOCUMENT_CHARS + 1)
        return read_bundle(text)
    except UnicodeDecodeError as exc:
        raise _not_verified(f"the bundle cannot be read: {exc}", ExitCode.USAGE) from exc
    except VerificationFailed as exc:
        if exc.code is not VerifyFailure.not_a_bundle:  # JSON, but not the format's
            raise _not_verified(f"({exc.code.name}) {exc.reason}") from exc
        try:  # not JSON, too large or too deep: as any document the ledger reads
            parse_document(text)
        except DocumentError as unreadable:
            raise _not_verified(f"the bundle cannot be read: {unreadable}",
                                ExitCode.USAGE) from exc
        raise _not_verified(f"the bundle cannot be read: {exc.reason}", ExitCode.USAGE) from exc


def _say_anchors_unchecked(verified: Any) -> None:
    for claim in verified.anchors:
        anchor = claim.anchor
        if anchor is None:
            click.echo(f"Anchor of checkpoint {claim.checkpoint.number}: none in the bundle (it "
                       "was not anchored when the bundle was made).")
        else:
            click.echo(f"Anchor of checkpoint {claim.checkpoint.number} claimed: chain "
                       f"{anchor['chain_id']}, registry {anchor['contract']}, transaction "
                       f"{anchor['tx_hash']}, block {anchor['block_number']} — NOT CHECKED: "
                       "this check is offline; add --rpc URL (a node of that chain) to "
                       "confirm it on chain.")


def _trusted_witnesses(vkeys: tuple[str, ...], threshold: int | None) -> list[Any]:
    """The witnesses named with --witness, checked before anything is read."""
    from anchoring.auditor.cosignature import CosignatureError, parse_vkey

    if threshold is not None and threshold > len(set(vkeys)):
        raise click.BadParameter(f"{threshold} of {len(set(vkeys))} named witnesses: name at "
                                 "least as many --witness as the threshold",
                                 param_hint="--witness-threshold")
    try:
        return [parse_vkey(vkey) for vkey in vkeys]
    except CosignatureError as exc:
        raise click.BadParameter(str(exc), param_hint="--witness") from exc


def _say_witnessed(verified: Any, named: int) -> None:
    if named:
        names = ", ".join(c.witness.name for c in verified.cosigned_by)
        click.echo(f"WITNESSED: the checkpoint is cosigned by {len(verified.cosigned_by)} of "
                   f"the {named} witnesses trusted: {names}.")


def _not_verified(reason: str, code: ExitCode = ExitCode.REFUSED) -> SystemExit:
    """Say why, and the exit to raise."""
    click.echo(f"NOT VERIFIED: {reason}", err=True)
    return SystemExit(code)


def _say_verified(verified: Any) -> None:
    click.echo(f"VERIFIED: {verified.statement}.")
    click.echo(f"The checkpoint is signed by {verified.operator}, the key trusted above.")


def _trusted_registry(data_dir: Path | None, option: str | None
                      ) -> tuple[str | None, int | None, str]:
    """The registry (and its chain id) to check anchors against, and where it came from;
    (None, None, ...) when the auditor names none and no ledger is at hand (`data_dir`
    None: a store audited alone, whose data directory is not here)."""
    from anchoring.auditor.note import NoteError, parse_address
    from anchoring.operator.chain import ChainRecord, ChainRecordError

    if option is not None:
        try:
            parse_address(option, "--anchor-registry")
        except NoteError as exc:
            raise click.BadParameter(str(exc), param_hint="--anchor-registry") from exc
        return option, None, "given with --anchor-registry"
    try:
        record = ChainRecord.load_if_present(data_dir) if data_dir is not None else None
    except ChainRecordError as exc:
        raise environment(str(exc)) from exc
    if record is not None and data_dir is not None:
        return record.registry, record.chain_id, \
            f"the ledger's registry, {data_dir / 'chain.json'}"
    return None, None, ("the one the bundle names: pin the registry you trust with "
                        "--anchor-registry")


def _verify_on_chain(data_dir: Path, document: Any, trusted: str, rpc_url: str,
                     registry: str | None) -> None:
    from datetime import UTC, datetime

    from anchoring.auditor.errors import VerificationFailed
    from anchoring.operator.chain import AnchorNotConfirmed, ChainUnavailable, RpcChain, redact_url
    from anchoring.verify_chain import verify_bundle_on_chain

    pinned, chain_id, source = _trusted_registry(data_dir, registry)
    node = RpcChain(rpc_url, None)
    try:
        result = verify_bundle_on_chain(document, trusted, node.w3, registry=pinned,
                                        chain_id=chain_id)
    except VerificationFailed as exc:
        raise _not_verified(exc.reason) from exc
    except AnchorNotConfirmed as exc:
        raise _not_verified(f"({exc.mismatch.value}) {exc}. The proof holds against the "
                            "signed checkpoint, but the chain does not bear out its anchor") \
            from exc
    except ChainUnavailable as exc:
        click.echo(f"NOT CHECKED: {exc} (node {redact_url(rpc_url)})", err=True)
        raise SystemExit(ExitCode.ENVIRONMENT) from exc
    _say_verified(result.verified)
    for claim, confirmed in zip(result.verified.anchors, result.confirmed, strict=True):
        assert claim.anchor is not None, "an anchor was confirmed"
        when = datetime.fromtimestamp(confirmed.block_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"ANCHORED: checkpoint {claim.checkpoint.number} (its size and both roots, "
                   f"as signed) is held by the registry {confirmed.contract} ({source}) on "
                   f"chain {confirmed.chain_id}: transaction {claim.anchor['tx_hash']}, block "
                   f"{confirmed.block_number} ({when}), {confirmed.confirmations} "
                   f"confirmation(s), read from the node {redact_url(rpc_url)}.")


@main.command("audit")
@click.option("--operator-key", default=None, metavar="ADDRESS",
              help="The operator key you trust (default: the ledger's configured one).")
@click.option("--rpc", "rpc_url", default=None, metavar="URL",
              help="A JSON-RPC node of the registry's chain: also compare every recomputed "
                   "checkpoint with what the registry holds for it.")
@click.option("--anchor-registry", default=None, metavar="ADDRESS",
              help="With --rpc: the AnchorRegistry to compare with (default: the ledger's "
                   "chain.json).")
@click.option("--expect-checkpoint", type=click.IntRange(min=1), default=None, metavar="N",
              help="Checkpoint N is known to exist (from an earlier audit, a proof bundle, a "
                   "report): fail if the journal's markers stop before it, even when the "
                   "store's checkpoints were cut short with it.")
@_store_option
@click.pass_obj
def audit_command(data_dir: Path, operator_key: str | None, rpc_url: str | None,
                  anchor_registry: str | None, expect_checkpoint: int | None,
                  store: str | None) -> None:
    """Replay the journal, re-verify every signature, recompute every checkpoint (and, with
    --rpc, compare each with its anchor). An empty journal, one shorter than its signed
    checkpoints say, or (with --rpc) with fewer markers than the registry has checkpoints,
    fails. Exit 1 on a discrepancy, 3 when the node cannot be reached. With --store, a copy
    of a ledger's database alone is audited (no data directory, no config.json)."""
    if anchor_registry is not None and rpc_url is None:
        raise click.UsageError("--anchor-registry is read on chain: give --rpc URL too")
    if store is not None:
        _audit_store(store, operator_key, rpc_url, anchor_registry, expect_checkpoint)
        return
    _config(data_dir)  # a ledger must be here before anything is asked or read
    trusted, source = _trusted_operator(data_dir, operator_key)
    click.echo(f"trusting operator key {trusted} ({source})")
    with _app(data_dir) as app:
        _audit(app.service, trusted, _chain_to_compare(data_dir, rpc_url, anchor_registry),
               expect_checkpoint)


def _audit_store(store: str, operator_key: str | None, rpc_url: str | None,
                 anchor_registry: str | None, expect_checkpoint: int | None) -> None:
    """`audit --store`: the auditor holds a copy of the database, and names what it trusts."""
    from contextlib import closing

    from api.bootstrap import build_from_store

    with closing(build_from_store(store, operator_key)) as service:
        _operator_for_store(service, operator_key)
        chain = _chain_to_compare(None, rpc_url, anchor_registry)
        if operator_key is None:  # no checkpoints: nothing is signed, nothing to trust
            if expect_checkpoint is not None:
                click.echo(f"audit FAILED: checkpoint {expect_checkpoint} is known to exist, "
                           "but the store holds no signed checkpoint", err=True)
                sys.exit(ExitCode.REFUSED)
            click.echo("the store holds no signed checkpoint: replaying its journal alone")
            with _progress_bar("auditing") as bar:
                replayed = service.replay_check(_progress(bar))
            problem = replayed.first_difference if not replayed.ok else \
                next(iter(service.check_invariants()), None)
            if problem is not None:
                click.echo(f"audit FAILED: {problem}", err=True)
                sys.exit(ExitCode.REFUSED)
            click.echo(f"audit passed: {replayed.entries} entries replayed and their "
                       f"signatures re-verified, 0 signed checkpoints "
                       f"({replayed.elapsed_s:.2f} s)")
            return
        click.echo(f"trusting operator key {operator_key} (given with --operator-key)")
        _audit(service, operator_key, chain, expect_checkpoint)


def _chain_to_compare(data_dir: Path | None, rpc_url: str | None,
                      anchor_registry: str | None) -> Any:
    """The registry to compare checkpoints with (read over --rpc), or None without --rpc."""
    from anchoring.operator.chain import (
        AnchorNotConfirmed,
        ChainUnavailable,
        RpcChain,
        read_registry,
        redact_url,
    )

    chain = None
    if rpc_url is not None:
        address, chain_id, registry_source = _trusted_registry(data_dir, anchor_registry)
        if address is None:
            raise click.UsageError("no registry to compare with: pass --anchor-registry "
                                   "ADDRESS, the "
                                   "AnchorRegistry this ledger's checkpoints are anchored on")
        try:
            chain = read_registry(RpcChain(rpc_url, None).w3, address, chain_id=chain_id)
        except AnchorNotConfirmed as exc:
            raise refused(f"cannot compare with the chain ({exc.mismatch.value}): {exc}") \
                from exc
        except ChainUnavailable as exc:
            click.echo(f"audit NOT STARTED: {exc} (node {redact_url(rpc_url)})", err=True)
            raise SystemExit(ExitCode.ENVIRONMENT) from exc
        click.echo(f"comparing with the {chain.description} ({registry_source}), read from "
                   f"the node {redact_url(rpc_url)}")
    return chain


def _audit(service: Any, trusted: str, chain: Any, expect_checkpoint: int | None) -> None:
    from anchoring.operator.chain import ChainUnavailable

    try:
        with _progress_bar("auditing") as bar:
            report = service.audit(trusted, _progress(bar), chain=chain,
                                   expect_checkpoint=expect_checkpoint)
    except ChainUnavailable as exc:
        click.echo(f"audit NOT FINISHED: {exc}", err=True)
        raise SystemExit(ExitCode.ENVIRONMENT) from exc
    if not report.ok:
        click.echo(f"audit FAILED: {report.first_discrepancy}", err=True)
        sys.exit(ExitCode.REFUSED)
    click.echo(f"audit passed: {report.entries} entries replayed and their signatures "
               f"re-verified, {report.checkpoints} signed checkpoints recomputed "
               f"({report.elapsed_s:.2f} s)")
    _say_step_back(report.largest_step_back)
    if report.anchored is None:
        click.echo("not compared with the chain: add --rpc URL to compare every checkpoint "
                   "with its anchor")
    else:
        click.echo(f"{report.anchored} of them held on chain exactly as recomputed, "
                   f"{report.checkpoints - report.anchored} not anchored yet")


from api.allocation_cli import ALLOCATION_COMMANDS  # noqa: E402  (quota allocation's)
from api.allocation_show_cli import show_plan  # noqa: E402, F401  (adds its tables to show)
from api.certificate_cli import CERTIFICATE_COMMANDS  # noqa: E402  (retirement certificates')
from api.chain_cli import chain  # noqa: E402  (the chain commands; kept last in this file)
from api.clock_cli import clock  # noqa: E402  (likewise the demo and test clock's)
from api.compliance_cli import compliance, disclose  # noqa: E402  (likewise compliance's)
from api.emissions_cli import EMISSIONS_COMMANDS  # noqa: E402  (the compliance cycle's)
from api.keys_cli import key  # noqa: E402  (likewise the participants' keys and roles)
from api.project_show_cli import show_project  # noqa: E402, F401  (adds its tables to show)
from api.projects_cli import PROJECT_COMMANDS  # noqa: E402  (the CCER project cycle's)
from api.roles_cli import ROLE_COMMANDS  # noqa: E402
from api.serve_cli import serve  # noqa: E402  (likewise the HTTP service's)
from api.tiles_cli import tiles, verify_from_tiles  # noqa: E402  (likewise the log's tiles)
from api.witness_cli import cosignature, witness  # noqa: E402  (likewise the witness's)

main.add_command(chain)
main.add_command(witness)
main.add_command(cosignature)
main.add_command(serve)
main.add_command(tiles)
main.add_command(clock)
for role_command in (key, *ROLE_COMMANDS, *EMISSIONS_COMMANDS, *PROJECT_COMMANDS,
                     *CERTIFICATE_COMMANDS, *ALLOCATION_COMMANDS):
    main.add_command(role_command)
main.add_command(compliance)
main.add_command(disclose)
