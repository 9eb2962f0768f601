"""One module per operation; each handler reads the state and returns the changes it makes."""

from __future__ import annotations

from collections.abc import Callable

from ledger.effects import Changes
from ledger.instructions import SCHEMAS, Instruction, OpSchema
from ledger.ops.accounts import freeze_account, open_account, unfreeze_account
from ledger.ops.cancel import cancel
from ledger.ops.context import Context, Signer
from ledger.ops.genesis import genesis, set_scheme_rules
from ledger.ops.issue import issue_batch
from ledger.ops.participants import register_key, register_participant, revoke_key
from ledger.ops.retire import retire
from ledger.ops.transfer import transfer

Handler = Callable[[Instruction, Context], Changes]

HANDLERS: dict[str, Handler] = {
    "genesis": genesis,
    "set_scheme_rules": set_scheme_rules,
    "register_participant": register_participant,
    "register_key": register_key,
    "revoke_key": revoke_key,
    "open_account": open_account,
    "freeze_account": freeze_account,
    "unfreeze_account": unfreeze_account,
    "issue_batch": issue_batch,
    "transfer": transfer,
    "retire": retire,
    "cancel": cancel,
}



def register_operation(schema: OpSchema, handler: Handler) -> None:
    """Add an operation defined outside the ledger core (the pledge and repo lifecycles).

    The composition root imports those packages before it builds a ledger, so every process
    that applies or replays the journal knows the same operations.
    """
    if schema.op in HANDLERS and HANDLERS[schema.op] is not handler:
        raise ValueError(f"operation {schema.op} is already registered")
    SCHEMAS[schema.op] = schema
    HANDLERS[schema.op] = handler


__all__ = ["HANDLERS", "Context", "Handler", "Signer", "register_operation"]
