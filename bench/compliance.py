"""Compliance at scale: a year of monthly data ingested, then status and the risk warning over
every emitter, then the monthly documents stored sealed beside the journal, on SQLite.

    python bench/compliance.py                       # 10,000 emitters (about ten minutes)
    python bench/compliance.py --installations 1000  # a quick run
    python bench/compliance.py --documents 0         # without the documents

Targets (issue 15): a year of monthly data for 10,000 installations (120,000 signed
monthly_submit instructions) ingested at >= 1,000 submissions/s; status and risk for 10,000
emitters <= 2 s each.

Everything is built through real signed instructions, applied with `Ledger.submit_many`: the
registry onboards N emitters (one compliance account, one batch of 2025 allowances, one
installation each), a verifier is qualified; each emitter submits twelve months of 2025 (month
by month across all emitters, in transactions of --batch), then its annual report; the
verifier signs every year; half the emitters surrender part of what they owe and one in ten
pledges units to a bank, so that the risk warning has holdings, surrenders and liens to read.
Instructions are signed before the clock starts, in worker processes (signing is the
clients' work); the ledger's work (signature recovery, authorization, validation, the
transaction and the journal entry) is inside the measured time. Status and risk are timed as
the application service runs them (compliance.queries over one read snapshot), the median of
three runs.

Each monthly submission also has its document, which the emitter seals on its machine and the
service keeps beside the journal. Last, for --documents N (default: twelve months of the first
500 emitters), those emitters and the registry publish their document keys (signed
`document_key_publish` instructions, applied like the rest); each document is a monthly JSON
document of about 1 KB (five source streams whose total is the submission's 100 t, read back
with compliance.monthly_document), sealed in worker processes for its emitter and the
registry (compliance.sealing, the client's work, not timed). The submissions keep their
one-line figures and fixed document hash, so that the ingest above is measured as before: a
document has the shape and total of its submission, not its lines or hash. Timed: storing
each one as the HTTP route does (`LedgerService.store_sealed`, one write transaction per
document); the figure for monthly data with documents is 1 / (1 / ingest rate + 1 /
document rate), the two done one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import coincurve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.bootstrap import operation_set
from api.service import LedgerService, Parts
from compliance.fields import DocumentFormat
from compliance.figures import figures_json
from compliance.monthly_document import read_monthly_document
from compliance.queries import compliance_risk, compliance_status
from compliance.sealing import TAG_BYTES, Sealed, open_sealed, seal
from ledger.client import Wallet
from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.instructions import SignedInstruction, make_domain
from ledger.schemes import load_rules_dir, rules_document
from ledger.store.database import Store, sqlite_url

OPERATIONS = operation_set()
CHAIN_ID = 31337
DOMAIN = make_domain(CHAIN_ID)
DEADLINE = 4_000_000_000
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # every month of 2025 has ended
YEAR = 2025
MONTHS = [f"{YEAR}-{m:02d}" for m in range(1, 13)]
KG_PER_MONTH = 100_000  # 1,200 t a year
DOCUMENT_HASH = "0x" + "ab" * 32
FIGURES = figures_json([{"source": "coal", "activity": str(KG_PER_MONTH), "activityUnit": "t",
                         "factor": "1", "factorUnit": "kgCO2/t", "instrument": ""}])
REGISTRY_KEY = (7).to_bytes(32, "big")
VERIFIER_KEY = (8).to_bytes(32, "big")
BANK_KEY = (9).to_bytes(32, "big")
CHUNK = 1_000  # instructions signed, or documents sealed, per worker job
DOCUMENTED_EMITTERS = 500  # by default, the first 500 emitters' twelve documents are stored
KEY_NONCE = 20  # an emitter's document key is published after its year-end nonces (13 to 15)
# A month of a coal-fired unit's source streams, 100 t in all (the submissions' total).
STREAMS = [
    {"source": "unit-1 bituminous coal", "activity": "35.8036", "activityUnit": "t",
     "factor": "2.0", "factorUnit": "tCO2/t", "instrument": ""},
    {"source": "unit-1 fuel oil, start-up", "activity": "2.5", "activityUnit": "t",
     "factor": "3.2", "factorUnit": "tCO2/t", "instrument": ""},
    {"source": "auxiliary boiler natural gas", "activity": "0.5", "activityUnit": "10^4Nm3",
     "factor": "21.622", "factorUnit": "tCO2/10^4Nm3", "instrument": ""},
    {"source": "flue-gas desulphurisation limestone", "activity": "14.0", "activityUnit": "t",
     "factor": "440", "factorUnit": "kgCO2/t", "instrument": ""},
    {"source": "purchased electricity", "activity": "6.0", "activityUnit": "MWh",
     "factor": "0.5703", "factorUnit": "tCO2/MWh", "instrument": ""},
]


def emitter_key(i: int) -> bytes:
    return (100_000 + i).to_bytes(32, "big")


def public_key(private_key: bytes) -> bytes:
    """The compressed secp256k1 public key documents are sealed for."""
    return coincurve.PrivateKey(private_key).public_key.format(compressed=True)


def monthly_document(i: int, month: str) -> bytes:
    """Emitter i's document for `month`, as it keeps it (pretty-printed JSON)."""
    return json.dumps({"installation": f"i{i}", "month": month, "lines": STREAMS},
                      indent=2).encode()


