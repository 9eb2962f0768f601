"""The served demo (`python -m examples`, `make demo`): a ledger served over HTTP, every role
at work through the Python client and the command line, and an outside auditor who checks
the evidence against the chain.

It makes a fresh data directory (a demo deployment, whose clock may be moved), starts the
embedded chain node and deploys the AnchorRegistry on it, starts `carbonledger serve` on a
free port, and plays: the registry onboards participants and issues allowances (CEA) and
credits (CCER, through a project's cycle: methodology, comment period, validation,
registration, a verified monitoring period: examples/project_story.py); emitters trade; a
bank registers a pledge from a half-signed file, releases part of it, and enforces the rest
once the loan has matured unpaid (the ledger's clock moved past maturity with `carbonledger
clock advance`); a repo opens and closes; credits are retired for a named beneficiary; the
operator cuts and anchors two checkpoints; an auditor, given the proof bundles, the
operator's key and the registry's address and nothing else of the ledger, verifies a
holding, a pledge and a retirement against the chain, and that the second anchored
checkpoint extends the first; then a compliance year (examples/compliance_story.py), and
the scheme's move under an allocation plan: free allocation, an auction proven to its
bidders, the true-up (examples/allocation_story.py). The server and the chain node are
stopped whatever happens.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from api.bootstrap import load_operator
from api.client import Client, HttpTransport
from api.config import CONFIG_FILE, ConfigError, Deployment, load_config
from custody.keystore import new_private_key, read_keystore, write_keystore
from examples.allocation_story import play_allocation
from examples.compliance_story import play_compliance
from examples.processes import DEMO_SCRYPT_N, Cli, DemoError, chain_node, free_port, served
from examples.project_story import play_project
from examples.telling import Say, Story
from ledger.client import Wallet
from ledger.clock import format_time
from ledger.errors import Rejected
from ledger.journal import Receipt
from ledger.schemes.calendar import MarketCalendar

DEMO_PASSWORD = "demo-password"  # demo keystores only: a fixed password, a light scrypt cost
REGISTRY = "MEE"
PLEDGE_ID = "ICBC-P1"
RETIREMENT_ID = "R-LI-2025"
REPO_ID = "ICBC-R1"
TERM_DAYS = 90
BEIJING = MarketCalendar(utc_offset_minutes=480)  # the market day of CN-ETS dates

# participant, name, role, account, account type
PARTICIPANTS = (
    ("huaneng", "Huaneng Power (key emitter)", "emitter", "HN-C", "compliance"),
    ("baowu", "Baowu Steel (key emitter)", "emitter", "BW-C", "compliance"),
    ("windfarm", "Gansu Wind Farm Co. (project owner)", "project_owner", "GW-T", "trading"),
    ("li", "Li Wei (individual)", "individual", "LI-I", "individual"),
    ("icbc", "Industrial and Commercial Bank of China", "bank", "ICBC-T", "trading"),
)


def run_demo(data_dir: Path, say: Say = print, *, replace: bool = False) -> list[str]:
    """Play the whole demo in `data_dir`, made afresh: an existing one is replaced if it is a
    demo deployment's, or with `replace`, else refused. Return what was verified. A DemoError
    (or the failure of a part) says which step did not go as it must."""
    story = Story(say)
    cli = Cli(data_dir, DEMO_PASSWORD)
    say(f"carbonledger demo — a served ledger in {data_dir} (SQLite), every role at work over "
        "HTTP (the Python client) and the command line")
    say(f"   commands run as `carbonledger --data-dir {data_dir} ...`; those marked (server) "
        "with `--server URL` too, as a participant's desk would")
    story.heading("Setting up")
    try:
        _fresh(data_dir, replace)
        story.run(cli, "init", "--deployment", "demo", "--registry-id", REGISTRY,
                  "--registry-name", "National carbon emissions registry")
        with chain_node(cli) as node:
            story.echo(("chain", "up", "--embedded", "--port", "0"), node)
            story.run(cli, "chain", "deploy", lines=2)
            with served(cli, free_port()) as url:
                cli.server = url
                with Client(HttpTransport(url)) as client:
                    story.say(f"   $ carbonledger serve --port {url.rsplit(':', 1)[1]} &")
                    story.say(f"     serving {url}/v1; its clock (GET /v1/clock) reads "
                              f"{format_time(client.transport.now())}, a demo deployment's")
                    _play(story, cli, client, data_dir)
    except Exception as failure:
        where = f"step {story.number}" if story.number else "setting up"
        cause = str(failure) if isinstance(failure, DemoError) else \
            f"{type(failure).__name__}: {failure}"
        raise DemoError(f"{where}: {cause}") from failure
    say("\nWhat was verified:")
    for number, what in enumerate(story.verified, 1):
        say(f"   {number}. {what}")
    say("\ndemo passed: the server and the chain node are stopped; the ledger is left in "
        f"{data_dir}")
    return story.verified


def _fresh(data_dir: Path, replace: bool) -> None:
    """An empty data directory: a previous demo's is removed, anything else is refused."""
    if not data_dir.exists():
        return
    if data_dir.is_dir() and not any(data_dir.iterdir()):
        return
    try:
        demo = data_dir.is_dir() and (data_dir / CONFIG_FILE).exists() and \
            load_config(data_dir).deployment is Deployment.demo
    except ConfigError:
        demo = False
    if not (demo or (replace and data_dir.is_dir())):
        raise DemoError(f"{data_dir} exists and is not a previous demo's data directory: "
                        "name a new directory for the demo")
    Cli(data_dir, DEMO_PASSWORD).run("chain", "down")  # a node left by an interrupted demo
    shutil.rmtree(data_dir)


