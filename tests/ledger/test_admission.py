"""What the ledger admits, however an instruction was built: one stateless validation for all,
text, dates and nonces as format 2 admits them, and a registry that cannot lock itself out.

Each test here reproduced a finding of the hostile-input review before its fix: the journal held
what its own replay refused, or accepted what no registry should hold.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.canonical import canonical_json, leaf_hash
from ledger.errors import Reason, Rejected
from ledger.formats import writing_form
from ledger.instructions import Approval, Instruction, SignedInstruction
from ledger.payloads import Transfer, Units
from ledger.replay import replay_check, replay_rows
from ledger.store.database import Store, sqlite_url
from tests.world import OPERATIONS, World, fresh_wallet

DAY = "2024-02-29"


@pytest.fixture
def emitters(world: World) -> World:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("datang", "emitter", "DT", "compliance")
    world.allocate("A1", "HN", 1000)
    return world


def _raw(op: str, fields: dict[str, Any], deadline: int = 4_102_444_800) -> Instruction:
    """An Instruction made by hand, as a Python caller can, skipping the parser entirely."""
    schema = OPERATIONS.schema(op)
    return Instruction(op, hashlib.sha256(json.dumps(fields).encode()).digest(), deadline,
                       fields, schema, payload=None)  # type: ignore[arg-type]


def _refused_alone(world: World, signed: Any, reason: Reason) -> None:
    head = world.head()
    (result,) = world.ledger.submit_many([signed])
    assert isinstance(result, Rejected), f"accepted: {result}"
    assert result.reason == reason, result
    assert world.head() == head


# --- one way in ------------------------------------------------------------------------------


def test_a_hand_built_transfer_to_its_own_account_is_refused(emitters: World,
                                                            tmp_path: Path) -> None:
    fields = {"fromAccount": "HN", "toAccount": "HN", "batch": "A1", "quantity": 10,
              "serialFirst": 0, "serialLast": 0}
    instruction = dataclasses.replace(
        _raw("transfer", fields), payload=Transfer("HN", "HN", Units("A1", 10, 0, 0)))
    _refused_alone(emitters, emitters.wallets["huaneng"].sign(instruction), Reason.same_account)
    assert replay_check(emitters.store, OPERATIONS, tmp_path).ok


def test_an_instruction_changed_after_parsing_is_checked_again(emitters: World) -> None:
    parsed = emitters.instruction("transfer", fromAccount="HN", toAccount="DT", batch="A1",
                                  quantity=10)
    changed = dataclasses.replace(parsed, fields={**parsed.fields, "toAccount": "HN"})
    _refused_alone(emitters, emitters.wallets["huaneng"].sign(changed), Reason.same_account)


@pytest.mark.parametrize("fields", [
    {"fromAccount": "HN", "toAccount": "DT", "batch": "A1", "quantity": "10",
     "serialFirst": 0, "serialLast": 0},
    {"fromAccount": "HN", "toAccount": "DT", "batch": "A1", "quantity": 10},
    {"fromAccount": "HN", "toAccount": "DT", "batch": "A1", "quantity": 10,
     "serialFirst": 0, "serialLast": 0, "memo": "x"},
    {"fromAccount": "HN", "toAccount": "DT", "batch": "A1", "quantity": 2**64,
     "serialFirst": 0, "serialLast": 0},
    {"fromAccount": None, "toAccount": "DT", "batch": "A1", "quantity": 10,
     "serialFirst": 0, "serialLast": 0},
], ids=["quantity-a-string", "field-missing", "field-extra", "quantity-2^64", "account-null"])
def test_bad_raw_fields_are_a_named_reason_not_an_exception(emitters: World,
                                                            fields: dict[str, Any]) -> None:
    """Fields the EIP-712 encoder cannot even sign: the approval carries any 65 bytes."""
    signer = emitters.wallets["huaneng"].address
    signed = SignedInstruction(_raw("transfer", fields), (Approval(signer, 1, b"\x01" * 65),))
    head = emitters.head()
    (result,) = emitters.ledger.submit_many([signed])
    assert isinstance(result, Rejected)
    assert result.reason in (Reason.malformed_instruction, Reason.quantity_out_of_range)
    assert emitters.head() == head


def test_something_that_is_not_an_instruction_is_refused_by_name(emitters: World) -> None:
    for thing in (None, {"op": "transfer"}, "transfer"):
        (result,) = emitters.ledger.submit_many([thing])  # type: ignore[list-item]
        assert isinstance(result, Rejected) and result.reason == Reason.malformed_instruction


# --- text, dates, nonces ---------------------------------------------------------------------


@pytest.mark.parametrize("text, shown", [
    ("Wind\x00farm", "U+0000"),
    ("Wind farm \x1b[2J\x1b[31mOK", "U+001B"),
    ("Wind farm \u202egnp.exe", "U+202E"),
    ("Caf\u0065\u0301", "NFC"),  # e + combining acute: not NFC (NFC is "Café")
    ("line one\nline two", "U+000A"),
], ids=["nul", "terminal-escape", "bidi-override", "not-nfc", "newline"])
def test_text_with_controls_bidi_or_not_nfc_is_refused(emitters: World, text: str,
                                                       shown: str) -> None:
    refused = emitters.refused(Reason.invalid_text, "huaneng", "retire", account="HN",
                               batch="A1", quantity=1, beneficiary=text, reason="", claim="")
    assert shown in str(refused) and "beneficiary" in str(refused)


def test_text_in_any_script_in_nfc_is_accepted(emitters: World) -> None:
    emitters.by("huaneng", "retire", account="HN", batch="A1", quantity=1,
                beneficiary="深圳地铁 — Café Zürich ✓", reason="2026 年度", claim="碳中和")


@pytest.mark.parametrize("start, end", [("2024-13-45", "2024-12-31"),
                                        ("2024-01-01", "2024-02-31"),
                                        ("2023-02-29", "2023-12-31"),
                                        ("２０２４-01-01", "2024-12-31")],
                         ids=["month-13", "february-31", "not-a-leap-year", "wide-digits"])
def test_impossible_dates_are_refused(world: World, start: str, end: str) -> None:
    world.participant("windco", "project_owner", "WC", "trading")
    world.refused(Reason.invalid_date, "registry", "issue_batch", batch="C1", scheme="CCER",
                  kind="credit", vintage=2024, project="Wind farm", monitoringStart=start,
                  monitoringEnd=end, issuance="credit_issuance", quantity=100, account="WC")


def test_a_leap_day_is_a_date(world: World) -> None:
    world.participant("windco", "project_owner", "WC", "trading")
    world.by("registry", "issue_batch", batch="C1", scheme="CCER", kind="credit", vintage=2024,
             project="Wind farm", monitoringStart=DAY, monitoringEnd="2024-12-31",
             issuance="credit_issuance", quantity=100, account="WC")


def test_an_id_with_a_trailing_newline_is_refused(world: World) -> None:
    world.refused(Reason.malformed_instruction, "registry", "register_participant",
                  participant="acme\n", name="Acme", role="emitter")


def test_one_lone_surrogate_refuses_its_instruction_alone(emitters: World) -> None:
    hn = emitters.wallets["huaneng"]
    good = hn.sign(emitters.instruction("transfer", fromAccount="HN", toAccount="DT",
                                        batch="A1", quantity=10))
    document = hn.sign(emitters.instruction(
        "retire", account="HN", batch="A1", quantity=1, beneficiary="x", reason="",
        claim="")).as_json()
    document["fields"]["beneficiary"] = "\ud800"  # what JSON's "\ud800" escape decodes to
    bad = dataclasses.replace(
        good, instruction=dataclasses.replace(good.instruction, fields=document["fields"],
                                              op="retire",
                                              schema=OPERATIONS.schema("retire")))
    also_good = hn.sign(emitters.instruction("transfer", fromAccount="HN", toAccount="DT",
                                             batch="A1", quantity=5))
    results = emitters.ledger.submit_many([good, bad, also_good])
    assert isinstance(results[1], Rejected) and results[1].reason == Reason.invalid_text
    assert "surrogate" in str(results[1])
    assert not isinstance(results[0], Rejected) and not isinstance(results[2], Rejected)
    assert emitters.holding("DT", "A1")["tradable"] == 15


def test_a_nonce_may_not_use_up_its_key(emitters: World) -> None:
    hn = emitters.wallets["huaneng"]
    instruction = emitters.instruction("transfer", fromAccount="HN", toAccount="DT",
                                       batch="A1", quantity=1)
    hn.nonce = 2**53 - 2  # the next signature uses 2^53 - 1, the largest a nonce may be
    _refused_alone(emitters, hn.sign(instruction), Reason.nonce_out_of_range)
    hn.nonce = 2**53 - 1
    _refused_alone(emitters, hn.sign(instruction), Reason.malformed_instruction)
    hn.nonce = 0
    emitters.submit(hn.sign(instruction))  # the key still signs


def test_a_nonce_in_milliseconds_is_within_range(emitters: World) -> None:
    hn = emitters.wallets["huaneng"]
    hn.nonce = 1_796_000_000_000  # ms since 1970, in 2026
    emitters.by("huaneng", "transfer", fromAccount="HN", toAccount="DT", batch="A1",
                quantity=1)


# --- keys ------------------------------------------------------------------------------------


def test_the_registry_cannot_revoke_its_last_key(world: World) -> None:
    registry = world.registry.address
    world.refused(Reason.last_registry_key, "registry", "revoke_key", participant="registry",
                  key=registry)
    spare = fresh_wallet()
    world.by("registry", "register_key", participant="registry", key=spare.address)
    world.by("registry", "revoke_key", participant="registry", key=registry)
    world.wallets["registry"] = spare
    world.refused(Reason.last_registry_key, "registry", "revoke_key", participant="registry",
                  key=spare.address)


def test_registering_and_revoking_in_one_submission_keeps_one_key(world: World) -> None:
    """The count of active keys sees the submission's own changes, not only the store's."""
    spare = fresh_wallet()
    old = world.registry
    results = world.ledger.submit_many([
        old.sign(world.instruction("register_key", participant="registry", key=spare.address)),
        old.sign(world.instruction("revoke_key", participant="registry", key=old.address)),
        spare.sign(world.instruction("revoke_key", participant="registry", key=spare.address)),
    ])
    assert not isinstance(results[0], Rejected) and not isinstance(results[1], Rejected)
    assert isinstance(results[2], Rejected) and results[2].reason == Reason.last_registry_key


def test_a_rotation_replaces_a_key_in_one_step(emitters: World, tmp_path: Path) -> None:
    old, new = emitters.registry, fresh_wallet()
    emitters.by("registry", "rotate_key", participant="registry", oldKey=old.address,
                newKey=new.address)
    emitters.wallets["registry"] = new
    emitters.by("registry", "freeze_account", account="DT", reason="inspection")
    emitters.wallets["registry"] = old
    emitters.refused(Reason.key_revoked, "registry", "unfreeze_account", account="DT",
                     reason="done")
    assert replay_check(emitters.store, OPERATIONS, tmp_path).ok


def test_a_rotation_is_signed_by_the_key_it_retires(emitters: World) -> None:
    new = fresh_wallet()
    emitters.refused(Reason.missing_signature, "registry", "rotate_key", participant="huaneng",
                     oldKey=emitters.wallets["huaneng"].address, newKey=new.address)
    emitters.refused(Reason.key_exists, "huaneng", "rotate_key", participant="huaneng",
                     oldKey=emitters.wallets["huaneng"].address,
                     newKey=emitters.wallets["datang"].address)
    emitters.by("huaneng", "rotate_key", participant="huaneng",
                oldKey=emitters.wallets["huaneng"].address, newKey=new.address)
    emitters.wallets["huaneng"] = new
    emitters.by("huaneng", "transfer", fromAccount="HN", toAccount="DT", batch="A1", quantity=1)


# --- the journal is forever: format 1 entries replay under format 1's rules ------------------


def test_entries_admitted_under_format_1_still_replay(world: World, tmp_path: Path) -> None:
    """What format 1 admitted — an impossible date, control characters, a nonce far ahead, the
    registry's last key revoked — stays in old journals, and their replay must accept it."""
    world.participant("windco", "project_owner", "WC", "trading")
    world.wallets["windco"].nonce = 2**53 - 10
    with writing_form(1):
        world.by("registry", "issue_batch", batch="C1", scheme="CCER", kind="credit",
                 vintage=2024, project="Wind\x1b[31m farm", monitoringStart="2024-02-31",
                 monitoringEnd="2024-12-31", issuance="credit_issuance", quantity=100,
                 account="WC")
        world.by("windco", "retire", account="WC", batch="C1", quantity=1,
                 beneficiary="Caf\u0065\u0301", reason="", claim="")
        world.by("registry", "revoke_key", participant="registry", key=world.registry.address)
    report = replay_check(world.store, OPERATIONS, tmp_path)
    assert report.ok, report
    with world.store.read() as tx:
        formats = {json.loads(row.entry).get("format") for row in tx.journal_rows(1, tx.head + 1)}
    assert formats == {1, 2}


