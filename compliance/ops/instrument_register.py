"""instrument_register: an emitter declares a measuring instrument that feeds one of its
installations' key parameters. It starts uncalibrated: monthly data resting on it is flagged
until a calibration covers the month (instrument_calibrate)."""

from __future__ import annotations

from dataclasses import dataclass

from compliance.model import NOT_YET, Instrument, load_own_installation
from compliance.reasons import ComplianceReason
from compliance.schema import instruments
from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class InstrumentRegister(Payload):
    instrument: str
    installation: str
    parameter: str


SCHEMA = define_schema(
    "instrument_register", "InstrumentRegister", InstrumentRegister,
    ("instrument", "string", "id"),
    ("installation", "string", "id"),
    ("parameter", "string", "label"),
)


def instrument_register(p: InstrumentRegister, ctx: Context) -> Changes:
    require(ctx.ws.row(instruments, (p.instrument,)) is None,
            ComplianceReason.instrument_exists, p.instrument)
    installation = load_own_installation(ctx, p.installation)
    instrument = Instrument(id=p.instrument, installation=installation.id,
                            parameter=p.parameter, calibrated_by=NOT_YET,
                            calibrated_on=NOT_YET, valid_until=NOT_YET, covered_since=NOT_YET,
                            registered_seq=ctx.seq, updated_seq=ctx.seq)
    return Changes(rows=[instrument.row(new=True)])
