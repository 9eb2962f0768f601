"""The compliance module's kinds of leaf in the state commitment (docs/adr/0002): every
monthly submission and every verified obligation, so that an emissions figure is as provable
as a holding. Their values and reads are compliance/leaf_store.py's; which leaves the entries
since a checkpoint may have changed is said here, from the entries themselves.

- `emissions`, by submission id: monthly_submit writes its submission and, for a correction,
  sets `superseded_by` on the one it supersedes.
- `obligation`, by (emitter, year in decimal): verification_sign sets an emitter's year, and
  surrender adds to the year of its account's holder — an account's holder never changes, so
  it is the previous checkpoint's account record, or the open_account entry since.
"""

from __future__ import annotations

import json

from anchoring.auditor.state_changes import EntriesSince
from anchoring.auditor.state_keys import account_key
from anchoring.auditor.verify_compliance import (
    EMISSIONS,
    MONTHLY_SUBMIT,
    OBLIGATION,
    emissions_key,
    obligation_key,
)
from compliance.leaf_store import (
    ObligationId,
    all_emission_leaves,
    all_obligation_leaves,
    emission_leaves,
    obligation_leaves,
)
from ledger.modules import LeafKind

VERIFICATION_SIGN = "verification_sign"
SURRENDER = "surrender"
OPEN_ACCOUNT = "open_account"


def emissions_touched(since: EntriesSince) -> set[str]:
    """Each submission a monthly_submit made, and the one it superseded."""
    touched: set[str] = set()
    for entry in since.entries:
        instruction = entry["instruction"]
        if instruction["op"] == MONTHLY_SUBMIT:
            fields = instruction["fields"]
            touched.add(fields["submission"])
            if fields["supersedes"]:
                touched.add(fields["supersedes"])
    return touched


def obligations_touched(since: EntriesSince) -> set[ObligationId]:
    """Each (emitter, year) a verification set or a surrender added to."""
    touched: set[ObligationId] = set()
    opened: dict[str, str] = {}  # account -> holder, for accounts opened since
    for entry in since.entries:
        instruction = entry["instruction"]
        op, fields = instruction["op"], instruction["fields"]
        if op == OPEN_ACCOUNT:
            opened[fields["account"]] = fields["participant"]
        elif op == VERIFICATION_SIGN:
            touched.add((fields["emitter"], str(fields["year"])))
        elif op == SURRENDER:
            holder = opened.get(fields["account"]) or _holder_then(since, fields["account"])
            # an accepted surrender's account existed: at the previous checkpoint or since
            assert holder is not None, f"surrender from unknown account {fields['account']}"
            touched.add((holder, str(fields["year"])))
    return touched


def _holder_then(since: EntriesSince, account: str) -> str | None:
    value = since.previous(account_key(account))
    return None if value is None else str(json.loads(value)["participant"])


EMISSIONS_LEAVES = LeafKind(EMISSIONS, emissions_key, emissions_touched, emission_leaves,
                            all_emission_leaves, {"monthly_submissions": ("id",)})
OBLIGATION_LEAVES = LeafKind(OBLIGATION, lambda pair: obligation_key(pair[0], int(pair[1])),
                             obligations_touched, obligation_leaves, all_obligation_leaves,
                             {"obligations": ("emitter", "year"),
                              "verifications": ("emitter", "year")})
LEAF_KINDS = (EMISSIONS_LEAVES, OBLIGATION_LEAVES)