def test_an_entry_labelled_format_2_is_held_to_format_2s_rules(world: World,
                                                               tmp_path: Path) -> None:
    """A replay (the audit's, a witness's) applies each entry's own format: an entry format 1
    admitted, relabelled as format 2 (its leaf hash recomputed), is a named difference."""
    with writing_form(1):
        world.by("registry", "register_participant", participant="acme", name="Acme\x1b[31m",
                 role="emitter")
    with world.store.read() as tx:
        rows = tx.journal_rows(0, tx.head + 1)
    document = json.loads(rows[-1].entry) | {"format": 2}
    entry = canonical_json(document)
    relabelled = dataclasses.replace(rows[-1], entry=entry, leaf_hash=leaf_hash(entry))
    scratch = Store(sqlite_url(tmp_path / "scratch.db"))
    scratch.upgrade(OPERATIONS)
    try:
        assert replay_rows(rows, scratch, OPERATIONS)[1] is None
        scratch.dispose()
        scratch = Store(sqlite_url(tmp_path / "scratch2.db"))
        scratch.upgrade(OPERATIONS)
        replayed, difference = replay_rows([*rows[:-1], relabelled], scratch, OPERATIONS)
    finally:
        scratch.dispose()
    assert replayed < len(rows)
    assert difference is not None and difference.startswith(f"entry {rows[-1].seq}: "), difference
    assert "invalid_text" in difference, difference