class _Desk:
    """The participants' keys and the client they sign and submit through."""

    def __init__(self, client: Client, data_dir: Path) -> None:
        self.client = client
        self.data_dir = data_dir
        self.wallets: dict[str, Wallet] = {}

    def keystore(self, name: str) -> Path:
        return self.data_dir / "keystores" / f"{name}.json"

    def new_key(self, name: str) -> Wallet:
        """A participant's key, kept in an encrypted keystore so the CLI can sign with it."""
        key = new_private_key()
        write_keystore(self.keystore(name), key, DEMO_PASSWORD, scrypt_n=DEMO_SCRYPT_N)
        return self.unlock(name, key)

    def unlock(self, name: str, key: bytes | None = None) -> Wallet:
        wallet = self.client.wallet(key or read_keystore(self.keystore(name), DEMO_PASSWORD))
        self.wallets[name] = wallet
        return wallet

    def signed(self, signers: tuple[str, ...], op: str, fields: dict[str, Any]) -> Any:
        client = self.client
        first, *others = signers
        signed = client.sign(client.instruction(op, **fields), self.wallets[first])
        for other in others:
            signed = client.cosign(signed, self.wallets[other])
        return signed

    def submit(self, signers: tuple[str, ...], op: str, **fields: Any) -> Receipt:
        try:
            return self.client.submit(self.signed(signers, op, fields))
        except Rejected as refused:
            raise DemoError(f"{op} signed by {', '.join(signers)} was refused: {refused}") \
                from refused

    def refused(self, signers: tuple[str, ...], op: str, **fields: Any) -> Rejected:
        try:
            self.client.submit(self.signed(signers, op, fields))
        except Rejected as refused:
            return refused
        raise DemoError(f"{op} signed by {', '.join(signers)} was accepted; it must be refused")


def log_in(client: Client, wallet: Wallet) -> Client:
    """The client, logged in as `wallet`'s participant for the reads that need a token (the
    registry's reads everything)."""
    client.login(wallet)
    return client


def _play(story: Story, cli: Cli, client: Client, data_dir: Path) -> None:
    desk = _Desk(client, data_dir)
    registry = desk.unlock(REGISTRY)
    reader = log_in(client, registry)
    _registry(story, cli, desk)
    _trading(story, desk)
    today = BEIJING.market_day(client.transport.now())
    _pledge(story, cli, desk, today)
    retirement = _repo_and_retirements(story, cli, desk, today)
    first = _checkpoint(story, cli, "after the trading day")
    _default(story, cli, desk, today)
    story.step("The registry", "looks at every holding, logged in with its key (a table "
               "from the server, on the command line):")
    story.run(cli, "show", "holdings", "--as", REGISTRY, remote=True, lines=None)
    second = _checkpoint(story, cli, "after the enforcement")
    story.note("(The chain keeps the real time: only the demo ledger's clock was moved, so "
               "checkpoint 2 is dated 91 days after the block that anchors it.)")
    _auditor(story, cli, reader, data_dir, retirement, (first, second))
    play_compliance(story, cli, desk, data_dir)
    play_allocation(story, cli, desk, data_dir)


