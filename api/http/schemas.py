"""What the HTTP service answers, as pydantic models: each is the JSON form of one of the
application service's values (its dataclass's fields, enums as their values, bytes as 0x-hex),
so that the OpenAPI document describes every response exactly. Models refuse fields they do not
name, so a record that grows a field fails here, in a test, before a client sees it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from compliance.queries import ComplianceState, CreditEvent
from ledger.model import AccountType, Issuance, Kind, LotState, Role
from pledge.model import PledgeStatus, RepoStatus
from projects.fields import ClaimPurpose, ExistingProjects
from projects.model import MethodologyStatus, ProjectStatus
from projects.period_model import PeriodStatus

_ADDRESS = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
_HASH = "0x" + "3f" * 32


def _strict(example: dict[str, Any] | None = None) -> ConfigDict:
    if example is None:
        return ConfigDict(extra="forbid")
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


def _example(model: type[BaseModel]) -> dict[str, Any]:
    """The example a model was given: a model that holds others shows theirs."""
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict), f"{model.__name__} has no example"
    examples = extra["examples"]
    assert isinstance(examples, list) and isinstance(examples[0], dict)
    return examples[0]


def _items(model: type[BaseModel]) -> ConfigDict:
    """A list answer's config, its example one item long."""
    return _strict({"items": [_example(model)]})


# --- problems (RFC 9457) -----------------------------------------------------------------------

class Problem(BaseModel):
    """Why a request failed: `reason` names a refusal of the ledger (ledger.errors, or a
    module's reasons), `code` a failure of the store, of a verification, of the operator's
    side or of the request itself. `retryable` says whether the same request can succeed later
    without anyone changing it."""

    model_config = _strict({
        "type": "urn:carbonledger:reason:insufficient_tradable",
        "title": "the account does not hold enough tradable units of this batch",
        "status": 422, "detail": "HN holds 990 t of A1, 5000 t asked", "reason":
        "insufficient_tradable", "retryable": True})

    type: str
    title: str
    status: int
    detail: str
    reason: str | None = None
    code: str | None = None
    retryable: bool | None = None


# --- writes ------------------------------------------------------------------------------------

class Receipt(BaseModel):
    """An accepted instruction's place in the journal. `duplicate`: the instruction id was
    accepted before, and this is that first receipt."""

    model_config = _strict({
        "seq": 12, "instruction_id": _HASH, "entry_hash": _HASH,
        "accepted_at": "2026-06-01T09:00:00.000Z",
        "effects": {"lots": [{"id": "12.0", "first": 501, "last": 510}]}, "duplicate": False})

    seq: int
    instruction_id: str
    entry_hash: str
    accepted_at: str
    effects: dict[str, Any]
    duplicate: bool


class Refusal(BaseModel):
    """A refused instruction of an array (`Rejected.as_dict()`); nothing of it was written."""

    model_config = _strict({
        "reason": "stale_nonce", "message": "a signer's nonce is not greater than its last "
        "used nonce", "detail": "nonce 3, last used 7", "retryable": False})

    reason: str
    message: str
    detail: str
    retryable: bool


class Accepted(BaseModel):
    model_config = _strict({"receipt": _example(Receipt)})

    receipt: Receipt


class Refused(BaseModel):
    model_config = _strict({"refused": _example(Refusal)})

    refused: Refusal


class Results(BaseModel):
    """One result per instruction of the array, in its order."""

    model_config = _strict({"results": [_example(Accepted), _example(Refused)]})

    results: list[Accepted | Refused]


class Approval(BaseModel):
    model_config = _strict({"signer": _ADDRESS, "nonce": 8, "signature": "0x" + "ab" * 65})

    signer: str = Field(description="the signing key's address (EIP-55)")
    nonce: int = Field(description="greater than the key's last used nonce")
    signature: str = Field(description="0x and 65 bytes of hex (r, s, v)")


class SignedInstruction(BaseModel):
    """A signed instruction's JSON form (`SignedInstruction.as_json()`, what `Wallet.sign`
    gives); its fields are the operation's (docs/operations.md)."""

    model_config = _strict({
        "op": "transfer", "id": _HASH, "deadline": 1780304400,
        "fields": {"fromAccount": "HN", "toAccount": "ICBC", "batch": "A1", "quantity": 10},
        "approvals": [{"signer": _ADDRESS, "nonce": 8, "signature": "0x" + "ab" * 65}]})

    op: str
    id: str = Field(description="0x and 32 bytes of hex: the instruction's idempotency key")
    deadline: int = Field(description="unix seconds after which the ledger refuses it")
    fields: dict[str, Any]
    approvals: list[Approval]


