"""The `carbonledger` command's exit codes: one per class of failure, so that a script can tell
"the ledger said no" from "you called it wrongly" from "something it needs is not there".

    0  OK           the command did what was asked; a check passed
    1  REFUSED      the ledger refused an instruction, or a verification failed: a proof that
                    does not hold, an audit or replay that found a discrepancy, a registry
                    that disagrees with the ledger. Running it again gives the same answer
    2  USAGE        bad arguments or a bad input file (not JSON, too large, too deeply
                    nested): fix the command line or the file (click's own code for usage)
    3  ENVIRONMENT  something the command needs is missing, broken or out of reach: the
                    store (unreachable, no ledger in it), the data directory, config.json,
                    a keystore, operator.json, chain.json, the chain node. Fix it, then run
                    the same command again

Every failure is one line that says what is wrong and what to do. The classes are decided here,
from the failures' types and codes (an adapter maps codes, it never parses messages); the CLI's
error handling (`api.cli._Commands`) and the chain commands use `exit_code_of` and `Failed`.
"""

from __future__ import annotations

import enum

import click

from anchoring.auditor.errors import VerifyError
from anchoring.operator.errors import OperatorError, OperatorFailure
from api.config import ConfigError
from api.inputs import DocumentError
from api.service import ServiceUnavailable
from custody.keystore import KeystoreError
from ledger.errors import Rejected
from ledger.store.errors import StoreError


class ExitCode(enum.IntEnum):
    OK = 0
    REFUSED = 1
    USAGE = 2
    ENVIRONMENT = 3


# The operator's failures that are about what the command needs rather than what it was asked:
# fix the setup and the same command succeeds. Every other code is a refusal.
_ENVIRONMENT_FAILURES = frozenset({
    OperatorFailure.ledger_not_initialized,
    OperatorFailure.operator_key_missing,
    OperatorFailure.chain_unavailable,
    OperatorFailure.anchorer_key_missing,
    OperatorFailure.insufficient_funds,
    OperatorFailure.chain_record_invalid,
    OperatorFailure.anvil_not_installed,
    OperatorFailure.anvil_start_failed,
    OperatorFailure.local_node_start_failed,
    OperatorFailure.anvil_not_running,
    OperatorFailure.anvil_command_failed,
    OperatorFailure.wrong_chain,
    OperatorFailure.registry_missing,
    OperatorFailure.anchorer_mismatch,
})


def exit_code_of(failure: BaseException) -> ExitCode | None:
    """The class of a failure the CLI answers in one line; None for one it does not know (a
    bug, which keeps its traceback)."""
    if isinstance(failure, (Rejected, VerifyError)):
        return ExitCode.REFUSED
    if isinstance(failure, OperatorError):
        return ExitCode.ENVIRONMENT if failure.code in _ENVIRONMENT_FAILURES \
            else ExitCode.REFUSED
    if isinstance(failure, DocumentError):
        return ExitCode.USAGE
    if isinstance(failure, (StoreError, ConfigError, ServiceUnavailable, KeystoreError,
                            OSError)):
        return ExitCode.ENVIRONMENT
    return None


class Failed(click.ClickException):
    """A failure of a class: printed as one line ("Error: ..."), exiting with its code."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(one_line(message))
        self.code = code
        # click reads it from the exception it catches (its own classes set it per class)
        self.exit_code = int(code)  # type: ignore[misc]


def refused(message: str) -> Failed:
    return Failed(message, ExitCode.REFUSED)


def environment(message: str) -> Failed:
    return Failed(message, ExitCode.ENVIRONMENT)


def failed(failure: BaseException) -> Failed | None:
    """`failure` as one line with its class's code; None if it is not one the CLI knows."""
    code = exit_code_of(failure)
    return None if code is None else Failed(str(failure), code)


def one_line(message: str) -> str:
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


HELP = ("Exit codes: 0 done (a check passed); 1 refused (the ledger refused an instruction, or "
        "a proof, replay or audit found a discrepancy); 2 usage (bad arguments or input file); "
        "3 environment (the store, the data directory's files, a keystore or the chain node "
        "is missing, broken or out of reach: fix it and run the same command again).")
