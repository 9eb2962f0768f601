"""One way in, as a property: every operation, with field values of any type and content, signed
or not, built by hand or parsed, one at a time or mixed in one submission.

Whatever the engine journals, its replay accepts; whatever it refuses, it refuses with a named
reason of the ledger's modules and changes nothing; and no input raises anything else.
"""

from __future__ import annotations

import shutil
import string
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.clock import FixedClock
from ledger.errors import Rejected
from ledger.instructions import CORE_ENUMS, Approval, FieldSpec, Instruction, SignedInstruction
from ledger.journal import Receipt
from ledger.replay import replay_check
from ledger.schemes import load_rules_dir, rules_document
from ledger.store.database import Store, sqlite_url
from tests.pledge.helpers import PLEDGE, REPO
from tests.world import OPERATIONS, World, fresh_wallet

IDS = ["HN", "DT", "ICBC", "A1", "C1", "huaneng", "datang", "icbc", "registry", "CN-ETS", "CCER",
       "P1", "R1", "A1-new", "Z9"]
SIGNERS = ["registry", "huaneng", "datang", "icbc", "stranger"]

# text a hostile client sends: controls, bidi overrides, lone surrogates, text not in NFC,
# characters outside the BMP, and plain words
_odd_characters = st.sampled_from(
    ["\x00", "\x1b[2J", "\n", "\u202e", "\u2066", "\ud800", "\udfff", "e\u0301", "\ufeff",
     "\U0001f600", "深圳", "Ω", " ", "\x7f", "\u0085"])
HOSTILE_TEXT = st.lists(st.one_of(st.text(string.ascii_letters, max_size=5), _odd_characters),
                        max_size=6).map("".join)
WRONG_TYPES = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True),
                        st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
DATES = st.sampled_from(["2024-01-01", "2024-02-29", "2024-12-31", "2026-12-31", "2024-02-31",
                         "2023-02-29", "2024-13-45", "2024-1-1", "2024-01-01\n", "", "十月"])


def _plausible(spec: FieldSpec) -> st.SearchStrategy[Any]:
    check = spec.check
    enum = OPERATIONS.enums.get(check) or CORE_ENUMS.get(check)
    if enum is not None:
        return st.sampled_from([m.value for m in enum])
    if check == "id":
        return st.one_of(_ids_for(spec.name), _ids_for(spec.name), st.sampled_from(IDS))
    if check == "serial":
        return st.one_of(st.just(0), st.just(0), st.integers(1, 1200))
    if check in ("quantity", "amount"):
        return st.one_of(st.integers(1, 50), st.integers(1, 50), st.integers(0, 1200))
    if check == "year":
        return st.sampled_from([2024, 2025, 1989, 2201])
    if check == "chain":
        return st.sampled_from([31337, 0, 2**64])
    if check in ("date", "day"):
        return DATES
    if check == "address":
        return st.sampled_from(["registry", "huaneng", "stranger"]).map(AddressOf)
    if check == "flag":
        return st.booleans()
    if check == "currency":
        return st.sampled_from(["CNY", "cny", "CN"])
    if check == "json":
        return st.sampled_from([rules_document(load_rules_dir()), "{}", "[", "\ud800"])
    return st.one_of(st.sampled_from(["", "Wind farm", "深圳地铁", "ICBC-2026-7"]), HOSTILE_TEXT)


def _ids_for(name: str) -> st.SearchStrategy[str]:
    """Ids of the kind a field names, so that many instructions get past the lookups."""
    lowered = name.lower()
    for part, pool in (("account", ["HN", "DT", "ICBC"]), ("batch", ["A1", "A1", "C1"]),
                       ("scheme", ["CN-ETS", "CCER"]), ("pledge", ["P1", "P2"]),
                       ("repo", ["R1", "R2"])):
        if part in lowered:
            return st.sampled_from(pool)
    return st.sampled_from(["huaneng", "datang", "icbc", "registry"])