# --- reads ----------------------------------------------------------------------------------

class Head(BaseModel):
    model_config = _strict({"head": 41})

    head: int = Field(description="the last journal entry's sequence number (-1: none)")


class Nonce(BaseModel):
    model_config = _strict({"address": _ADDRESS, "last_nonce": 7, "next_nonce": 8})

    address: str
    last_nonce: int = Field(description="0 for a key that has not signed, or is not registered")
    next_nonce: int


class Participant(BaseModel):
    model_config = _strict({"id": "huaneng", "name": "Huaneng", "role": "emitter",
                            "registered_seq": 1})

    id: str
    name: str
    role: Role
    registered_seq: int


class SigningKey(BaseModel):
    model_config = _strict({"address": _ADDRESS, "participant": "huaneng",
                            "registered_seq": 2, "revoked_seq": None, "last_nonce": 7})

    address: str
    participant: str
    registered_seq: int
    revoked_seq: int | None
    last_nonce: int


class Account(BaseModel):
    model_config = _strict({"id": "HN", "participant": "huaneng", "type": "compliance",
                            "frozen": False, "freeze_reason": "", "opened_seq": 3})

    id: str
    participant: str
    type: AccountType
    frozen: bool
    freeze_reason: str
    opened_seq: int


class Batch(BaseModel):
    model_config = _strict({
        "id": "A1", "scheme": "CN-ETS", "kind": "allowance", "vintage": 2025, "project": "",
        "monitoring_start": "", "monitoring_end": "", "issuance": "free_allocation",
        "quantity": 1000, "serial_prefix": "CN-ETS-2025-A1", "issued_seq": 7})

    id: str
    scheme: str
    kind: Kind
    vintage: int
    project: str
    monitoring_start: str
    monitoring_end: str
    issuance: Issuance
    quantity: int
    serial_prefix: str
    issued_seq: int


class Holding(BaseModel):
    model_config = _strict({"account": "HN", "batch": "A1", "tradable": 590, "pledged": 400,
                            "retired": 0, "surrendered": 0, "cancelled": 0})

    account: str
    batch: str
    tradable: int
    pledged: int
    retired: int
    surrendered: int
    cancelled: int


class Lot(BaseModel):
    """Serials first..last of one batch, held by one account in one state; `lien` names the
    pledge or repo a pledged lot is under."""

    model_config = _strict({"id": "12.0", "batch": "A1", "first": 501, "last": 510,
                            "account": "ICBC", "state": "tradable", "lien": None,
                            "created_seq": 12})

    id: str
    batch: str
    first: int
    last: int
    account: str
    state: LotState
    lien: str | None
    created_seq: int


_PLEDGED_LOT = {"id": "14.0", "batch": "A1", "first": 1, "last": 400, "account": "HN",
                "state": "pledged", "lien": "P1", "created_seq": 14}


class JournalEntry(BaseModel):
    """One line of `GET /v1/journal` (application/x-ndjson)."""

    model_config = _strict({"seq": 12, "op": "transfer",
                            "accepted_at": "2026-06-01T09:00:00.000Z", "entry_hash": _HASH,
                            "document": {"format": 2, "instruction": {"op": "transfer"}}})

    seq: int
    op: str
    accepted_at: str
    entry_hash: str
    document: dict[str, Any]