def held_t(i: int) -> int:
    """Emitter i's 2025 allowances: 800 to 1,600 t against 1,200 t owed, so some fall short."""
    return 800 + (i % 9) * 100


def pledges(i: int) -> bool:
    return i % 10 == 0


def surrenders(i: int) -> bool:
    return i % 2 == 0


def _sign(wallet: Wallet, op: str, **fields: Any) -> dict[str, Any]:
    return wallet.sign(OPERATIONS.instruction(op, deadline=DEADLINE, **fields)).as_json()


def _registry_job(args: tuple[int, int, int]) -> list[dict[str, Any]]:
    """Onboard emitters first..last-1, the registry's nonces from `nonce`."""
    first, last, nonce = args
    registry = Wallet(REGISTRY_KEY, DOMAIN, nonce=nonce)
    documents = []
    for i in range(first, last):
        documents += [
            _sign(registry, "register_participant", participant=f"e{i}", name=f"Emitter {i}",
                  role="emitter"),
            _sign(registry, "register_key", participant=f"e{i}",
                  key=Wallet(emitter_key(i), DOMAIN).address),
            _sign(registry, "open_account", account=f"c{i}", participant=f"e{i}",
                  accountType="compliance"),
            _sign(registry, "issue_batch", batch=f"b{i}", scheme="CN-ETS", kind="allowance",
                  vintage=YEAR, issuance="free_allocation", quantity=held_t(i),
                  account=f"c{i}"),
            _sign(registry, "installation_register", installation=f"i{i}", emitter=f"e{i}",
                  scheme="CN-ETS", sector="power", name=f"Unit {i}"),
        ]
    return documents


def _monthly_job(args: tuple[int, int]) -> list[list[dict[str, Any]]]:
    """Emitters first..last-1: each one's twelve months (its nonces 1 to 12), by emitter."""
    first, last = args
    found = []
    for i in range(first, last):
        wallet = Wallet(emitter_key(i), DOMAIN)
        found.append([_sign(wallet, "monthly_submit", submission=f"i{i}:{month}",
                            installation=f"i{i}", month=month, documentHash=DOCUMENT_HASH,
                            documentFormat="json", figures=FIGURES,
                            totalKg=KG_PER_MONTH, supersedes="") for month in MONTHS])
    return found


