"""genesis: the first entry names the registry, its signing key and the scheme rules.
set_scheme_rules: the registry records a new version of one scheme's rules."""

from __future__ import annotations

import json

from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.model import Participant, Role, SigningKey
from ledger.ops.context import Context
from ledger.payloads import Genesis, SetSchemeRules
from ledger.schemes import SchemeRules, parse_rules_document


def genesis(p: Genesis, ctx: Context) -> Changes:
    require(ctx.seq == 0, Reason.ledger_already_initialized)
    # The engine has checked that the genesis is signed by the key it registers, and records
    # that signature's nonce as the key's first.
    registry = Participant(p.registry, p.registry_name, Role.registry, ctx.seq)
    rules = parse_rules_document(p.rules)
    for scheme in rules.values():
        ctx.check_rules(scheme)
    return Changes(
        participants=[registry],
        keys=[SigningKey(p.registry_key, registry.id, ctx.seq, None, 0)],
        rules=list(rules.values()),
    )


def set_scheme_rules(p: SetSchemeRules, ctx: Context) -> Changes:
    ctx.require_registry()
    try:
        document = json.loads(p.rules)
    except (ValueError, RecursionError) as exc:  # nesting past the recursion limit, too
        raise Rejected(Reason.invalid_rules, f"not JSON: {exc}") from exc
    rules = SchemeRules.from_json(document)
    require(rules.scheme == p.scheme, Reason.invalid_rules,
            "the rules name a different scheme")
    ctx.check_rules(rules)
    return Changes(rules=[rules])