class Anchor(BaseModel):
    model_config = _strict({"chain_id": 31337,
                            "contract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                            "tx_hash": _HASH, "block_number": 3, "block_time": 1780304460})

    chain_id: int
    contract: str
    tx_hash: str
    block_number: int
    block_time: int = Field(description="unix seconds")


class Checkpoint(BaseModel):
    """A signed checkpoint (`note`, the operator's signed note; the other fields index it)
    and where it is anchored, if it is."""

    model_config = _strict({
        "number": 1, "log_size": 12, "log_root": _HASH, "state_root": _HASH,
        "time": "2026-06-01T09:00:00.000Z", "origin": "carbonledger/MEE", "signer": _ADDRESS,
        "note": "carbonledger/MEE\n12\n...", "anchor": None})

    number: int
    log_size: int
    log_root: str
    state_root: str
    time: str
    origin: str
    signer: str
    note: str
    anchor: Anchor | None


class Pledge(BaseModel):
    model_config = _strict({
        "id": "P1", "pledgor": "huaneng", "pledgee": "icbc", "account": "HN", "batch": "A1",
        "quantity": 400, "released": 0, "enforced": 0, "loan_reference": "ICBC-1",
        "principal": 10000, "currency": "CNY", "start_date": "2026-01-01",
        "maturity_date": "2027-12-31", "status": "active", "registered_seq": 14,
        "updated_seq": 14})

    id: str
    pledgor: str
    pledgee: str
    account: str
    batch: str
    quantity: int
    released: int
    enforced: int
    loan_reference: str
    principal: int = Field(description="minor units of `currency`")
    currency: str
    start_date: str
    maturity_date: str
    status: PledgeStatus
    registered_seq: int
    updated_seq: int


class Repo(BaseModel):
    model_config = _strict({
        "id": "R1", "seller": "baowu", "buyer": "icbc", "seller_account": "BW",
        "buyer_account": "ICBC", "batch": "A1", "quantity": 300, "returned": 0,
        "purchase_price": 2_400_000, "repurchase_price": 2_420_000, "currency": "CNY",
        "opened_on": "2026-06-01", "repurchase_date": "2026-07-01", "free_use": False,
        "status": "open", "opened_seq": 15, "updated_seq": 15})

    id: str
    seller: str
    buyer: str
    seller_account: str
    buyer_account: str
    batch: str
    quantity: int
    returned: int
    purchase_price: int = Field(description="minor units of `currency`, the whole quantity")
    repurchase_price: int
    currency: str
    opened_on: str
    repurchase_date: str
    free_use: bool
    status: RepoStatus
    opened_seq: int
    updated_seq: int


class HistoryEntry(BaseModel):
    """A journal entry that acted on an agreement; `quantity` is the units it moved."""

    model_config = _strict({
        "seq": 14, "op": "pledge_register", "quantity": 400,
        "accepted_at": "2026-06-01T09:00:00.000Z", "signers": [_ADDRESS, _ADDRESS],
        "fields": {"pledge": "P1", "account": "HN", "quantity": 400},
        "effects": {"lots": [{"id": "14.0", "first": 1, "last": 400}]}, "entry_hash": _HASH})

    seq: int
    op: str
    quantity: int
    accepted_at: str
    signers: list[str]
    fields: dict[str, Any]
    effects: dict[str, Any]
    entry_hash: str


class PledgeHistory(BaseModel):
    model_config = _strict({"pledge": _example(Pledge), "lots": [_PLEDGED_LOT],
                            "entries": [_example(HistoryEntry)]})

    pledge: Pledge
    lots: list[Lot] = Field(description="the lots still under the pledge's lien")
    entries: list[HistoryEntry]


class RepoHistory(BaseModel):
    model_config = _strict({"repo": _example(Repo), "lots": [
        {**_PLEDGED_LOT, "id": "15.0", "account": "ICBC", "lien": "R1", "created_seq": 15}],
        "entries": [{**_example(HistoryEntry), "seq": 15, "op": "repo_open",
                     "quantity": 300}]})

    repo: Repo
    lots: list[Lot] = Field(description="the lots still under the repo's lien")
    entries: list[HistoryEntry]


class Participants(BaseModel):
    model_config = _items(Participant)
    items: list[Participant]


class SigningKeys(BaseModel):
    model_config = _items(SigningKey)
    items: list[SigningKey]


class Accounts(BaseModel):
    model_config = _items(Account)
    items: list[Account]


class Batches(BaseModel):
    model_config = _items(Batch)
    items: list[Batch]


class Holdings(BaseModel):
    model_config = _items(Holding)
    items: list[Holding]


class Lots(BaseModel):
    model_config = _items(Lot)
    items: list[Lot]


class Checkpoints(BaseModel):
    model_config = _items(Checkpoint)
    items: list[Checkpoint]


class Pledges(BaseModel):
    model_config = _items(Pledge)
    items: list[Pledge]


class Repos(BaseModel):
    model_config = _items(Repo)
    items: list[Repo]


# --- compliance (api/http/compliance_reads.py) -------------------------------------------------

class ComplianceStatus(BaseModel):
    """An emitter's compliance for one year, in tonnes: `state` is due, compliant, overdue or
    unverified (installations in the scheme, no verified obligation yet: no obligation and
    no shortfall)."""

    model_config = _strict({
        "emitter": "huaneng", "year": 2025, "scheme": "CN-ETS", "state": "due",
        "obligation": 1200, "allowances": 300, "credits": 0, "shortfall": 900,
        "deadline": "2026-12-31", "days_to_deadline": 362, "late": False, "set_seq": 41,
        "met_seq": None})

    emitter: str
    year: int
    scheme: str
    state: ComplianceState
    obligation: int | None
    allowances: int = Field(description="surrendered")
    credits: int = Field(description="offsets surrendered")
    shortfall: int | None
    deadline: str = Field(description="the last market day to surrender, YYYY-MM-DD")
    days_to_deadline: int = Field(description="negative once it has passed")
    late: bool = Field(description="met, but after the deadline")
    set_seq: int | None = Field(description="the entry that set the obligation")
    met_seq: int | None = Field(description="the surrender that met it")


class MonthlySubmission(BaseModel):
    model_config = _strict({
        "id": "HN-1-2026-01", "emitter": "huaneng", "installation": "HN-1",
        "month": "2026-01", "year": 2026, "document_hash": "0x" + "ab" * 32,
        "document_format": "csv", "lines": 2, "total_kg": 7_981_203,
        "calibration_lapsed": False, "late": False, "supersedes": "", "superseded_by": "",
        "submitted_seq": 41, "updated_seq": 41})

    id: str
    emitter: str
    installation: str
    month: str
    year: int
    document_hash: str
    document_format: str
    lines: int
    total_kg: int = Field(description="the month's emissions, whole kilograms CO2")
    calibration_lapsed: bool
    late: bool
    supersedes: str = Field(description="the submission it corrects; empty for a first one")
    superseded_by: str = Field(description="the correction that replaced it; empty while in "
                                           "force")
    submitted_seq: int
    updated_seq: int


class MonthlySubmissions(BaseModel):
    model_config = _items(MonthlySubmission)
    items: list[MonthlySubmission]


class ComplianceStatuses(BaseModel):
    model_config = _items(ComplianceStatus)
    items: list[ComplianceStatus]


class Pledgee(BaseModel):
    model_config = _strict({"bank": "icbc", "quantity": 400})
    bank: str
    quantity: int = Field(description="units under its pledges' liens in the emitter's accounts")


class RiskWarning(BaseModel):
    """An emitter whose freely available units (tradable, eligible for the year, offsets only
    as far as the cap still allows) fall short of what it still owes."""

    model_config = _strict({
        "emitter": "huaneng", "year": 2025, "scheme": "CN-ETS", "owed": 900,
        "free_allowances": 300, "free_credits": 0, "available": 300, "shortfall_risk": 600,
        "deadline": "2026-12-31", "days_to_deadline": 362, "pledged": 400,
        "pledgees": [_example(Pledgee)]})

    emitter: str
    year: int
    scheme: str
    owed: int
    free_allowances: int
    free_credits: int
    available: int
    shortfall_risk: int
    deadline: str
    days_to_deadline: int
    pledged: int
    pledgees: list[Pledgee]


class RiskWarnings(BaseModel):
    model_config = _items(RiskWarning)
    items: list[RiskWarning]


class CreditItem(BaseModel):
    model_config = _strict({
        "event": "late_monthly_data", "year": 2025, "subject": "HN-2 2025-01",
        "detail": "submission HN-2:2025-01 after the due day", "seq": 27})

    event: CreditEvent
    year: int | None
    subject: str
    detail: str
    seq: int | None = Field(description="the journal entry it derives from (none for data "
                                        "that is missing)")


class CreditRecord(BaseModel):
    model_config = _strict({"entity": "huaneng", "head": 43,
                            "as_of": "2026-01-03T09:00:00.000Z",
                            "items": [_example(CreditItem)], "clean_years": 0,
                            "streamlined": False})

    entity: str
    head: int
    as_of: str
    items: list[CreditItem]
    clean_years: int = Field(description="verified years in a row with no flagged "
                                          "verification and no late or lapsed monthly data")
    streamlined: bool = Field(description="eligible for streamlined verification: the "
                                          "scheme's streamlined_after clean years in a row")


class DisclosedEmitter(BaseModel):
    model_config = _strict({
        "emitter": "huaneng", "scheme": "CN-ETS", "verified_t": 1200, "allowances": 300,
        "credits": 0, "state": "due", "pledged": 400})

    emitter: str
    scheme: str
    verified_t: int | None
    allowances: int
    credits: int
    state: ComplianceState
    pledged: int


class MarketTotals(BaseModel):
    model_config = _strict({
        "transfers": 12, "transferred_t": 4800, "surrendered_allowances_t": 300,
        "surrendered_credits_t": 0, "retired_t": 50})

    transfers: int
    transferred_t: int
    surrendered_allowances_t: int
    surrendered_credits_t: int
    retired_t: int


class Disclosure(BaseModel):
    """A scheme's year as published, from journaled data only, at journal entry `head`,
    naming the latest signed checkpoint then."""

    model_config = _strict({
        "year": 2025, "scheme": "CN-ETS", "market_day": "2026-01-03", "head": 43,
        "checkpoint": 4, "checkpoint_log_size": 40, "emitters": [_example(DisclosedEmitter)],
        "totals": _example(MarketTotals)})

    year: int
    scheme: str
    market_day: str
    head: int
    checkpoint: int | None
    checkpoint_log_size: int | None
    emitters: list[DisclosedEmitter]
    totals: MarketTotals


class Bundle(BaseModel):
    """A proof bundle (docs/proof-format.md): check it with `carbonledger verify` or
    `anchoring.auditor.verify.verify_bundle` against the operator key you trust."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "format": "carbonledger/proof-bundle", "version": 1, "kind": "lot",
        "operator": _ADDRESS, "checkpoint": "carbonledger/MEE\n12\n...", "anchor": None}]})

    format: str
    version: int
    kind: str
    operator: str
    checkpoint: str = Field(description="the operator's signed checkpoint note")
    anchor: dict[str, Any] | None


# --- logging in (api/http/auth.py) -------------------------------------------------------------

class SigningDomain(BaseModel):
    """The EIP-712 domain a login (and every instruction) of this ledger is signed under."""

    model_config = _strict({"name": "carbonledger", "version": "1", "chainId": 31337})

    name: str
    version: str
    chainId: int  # EIP-712's own spelling


class Challenge(BaseModel):
    """A login challenge: sign `Login(bytes32 challenge, string participant, uint64 expires)`
    under `domain` with one of the participant's registered keys, before `expires`, and send
    it to POST /v1/auth/token. Each challenge logs in once."""

    model_config = _strict({
        "challenge": _HASH, "expires": 1_780_000_120,
        "domain": {"name": "carbonledger", "version": "1", "chainId": 31337},
        "primary_type": "Login",
        "types": {"Login": [{"name": "challenge", "type": "bytes32"},
                            {"name": "participant", "type": "string"},
                            {"name": "expires", "type": "uint64"}]}})

    challenge: str = Field(description="32 bytes, 0x-hex")
    expires: int = Field(description="unix seconds; sign and redeem it before then")
    domain: SigningDomain
    primary_type: str
    types: dict[str, list[dict[str, str]]]


class LoginRequest(BaseModel):
    """A signed challenge: the challenge and its expiry as issued, the participant logging in
    and a 65-byte secp256k1 signature (r, s, v) of the `Login` struct by one of its active
    keys."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [{
        "challenge": _HASH, "participant": "icbc", "expires": 1_780_000_120,
        "signature": "0x" + "ab" * 65}]})

    challenge: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    participant: str = Field(min_length=1, max_length=64)
    expires: int = Field(ge=0)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class Token(BaseModel):
    """A bearer token: send `Authorization: Bearer TOKEN` with every read until `expires`
    (unix seconds), then log in again."""

    model_config = _strict({"token": "eyJlIjoxNzgwMDAwOTAwfQ.2xQ", "participant": "icbc",
                            "role": "bank", "expires": 1_780_000_900})

    token: str
    participant: str
    role: Role
    expires: int