def test_rules_nested_past_the_recursion_limit_are_invalid_rules(world: World) -> None:
    deep = "[" * 40_000 + "]" * 40_000  # within the field's 100,000 characters
    world.refused(Reason.invalid_rules, "registry", "set_scheme_rules", scheme="CCER",
                  rules=deep)


# --- times never go backwards (format 2) -----------------------------------------------------


def test_an_entry_is_never_accepted_before_the_head_entry(emitters: World,
                                                          tmp_path: Path) -> None:
    """A writer whose clock is behind (another host, a clock stepped back) accepts its entry at
    the head entry's time, not before it; the replay rebuilds exactly that."""
    head_time = emitters.by("huaneng", "transfer", fromAccount="HN", toAccount="DT",
                            batch="A1", quantity=1).accepted_at
    emitters.clock.advance(seconds=-30)
    behind = emitters.by("huaneng", "transfer", fromAccount="HN", toAccount="DT", batch="A1",
                         quantity=1)
    assert behind.accepted_at == head_time
    emitters.ledger.append_checkpoint_marker()  # a marker, likewise
    with emitters.store.read() as tx:
        assert tx.head_time == head_time
    emitters.clock.advance(seconds=60)
    later = emitters.by("huaneng", "transfer", fromAccount="HN", toAccount="DT", batch="A1",
                        quantity=1)
    assert later.accepted_at > head_time
    assert replay_check(emitters.store, OPERATIONS, tmp_path).ok