def _registry(story: Story, cli: Cli, desk: _Desk) -> None:
    story.heading("The registry")
    desk.new_key("huaneng")  # Huaneng's own key, made before it is admitted
    story.step("The registry (MEE)", "admits Huaneng Power, a key emitter, on the command "
               "line, signing with its own keystore:")
    story.run(cli, "participant", "register", "huaneng", "--name", PARTICIPANTS[0][1],
              "--role", "emitter", "--as", REGISTRY, remote=True)
    story.step("ICBC, a bank", "makes its own signing key, in an encrypted keystore:")
    story.run(cli, "key", "new", "--name", "icbc")
    desk.unlock("icbc")
    for name in ("baowu", "windfarm", "li"):
        desk.new_key(name)
    for participant, name, role, account, account_type in PARTICIPANTS:
        if participant != "huaneng":
            desk.submit((REGISTRY,), "register_participant", participant=participant,
                        name=name, role=role)
        desk.submit((REGISTRY,), "register_key", participant=participant,
                    key=desk.wallets[participant].address)
        desk.submit((REGISTRY,), "open_account", account=account, participant=participant,
                    accountType=account_type)
    story.step("The registry", "admits Baowu Steel, the Gansu wind farm, Li Wei and ICBC "
               "through the Python client over HTTP, registers each participant's key and "
               "opens an account for each (HN-C, BW-C, GW-T, LI-I, ICBC-T).")
    story.answer(f"{len(desk.client.participants()) - 1} participants besides the registry, "
                 f"each with its key; journal head {desk.client.head()}")
    for batch, account, quantity in (("HN01", "HN-C", 120_000), ("BW01", "BW-C", 80_000)):
        desk.submit((REGISTRY,), "issue_batch", batch=batch, scheme="CN-ETS",
                    kind="allowance", vintage=2025, issuance="free_allocation",
                    quantity=quantity, account=account)
    story.step("The registry", "allocates 2025 allowances (CEA): 120,000 t to Huaneng, "
               "80,000 t to Baowu.")
    play_project(story, cli, desk, desk.data_dir / "project")


def _trading(story: Story, desk: _Desk) -> None:
    story.heading("The emitters and the market")
    seq = desk.submit(("huaneng",), "transfer", fromAccount="HN-C", toAccount="BW-C",
                      batch="HN01", quantity=15_000).seq
    story.step("Huaneng", "sells 15,000 t of allowances to Baowu.")
    story.answer(f"entry {seq}: the oldest serials, 1..15000, move to BW-C")
    seq = desk.submit(("windfarm",), "transfer", fromAccount="GW-T", toAccount="BW-C",
                      batch="GW01", quantity=10_000).seq
    desk.submit(("windfarm",), "transfer", fromAccount="GW-T", toAccount="LI-I",
                batch="GW01", quantity=10, serialFirst=40_001, serialLast=40_010)
    story.step("The wind farm", "sells 10,000 t of CCER credits to Baowu and serials "
               "40001..40010 to Li Wei.")
    story.answer(f"entries {seq} and {seq + 1}")
    refused = desk.refused(("baowu",), "transfer", fromAccount="HN-C", toAccount="BW-C",
                           batch="HN01", quantity=1_000)
    story.step("Baowu", "tries to move 1,000 t out of Huaneng's account.")
    story.answer(f"REFUSED, {refused.reason.name}: {refused.reason.message}")