# --- the project cycle (api/http/project_reads.py): public ------------------------------------

class Methodology(BaseModel):
    """A published methodology; a superseded or withdrawn one keeps its record, with what
    its retirement meant for the projects under it."""

    model_config = _strict({
        "id": "CM-001-V01", "version": "V01", "sector": "energy",
        "title": "Grid-connected electricity generation from renewable sources",
        "applicability": "wind and solar plants feeding a regional grid",
        "valid_from": "2023-10-24", "valid_until": "", "buffer_bp": 0, "status": "active",
        "replaced_by": "", "existing_projects": "keep", "retired_on": "", "reason": "",
        "published_seq": 5, "updated_seq": 5})

    id: str
    version: str
    sector: str = Field(description="the sector its validators and verifiers qualify in")
    title: str
    applicability: str
    valid_from: str
    valid_until: str = Field(description='"" for open-ended')
    buffer_bp: int = Field(description="share of each issuance set aside, in 1/10,000")
    status: MethodologyStatus
    replaced_by: str
    existing_projects: ExistingProjects
    retired_on: str
    reason: str
    published_seq: int
    updated_seq: int


class Project(BaseModel):
    model_config = _strict({
        "id": "GANSU-WIND", "owner": "windfarm", "methodology": "CM-001-V01",
        "title": "Gansu Jiuquan wind farm, phase II", "location": "Jiuquan, Gansu",
        "start_date": "2023-12-01", "crediting_start": "2024-01-01",
        "crediting_end": "2033-12-31", "expected_t": 1_200_000, "pdd_hash": _HASH,
        "comments_until": "2024-03-29", "status": "registered", "validator": "cec",
        "validation_hash": _HASH, "periods": '[["2024-01-01","2024-03-31"]]', "reason": "",
        "submitted_seq": 6, "updated_seq": 8})

    id: str
    owner: str
    methodology: str
    title: str
    location: str
    start_date: str
    crediting_start: str
    crediting_end: str
    expected_t: int = Field(description="expected reductions over the crediting period, t")
    pdd_hash: str = Field(description="SHA-256 of the project design document, 0x-hex")
    comments_until: str = Field(description="the last day of the public comment period")
    status: ProjectStatus
    validator: str
    validation_hash: str
    periods: str = Field(description="its monitoring periods' days, JSON [[start, end], ...]")
    reason: str = Field(description="the latest suspension's, reinstatement's or "
                                    "deregistration's")
    submitted_seq: int
    updated_seq: int


