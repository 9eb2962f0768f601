"""verifier_qualify and verifier_declare_conflict: a verifier's qualifications move between
granted, suspended and revoked, each move journaled with its reason; conflicts are declared
once, by the verifier or the registry. Every refusal leaves the journal as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compliance.reasons import ComplianceReason
from ledger.errors import Reason, ReasonCode
from tests.compliance.helpers import qualify, row, rows
from tests.world import OPERATIONS, World


@pytest.fixture(autouse=True)
def compliance_invariants(market: World) -> Iterator[None]:
    yield
    problems = OPERATIONS.check_invariants(market.store)
    assert not problems, problems


def test_a_grant_records_the_qualification_and_its_event(market: World) -> None:
    receipt = qualify(market, reason="accredited by CNCA, 2025-017")
    assert row(market, "qualifications", "cec", "power") == {
        "verifier": "cec", "sector": "power", "status": "granted",
        "reason": "accredited by CNCA, 2025-017", "granted_seq": receipt.seq,
        "updated_seq": receipt.seq}
    assert rows(market, "qualification_events") == [
        {"verifier": "cec", "sector": "power", "seq": receipt.seq, "action": "grant",
         "reason": "accredited by CNCA, 2025-017"}]


def test_suspension_reinstatement_and_revocation_are_each_journaled(market: World) -> None:
    granted = qualify(market)
    suspended = qualify(market, action="suspend", reason="late reports in 2025")
    assert row(market, "qualifications", "cec", "power") | {"updated_seq": 0} == {
        "verifier": "cec", "sector": "power", "status": "suspended",
        "reason": "late reports in 2025", "granted_seq": granted.seq, "updated_seq": 0}
    again = qualify(market, reason="corrective actions accepted")
    assert row(market, "qualifications", "cec", "power")["granted_seq"] == again.seq
    revoked = qualify(market, action="revoke", reason="falsified findings")
    assert row(market, "qualifications", "cec", "power")["status"] == "revoked"
    # a revoked body may be accredited anew: a new decision, kept in the history
    qualify(market, reason="re-accredited")
    assert [(e["action"], e["seq"]) for e in rows(market, "qualification_events")] == [
        ("grant", granted.seq), ("suspend", suspended.seq), ("grant", again.seq),
        ("revoke", revoked.seq), ("grant", revoked.seq + 1)]


def test_qualifications_are_per_sector(market: World) -> None:
    qualify(market, sector="power")
    qualify(market, sector="steel", action="grant")
    qualify(market, sector="steel", action="suspend", reason="no steel auditor on staff")
    assert row(market, "qualifications", "cec", "power")["status"] == "granted"
    assert row(market, "qualifications", "cec", "steel")["status"] == "suspended"


TRANSITIONS_REFUSED = [
    ((), "suspend"),  # never granted
    ((), "revoke"),
    (("grant",), "grant"),  # already granted
    (("grant", "suspend"), "suspend"),
    (("grant", "revoke"), "suspend"),
    (("grant", "revoke"), "revoke"),
]


@pytest.mark.parametrize(("before", "action"), TRANSITIONS_REFUSED,
                         ids=["-".join((*b, a)) for b, a in TRANSITIONS_REFUSED])
def test_a_transition_from_the_wrong_state_is_refused(market: World, before: tuple[str, ...],
                                                      action: str) -> None:
    for step in before:
        qualify(market, action=step)
    rejected = market.refused(ComplianceReason.qualification_transition, "registry",
                              "verifier_qualify", verifier="cec", sector="power",
                              action=action, reason="a decision")
    assert action in rejected.detail


QUALIFY_REFUSED: list[tuple[str, dict[str, str], ReasonCode]] = [
    ("huaneng", {}, Reason.role_not_permitted),  # only the registry qualifies
    ("cec", {}, Reason.role_not_permitted),  # not even the verifier itself
    ("registry", {"verifier": "huaneng"}, ComplianceReason.not_a_verifier),
    ("registry", {"verifier": "nobody"}, Reason.unknown_participant),
    ("registry", {"reason": ""}, Reason.malformed_instruction),
    ("registry", {"reason": "   "}, Reason.malformed_instruction),
    ("registry", {"action": "reinstate"}, Reason.malformed_instruction),
    ("registry", {"sector": ""}, Reason.malformed_instruction),
]


@pytest.mark.parametrize(("signer", "fields", "reason"), QUALIFY_REFUSED,
                         ids=[f"{r.name}-{s}-{'-'.join(f)}" for s, f, r in QUALIFY_REFUSED])
def test_qualify_refusals(market: World, signer: str, fields: dict[str, str],
                          reason: ReasonCode) -> None:
    market.refused(reason, signer, "verifier_qualify", **({
        "verifier": "cec", "sector": "power", "action": "grant", "reason": "accredited"}
        | fields))
    assert rows(market, "qualifications") == []


def test_a_verifier_declares_its_own_conflict(market: World) -> None:
    receipt = market.by("cec", "verifier_declare_conflict", verifier="cec", entity="huaneng",
                        relation="consultant")
    assert row(market, "conflicts", "cec", "huaneng") == {
        "verifier": "cec", "entity": "huaneng", "relation": "consultant",
        "declared_seq": receipt.seq}


def test_the_registry_declares_a_verifiers_conflict(market: World) -> None:
    market.by("registry", "verifier_declare_conflict", verifier="cec", entity="baowu",
              relation="member")
    assert row(market, "conflicts", "cec", "baowu")["relation"] == "member"


def test_a_conflict_is_declared_once(market: World) -> None:
    market.by("cec", "verifier_declare_conflict", verifier="cec", entity="huaneng",
              relation="member")
    market.refused(ComplianceReason.conflict_exists, "registry", "verifier_declare_conflict",
                   verifier="cec", entity="huaneng", relation="consultant")
    assert row(market, "conflicts", "cec", "huaneng")["relation"] == "member"


def test_conflict_refusals(market: World) -> None:
    market.participant("sgs", "verifier")
    conflict = {"verifier": "cec", "entity": "huaneng", "relation": "member"}
    # another verifier, or the entity itself, cannot declare cec's conflicts
    market.refused(Reason.missing_signature, "sgs", "verifier_declare_conflict", **conflict)
    market.refused(Reason.missing_signature, "huaneng", "verifier_declare_conflict",
                   **conflict)
    market.refused(ComplianceReason.not_a_verifier, "registry", "verifier_declare_conflict",
                   **(conflict | {"verifier": "baowu"}))
    market.refused(Reason.unknown_participant, "cec", "verifier_declare_conflict",
                   **(conflict | {"entity": "nobody"}))
    market.refused(Reason.malformed_instruction, "cec", "verifier_declare_conflict",
                   **(conflict | {"relation": "friend"}))
    assert rows(market, "conflicts") == []
