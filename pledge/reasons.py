"""Why a pledge or repo operation is refused: the pledge module's own named reasons (declared in
pledge/module.py). Refusals it shares with the core (a missing signature, a frozen account, a
lien on the units) are the core's `ledger.errors.Reason`."""

from __future__ import annotations

from ledger.errors import ReasonCode


class PledgeReason(ReasonCode):
    agreement_exists = ("a pledge, repo or lien with this id already exists", False)
    pledge_not_found = ("no pledge has this id", False)
    repo_not_found = ("no repo has this id", False)
    same_party = ("the two parties of a pledge or repo must be different participants", False)
    pledgee_not_bank = ("the pledgee must be a participant with the bank role", False)
    not_pledgee = ("only the pledge's pledgee may release or enforce it", False)
    account_type_cannot_pledge = ("the scheme's rules bar this account type from pledging",
                                  False)
    account_type_cannot_repo = ("the scheme's rules bar this account type from repos", False)
    maturity_before_start = ("the maturity date is before the start date", False)
    maturity_passed = ("the maturity date is already past on the ledger's clock", False)
    before_maturity = ("the pledge has not matured: enforcing before maturity needs the "
                       "registry's co-signature (e.g. under a court order)", True)
    pledge_resolved = ("every unit of the pledge has already been released or enforced", False)
    release_exceeds_pledged = ("the quantity to release exceeds what is still pledged", False)
    enforce_exceeds_pledged = ("the quantity to enforce exceeds what is still pledged", False)
    nothing_to_amend = ("the amendment restates the pledge's current terms", False)
    repo_below_minimum = ("the repo's quantity is below the scheme's minimum repo size", False)
    repo_not_splittable = ("the scheme's rules require a repo to be closed in one piece", False)
    beyond_compliance_year = ("a repo involving a compliance account must end within its "
                              "compliance year under this scheme's rules", False)
    repurchase_date_not_future = ("the repurchase date must lie after the opening day", False)
    after_repurchase_date = ("the repurchase date has passed: the repo can only be defaulted",
                             False)
    before_repurchase_date = ("the repurchase date has not passed yet", True)
    repo_resolved = ("the repo has already been closed or defaulted", False)
    close_exceeds_repo = ("the quantity to close exceeds what the repo still holds", False)
    repo_not_free_use = ("only a free-use buyer can fail to deliver: in a repo under lien the "
                         "units cannot leave the buyer's account", False)