class ProjectComment(BaseModel):
    model_config = _strict({"project": "GANSU-WIND", "seq": 7, "author": "sgs",
                            "comment_hash": _HASH,
                            "summary": "the grid emission factor is out of date"})

    project: str
    seq: int
    author: str
    comment_hash: str = Field(description="SHA-256 of the comment's full text")
    summary: str


class MonitoringPeriod(BaseModel):
    """A monitoring period: the owner's claim, the verification body's figure, and what was
    issued for it (never more than verified), each step naming its journal entry."""

    model_config = _strict({
        "project": "GANSU-WIND", "period": "2024Q1", "start_date": "2024-01-01",
        "end_date": "2024-03-31", "report_hash": _HASH, "claimed_t": 10_000,
        "verifier": "sgs", "verified_t": 9_000, "issued_t": 9_000,
        "batch": "CCER-GW-2024Q1", "status": "issued", "reported_seq": 9,
        "verified_seq": 10, "issued_seq": 11})

    project: str
    period: str
    start_date: str
    end_date: str
    report_hash: str
    claimed_t: int
    verifier: str = Field(description='"" until verified')
    verified_t: int
    issued_t: int = Field(description="to the owner and to the buffer together")
    batch: str = Field(description='"" until issued')
    status: PeriodStatus
    reported_seq: int
    verified_seq: int | None
    issued_seq: int | None