def _pledge(story: Story, cli: Cli, desk: _Desk, today: date) -> None:
    story.heading("The bank: a pledge")
    maturity = today + timedelta(days=TERM_DAYS)
    pledge_file = desk.data_dir / f"{PLEDGE_ID}.json"
    story.step("Huaneng", f"pledges 30,000 t of HN01 to ICBC for a CNY 12,000,000.00 loan "
               f"maturing {maturity}: it signs the pledge and writes it to a file for the "
               "bank:")
    story.run(cli, "pledge", "register", PLEDGE_ID, "--account", "HN-C", "--pledgee", "icbc",
              "--batch", "HN01", "--quantity", "30000", "--loan-reference", "ICBC-SZ-2026-0042",
              "--principal", "12000000.00", "--currency", "CNY", "--start", today.isoformat(),
              "--maturity", maturity.isoformat(), "--as", "huaneng", "--out", str(pledge_file),
              remote=True)
    story.step("ICBC", "reads what it is asked to sign, and co-signs:")
    story.run(cli, "cosign", str(pledge_file), "--as", "icbc", "--yes", remote=True,
              lines=None)
    story.step("ICBC", "submits the pledge, now signed by both:")
    receipt = json.loads(story.run(cli, "submit", str(pledge_file), remote=True,
                                   lines=0).stdout)
    pledged = _serials(receipt["effects"], lien=PLEDGE_ID)
    story.answer(f"entry {receipt['seq']}: serials {pledged} of HN01 are under ICBC's lien")
    first = int(pledged.split("..")[0])
    refused = desk.refused(("huaneng",), "transfer", fromAccount="HN-C", toAccount="BW-C",
                           batch="HN01", quantity=1_000, serialFirst=first,
                           serialLast=first + 999)
    story.step("Huaneng", f"tries to sell pledged serials {first}..{first + 999} to Baowu.")
    story.answer(f"REFUSED, {refused.reason.name}: {refused.reason.message}")
    refused = desk.refused(("icbc",), "pledge_enforce", pledge=PLEDGE_ID, quantity=15_000,
                           toAccount="ICBC-T")
    story.step("ICBC", "tries to take 15,000 t of the pledge for itself today, before the "
               "loan has matured.")
    story.answer(f"REFUSED, {refused.reason.name}: {refused.reason.message}")
    released = desk.submit(("icbc",), "pledge_release", pledge=PLEDGE_ID, quantity=10_000)
    story.step("ICBC", "releases 10,000 t: part of the loan is repaid.")
    story.answer(f"entry {released.seq}: serials {_serials(released.effects, lien=None)} are "
                 "Huaneng's to trade again; 20,000 t stay pledged")


def _repo_and_retirements(story: Story, cli: Cli, desk: _Desk, today: date) -> int:
    """The repo, and two retirements; returns Li Wei's retirement's entry."""
    story.heading("A repo, and retirements")
    repurchase = today + timedelta(days=30)
    opened = desk.submit(("baowu", "icbc"), "repo_open", repo=REPO_ID, sellerAccount="BW-C",
                         buyerAccount="ICBC-T", batch="BW01", quantity=10_000,
                         purchasePrice=800_000_00, repurchasePrice=806_000_00,
                         currency="CNY", repurchaseDate=repurchase.isoformat(), freeUse=False)
    story.step("Baowu and ICBC", f"both sign repo {REPO_ID}: Baowu sells ICBC 10,000 t of "
               f"BW01 for CNY 800,000.00, to buy them back by {repurchase} for CNY "
               "806,000.00.")
    story.answer(f"entry {opened.seq}: the units sit in ICBC-T under the repo's lien")
    closed = desk.submit(("baowu", "icbc"), "repo_close", repo=REPO_ID, quantity=10_000)
    story.step("Baowu and ICBC", "close the repo: Baowu buys the 10,000 t back.")
    story.answer(f"entry {closed.seq}: the units are back in BW-C, tradable")
    retired = desk.submit(("li",), "claim_retire", retirement=RETIREMENT_ID, account="LI-I",
                          batch="GW01", quantity=10, serialFirst=0, serialLast=0,
                          beneficiary="Li Wei", purpose="period", subject="",
                          periodStart="2025-01-01", periodEnd="2025-12-31",
                          claim="Offsets my 2025 flights")
    story.step("Li Wei", f"retires his 10 t of CCER credits for an offsetting claim "
               f"({RETIREMENT_ID}): himself as the beneficiary, his 2025 flights as the claim.")
    story.answer(f"entry {retired.seq}: serials 40001..40010 retired for Li Wei, never to "
                 "move again")
    story.step("Baowu", "retires 2,000 t of credits for its 2025 product claim:")
    story.run(cli, "retire", "--account", "BW-C", "--batch", "GW01", "--quantity", "2000",
              "--beneficiary", "Baowu Steel", "--reason", "voluntary", "--claim",
              "2025 product carbon claim", "--as", "baowu", remote=True)
    return retired.seq


