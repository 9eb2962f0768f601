"""Reading a retirement certificate back, as a person checking it would: the QR code from the
page as it looks (rendered with pdfium, decoded with ZXing) and the text it states (pypdf),
then both compared with the retirement bundle.

    read = read_certificate(open("cert.pdf", "rb").read())
    problems = differences(read, retirement_facts(bundle))   # [] when they agree

The bundle itself is verified elsewhere (anchoring.auditor.verify, `carbonledger verify`):
here only what the certificate says is held to it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pypdfium2
import zxingcpp
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from projects.certificate import (
    BENEFICIARY,
    QUANTITY,
    SERIALS,
    CertificateLink,
    RetirementFacts,
    parse_link,
    quantity_text,
    serials_text,
)

RENDER_SCALE = 4  # 288 dpi: a 55 mm code of 57 modules is ~11 pixels a module


class UnreadableCertificate(ValueError):
    """The file is not a PDF, or its page carries no QR code that can be read."""


@dataclass(frozen=True)
class ReadCertificate:
    link: CertificateLink  # what its QR code says
    text: str  # what its page says, whitespace runs made one space


def read_certificate(pdf: bytes) -> ReadCertificate:
    """The QR code and the text of a certificate's first page."""
    try:
        text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        document = pypdfium2.PdfDocument(pdf)
    except (PdfReadError, pypdfium2.PdfiumError, IndexError, ValueError) as exc:
        raise UnreadableCertificate(f"the certificate is not a readable PDF: {exc}") from exc
    try:
        image = document[0].render(scale=RENDER_SCALE).to_pil()
    finally:
        document.close()
    codes = zxingcpp.read_barcodes(image,
                                   formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    if len(codes) != 1:
        raise UnreadableCertificate(f"the certificate's page carries {len(codes)} readable QR "
                                    "codes, not one")
    try:
        link = parse_link(codes[0].text)
    except ValueError as exc:
        raise UnreadableCertificate(str(exc)) from exc
    return ReadCertificate(link, normalized(text))


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def differences(read: ReadCertificate, facts: RetirementFacts) -> list[str]:
    """What the certificate says that its bundle does not: [] when they agree."""
    found: list[str] = []
    expected = facts.link
    for name in ("entry", "leaf", "checkpoint", "code"):
        if getattr(read.link, name) != getattr(expected, name):
            found.append(f"its QR code names {name} {getattr(read.link, name)}, the bundle's "
                         f"retirement is {name} {getattr(expected, name)}")
    if read.link.operator.lower() != expected.operator.lower():
        found.append(f"its QR code names operator {read.link.operator}, the bundle's is "
                     f"{expected.operator}")
    for label, value in ((BENEFICIARY, facts.beneficiary), (QUANTITY, quantity_text(facts)),
                         (SERIALS, serials_text(facts))):
        if normalized(f"{label}: {value}") not in read.text:
            found.append(f"its text does not state the bundle's {label.lower()} "
                         f"{value!r}: it says {_stated(read.text, label)!r}")
    return found


def _stated(text: str, label: str) -> str:
    """What the page says after `label`, up to a line's worth."""
    at = text.find(f"{label}:")
    return "nothing" if at < 0 else text[at + len(label) + 1:][:80].strip()