_WALLETS: dict[str, Any] = {}


class AddressOf(str):
    """The address of a named wallet of the example's world, filled in when it is signed (the
    wallets' keys differ from one example to the next)."""


def _resolved(value: Any) -> Any:
    return _WALLETS[value].address if isinstance(value, AddressOf) else value


HOSTILE: st.SearchStrategy[Any] = st.one_of(HOSTILE_TEXT, st.integers(-2, 2**70),
                    st.sampled_from([0, 2**53 - 1, 2**53, 2**64]), WRONG_TYPES)


def _templates() -> list[tuple[str, tuple[str, ...], dict[str, Any]]]:
    """Instructions the example's world accepts as they stand (in a fitting order)."""
    by_quantity = {"serialFirst": 0, "serialLast": 0}
    return [
        ("transfer", ("huaneng",), dict(fromAccount="HN", toAccount="DT", batch="A1",
                                        quantity=10, **by_quantity)),
        ("transfer", ("huaneng",), dict(fromAccount="HN", toAccount="ICBC", batch="A1",
                                        quantity=10, serialFirst=991, serialLast=1000)),
        ("retire", ("huaneng",), dict(account="HN", batch="A1", quantity=5, beneficiary="深圳地铁",
                                      reason="2026", claim="", **by_quantity)),
        ("cancel", ("registry",), dict(account="HN", batch="A1", quantity=3,
                                       reason="correction", **by_quantity)),
        ("freeze_account", ("registry",), dict(account="DT", reason="court order")),
        ("unfreeze_account", ("registry",), dict(account="DT", reason="lifted")),
        ("register_participant", ("registry",), dict(participant="windco", name="Wind Co",
                                                     role="project_owner")),
        ("open_account", ("registry",), dict(account="WC", participant="datang",
                                             accountType="trading")),
        ("issue_batch", ("registry",), dict(
            batch="C1", scheme="CCER", kind="credit", vintage=2024, project="Wind farm",
            monitoringStart="2024-01-01", monitoringEnd="2024-12-31",
            issuance="credit_issuance", quantity=100, account="DT")),
        ("pledge_register", ("huaneng", "icbc"), PLEDGE),
        ("pledge_release", ("icbc",), dict(pledge="P1", quantity=100)),
        ("repo_open", ("huaneng", "icbc"), REPO),
        ("repo_close", ("huaneng", "icbc"), dict(repo="R1", quantity=100)),
        ("register_key", ("huaneng",), dict(participant="huaneng", key=AddressOf("stranger"))),
        ("revoke_key", ("registry",), dict(participant="registry", key=AddressOf("registry"))),
        ("rotate_key", ("huaneng",), dict(participant="huaneng", oldKey=AddressOf("huaneng"),
                                          newKey=AddressOf("stranger"))),
    ]


TEMPLATES = _templates()
Drawn = tuple[str, tuple[str, ...], dict[str, Any], int]


@st.composite
def instructions(draw: Callable[..., Any]) -> Drawn:
    """Instructions the world accepts as they stand, the same with one field changed to any
    value, and instructions of any operation with fields drawn field by field: each kind must
    meet the same way in."""
    kind = draw(st.sampled_from(["template"] * 3 + ["changed"] * 2 + ["drawn"]))
    if kind != "drawn":
        op, signers, fields = draw(st.sampled_from(TEMPLATES))
        fields = dict(fields)
        if kind == "changed":
            spec = draw(st.sampled_from(OPERATIONS.schema(op).fields))
            fields[spec.name] = draw(st.one_of(_plausible(spec), HOSTILE))
        return op, signers, fields, 4_102_444_800
    op = draw(st.sampled_from(OPERATIONS.names))
    specs = OPERATIONS.schema(op).fields
    fields = {spec.name: draw(st.one_of(_plausible(spec), _plausible(spec), HOSTILE))
              for spec in specs}
    if draw(st.booleans()) and fields:  # a field dropped, or one added
        fields.pop(next(iter(fields))) if draw(st.booleans()) else fields.update(memo="x")
    signers = tuple(draw(st.lists(st.sampled_from(SIGNERS), min_size=1, max_size=2,
                                  unique=True)))
    deadline = draw(st.sampled_from([4_102_444_800, 1, 0, -1, 2**53, 2**64]))
    return op, signers, fields, deadline