def _checkpoint(story: Story, cli: Cli, when: str) -> int:
    story.heading(f"The operator, {when}")
    story.step("The operator", "cuts a checkpoint (signed with its key) and anchors it on "
               "the chain:")
    cut = story.run(cli, "checkpoint", lines=0)
    number = int(cut.stdout.split(":", 1)[0].split()[-1])
    story.answer(cut.stdout.split(", log root")[0] + ", signed by the operator's key")
    anchored = story.run(cli, "chain", "anchor", lines=0)
    story.answer(re.sub(r"transaction 0x[0-9a-f]+, ", "",
                        _line(anchored.stdout, f"checkpoint {number} anchored")))
    return number


def _default(story: Story, cli: Cli, desk: _Desk, today: date) -> None:
    story.heading("Ninety-one days later: the loan has matured unpaid")
    story.step("The operator", f"moves the demo ledger's clock past the loan's maturity "
               f"({today + timedelta(days=TERM_DAYS)}), instead of waiting:")
    story.run(cli, "clock", "advance", f"{TERM_DAYS + 1}d")
    skew_s = desk.client.refresh_clock()
    story.answer(f"the running server reads the moved clock without a restart: GET /v1/clock "
                 f"says {format_time(desk.client.transport.now())} ({skew_s / 86_400:.1f} days "
                 "ahead)")
    enforced = desk.submit(("icbc",), "pledge_enforce", pledge=PLEDGE_ID, quantity=15_000,
                           toAccount="ICBC-T")
    story.step("ICBC", "enforces the pledge: 15,000 t into its own account ICBC-T.")
    story.answer(f"entry {enforced.seq}, accepted at {enforced.accepted_at}; 5,000 t stay "
                 "pledged")


def _auditor(story: Story, cli: Cli, reader: Client, data_dir: Path, retirement: int,
             checkpoints: tuple[int, int]) -> None:
    """The registry hands bundles over; the auditor checks them with what it trusts."""
    first, second = checkpoints
    story.heading("An outside auditor")
    operator = load_operator(data_dir)
    if operator is None:
        raise DemoError(f"{data_dir} has no operator key")
    chain = json.loads((data_dir / "chain.json").read_text())
    registry, rpc = chain["registry"], chain["rpc_url"]
    folder = data_dir / "auditor"
    folder.mkdir()
    bundles = (  # file, what it shows, what the list at the end says was verified
        ("holding.json", "Baowu's holding of HN01", "Baowu's holding of HN01 (15,000 t "
         "tradable)", reader.proof("holding", "BW-C", "HN01")),
        ("pledge.json", f"ICBC's pledge {PLEDGE_ID}", f"ICBC's pledge {PLEDGE_ID}: registered, "
         "10,000 t released, 15,000 t enforced, 5,000 t still under its lien",
         reader.proof("pledge", PLEDGE_ID)),
        ("retirement.json", "Li Wei's retirement, by the proof of its journal entry",
         f"Li Wei's retirement (entry {retirement}): 10 t of GW01 for the beneficiary Li Wei",
         reader.proof("entry", retirement)),
        ("consistency.json", f"that checkpoint {second} extends checkpoint {first}",
         f"checkpoint {second}'s log extends checkpoint {first}'s, both anchored",
         reader.proof("consistency", first, second)),
    )
    for name, *_, bundle in bundles:
        (folder / name).write_text(json.dumps(bundle, indent=2) + "\n")
    story.step("The registry", f"hands an auditor four proof bundles ({folder}), fetched from "
               f"the server; the operator publishes its key {operator.address} and the "
               f"AnchorRegistry's address {registry}.")
    story.note(f"The auditor uses nothing else of the ledger: `carbonledger verify` runs in "
               f"its own empty directory, asks the chain's node {rpc}, and trusts only the "
               "two addresses it names.")
    trusted = ["--operator-key", operator.address, "--anchor-registry", registry, "--rpc", rpc]
    auditor = Cli(folder / "desk", DEMO_PASSWORD)
    for name, what, summary, bundle in bundles:
        story.step("The auditor", f"checks {what}:")
        output = story.run(auditor, "verify", str(folder / name), *trusted, lines=0)
        anchored = [_anchored(line) for line in output.stdout.splitlines()
                    if line.startswith("ANCHORED")]
        for line in (_line(output.stdout, "VERIFIED: "), *anchored):
            story.answer(line)
        if name == "retirement.json":
            fields = json.loads(bundle["entry"])["instruction"]["fields"]
            story.answer(f"the proven entry, as its holder signed it: {fields['quantity']} t of "
                         f"{fields['batch']} retired from {fields['account']} for the "
                         f"beneficiary {fields['beneficiary']} ({fields['claim']})")
        story.verify(f"{summary} — proven against the signed checkpoint and anchored as "
                     "signed on chain")
    forged = dict(bundles[2][3])
    named = '"beneficiary":"Li Wei"'  # in the entry's canonical JSON, as signed
    if named not in forged["entry"]:
        raise DemoError("the retirement's bundle does not name Li Wei as its beneficiary")
    forged["entry"] = forged["entry"].replace(named, '"beneficiary":"Huaneng Power"')
    (folder / "retirement-forged.json").write_text(json.dumps(forged, indent=2) + "\n")
    story.step("The auditor", "is shown a copy of the retirement's bundle whose beneficiary "
               "was changed to Huaneng Power:")
    output = story.run(auditor, "verify", str(folder / "retirement-forged.json"),
                       *trusted, expect=1, lines=0)
    story.answer(_line(output.stderr, "NOT VERIFIED"))
    story.verify("a copy of the retirement's proof with another beneficiary is NOT verified")
    _certificate(story, cli, folder, auditor, trusted)


