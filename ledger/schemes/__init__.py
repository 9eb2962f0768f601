"""Market rules, one configuration per scheme: which kinds a scheme issues, who may hold them.

Rules are loaded from TOML files when a ledger is created, recorded in its genesis entry (and in
later `set_scheme_rules` entries), and read back from the journal's projection: a replay applies
exactly the rules that were in force when each entry was accepted. The core reads the kinds, the
holders and the market's calendar (ledger/schemes/calendar.py); every other key is carried in
`extra`, verbatim, for the module whose section it is (ledger.modules.Module.rules), which
validates it when the rules are set.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import Reason, Rejected
from ledger.model import AccountType, Kind
from ledger.schemes.calendar import MarketCalendar, parse_calendar

DEFAULT_RULES_DIR = Path(__file__).parent
_KNOWN_KEYS = {"scheme", "title", "kinds", "holders", "issuers", "issue_operation"}
ISSUE_BATCH = "issue_batch"


@dataclass(frozen=True)
class SchemeRules:
    scheme: str
    title: str
    kinds: frozenset[Kind]
    holders: Mapping[Kind, frozenset[AccountType]]
    issuers: frozenset[str] = frozenset()  # participant ids; empty: any registry participant
    # the one operation that issues the scheme's units: `issue_batch`, or a module's that
    # issues them only with what stands behind them (a project's verified period: ccer_issue)
    issue_operation: str = ISSUE_BATCH
    extra: Mapping[str, Any] = field(default_factory=dict)
    # read from `extra`'s calendar keys, which stay there so that as_json gives back exactly
    # the document that was recorded (a replay compares the stored rules byte for byte)
    calendar: MarketCalendar = field(default_factory=MarketCalendar)

    def may_hold(self, kind: Kind, account_type: AccountType) -> bool:
        return account_type in self.holders.get(kind, frozenset())

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "scheme": self.scheme,
            "title": self.title,
            "kinds": sorted(k.value for k in self.kinds),
            "holders": {k.value: sorted(t.value for t in v) for k, v in self.holders.items()},
            "issuers": sorted(self.issuers),
        }
        if self.issue_operation != ISSUE_BATCH:  # absent by default: documents recorded
            document["issue_operation"] = self.issue_operation  # before the key stay as they were
        document.update(self.extra)
        return document

    @classmethod
    def from_json(cls, document: Any) -> SchemeRules:
        try:
            return cls._from_json(document)
        except (KeyError, TypeError, ValueError) as exc:
            raise Rejected(Reason.invalid_rules, str(exc)) from exc

    @classmethod
    def _from_json(cls, document: Mapping[str, Any]) -> SchemeRules:
        if not isinstance(document, Mapping):
            raise TypeError("a scheme's rules are an object")
        kinds = frozenset(Kind(k) for k in document["kinds"])
        holders = {Kind(k): frozenset(AccountType(t) for t in v)
                   for k, v in document.get("holders", {}).items()}
        if not kinds or set(holders) - kinds:
            raise ValueError("holders may only name kinds the scheme issues")
        # A hard rule of the registry, whatever a scheme file says.
        if AccountType.individual in holders.get(Kind.allowance, frozenset()):
            raise ValueError("individual accounts may never hold allowances")
        scheme = str(document["scheme"])
        if not scheme:
            raise ValueError("scheme id is empty")
        return cls(
            scheme=scheme,
            title=str(document.get("title", "")),
            kinds=kinds,
            holders=holders,
            issuers=frozenset(str(p) for p in document.get("issuers", [])),
            issue_operation=str(document.get("issue_operation", ISSUE_BATCH)),
            extra={k: v for k, v in document.items() if k not in _KNOWN_KEYS},
            calendar=parse_calendar(document),
        )


def load_rules_dir(directory: Path = DEFAULT_RULES_DIR) -> dict[str, SchemeRules]:
    rules = {}
    for path in sorted(directory.glob("*.toml")):
        scheme = SchemeRules.from_json(tomllib.loads(path.read_text()))
        rules[scheme.scheme] = scheme
    return rules


def rules_document(rules: Mapping[str, SchemeRules]) -> str:
    """The rules as the text recorded in the genesis instruction (sorted, compact JSON)."""
    return json.dumps({s: r.as_json() for s, r in sorted(rules.items())},
                      sort_keys=True, separators=(",", ":"))


def parse_rules_document(text: str) -> dict[str, SchemeRules]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:  # nesting past the recursion limit, too
        raise Rejected(Reason.invalid_rules, f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or not document:
        raise Rejected(Reason.invalid_rules, "rules are an object keyed by scheme id")
    parsed = {scheme: SchemeRules.from_json(body) for scheme, body in document.items()}
    for scheme, rules in parsed.items():
        if rules.scheme != scheme:
            raise Rejected(Reason.invalid_rules, f"{scheme}: scheme id does not match its key")
    return parsed
