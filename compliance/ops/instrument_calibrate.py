"""instrument_calibrate: the emitter records a calibration of one of its instruments (by whom,
on which day, valid until which day, and the SHA-256 of its certificate). The record is kept
in `calibrations`; the instrument keeps the latest, and the first day of the unbroken run of
calibrations that ends with it (compliance.model.Instrument.calibrated)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from compliance.model import calibration_row, load_instrument, load_own_installation
from compliance.reasons import ComplianceReason
from compliance.rules import required_rules
from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class InstrumentCalibrate(Payload):
    instrument: str
    calibrated_by: str
    calibrated_on: str
    valid_until: str
    certificate_hash: str

    def check(self) -> None:
        require(self.valid_until >= self.calibrated_on, ComplianceReason.calibration_dates,
                f"valid until {self.valid_until}, before calibrated on {self.calibrated_on}")


SCHEMA = define_schema(
    "instrument_calibrate", "InstrumentCalibrate", InstrumentCalibrate,
    ("instrument", "string", "id"),
    ("calibratedBy", "string", "label"),
    ("calibratedOn", "string", "calendar_day"),
    ("validUntil", "string", "calendar_day"),
    ("certificateHash", "string", "sha256"),
)


def instrument_calibrate(p: InstrumentCalibrate, ctx: Context) -> Changes:
    instrument = load_instrument(ctx, p.instrument)
    installation = load_own_installation(ctx, instrument.installation)
    today = required_rules(ctx.rules(installation.scheme)).calendar.market_day(ctx.now)
    on, until = date.fromisoformat(p.calibrated_on), date.fromisoformat(p.valid_until)
    require(on <= today, ComplianceReason.calibration_dates,
            f"calibrated on {on}, after today {today}")
    after = instrument.calibrated(ctx.seq, p.calibrated_by, on, until)
    return Changes(rows=[
        after.row(new=False),
        calibration_row(ctx, instrument.id, p.calibrated_by, p.calibrated_on, p.valid_until,
                        p.certificate_hash),
    ])
