"""Why a compliance or emissions-data operation is refused: the compliance module's own named
reasons (declared in compliance/module.py). Refusals it shares with the core (a missing
signature, a frozen account, units not held or under a lien) are the core's
`ledger.errors.Reason`."""

from __future__ import annotations

from ledger.errors import ReasonCode


class ComplianceReason(ReasonCode):
    # schemes
    not_a_compliance_scheme = ("the scheme's rules have no [compliance] section: it sets no "
                               "obligations", False)
    # installations and instruments
    installation_exists = ("an installation with this id already exists", False)
    unknown_installation = ("no installation has this id", True)
    not_an_emitter = ("installations belong to participants with the emitter role", False)
    not_installation_emitter = ("the instruction is not signed by the installation's emitter",
                                False)
    instrument_exists = ("an instrument with this id already exists", False)
    unknown_instrument = ("no instrument of this installation has this id", True)
    calibration_dates = ("a calibration's validity must end on or after the day it was "
                         "calibrated, and it cannot be calibrated in the future", False)
    # monthly key parameters
    invalid_figures = ("the monthly figures are not a list of lines with a source, a decimal "
                       "activity and emission factor and their units", False)
    negative_activity = ("activity data and emission factors cannot be negative", False)
    unit_mismatch = ("an emission factor's unit must be tCO2/<activity unit> or "
                     "kgCO2/<activity unit>", False)
    total_mismatch = ("the stated total disagrees with the total the ledger computes from the "
                      "figures (docs/compliance.md gives the rounding rule)", False)
    month_not_ended = ("monthly data can only be submitted once the month has ended", True)
    submission_exists = ("a monthly submission with this id already exists", False)
    month_already_submitted = ("this installation's month already has data in force: a "
                               "correction names it in `supersedes`", False)
    supersedes_mismatch = ("`supersedes` must name the submission in force for this "
                           "installation and month", False)
    # annual report
    unknown_submission = ("no monthly submission has this id", False)
    submission_not_in_report = ("a referenced monthly submission is another emitter's, of "
                                "another year or scheme, superseded, or named twice", False)
    monthly_data_missing = ("the report does not reference a submission in force for every "
                            "month of every installation", True)
    report_already_verified = ("the year's report has been verified: it can no longer be "
                               "replaced", False)
    # verifiers
    not_a_verifier = ("qualifications are granted to participants with the verifier role",
                      False)
    qualification_transition = ("this qualification cannot change that way (grant: not "
                                "currently granted; suspend: granted; revoke: granted or "
                                "suspended)", False)
    conflict_exists = ("this conflict is already declared", False)
    unknown_report = ("the emitter has no annual report with this id for this year", True)
    already_verified = ("the emitter's year has already been verified", False)
    verifier_not_qualified = ("the verifier holds no qualification in force for a sector of "
                              "the report's installations (never granted, suspended or "
                              "revoked)", False)
    verifier_conflicted = ("the verifier has declared that it belongs to or consulted for this "
                           "entity", False)
    verifier_rotation = ("the verifier has verified this entity for the scheme's maximum "
                         "number of consecutive years", False)
    # compliance
    no_obligation = ("the emitter has no verified obligation for this year yet", True)
    obligation_met = ("the obligation for this year is already met: nothing more can be "
                      "surrendered against it", False)
    exceeds_obligation = ("the quantity exceeds what is still owed for this year", False)
    not_compliance_account = ("units are surrendered from the emitter's compliance account",
                              False)
    vintage_not_eligible = ("the batch's vintage may not be used for this compliance year "
                            "under the scheme's banking rules", False)
    not_eligible_for_scheme = ("units of this scheme and kind cannot be surrendered against "
                               "this scheme's obligations", False)
    offset_not_eligible = ("these offset credits are not eligible: vintage, project type or "
                           "the scheme's sunset date", False)
    offset_cap_exceeded = ("the surrender would take offsets past the scheme's cap on this "
                           "obligation", False)
    offset_project_exists = ("this offset project's type is already declared", False)
    # confidential documents
    public_key_not_registered = ("the public key is not that of one of the participant's "
                                 "active signing keys", False)
    public_key_published = ("this key's public key is already published", False)