class ProjectRecord(BaseModel):
    """A project with the entries that validated and registered it (null: not yet), its
    public comments and its monitoring periods."""

    model_config = _strict({"project": _example(Project), "validated_seq": 7,
                            "registered_seq": 8, "comments": [_example(ProjectComment)],
                            "periods": [_example(MonitoringPeriod)]})

    project: Project
    validated_seq: int | None
    registered_seq: int | None
    comments: list[ProjectComment]
    periods: list[MonitoringPeriod]


class ClaimRetirement(BaseModel):
    model_config = _strict({
        "id": "RET-LI-2024", "seq": 14, "account": "LI", "batch": "CCER-GW-2024Q1",
        "quantity": 150, "beneficiary": "Li Wei", "purpose": "period", "subject": "",
        "period_start": "2024-01-01", "period_end": "2024-12-31",
        "claim": "my household's emissions in 2024, offset", "serials": [[1, 100], [201, 250]]})

    id: str
    seq: int = Field(description="the claim_retire entry")
    account: str
    batch: str
    quantity: int
    beneficiary: str
    purpose: ClaimPurpose
    subject: str = Field(description="the event's or product's stable identifier, the "
                                     "organisation's name")
    period_start: str
    period_end: str
    claim: str
    serials: list[tuple[int, int]] = Field(description="the serial ranges retired, in order")