def test_format_1_took_the_clock_as_it_was_and_still_replays(emitters: World,
                                                             tmp_path: Path) -> None:
    with writing_form(1):
        first = emitters.by("huaneng", "transfer", fromAccount="HN", toAccount="DT",
                            batch="A1", quantity=1)
        emitters.clock.advance(seconds=-30)
        behind = emitters.by("huaneng", "transfer", fromAccount="HN", toAccount="DT",
                             batch="A1", quantity=1)
        emitters.ledger.append_checkpoint_marker()
    assert behind.accepted_at < first.accepted_at
    assert replay_check(emitters.store, OPERATIONS, tmp_path).ok


def test_a_format_2_entry_moved_back_in_time_is_a_replay_difference(emitters: World,
                                                                     tmp_path: Path) -> None:
    emitters.clock.advance(seconds=60)
    emitters.by("huaneng", "transfer", fromAccount="HN", toAccount="DT", batch="A1", quantity=1)
    with emitters.store.read() as tx:
        rows = tx.journal_rows(0, tx.head + 1)
    # what an insider with the database might do: back-date an entry, its leaf hash recomputed
    document = json.loads(rows[-1].entry) | {"accepted_at": "2026-06-01T08:59:00.000Z"}
    entry = canonical_json(document)
    moved = dataclasses.replace(rows[-1], entry=entry, leaf_hash=leaf_hash(entry),
                                accepted_at=document["accepted_at"])
    scratch = Store(sqlite_url(tmp_path / "scratch.db"))
    scratch.upgrade(OPERATIONS)
    try:
        _, difference = replay_rows([*rows[:-1], moved], scratch, OPERATIONS)
    finally:
        scratch.dispose()
    assert difference is not None and difference.startswith(f"entry {rows[-1].seq}: ")
    assert "accepted_at" in difference, difference


def test_an_instruction_parsed_under_format_1_is_checked_again_under_format_2(
        emitters: World, tmp_path: Path) -> None:
    """What this ledger's parser made is admitted without a second parse only under the rules
    it was parsed under: parsed leniently (format 1), it meets format 2's rules at submission."""
    with writing_form(1):
        lenient = emitters.instruction("retire", account="HN", batch="A1", quantity=1,
                                       beneficiary="Caf\u0065\u0301", reason="", claim="")
    _refused_alone(emitters, emitters.wallets["huaneng"].sign(lenient), Reason.invalid_text)
    assert replay_check(emitters.store, OPERATIONS, tmp_path).ok


def test_a_parsed_instructions_fields_cannot_be_changed_in_place(emitters: World) -> None:
    parsed = emitters.instruction("transfer", fromAccount="HN", toAccount="DT", batch="A1",
                                  quantity=10)
    with pytest.raises(TypeError):
        parsed.fields["toAccount"] = "HN"  # type: ignore[index]
