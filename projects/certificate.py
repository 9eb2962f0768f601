"""A retirement certificate: one A4 page that says who retired which CCER units for what, and
carries what it takes to check that against the ledger's signed checkpoints.

    pdf = certificate_pdf(bundle, verified.statement)   # a verified `retirement` bundle

Everything the page states is read from the bundle (`retirement_facts`): the claim_retire
entry's fields (beneficiary, quantity, batch, purpose, subject, period covered, claim) and its
effects (the serial ranges it retired), and the provenance entries the bundle carries (the
issuance's project, the methodology); nothing comes from a database. So a certificate is
checked with its bundle alone (projects/certificate_reading.py, `carbonledger
verify-certificate`).

The verification code is the first 80 bits of the retirement entry's leaf hash (RFC 9162:
SHA-256(0x00 ‖ the entry's bytes), the leaf the checkpoint's log holds), in Crockford base32,
grouped XXXX-XXXX-XXXX-XXXX: short enough to read out over the phone, and a forger would have
to find another entry with the same first 80 bits of its hash. The QR code carries the entry's
number and whole leaf hash, the checkpoint and the operator key (`CertificateLink`): enough to
fetch the entry's proof from the ledger (`carbonledger proof entry SEQ --checkpoint N`) and
to see that it is this certificate's.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.note import parse_text, split_note
from custody.signatures import to_checksum_address

CLAIM_RETIRE = "claim_retire"
CCER_ISSUE = "ccer_issue"
METHODOLOGY_PUBLISH = "methodology_publish"
MONITORING_SUBMIT = "monitoring_submit"
MONITORING_VERIFY = "monitoring_verify"
PROJECT_SUBMIT = "project_submit"
SCHEME = "CCER"  # the only scheme ccer_issue issues

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # base32 without I, L, O, U
CODE_BITS = 80
URI_PREFIX = "carbonledger:retirement?"
URI_FIELDS = ("entry", "leaf", "checkpoint", "operator", "code")

# The page's lines whose values verify-certificate holds to the bundle: their labels.
BENEFICIARY, QUANTITY, SERIALS = "Beneficiary", "Quantity", "Serial numbers"


class NotARetirement(ValueError):
    """The bundle carries no claim_retire entry, or one a certificate cannot be made of."""


@dataclass(frozen=True)
class RetirementFacts:
    """What a certificate states, as the retirement bundle proves it."""

    retirement: str
    seq: int  # the claim_retire journal entry
    leaf: bytes  # its RFC 9162 leaf hash
    accepted_at: str
    account: str
    beneficiary: str
    quantity_t: int
    batch: str
    serials: tuple[tuple[int, int], ...]  # the retired ranges, in order
    purpose: str
    subject: str
    period_start: str
    period_end: str
    claim: str
    checkpoint: int
    checkpoint_time: str
    operator: str  # checksummed
    project: str = ""  # "" when the bundle carries no issuance entry
    project_title: str = ""  # "Gansu Jiuquan wind farm, phase II (Jiuquan, Gansu)"
    monitoring_period: str = ""
    verifier: str = ""
    methodology: str = ""  # "CM-001-V01 (V01): its title", "" without its entry
    vintage: int | None = None  # the monitoring period's end year, when the bundle says it

    @property
    def serial_prefix(self) -> str | None:
        """The batch's serial prefix (ledger.serials.serial_prefix), when the vintage is
        known."""
        return None if self.vintage is None else f"{SCHEME}-{self.vintage}-{self.batch}"

    @property
    def code(self) -> str:
        return verification_code(self.leaf)

    @property
    def link(self) -> CertificateLink:
        return CertificateLink(self.seq, self.leaf.hex(), self.checkpoint, self.operator,
                               self.code)


@dataclass(frozen=True)
class CertificateLink:
    """What the QR code says: which journal entry, in which checkpoint of which operator."""

    entry: int
    leaf: str  # hex, 64 digits
    checkpoint: int
    operator: str
    code: str

    def uri(self) -> str:
        return URI_PREFIX + urlencode({"entry": self.entry, "leaf": self.leaf,
                                       "checkpoint": self.checkpoint,
                                       "operator": self.operator, "code": self.code})


def parse_link(text: str) -> CertificateLink:
    """A QR code's text as a CertificateLink; ValueError saying why when it is not one."""
    if not text.startswith(URI_PREFIX):
        raise ValueError(f"the QR code says {text[:80]!r}, not a {URI_PREFIX}... link")
    pairs = parse_qsl(text[len(URI_PREFIX):], keep_blank_values=True, strict_parsing=True)
    fields = dict(pairs)
    if len(pairs) != len(fields) or set(fields) != set(URI_FIELDS):
        raise ValueError(f"the QR code's link names {', '.join(k for k, _ in pairs)}, want "
                         f"exactly {', '.join(URI_FIELDS)}")
    if not (fields["entry"].isdigit() and fields["checkpoint"].isdigit()):
        raise ValueError("the QR code's entry and checkpoint must be numbers")
    return CertificateLink(int(fields["entry"]), fields["leaf"], int(fields["checkpoint"]),
                           fields["operator"], fields["code"])


