"""The served demo's compliance cycle (examples/served_demo.py plays it last).

The registry registers two installations and qualifies a verifier; Huaneng calibrates its coal
meter; both emitters submit a year's monthly key parameters as each month ends (the demo
ledger's clock is moved month by month), one of them through the command line from a CSV
file, and a figure that does not add up is refused; each files its annual report, shares it
with the verifier, who reads it and signs the verified emissions; the risk list shows Huaneng
short of units, with part of them pledged to ICBC; Baowu's offsets are refused past the 5%
cap and accepted within it; the status table shows who is compliant and who is due; the
operator anchors a checkpoint, and an auditor checks the year's disclosure and Huaneng's
January document against the chain, and that a copy changed by one byte is not that
document. Past the deadline, Huaneng is overdue, and its credit record says so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.bootstrap import load_operator
from compliance.monthly_document import read_monthly_document
from examples.processes import Cli, DemoError
from examples.telling import Story
from ledger.schemes.calendar import MarketCalendar

if TYPE_CHECKING:
    from examples.served_demo import _Desk

REGISTRY = "MEE"
VERIFIER = "cec"
BEIJING = MarketCalendar(utc_offset_minutes=480)
# installation, emitter, sector, name, monthly fuel (t), emission factor (tCO2/t)
INSTALLATIONS = (
    ("HN-YY", "huaneng", "power", "Huaneng Yueyang power plant", "3000", "2.6604"),
    ("BW-BS", "baowu", "steel", "Baowu Baoshan iron and steel works", "1600", "3.1200"),
)
ACCOUNTS = {"huaneng": "HN-C", "baowu": "BW-C"}


def play_compliance(story: Story, cli: Cli, desk: _Desk, data_dir: Path) -> None:
    """The compliance cycle of the year after the demo ledger's date (so that every month's
    data can be submitted as the month ends)."""
    story.heading("The compliance cycle")
    year = BEIJING.market_day(desk.client.transport.now()).year + 1
    folder = data_dir / "emissions"
    folder.mkdir()
    _set_clock(cli, desk, date(year, 1, 2))
    story.note(f"(The operator has moved the demo ledger's clock to {year}-01-02: the year "
               "about to be reported starts.)")
    _onboard(story, cli, desk, folder)
    january = _monthly_data(story, cli, desk, folder, year)
    reports = _reports_and_verification(story, cli, desk, folder, year)
    _surrenders(story, cli, desk, year, reports)
    _audit(story, cli, desk, data_dir, folder, year, january)
    _after_the_deadline(story, cli, desk, year)


def _onboard(story: Story, cli: Cli, desk: _Desk, folder: Path) -> None:
    installation, emitter, sector, name, *_ = INSTALLATIONS[0]
    story.step("The registry", f"registers {name} as a CN-ETS installation of Huaneng:")
    story.run(cli, "installation", "register", installation, "--emitter", emitter, "--scheme",
              "CN-ETS", "--sector", sector, "--name", name, "--as", REGISTRY, remote=True)
    installation, emitter, sector, name, *_ = INSTALLATIONS[1]
    desk.submit((REGISTRY,), "installation_register", installation=installation,
                emitter=emitter, scheme="CN-ETS", sector=sector, name=name)
    story.step("The registry", "grants CEC (a verification body since the project's "
               "validation) its qualification to verify power plants (and, through the client, "
               "steel works):")
    story.run(cli, "verifier", "qualify", VERIFIER, "--sector", "power", "--action", "grant",
              "--reason", "accredited for power generation", "--as", REGISTRY, remote=True)
    desk.submit((REGISTRY,), "verifier_qualify", verifier=VERIFIER, sector="steel",
                action="grant", reason="accredited for iron and steel")
    certificate = folder / "HN-YY-COAL-calibration.txt"
    certificate.write_text("Calibration certificate 2027-0117: belt scale HN-YY-COAL\n")
    new_year = BEIJING.market_day(desk.client.transport.now()).replace(day=1)
    story.step("Huaneng", "registers the belt scale that weighs its coal, and records its "
               "calibration certificate (its SHA-256 is journaled):")
    story.run(cli, "instrument", "register", "HN-YY-COAL", "--installation", "HN-YY",
              "--parameter", "coal consumed (t)", "--as", "huaneng", remote=True)
    story.run(cli, "instrument", "calibrate", "HN-YY-COAL", "--by",
              "Hunan Institute of Metrology", "--on", new_year.isoformat(), "--valid-until",
              date(new_year.year + 2, 12, 31).isoformat(), "--certificate", str(certificate),
              "--as", "huaneng", remote=True)
    for who in (REGISTRY, "huaneng", "baowu", VERIFIER):
        desk.client.publish_document_key(desk.wallets[who])
    story.step("The registry, Huaneng, Baowu and CEC", "each publish the public key of their "
               "signing key: confidential documents are sealed for the keys of those who may "
               "read them, and stored encrypted.")


def _month_document(installation: str, month: str, fuel: str, factor: str) -> bytes:
    unit = "t"
    return (json.dumps({"installation": installation, "month": month, "lines": [
        {"source": "fuel", "activity": fuel, "activityUnit": unit, "factor": factor,
         "factorUnit": f"tCO2/{unit}", "instrument": "HN-YY-COAL" if installation == "HN-YY"
         else ""}]}, indent=2) + "\n").encode()


def _monthly_data(story: Story, cli: Cli, desk: _Desk, folder: Path, year: int) -> Path:
    """A year of monthly data, each month submitted in the days after it ends; returns
    Huaneng's January document."""
    story.step("Both emitters", f"submit {year}'s monthly key parameters as each month "
               "ends; the operator moves the demo ledger's clock a month at a time "
               "(`carbonledger clock set`).")
    january = folder / f"HN-YY-{year}-01.csv"
    for month in range(1, 13):
        ends = date(year + month // 12, month % 12 + 1, 3)  # the 3rd of the next month
        _set_clock(cli, desk, ends)
        for installation, emitter, _, _, fuel, factor in INSTALLATIONS:
            label = f"{year}-{month:02d}"
            fuel_of_month = f"{fuel}.{month:02d}"
            if installation == "HN-YY" and month == 1:
                january.write_text("source,activity,activity_unit,factor,factor_unit,"
                                   f"instrument\nfuel,{fuel_of_month},t,{factor},tCO2/t,"
                                   "HN-YY-COAL\n")
                story.step("Huaneng", f"submits January on the command line, from its CSV "
                           f"file {january.name}:")
                story.run(cli, "emissions", "submit", str(january), "--installation",
                          installation, "--month", label, "--submission",
                          f"{installation}-{label}", "--as", emitter, remote=True)
                continue
            data = _month_document(installation, label, fuel_of_month, factor)
            monthly = read_monthly_document(data, "json")
            fields = {"submission": f"{installation}-{label}",
                      **monthly.instruction_fields(), "supersedes": ""}
            if installation == "BW-BS" and month == 6:
                _refused_total(story, desk, data, fields)
            desk.client.upload_document(data, "application/json", desk.wallets[emitter])
            desk.submit((emitter,), "monthly_submit", **fields)
    story.answer("24 monthly submissions journaled, each with the SHA-256 of its document; "
                 "the documents are stored sealed")
    return january


def _refused_total(story: Story, desk: _Desk, data: bytes, fields: dict[str, Any]) -> None:
    stated = fields["totalKg"] + 1_000
    refused = desk.refused(("baowu",), "monthly_submit", **(fields | {"totalKg": stated}))
    story.step("Baowu", f"submits June stating {stated:,} kg, a tonne more than its figures "
               "add up to.")
    story.answer(f"REFUSED, {refused.reason.name}: {refused.detail}")


def _set_clock(cli: Cli, desk: _Desk, day: date) -> None:
    """The operator moves the demo ledger's clock to 10:00 in Beijing on `day`."""
    moment = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
    cli.run("clock", "set", moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
    desk.client.refresh_clock()


def _reports_and_verification(story: Story, cli: Cli, desk: _Desk, folder: Path,
                              year: int) -> dict[str, int]:
    """Annual reports, shared with the verifier and verified; returns the verified tonnes."""
    verified: dict[str, int] = {}
    for installation, emitter, _, name, fuel, factor in INSTALLATIONS:
        report = folder / f"{emitter}-{year}-report.txt"
        report.write_text(f"{name}: annual emissions report {year}\n")
        if emitter == "huaneng":
            story.step("Huaneng", f"files its {year} annual report, which references its "
                       "twelve monthly submissions in force:")
            story.run(cli, "emissions", "report", f"HN-{year}", "--emitter", emitter,
                      "--year", str(year), "--scheme", "CN-ETS", "--document", str(report),
                      "--as", emitter, remote=True)
        else:
            document_hash = desk.client.upload_document(report.read_bytes(), "text/plain",
                                                        desk.wallets[emitter])
            ids = [f"{installation}-{year}-{month:02d}" for month in range(1, 13)]
            desk.submit((emitter,), "annual_report_submit", report=f"BW-{year}",
                        emitter=emitter, year=year, scheme="CN-ETS",
                        documentHash=document_hash, submissions=json.dumps(ids))
        # the verifier's figure: the monthly data's sum, to the nearest tonne
        tonnes = sum((Decimal(f"{fuel}.{m:02d}") * Decimal(factor) for m in range(1, 13)),
                     Decimal(0))
        verified[emitter] = int(tonnes.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    report_hash = "0x" + hashlib.sha256(
        (folder / f"huaneng-{year}-report.txt").read_bytes()).hexdigest()
    story.step("Huaneng", "shares its report with CEC, its verifier: the document's key is "
               "wrapped for CEC's published key on Huaneng's own machine:")
    story.run(cli, "document", "share", report_hash, "--with", VERIFIER, "--as", "huaneng",
              remote=True)
    story.step("CEC", "fetches the report, opens it with its key and checks it against the "
               "hash the journal commits to:")
    story.run(cli, "document", "get", report_hash, "--out", str(folder / "cec-copy.txt"),
              "--as", VERIFIER, remote=True)
    story.step("CEC", f"signs Huaneng's verified emissions for {year}: "
               f"{verified['huaneng']:,} t, its obligation:")
    story.run(cli, "verifier", "sign", "huaneng", "--verifier", VERIFIER, "--year", str(year),
              "--report", f"HN-{year}", "--emissions", str(verified["huaneng"]), "--as",
              VERIFIER, remote=True)
    desk.submit((VERIFIER,), "verification_sign", verifier=VERIFIER, emitter="baowu",
                year=year, report=f"BW-{year}", verifiedEmissions=verified["baowu"])
    story.answer(f"and Baowu's: {verified['baowu']:,} t")
    return verified


def _surrenders(story: Story, cli: Cli, desk: _Desk, year: int,
                verified: dict[str, int]) -> None:
    story.step("The registry and the banks", "look at who may fall short: free units "
               "(tradable, eligible, offsets within the cap) against what each still owes:")
    story.run(cli, "compliance", "risk", str(year), "--as", REGISTRY, remote=True, lines=None)
    cap = verified["baowu"] * 500 // 10_000
    refused = desk.refused(("baowu",), "surrender", account="BW-C", year=year, batch="GW01",
                           quantity=cap + 1_000, serialFirst=0, serialLast=0)
    story.step("Baowu", f"surrenders {cap + 1_000:,} t of CCER credits against its "
               f"{year} obligation of {verified['baowu']:,} t.")
    story.answer(f"REFUSED, {refused.reason.name}: {refused.detail}")
    story.step("Baowu", f"surrenders {cap:,} t of CCER (the 5% cap) on the command line, and "
               "allowances for the rest through the client:")
    story.run(cli, "surrender", "--account", "BW-C", "--year", str(year), "--batch", "GW01",
              "--quantity", str(cap), "--as", "baowu", remote=True)
    desk.submit(("baowu",), "surrender", account="BW-C", year=year, batch="BW01",
                quantity=verified["baowu"] - cap, serialFirst=0, serialLast=0)
    desk.client.login(desk.wallets["huaneng"])  # Huaneng reads its own holding
    tradable = next(h.tradable for h in desk.client.holdings("HN-C", "HN01"))
    desk.submit(("huaneng",), "surrender", account="HN-C", year=year, batch="HN01",
                quantity=tradable, serialFirst=0, serialLast=0)
    story.step("Huaneng", f"surrenders every tradable allowance it has, {tradable:,} t; the "
               "rest of its allowances are pledged to ICBC or were enforced.")
    story.step("The registry", f"reads the {year} status table:")
    story.run(cli, "compliance", "status", str(year), "--as", REGISTRY, remote=True,
              lines=None)


def _audit(story: Story, cli: Cli, desk: _Desk, data_dir: Path, folder: Path, year: int,
           january: Path) -> None:
    story.step("The operator", "cuts a checkpoint and anchors it:")
    story.run(cli, "checkpoint", lines=0)
    story.run(cli, "chain", "anchor", lines=0)
    operator = load_operator(data_dir)
    if operator is None:
        raise DemoError(f"{data_dir} has no operator key")
    chain = json.loads((data_dir / "chain.json").read_text())
    trusted = ["--operator-key", operator.address, "--anchor-registry", chain["registry"],
               "--rpc", chain["rpc_url"]]
    story.step("The registry", f"publishes the {year} disclosure, and its proof:")
    story.run(cli, "disclose", str(year), "--format", "csv", "--out",
              str(folder / f"disclosure-{year}.csv"), remote=True)
    story.say((folder / f"disclosure-{year}.csv").read_text().rstrip())
    story.run(cli, "proof", "disclosure", str(year), "--output",
              str(folder / "disclosure-proof.json"), "--as", REGISTRY, remote=True, lines=0)
    auditor = Cli(folder / "auditor", cli.password)
    story.step("An auditor", "checks the disclosure's proof against the chain:")
    output = story.run(auditor, "verify", str(folder / "disclosure-proof.json"), *trusted,
                       lines=0)
    _said(story, output.stdout)
    story.verify(f"the {year} disclosure's verified emissions and surrenders are those its "
                 "anchored checkpoint signs")
    seq = next(s.submitted_seq for s in desk.client.monthly_submissions("huaneng", year)
               if s.month == f"{year}-01")
    story.step("The registry", f"hands the auditor the proof of entry {seq}, Huaneng's "
               "January submission, and the auditor is given the CSV file itself:")
    story.run(cli, "proof", "entry", str(seq), "--output", str(folder / "january-proof.json"),
              "--as", REGISTRY, remote=True, lines=0)
    output = story.run(auditor, "verify-document", str(january),
                       str(folder / "january-proof.json"), *trusted, lines=0)
    _said(story, output.stdout)
    story.verify(f"Huaneng's January {year} document is exactly the one journaled in entry "
                 f"{seq}, under an anchored checkpoint")
    changed = folder / "HN-YY-january-changed.csv"
    changed.write_bytes(january.read_bytes().replace(b"3000.01", b"3000.00"))
    story.step("The auditor", "is shown a copy whose coal figure differs in one digit:")
    output = story.run(auditor, "verify-document", str(changed),
                       str(folder / "january-proof.json"), *trusted, expect=1, lines=0)
    _said(story, output.stderr)
    story.verify("a copy of the January document changed in one byte is NOT that document")


def _said(story: Story, text: str) -> None:
    """The verdict lines of `verify` or `verify-document` (VERIFIED, ANCHORED, NOT ...)."""
    verdicts = [line for line in text.splitlines()
                if line.startswith(("VERIFIED", "ANCHORED", "NOT VERIFIED", "NOT THE"))]
    if not verdicts:
        raise DemoError(f"no verdict in: {text[-800:]}")
    for line in verdicts:
        story.answer(line if len(line) <= 160 else line[:157] + "...")


def _after_the_deadline(story: Story, cli: Cli, desk: _Desk, year: int) -> None:
    deadline = date(year + 1, 12, 31)
    _set_clock(cli, desk, date(year + 2, 1, 2))
    story.step("The registry", f"after the deadline ({deadline}), reads the status table "
               "again, and Huaneng's credit record:")
    story.run(cli, "compliance", "status", str(year), "--as", REGISTRY, remote=True,
              lines=None)
    story.run(cli, "compliance", "credit-record", "huaneng", "--as", REGISTRY, remote=True,
              lines=None)
