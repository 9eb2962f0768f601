"""The compliance module's tables: projections its handlers write through `ledger.effects.Row`
(declared by compliance/module.py, `tables=`, and compared by replay like the core's), on a
MetaData of their own.

Monthly emissions are exact integers of kilograms CO2e (`*_kg`); verified emissions,
obligations and surrendered units are whole tonnes. Days are YYYY-MM-DD, months YYYY-MM.
Its migrations are in compliance/migrations/ (this module's version location).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# --- emissions data ---------------------------------------------------------------------------

# A key emitter's installation, covered by one compliance scheme, in one sector.
installations = Table(
    "installations", metadata,
    Column("id", String(64), primary_key=True),
    Column("emitter", String(64), nullable=False),  # participant id
    Column("scheme", String(64), nullable=False),  # the compliance scheme covering it
    # e.g. power, cement: verifiers are qualified per sector
    Column("sector", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
    Index("ix_installations_emitter", "emitter"),
)

# Each emitter's installations, by scheme: a handler reads rows by key only, and an annual
# report must cover every installation of its emitter in its scheme.
emitters = Table(
    "emitters", metadata,
    Column("emitter", String(64), primary_key=True),
    Column("scheme", String(64), primary_key=True),
    Column("installations", Text, nullable=False),  # JSON list of installation ids, sorted
    Column("updated_seq", BigInteger, nullable=False),
)

# A measuring instrument feeding an installation's key parameters, with the calibration in
# force: `covered_since` is the first day of the unbroken run of calibrations that ends with
# the latest (each calibrated no later than the day after the previous one lapsed), so a month
# is covered exactly when covered_since <= its first day and valid_until >= its last day.
instruments = Table(
    "instruments", metadata,
    Column("id", String(64), primary_key=True),
    Column("installation", String(64), nullable=False),
    Column("parameter", Text, nullable=False),
    Column("calibrated_by", Text, nullable=False),  # "" until the first calibration
    Column("calibrated_on", String(10), nullable=False),
    Column("valid_until", String(10), nullable=False),
    Column("covered_since", String(10), nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    Index("ix_instruments_installation", "installation"),
)

# Every calibration record, in order.
calibrations = Table(
    "calibrations", metadata,
    Column("instrument", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("calibrated_by", Text, nullable=False),
    Column("calibrated_on", String(10), nullable=False),
    Column("valid_until", String(10), nullable=False),
    Column("certificate_hash", String(66), nullable=False),
)

# One signed month of key parameters for one installation. A correction is a new submission
# that supersedes the one in force; neither is ever edited but for `superseded_by`.
monthly_submissions = Table(
    "monthly_submissions", metadata,
    Column("id", String(64), primary_key=True),
    Column("emitter", String(64), nullable=False),
    Column("installation", String(64), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("year", Integer, nullable=False),
    Column("document_hash", String(66), nullable=False),  # 0x + SHA-256 of the document
    Column("document_format", String(8), nullable=False),  # json | csv
    Column("lines", Integer, nullable=False),
    Column("total_kg", BigInteger, nullable=False),
    Column("calibration_lapsed", Boolean, nullable=False),  # relied on a lapsed instrument
    Column("late", Boolean, nullable=False),  # submitted after the scheme's due day
    Column("supersedes", String(64), nullable=False),  # "" for a first submission
    Column("superseded_by", String(64), nullable=False),  # "" while in force
    Column("submitted_seq", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
    Index("ix_monthly_submissions_emitter_year", "emitter", "year"),
    CheckConstraint("total_kg >= 0", name="ck_monthly_submissions_total"),
)

# The submission in force for each installation and month.
current_months = Table(
    "current_months", metadata,
    Column("installation", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("submission", String(64), nullable=False),
    Column("emitter", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("total_kg", BigInteger, nullable=False),
    Index("ix_current_months_emitter_year", "emitter", "year"),
)

# An emitter's annual report for one scheme and year; a new one replaces it until verified.
annual_reports = Table(
    "annual_reports", metadata,
    Column("emitter", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("id", String(64), nullable=False),
    Column("scheme", String(64), nullable=False),
    Column("document_hash", String(66), nullable=False),
    Column("submissions", Text, nullable=False),  # JSON list of monthly submission ids
    Column("monthly_kg", BigInteger, nullable=False),  # their sum
    Column("submitted_seq", BigInteger, nullable=False),
)

# --- verifiers ----------------------------------------------------------------------------------

# A verification body's qualification in one sector: granted, suspended or revoked.
qualifications = Table(
    "qualifications", metadata,
    Column("verifier", String(64), primary_key=True),
    Column("sector", String(64), primary_key=True),
    Column("status", String(12), nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_seq", BigInteger, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
)

# Every grant, suspension and revocation, in order.
qualification_events = Table(
    "qualification_events", metadata,
    Column("verifier", String(64), primary_key=True),
    Column("sector", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("action", String(12), nullable=False),
    Column("reason", Text, nullable=False),
)

# A verifier's declared relation to an entity it may therefore never verify.
conflicts = Table(
    "conflicts", metadata,
    Column("verifier", String(64), primary_key=True),
    Column("entity", String(64), primary_key=True),
    Column("relation", String(16), nullable=False),  # member | consultant
    Column("declared_seq", BigInteger, nullable=False),
)

# A verifier's signed figure for an emitter's year (whole tonnes), and whether it is flagged.
verifications = Table(
    "verifications", metadata,
    Column("emitter", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("verifier", String(64), nullable=False),
    Column("report", String(64), nullable=False),
    Column("scheme", String(64), nullable=False),
    Column("verified_t", BigInteger, nullable=False),
    Column("monthly_kg", BigInteger, nullable=False),
    # |verified - monthly| / monthly, in ten-thousandths
    Column("variance_bp", BigInteger, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("signed_seq", BigInteger, nullable=False),
    Index("ix_verifications_verifier", "verifier"),
    CheckConstraint("verified_t >= 0", name="ck_verifications_verified"),
)

# An emitter's run of clean verified years, and whether it is eligible for streamlined
# verification (the scheme's `streamlined_after` clean years in a row).
entity_records = Table(
    "entity_records", metadata,
    Column("emitter", String(64), primary_key=True),
    Column("clean_run", Integer, nullable=False),
    Column("streamlined", Boolean, nullable=False),
    Column("updated_seq", BigInteger, nullable=False),
)

# --- compliance -------------------------------------------------------------------------------

# An emitter's obligation for a compliance year = its verified emissions, and what has been
# surrendered against it. Status (due, compliant, overdue) is computed, never stored.
obligations = Table(
    "obligations", metadata,
    Column("emitter", String(64), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("scheme", String(64), nullable=False),
    Column("obligation", BigInteger, nullable=False),
    Column("allowances", BigInteger, nullable=False),  # surrendered so far
    Column("credits", BigInteger, nullable=False),  # offsets surrendered so far
    Column("set_seq", BigInteger, nullable=False),
    Column("met_seq", BigInteger, nullable=True),  # the surrender that met it
    Column("updated_seq", BigInteger, nullable=False),
    CheckConstraint("obligation >= 0", name="ck_obligations_obligation"),
    CheckConstraint("allowances >= 0 AND credits >= 0", name="ck_obligations_surrendered"),
    CheckConstraint("allowances + credits <= obligation", name="ck_obligations_not_over"),
)

# Every surrender, by journal entry.
surrenders = Table(
    "surrenders", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("emitter", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("account", String(64), nullable=False),
    Column("batch", String(64), nullable=False),
    Column("kind", String(12), nullable=False),  # allowance | credit
    Column("quantity", BigInteger, nullable=False),
    Index("ix_surrenders_emitter_year", "emitter", "year"),
    CheckConstraint("quantity > 0", name="ck_surrenders_quantity"),
)

# The type of an offset project, declared by the registry: what a scheme's offset rules name.
offset_projects = Table(
    "offset_projects", metadata,
    Column("project", String(64), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
)

# --- confidential documents -----------------------------------------------------------------

# A participant's published public key (of one of its registered signing keys) to which the
# keys of confidential documents are wrapped.
document_keys = Table(
    "document_keys", metadata,
    Column("participant", String(64), primary_key=True),
    Column("address", String(42), primary_key=True),
    Column("public_key", String(68), nullable=False),  # 0x + 33-byte compressed secp256k1
    Column("published_seq", BigInteger, nullable=False),
    Index("ix_document_keys_address", "address"),  # a sealed document's readers, by key
)

TABLES = (installations, emitters, instruments, calibrations, monthly_submissions, current_months,
          annual_reports, qualifications, qualification_events, conflicts, verifications,
          entity_records, obligations, surrenders, offset_projects, document_keys)

MIGRATIONS = Path(__file__).parent / "migrations"