def _year_end_job(args: tuple[int, int]) -> list[dict[str, Any]]:
    """Emitters first..last-1: the report (nonce 13), the verifier's signature (its nonces
    from first + 1), a surrender (nonce 14) and a pledge cosigned by the bank (its nonces
    from first + 1), in the order they are submitted."""
    first, last = args
    verifier = Wallet(VERIFIER_KEY, DOMAIN, nonce=first)
    bank = Wallet(BANK_KEY, DOMAIN, nonce=first)
    documents = []
    for i in range(first, last):
        wallet = Wallet(emitter_key(i), DOMAIN, nonce=12)
        documents.append(_sign(wallet, "annual_report_submit", report=f"r{i}",
                               emitter=f"e{i}", year=YEAR, scheme="CN-ETS",
                               documentHash=DOCUMENT_HASH,
                               submissions="[" + ",".join(f'"i{i}:{m}"' for m in MONTHS)
                                           + "]"))
        documents.append(_sign(verifier, "verification_sign", verifier="v", emitter=f"e{i}",
                               year=YEAR, report=f"r{i}",
                               verifiedEmissions=KG_PER_MONTH * 12 // 1000))
        if surrenders(i):
            documents.append(_sign(wallet, "surrender", account=f"c{i}", year=YEAR,
                                   batch=f"b{i}", quantity=300, serialFirst=0, serialLast=0))
        if pledges(i):
            instruction = OPERATIONS.instruction(
                "pledge_register", deadline=DEADLINE, pledge=f"p{i}", account=f"c{i}",
                pledgee="bank", batch=f"b{i}", quantity=200, loanReference=f"L-{i}",
                principal=1_000_000_00, currency="CNY", startDate="2026-01-05",
                maturityDate="2026-12-31")
            documents.append(bank.cosign(wallet.sign(instruction)).as_json())
    return documents


def _key_job(args: tuple[int, int]) -> list[dict[str, Any]]:
    """Emitters first..last-1 publish their signing key as their document key."""
    first, last = args
    return [_sign(Wallet(emitter_key(i), DOMAIN, nonce=KEY_NONCE - 1), "document_key_publish",
                  participant=f"e{i}", publicKey="0x" + public_key(emitter_key(i)).hex())
            for i in range(first, last)]


def _seal_job(args: tuple[int, int, bytes]) -> list[Sealed]:
    """Documents first..last-1 (document k: emitter k // 12, month k % 12), each read back as
    a monthly document and sealed for its emitter and the registry's key."""
    first, last, registry_key = args
    found = []
    for k in range(first, last):
        i, month = divmod(k, 12)
        plaintext = monthly_document(i, MONTHS[month])
        read = read_monthly_document(plaintext, DocumentFormat.json)
        assert read.total_kg == KG_PER_MONTH, read
        found.append(seal(plaintext, [public_key(emitter_key(i)), registry_key]))
    return found


def _chunks(count: int, size: int = CHUNK) -> list[tuple[int, int]]:
    return [(start, min(count, start + size)) for start in range(0, count, size)]


def _parallel(job: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(job, jobs))


def apply(ledger: Ledger, documents: Sequence[dict[str, Any]], per_transaction: int) -> float:
    """Parse, then apply in transactions of `per_transaction`; the rate of applying them."""
    signed: list[SignedInstruction] = [OPERATIONS.parse_signed(d) for d in documents]
    started = time.perf_counter()
    for start in range(0, len(signed), per_transaction):
        for result in ledger.submit_many(signed[start:start + per_transaction]):
            assert not isinstance(result, Exception), result
    return len(signed) / (time.perf_counter() - started)


class Built(NamedTuple):
    ledger: Ledger
    ingest_rate: float  # monthly submissions per second
    registry_nonce: int  # the last nonce the registry signed with


def build(store: Store, n: int, per_transaction: int) -> Built:
    """The market above, and the monthly submissions' ingest rate."""
    ledger = Ledger(store, OPERATIONS, FixedClock(NOW))
    registry = Wallet(REGISTRY_KEY, DOMAIN)
    verifier, bank = Wallet(VERIFIER_KEY, DOMAIN), Wallet(BANK_KEY, DOMAIN)
    opening = [registry.sign(OPERATIONS.instruction(
        "genesis", registry="registry", registryName="Registry", registryKey=registry.address,
        chainId=CHAIN_ID, rules=rules_document(load_rules_dir()))).as_json()]
    for name, role, wallet in (("v", "verifier", verifier), ("bank", "bank", bank)):
        opening += [_sign(registry, "register_participant", participant=name, name=name,
                          role=role),
                    _sign(registry, "register_key", participant=name, key=wallet.address)]
    opening.append(_sign(registry, "verifier_qualify", verifier="v", sector="power",
                         action="grant", reason="accredited"))
    apply(ledger, opening, 100)
    started = time.perf_counter()
    onboarding = [d for chunk in _parallel(_registry_job, [
        (first, last, registry.nonce + first * 5) for first, last in _chunks(n)]) for d in chunk]
    monthly = [emitter for chunk in _parallel(_monthly_job, _chunks(n)) for emitter in chunk]
    year_end = [d for chunk in _parallel(_year_end_job, _chunks(n)) for d in chunk]
    print(f"   signed {len(onboarding) + 12 * n + len(year_end):,} instructions in "
          f"{time.perf_counter() - started:.0f} s")
    rate = apply(ledger, onboarding, 1000)
    print(f"   onboarded {n:,} emitters and installations at {rate:,.0f} instructions/s")
    by_month = [emitter[m] for m in range(12) for emitter in monthly]  # each emitter in order
    ingest = apply(ledger, by_month, per_transaction)
    print(f"   monthly data: {len(by_month):,} submissions in transactions of {per_transaction:,} "
          f"at {ingest:,.0f}/s (target >= 1,000/s)")
    rate = apply(ledger, year_end, 1000)
    print(f"   reports, verifications, surrenders and pledges at {rate:,.0f} instructions/s")
    return Built(ledger, ingest, registry.nonce + 5 * n)


def store_documents(built: Built, count: int) -> float:
    """Publish the document keys, seal `count` monthly documents (untimed), then store them
    one transaction each as the HTTP route does; the rate of storing them."""
    registry = Wallet(REGISTRY_KEY, DOMAIN, nonce=built.registry_nonce)
    registry_key = public_key(REGISTRY_KEY)
    keys = [_sign(registry, "document_key_publish", participant="registry",
                  publicKey="0x" + registry_key.hex())]
    keys += [d for chunk in _parallel(_key_job, _chunks(-(-count // 12))) for d in chunk]
    apply(built.ledger, keys, 1000)
    started = time.perf_counter()
    sealed = [document for chunk in _parallel(_seal_job, [
        (first, last, registry_key) for first, last in _chunks(count)]) for document in chunk]
    print(f"   published {len(keys):,} document keys; sealed {count:,} documents in "
          f"{time.perf_counter() - started:.0f} s")
    service = LedgerService(Parts(ledger=built.ledger))
    started = time.perf_counter()
    for k, document in enumerate(sealed):
        _, new = service.store_sealed(f"e{k // 12}", document, "application/json")
        assert new, document.sha256
    rate = count / (time.perf_counter() - started)
    for reader, key in (("e0", emitter_key(0)), ("registry", REGISTRY_KEY)):  # as kept
        _, kept = service.sealed_document(sealed[0].sha256, reader)
        assert open_sealed(kept, key) == monthly_document(0, MONTHS[0]), reader
    ciphertext_bytes = round(statistics.mean(len(d.ciphertext) for d in sealed))
    plaintext_bytes = ciphertext_bytes - TAG_BYTES  # AES-GCM adds its tag, nothing else
    print(f"   documents: {count:,} sealed documents stored at {rate:,.0f}/s (one transaction "
          f"each; ciphertext {ciphertext_bytes:,} bytes for a {plaintext_bytes:,}-byte "
          "document)")
    return rate


def timed(label: str, query: Callable[[], Sequence[Any]], target_s: float) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        found = query()
        runs.append(time.perf_counter() - started)
    median = statistics.median(runs)
    print(f"   {label}: {len(found):,} rows in {median:.2f} s (median of 3; target <= "
          f"{target_s:g} s)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--installations", type=int, default=10_000,
                        help="emitters, one installation each (default 10,000)")
    parser.add_argument("--batch", type=int, default=1_000,
                        help="monthly submissions per transaction (default 1,000)")
    parser.add_argument("--documents", type=int, default=None,
                        help="monthly documents to store sealed (default: 12 x the first "
                             f"{DOCUMENTED_EMITTERS} emitters)")
    args = parser.parse_args()
    documents = 12 * min(args.installations, DOCUMENTED_EMITTERS) \
        if args.documents is None else args.documents
    if not 0 <= documents <= 12 * args.installations:
        parser.error(f"--documents is 0 to 12 x --installations ({12 * args.installations:,})")
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(sqlite_url(Path(scratch) / "compliance.db"))
        store.upgrade(OPERATIONS)
        print(f"== SQLite, {args.installations:,} emitters")
        built = build(store, args.installations, args.batch)
        timed("status of every emitter", lambda: compliance_status(store, YEAR, NOW), 2)
        timed("risk warning over every emitter", lambda: compliance_risk(store, YEAR, NOW), 2)
        if documents:
            document_rate = store_documents(built, documents)
            combined = 1 / (1 / built.ingest_rate + 1 / document_rate)
            print(f"   monthly data with documents: ~{combined:,.0f} submissions/s (each "
                  "submission, then its document)")
        store.dispose()


if __name__ == "__main__":
    main()