def _signed(world: World, op: str, signers: tuple[str, ...], fields: dict[str, Any],
            deadline: int, counter: int) -> SignedInstruction:
    """Signed as a hand-built Instruction: no parser in between. Fields the EIP-712 encoder
    cannot encode get approvals with any 65 bytes (the engine must still name a reason)."""
    fields = {name: _resolved(value) for name, value in fields.items()}
    instruction = Instruction(op, counter.to_bytes(32, "big"), deadline, fields,
                              OPERATIONS.schema(op), payload=None)  # type: ignore[arg-type]
    wallets = [_WALLETS[name] for name in signers]
    try:
        signed = wallets[0].sign(instruction)
        for wallet in wallets[1:]:
            signed = wallet.cosign(signed)
        return signed
    except Exception:
        return SignedInstruction(instruction, tuple(Approval(w.address, 1, b"\x02" * 65)
                                                    for w in wallets))


def _state(store: Store) -> tuple[Any, ...]:
    tables = ("holdings", "lots", "accounts", "signing_keys", "participants", "batches", "liens")
    with store.read() as tx:
        rows = (tuple(map(tuple, tx.all(f"SELECT * FROM {table} ORDER BY 1, 2")))
                for table in tables)
        return (tx.head, *rows)


def _world(template: Path, directory: Path) -> World:
    path = directory / "ledger.db"
    shutil.copy(template, path)
    world = World.create(Store(sqlite_url(path)), FixedClock(datetime(2026, 6, 1, tzinfo=UTC)))
    for name, account, role, kind in (("huaneng", "HN", "emitter", "compliance"),
                                      ("datang", "DT", "emitter", "compliance"),
                                      ("icbc", "ICBC", "bank", "trading")):
        world.participant(name, role, account, kind)
    world.allocate("A1", "HN", 1000)
    _WALLETS.clear()
    _WALLETS.update(world.wallets, stranger=fresh_wallet())
    return world


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=st.lists(instructions(), min_size=1, max_size=8), together=st.booleans())
def test_what_is_journaled_replays_and_what_is_refused_changes_nothing(
        migrated_template: Path, tmp_path_factory: pytest.TempPathFactory,
        batch: list[Drawn], together: bool) -> None:
    directory = tmp_path_factory.mktemp("one-way-in")
    world = _world(migrated_template, directory)
    try:
        signed = [_signed(world, *item, counter) for counter, item in enumerate(batch, 1)]
        before = world.head()
        if together:
            results = world.ledger.submit_many(signed)
        else:
            results = []
            for one in signed:
                state = _state(world.store)
                (result,) = world.ledger.submit_many([one])
                if isinstance(result, Rejected):
                    assert _state(world.store) == state, f"{result} changed the state"
                results.append(result)
        for result in results:
            assert isinstance(result, Receipt | Rejected)
            if isinstance(result, Rejected):
                assert result.reason.name in OPERATIONS.reasons
        accepted = [r for r in results if isinstance(r, Receipt) and not r.duplicate]
        event(f"accepted {min(len(accepted), 2)}+" if accepted else "all refused")
        for result in results:
            if isinstance(result, Rejected):
                event(f"refused: {result.reason.name}")
        assert world.head() == before + len(accepted)
        report = replay_check(world.store, OPERATIONS, directory)
        assert report.ok, report.first_difference
        world.assert_invariants()
    finally:
        world.store.dispose()
        shutil.rmtree(directory, ignore_errors=True)
