"""Why a project-cycle operation is refused: the projects module's own named reasons
(declared in projects/module.py). Refusals it shares with the core or the compliance module
(a missing signature, units not held, an unqualified or conflicted verifier) are theirs."""

from __future__ import annotations

from ledger.errors import ReasonCode


class ProjectReason(ReasonCode):
    # methodologies
    methodology_exists = ("a methodology with this id already exists", False)
    unknown_methodology = ("no methodology has this id", True)
    methodology_not_active = ("the methodology has been superseded or withdrawn: no new "
                              "project may register under it", False)
    methodology_not_valid = ("the methodology is not valid on this day", False)
    methodology_already_retired = ("the methodology is already superseded or withdrawn", False)
    # projects
    project_exists = ("a project with this id already exists", False)
    unknown_project = ("no project has this id", True)
    not_project_owner = ("the instruction is not signed by the project's owner", False)
    owner_not_project_owner = ("a project's owner must be a participant with the "
                               "project_owner role", False)
    crediting_period_invalid = ("the crediting period must start on or after the project's "
                                "start and end after it starts", False)
    comment_period_over = ("the project's public comment period is over", False)
    comment_period_open = ("the project's public comment period has not ended yet", True)
    project_not_submitted = ("only a submitted project awaiting validation can be validated",
                             False)
    project_not_validated = ("only a validated project can be registered", False)
    project_not_registered = ("the project is not registered (or is suspended, deregistered "
                              "or ended): nothing can be monitored or issued for it", False)
    project_status_transition = ("the project cannot change status that way", False)
    # monitoring and verification
    period_exists = ("this project already has a monitoring period with this id", False)
    unknown_period = ("the project has no monitoring period with this id", True)
    period_outside_crediting = ("a monitoring period must fall inside the project's crediting "
                                "period", False)
    period_overlaps = ("a monitoring period may not overlap another of the same project",
                       False)
    period_not_ended = ("a monitoring period can only be reported once it has ended", True)
    period_already_verified = ("this monitoring period has already been verified", False)
    verifier_validated_project = ("the scheme's rules bar the body that validated a project "
                                  "from verifying its reductions", False)
    # issuance
    period_not_verified = ("the monitoring period has not been verified: nothing can be "
                           "issued for it", False)
    period_already_issued = ("credits have already been issued for this monitoring period",
                             False)
    exceeds_verified = ("the quantity exceeds the period's verified reductions", False)
    no_buffer_account = ("the methodology sets a buffer share but the scheme names no buffer "
                         "account", False)
    account_not_project_owners = ("credits are issued into an account of the project's owner",
                                  False)
    # retirement
    retirement_exists = ("a retirement with this id already exists", False)
    beneficiary_required = ("a retirement for an offsetting claim names its beneficiary",
                            False)
    purpose_subject_required = ("a retirement for an event, product or organisation names it "
                                "by a stable identifier", False)
    claim_period_invalid = ("the period a claim covers must end on or after it starts", False)
    not_offset_credits = ("only credits of a scheme run by the project cycle can be retired "
                          "for an offsetting claim here", False)
