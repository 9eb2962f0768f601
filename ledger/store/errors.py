"""Failures of the store, as opposed to refusals of an instruction: a closed list of codes under
one exception, so that an adapter (the CLI, HTTP) maps codes and never parses messages.

What a client does after a lost connection depends on one fact: whether the transaction may
have committed. A signed instruction is idempotent — submitted again, the ledger answers with
its first receipt, marked `duplicate` — so in both cases the safe retry is the SAME signed
instruction, never a newly signed one (that would be a second operation).
"""

from __future__ import annotations

import enum


class StoreFailure(enum.Enum):
    unsupported_database = ("the store URL names a database the ledger does not support: "
                            "use sqlite or postgresql", False)
    unknown_migrations = ("the store records migrations that none of the modules given knows: "
                          "it was upgraded with a module this ledger is not built with; "
                          "nothing was changed", False)
    no_ledger = ("the store holds no ledger (no such database file, no schema, or no genesis "
                 "entry): check the store URL in config.json, or create a ledger with "
                 "`carbonledger init`; nothing was created", False)
    unreachable = ("the database cannot be reached: nothing was written; check that it is "
                   "running and reachable, then try again (signed instructions as they are)",
                   True)
    connection_lost = ("the connection to the database was lost before the transaction could "
                       "commit: nothing was written; submit the same signed instructions again",
                       True)
    outcome_unknown = ("the connection to the database was lost while the transaction was "
                       "committing: it may or may not have committed; submit the SAME signed "
                       "instructions again (a receipt marked duplicate means the first attempt "
                       "committed), never newly signed ones", True)
    store_inconsistent = ("the store's tables disagree with each other (lots and the holdings "
                          "they are counted in): they were changed outside the ledger; nothing "
                          "was written; run `carbonledger audit` to find where", False)

    def __init__(self, message: str, retryable: bool) -> None:
        self.message = message
        self.retryable = retryable


class StoreError(RuntimeError):
    """The store failed; `code` says how, and whether anything may have been written."""

    def __init__(self, code: StoreFailure, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code.name}: {code.message}" + (f" ({detail})" if detail else ""))

    def __reduce__(self) -> tuple[type[StoreError], tuple[StoreFailure, str]]:
        return (StoreError, (self.code, self.detail))

    @property
    def outcome_known(self) -> bool:
        """False only when the transaction may have committed."""
        return self.code is not StoreFailure.outcome_unknown

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code.name, "message": self.code.message, "detail": self.detail,
                "retryable": self.code.retryable, "outcome_known": self.outcome_known}