def verification_code(leaf: bytes) -> str:
    """The first 80 bits of `leaf` in Crockford base32: 16 symbols, XXXX-XXXX-XXXX-XXXX."""
    value = int.from_bytes(leaf[:CODE_BITS // 8], "big")
    symbols = "".join(CROCKFORD[(value >> shift) & 31]
                      for shift in range(CODE_BITS - 5, -1, -5))
    return "-".join(symbols[i:i + 4] for i in range(0, len(symbols), 4))


# --- reading the bundle -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    text: str
    seq: int
    accepted_at: str
    op: str
    fields: Mapping[str, Any]
    effects: Mapping[str, Any]


def retirement_facts(bundle: Mapping[str, Any]) -> RetirementFacts:
    """The facts of the retirement `bundle` proves. The bundle is verified first (its
    entries' inclusion and links: anchoring.auditor.verify): this only reads it.
    NotARetirement if it holds no claim_retire entry."""
    entries = list(_entries(bundle))
    retirements = [e for e in entries if e.op == CLAIM_RETIRE]
    if len(retirements) != 1:
        raise NotARetirement(f"the bundle holds {len(retirements)} {CLAIM_RETIRE} entries: a "
                             "certificate is made of a retirement bundle, which holds one")
    entry = retirements[0]
    fields = entry.fields
    checkpoint = parse_text(split_note(str(bundle["checkpoint"]))[0])
    issue = _first(entries, CCER_ISSUE)
    verification = _first(entries, MONITORING_VERIFY)
    report = _first(entries, MONITORING_SUBMIT)
    methodology = _first(entries, METHODOLOGY_PUBLISH)
    submission = _first(entries, PROJECT_SUBMIT)
    return RetirementFacts(
        retirement=str(fields.get("retirement", "")), seq=entry.seq,
        leaf=leaf_hash(entry.text.encode("utf-8")), accepted_at=entry.accepted_at,
        account=str(fields["account"]), beneficiary=str(fields["beneficiary"]),
        quantity_t=int(fields["quantity"]), batch=str(fields["batch"]),
        serials=retired_ranges(entry.effects, str(fields["batch"])),
        purpose=str(fields["purpose"]), subject=str(fields["subject"]),
        period_start=str(fields["periodStart"]), period_end=str(fields["periodEnd"]),
        claim=str(fields["claim"]), checkpoint=checkpoint.number,
        checkpoint_time=checkpoint.time,
        operator=to_checksum_address(bytes.fromhex(str(bundle["operator"])[2:])),
        project=str(issue.fields.get("project", "")) if issue else "",
        project_title=(f"{submission.fields['title']} ({submission.fields['location']})"
                       if submission else ""),
        monitoring_period=str(issue.fields.get("period", "")) if issue else "",
        verifier=str(verification.fields.get("verifier", "")) if verification else "",
        methodology=(f"{methodology.fields['methodology']} ({methodology.fields['version']}):"
                     f" {methodology.fields['title']}") if methodology else "",
        vintage=int(str(report.fields["endDate"])[:4]) if report else None,
    )


def _entries(value: Any) -> Iterator[_Entry]:
    """Every journal entry the bundle carries with its inclusion proof, wherever its kind
    puts it: an object {"entry": its JSON text, "inclusion": ...}."""
    if isinstance(value, Mapping):
        if isinstance(value.get("entry"), str) and "inclusion" in value:
            document = json.loads(value["entry"])
            instruction = document.get("instruction")
            if isinstance(instruction, Mapping):  # a checkpoint's marker has none
                yield _Entry(value["entry"], document["seq"], document["accepted_at"],
                             instruction["op"], instruction["fields"], document["effects"])
            return
        for item in value.values():
            yield from _entries(item)
    elif isinstance(value, list):
        for item in value:
            yield from _entries(item)


def _first(entries: Sequence[_Entry], op: str) -> _Entry | None:
    return next((e for e in entries if e.op == op), None)


def retired_ranges(effects: Mapping[str, Any], batch: str) -> tuple[tuple[int, int], ...]:
    """The serial ranges of `batch` an entry's effects leave retired (a lot retired whole
    keeps its id: `updated`; a part of one is a new lot: `created`), adjacent ones joined."""
    lots = sorted((int(lot["first"]), int(lot["last"]))
                  for lot in (*effects.get("created", ()), *effects.get("updated", ()))
                  if lot["batch"] == batch and lot["state"] == "retired")
    joined: list[tuple[int, int]] = []
    for first, last in lots:
        if joined and joined[-1][1] + 1 == first:
            joined[-1] = (joined[-1][0], last)
        else:
            joined.append((first, last))
    return tuple(joined)


# --- what the page says -----------------------------------------------------------------------


def quantity_text(facts: RetirementFacts) -> str:
    return f"{facts.quantity_t:,} t CO2e ({facts.quantity_t} CCER units)"


def serials_text(facts: RetirementFacts) -> str:
    prefix = facts.serial_prefix
    ranges = ", ".join(f"{prefix}-{first}..{last}" if prefix else f"{first}..{last}"
                       for first, last in facts.serials)
    return ranges if prefix else f"{ranges} of batch {facts.batch}"


def statements(facts: RetirementFacts) -> list[tuple[str, str]]:
    """The page's lines, label and value, in order."""
    purpose = facts.purpose + (f": {facts.subject}" if facts.subject else "")
    project = facts.project or "(not in the bundle)"
    if facts.project_title:
        project += f": {facts.project_title}"
    if facts.monitoring_period:
        project += f", monitoring period {facts.monitoring_period}"
    if facts.verifier:
        project += f", verified by {facts.verifier}"
    return [
        ("Retirement", f"{facts.retirement}, from account {facts.account}"),
        (BENEFICIARY, facts.beneficiary),
        (QUANTITY, quantity_text(facts)),
        (SERIALS, serials_text(facts)),
        ("Batch", facts.batch),
        ("Project", project),
        ("Methodology", facts.methodology or "(not in the bundle)"),
        ("Vintage", str(facts.vintage) if facts.vintage is not None else "(not in the bundle)"),
        ("Purpose", purpose),
        ("Period covered", f"{facts.period_start} to {facts.period_end}"),
        ("Claim", facts.claim),
        ("Retired at", f"{facts.accepted_at} (journal entry {facts.seq})"),
        ("Checkpoint", f"{facts.checkpoint} ({facts.checkpoint_time})"),
        ("Operator key", facts.operator),
        ("Verification code", facts.code),
    ]


# --- the page ---------------------------------------------------------------------------------

_MARGIN = 20 * mm
_VALUE_X = 62 * mm
_QR_SIZE = 55 * mm
_FONT, _BOLD = "Helvetica", "Helvetica-Bold"
_CJK = "STSong-Light"


def certificate_pdf(bundle: Mapping[str, Any], verified_statement: str) -> bytes:
    """The certificate of the retirement `bundle` proves (verified by the caller, whose
    `verified_statement` is printed on it), as a one-page A4 PDF."""
    return render_certificate(retirement_facts(bundle), verified_statement)


def render_certificate(facts: RetirementFacts, verified_statement: str) -> bytes:
    """The page of `facts`. The same facts give the same bytes (no creation time, no random
    document id), so a certificate can be made again and compared."""
    out = io.BytesIO()
    page = Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    page.setTitle(f"CCER retirement certificate {facts.retirement}")
    width, height = A4
    y = height - _MARGIN - 6 * mm
    page.setFont(_BOLD, 20)
    page.drawString(_MARGIN, y, "Certificate of retirement")
    y -= 8 * mm
    page.setFont(_FONT, 11)
    page.drawString(_MARGIN, y, "China Certified Emission Reductions (CCER), retired for good "
                                "for an offsetting claim")
    y -= 12 * mm
    for label, value in statements(facts):
        y = _line(page, label, value, y, width)
    _qr_code(page, facts.link.uri(), _MARGIN, _MARGIN + 38 * mm)
    _how_to_check(page, facts, _MARGIN + _QR_SIZE + 6 * mm, _MARGIN + 38 * mm + _QR_SIZE,
                  width)
    _fine_print(page, f"What its proof bundle proves: {verified_statement}.", _MARGIN + 30 * mm,
                width)
    page.showPage()
    page.save()
    return out.getvalue()


def _line(page: Canvas, label: str, value: str, y: float, width: float) -> float:
    """One labelled statement, its value wrapped at spaces; the y of the next."""
    page.setFont(_BOLD, 10)
    page.drawString(_MARGIN, y, f"{label}:")
    font = _font_for(value)
    lines = simpleSplit(value, font, 10, width - _MARGIN - _VALUE_X) or [""]
    page.setFont(font, 10)
    for text in lines:
        page.drawString(_VALUE_X, y, text)
        y -= 5 * mm
    return y - 1.5 * mm


def _font_for(value: str) -> str:
    """Helvetica, whose glyphs are Latin (cp1252); for other text (a beneficiary's Chinese
    name) Adobe's STSong-Light, which reportlab names without embedding: its text is in the
    PDF as Unicode, so it is read back and checked, but it is drawn only by a viewer that has
    the font (Acrobat, or a system with Chinese fonts)."""
    try:
        value.encode("cp1252")
    except UnicodeEncodeError:
        if _CJK not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(_CJK))
        return _CJK
    return _FONT


def _qr_code(page: Canvas, payload: str, x: float, y: float) -> None:
    """The QR code of `payload`, drawn as squares (crisp at any zoom), its quiet zone
    included, with its lower left corner at (x, y)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = _QR_SIZE / len(matrix)
    page.setFillColorRGB(0, 0, 0)
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            if dark:
                page.rect(x + column * module, y + _QR_SIZE - (row + 1) * module, module,
                          module, stroke=0, fill=1)


def _how_to_check(page: Canvas, facts: RetirementFacts, x: float, top: float,
                  width: float) -> None:
    text = (f"To check this certificate: carbonledger verify-certificate CERTIFICATE.pdf "
            f"BUNDLE.json --operator-key {facts.operator} (add --rpc URL to check the "
            f"anchor on chain). Or from the QR code alone: carbonledger proof entry "
            f"{facts.seq} --checkpoint {facts.checkpoint} --operator-key {facts.operator}, "
            "then carbonledger verify the entry bundle: its entry's leaf hash is the QR "
            "code's, and the verification code is that hash's first 80 bits in Crockford "
            "base32.")
    page.setFont(_FONT, 8.5)
    y = top - 3 * mm
    for line in simpleSplit(text, _FONT, 8.5, width - _MARGIN - x):
        page.drawString(x, y, line)
        y -= 4 * mm


def _fine_print(page: Canvas, text: str, top: float, width: float) -> None:
    page.setFont(_FONT, 7)
    y = top
    for line in simpleSplit(text, _FONT, 7, width - 2 * _MARGIN):
        page.drawString(_MARGIN, y, line)
        y -= 3.2 * mm