class RetirementRecord(BaseModel):
    """A retirement for a claim, when it was accepted, and the project and monitoring period
    behind its units ("" for a batch no period was credited with)."""

    model_config = _strict({"retirement": _example(ClaimRetirement),
                            "retired_at": "2024-07-02T09:00:00.000Z",
                            "project": "GANSU-WIND", "period": "2024Q1"})

    retirement: ClaimRetirement
    retired_at: str
    project: str
    period: str


class Methodologies(BaseModel):
    model_config = _items(Methodology)
    items: list[Methodology]


class Projects(BaseModel):
    model_config = _items(Project)
    items: list[Project]


class RetirementRecords(BaseModel):
    model_config = _items(RetirementRecord)
    items: list[RetirementRecord]


# --- quota allocation (api/http/allocation_reads.py) -------------------------------------------

class Auction(BaseModel):
    """An auction's terms and where it stands (`phase`), its results once cleared. Prices
    are minor units (fen) per tonne. Public."""

    model_config = _strict({
        "id": "AU-2026-1", "scheme": "CN-ETS", "year": 2026, "quantity": 100_000,
        "reserve_price": 5_000, "opens": "2026-03-02T01:00:00Z",
        "closes": "2026-03-05T09:00:00Z", "bidder_limit_bp": 5_000, "batch": "CEA-2026-A1",
        "status": "cleared", "phase": "cleared", "bid_count": 3, "bids_digest": _HASH,
        "clearing_price": 8_000, "sold": 100_000, "results_digest": _HASH,
        "announced_seq": 40, "cleared_seq": 44})

    id: str
    scheme: str
    year: int
    quantity: int = Field(description="tonnes on offer")
    reserve_price: int = Field(description="the lowest price accepted, minor units per tonne")
    opens: str
    closes: str
    bidder_limit_bp: int = Field(description="one bidder's most, in 1/10,000 of the offer")
    batch: str = Field(description="the batch its results are issued in")
    status: str = Field(description="announced | cleared")
    phase: str = Field(description="upcoming | open | closed | cleared, on the ledger's "
                                   "clock now")
    bid_count: int
    bids_digest: str = Field(description="the running digest that commits to every bid")
    clearing_price: int = Field(description="0 until cleared, or when nothing sold")
    sold: int
    results_digest: str = Field(description='"" until cleared')
    announced_seq: int
    cleared_seq: int | None


class Bid(BaseModel):
    """A bid: sealed until its auction is cleared (its bidder, the registry and auditors read
    it); `filled` is null until then, 0 for a bid that lost."""

    model_config = _strict({
        "auction": "AU-2026-1", "bid": "B-HN-1", "bidder": "huaneng", "account": "HN-C",
        "quantity": 40_000, "price": 8_500, "seq": 41, "filled": 40_000})

    auction: str
    bid: str
    bidder: str
    account: str
    quantity: int
    price: int = Field(description="minor units per tonne")
    seq: int = Field(description="its journal entry: ties are broken by it")
    filled: int | None


class Auctions(BaseModel):
    model_config = _items(Auction)
    items: list[Auction]


class Bids(BaseModel):
    model_config = _items(Bid)
    items: list[Bid]


class PlanSector(BaseModel):
    """A sector of a plan: its free allocation, benchmark (tCO2 per unit of output, an exact
    decimal string), unit of output, named adjustment factors, and what it received."""

    model_config = _strict({
        "sector": "power", "free_cap": 1_000_000, "benchmark": "0.8218",
        "output_unit": "MWh", "factors": {"load": "1.012"}, "allocated": 582_163,
        "remaining": 417_837})

    sector: str
    free_cap: int
    benchmark: str
    output_unit: str
    factors: dict[str, str]
    allocated: int = Field(description="free allocation issued, net of units taken back")
    remaining: int


class AllocationPlan(BaseModel):
    """A scheme's plan for a year and its counters: `issued - taken_back + reserve +
    to_auction` (`outstanding`) never exceeds the cap, nor a sector's `allocated` its
    `free_cap`. Public."""

    model_config = _strict({
        "scheme": "CN-ETS", "year": 2026, "cap": 2_000_000, "reserve": 50_000,
        "to_auction": 350_000, "on_offer": 0, "issued": 897_163, "taken_back": 0,
        "amendments": 0, "set_seq": 30, "updated_seq": 34, "outstanding": 1_297_163,
        "headroom": 702_837, "sectors": [_example(PlanSector)]})

    scheme: str
    year: int
    cap: int
    reserve: int = Field(description="units in the market-stability reserve")
    to_auction: int = Field(description="units still to auction")
    on_offer: int = Field(description="of those, on offer in announced uncleared auctions")
    issued: int
    taken_back: int
    amendments: int
    set_seq: int
    updated_seq: int
    outstanding: int = Field(description="issued - taken_back + reserve + to_auction")
    headroom: int = Field(description="cap - outstanding")
    sectors: list[PlanSector]