def _certificate(story: Story, cli: Cli, folder: Path, auditor: Cli,
                 trusted: list[str]) -> None:
    """Li Wei's certificate: made on his own desk from the server's bundle, checked by the
    auditor from the PDF's QR code and text, and the bundle against the chain."""
    li = Cli(folder / "li-desk", DEMO_PASSWORD)
    li.server = cli.server
    certificate = folder / f"{RETIREMENT_ID}.pdf"
    story.step("Li Wei", "fetches his retirement's certificate: the bundle (the retirement and "
               "the provenance of its serials: issuance, verification, project, methodology) "
               "is verified against the operator's key before the PDF is written:")
    story.run(li, "certificate", RETIREMENT_ID, "--out", str(certificate), trusted[0],
              trusted[1], remote=True, lines=2)
    story.step("The auditor", "is shown the certificate and checks it: its QR code and text "
               "against the bundle, and the bundle against the chain:")
    output = story.run(auditor, "verify-certificate", str(certificate),
                       str(certificate.with_suffix(".json")), *trusted, lines=0)
    for line in output.stdout.splitlines():
        if line.startswith(("VERIFIED", "CERTIFICATE", "ANCHORED")):
            story.answer(line if len(line) <= 160 else line[:157] + "...")
    story.verify(f"Li Wei's certificate {RETIREMENT_ID}: its QR code and text are those of a "
                 "retirement whose serials trace to a verified period of a registered project, "
                 "anchored on chain")


def _anchored(line: str) -> str:
    """verify's ANCHORED line, shortened to what the story needs."""
    found = re.match(r"ANCHORED: checkpoint (\d+) .* on chain (\d+): transaction \S+ block "
                     r"(\d+)", line)
    if found is None:
        return line
    number, chain_id, block = found.groups()
    return (f"ANCHORED: checkpoint {number} is held as signed by the trusted AnchorRegistry, "
            f"block {block} of chain {chain_id}, read from the node")


def _line(text: str, start: str) -> str:
    found = next((line for line in text.splitlines() if line.startswith(start)), None)
    if found is None:
        raise DemoError(f"expected a line starting {start!r}, got: {text[-800:]}")
    return found


def _serials(effects: dict[str, Any], **match: Any) -> str:
    """The serial ranges of the lots an entry created or changed that match (lien="P1")."""
    lots = [*effects.get("created", []), *effects.get("updated", [])]
    ranges = sorted((lot["first"], lot["last"]) for lot in lots
                    if all(lot.get(name) == value for name, value in match.items()))
    return ", ".join(f"{first}..{last}" for first, last in ranges)
