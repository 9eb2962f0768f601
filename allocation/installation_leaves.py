"""The installation-allocation leaf of the state commitment (docs/adr/0002, docs/allocation.md):
one per installation and year, by (installation, year in decimal), committing to what the
installation received for the year, every figure it rests on recomputable from the verified
output and the plan's leaf, and its debt after. Its value and reads are
allocation/installation_leaf_store.py's; which leaves the entries since a checkpoint may have
changed is said here, from the entries:

- allocation_preallocate and allocation_true_up: each installation of their `targets`, for
  their `year`; new_entrant_allocate: its `installation` and `year`;
- installation_close: the installation's years after the closure's last that it was allocated
  for — those allocated since are named by their own entries above; earlier ones are its
  leaves at the previous checkpoint.
"""

from __future__ import annotations

import json

from allocation.closures import LAST_YEAR
from allocation.installation_leaf_store import (
    INSTALLATION_ALLOCATION,
    AllocationId,
    all_installation_allocation_leaves,
    installation_allocation_key,
    installation_allocation_leaves,
)
from anchoring.auditor.state_changes import EntriesSince
from ledger.modules import LeafKind

BY_TARGETS = frozenset({"allocation_preallocate", "allocation_true_up"})
NEW_ENTRANT_ALLOCATE = "new_entrant_allocate"
INSTALLATION_CLOSE = "installation_close"


def installation_allocations_touched(since: EntriesSince) -> set[AllocationId]:
    touched: set[AllocationId] = set()
    for entry in since.entries:
        instruction = entry["instruction"]
        op, fields = instruction["op"], instruction["fields"]
        if op in BY_TARGETS:
            year = str(fields["year"])
            touched |= {(installation, year) for installation, _account
                        in json.loads(fields["targets"])}
        elif op == NEW_ENTRANT_ALLOCATE:
            touched.add((fields["installation"], str(fields["year"])))
        elif op == INSTALLATION_CLOSE:
            installation = fields["installation"]
            touched |= {(installation, str(year))
                        for year in range(int(fields["lastYear"]) + 1, LAST_YEAR + 1)
                        if since.previous(installation_allocation_key(
                            (installation, str(year)))) is not None}
    # a closure after an allocation since: the allocation's own entry named it above
    return touched


INSTALLATION_ALLOCATION_LEAVES = LeafKind(
    INSTALLATION_ALLOCATION, installation_allocation_key, installation_allocations_touched,
    installation_allocation_leaves, all_installation_allocation_leaves,
    {"installation_allocations": ("installation", "year")})