class PlanAmendment(BaseModel):
    model_config = _strict({
        "scheme": "CN-ETS", "year": 2026, "seq": 35, "reason": "two plants commissioned",
        "cap_before": 2_000_000, "cap_after": 2_100_000, "sectors_before": "[]",
        "sectors_after": "[]"})

    scheme: str
    year: int
    seq: int
    reason: str
    cap_before: int
    cap_after: int
    sectors_before: str = Field(description="canonical JSON")
    sectors_after: str


class ReserveMovement(BaseModel):
    model_config = _strict({
        "scheme": "CN-ETS", "year": 2026, "seq": 33, "kind": "release", "quantity": 50_000,
        "figures": "MF-2026-01", "installation": "",
        "reason": "prices above the release trigger"})

    scheme: str
    year: int
    seq: int
    kind: str = Field(description="release | absorb | new_entrant")
    quantity: int
    figures: str = Field(description='the market figures cited ("" for a new entrant)')
    installation: str = Field(description='a new entrant ("" otherwise)')
    reason: str


class MarketFigures(BaseModel):
    model_config = _strict({
        "id": "MF-2026-01", "scheme": "CN-ETS", "period": "2026-01", "average_price": 10_500,
        "surplus": 1_200_000, "source": "national carbon exchange, monthly report",
        "published_seq": 32})

    id: str
    scheme: str
    period: str
    average_price: int = Field(description="minor units per tonne")
    surplus: int = Field(description="tonnes in circulation")
    source: str
    published_seq: int


class AllocationPlans(BaseModel):
    model_config = _items(AllocationPlan)
    items: list[AllocationPlan]


class PlanAmendments(BaseModel):
    model_config = _items(PlanAmendment)
    items: list[PlanAmendment]


class ReserveMovements(BaseModel):
    model_config = _items(ReserveMovement)
    items: list[ReserveMovement]


class MarketFiguresList(BaseModel):
    model_config = _items(MarketFigures)
    items: list[MarketFigures]


class FigureInputs(BaseModel):
    """An allocation figure and what it is computed from: output x benchmark x factors x
    share_bp / 10000, exactly (`exact`), rounded once to whole tonnes, half up (`tonnes`);
    `matches`: the recomputed figure is the one recorded."""

    model_config = _strict({
        "output_year": 2025, "output": "1000000", "unit": "MWh", "verifier": "cec",
        "benchmark": "0.8218", "factors": {"load": "1.012"}, "share_bp": 7_000,
        "exact": "582163.12", "tonnes": 582_163, "recorded": 582_163, "matches": True})

    output_year: int
    output: str | None
    unit: str | None
    verifier: str | None
    benchmark: str | None
    factors: dict[str, str]
    share_bp: int
    exact: str | None
    tonnes: int | None
    recorded: int | None
    matches: bool


class InstallationAllocation(BaseModel):
    """What an installation received for a year: `received` = issued - taken_back +
    debt_applied; `final` once trued up; each figure with its inputs. Its emitter's, the
    registry's and auditors'."""

    model_config = _strict({
        "installation": "HN-1", "year": 2026, "scheme": "CN-ETS", "sector": "power",
        "account": "HN-C", "source": "preallocation", "preallocated": 582_163, "final": None,
        "issued": 582_163, "taken_back": 0, "debt_applied": 0, "debt_created": 0,
        "debt_after": 0, "received": 582_163, "batches": ["CEA-2026-P"],
        "allocated_seq": 31, "trued_up_seq": None,
        "preallocation": _example(FigureInputs), "true_up": None})

    installation: str
    year: int
    scheme: str
    sector: str
    account: str
    source: str = Field(description="preallocation | new_entrant")
    preallocated: int
    final: int | None
    issued: int
    taken_back: int
    debt_applied: int
    debt_created: int
    debt_after: int
    received: int
    batches: list[str]
    allocated_seq: int
    trued_up_seq: int | None
    preallocation: FigureInputs | None
    true_up: FigureInputs | None


class InstallationAllocations(BaseModel):
    model_config = _items(InstallationAllocation)
    items: list[InstallationAllocation]
