"""Instruction files, mutated every way a file can go wrong, handed to `carbonledger submit`.

Every mutation is refused in one line with a documented exit code (refused or usage), or — when
it still holds a valid signed instruction — accepted; nothing crashes, no traceback reaches the
person, and the ledger replays cleanly afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from api.bootstrap import registry_wallet
from api.cli import main
from api.config import load_config
from api.exit_codes import ExitCode
from ledger.client import Wallet
from tests.world import OPERATIONS

PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("fuzz") / "ledger"
    runner = CliRunner(env={"CARBONLEDGER_PASSWORD": PASSWORD})
    assert runner.invoke(main, ["--data-dir", str(data), "init"]).exit_code == 0
    _WALLET.append(registry_wallet(load_config(data), data, PASSWORD))  # scrypt: once
    yield data
    result = runner.invoke(main, ["--data-dir", str(data), "replay", "--check"])
    assert result.exit_code == 0, result.output


_counter = iter(range(1, 10**9))
_WALLET: list[Wallet] = []


def _valid_text(data: Path) -> str:
    """A fresh signed instruction of the registry, as a file holds it."""
    wallet = _WALLET[-1]
    n = next(_counter)
    signed = wallet.sign(OPERATIONS.instruction(
        "register_participant", participant=f"p{n}", name=f"Participant {n}", role="emitter"))
    return json.dumps(signed.as_json(), ensure_ascii=False)


Mutation = Callable[[str], str]


def _at(position: int, text: str) -> int:
    return position % (len(text) + 1)


MUTATIONS: dict[str, Callable[[int, str], Mutation]] = {
    "delete": lambda i, s: lambda t: t[:_at(i, t)] + t[_at(i, t) + 1:],
    "insert": lambda i, s: lambda t: t[:_at(i, t)] + s + t[_at(i, t):],
    "replace": lambda i, s: lambda t: t[:_at(i, t)] + s + t[_at(i, t) + len(s):],
    "truncate": lambda i, s: lambda t: t[:_at(i, t)],
    "nest": lambda i, s: lambda t: "[" * (i % 200_000) + t + "]" * (i % 200_000),
    "duplicate-key": lambda i, s: lambda t: t.replace('"op": ', '"op": "genesis", "op": ', 1),
    "wrap": lambda i, s: lambda t: '{"instruction": ' + t + "}",
}
PIECES = st.sampled_from(["\\ud800", "\x00", "\u202e", "e\u0301", "{", "}", "[", "]", '"', ",",
                          ":", "1e400", "-0", "true", "null", "9" * 30, "\\", "\\u0000", " ",
                          "\ufeff", "🌍", "Ω"])


@st.composite
def mutated_files(draw: Callable[..., Any]) -> list[Mutation]:
    names = draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=0, max_size=3))
    return [MUTATIONS[name](draw(st.integers(0, 10**6)), draw(PIECES)) for name in names]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=mutated_files())
@example(mutations=[])  # the file as signed: accepted
@example(mutations=[MUTATIONS["replace"](-80, "0")])  # a changed signature byte: refused
def test_a_mutated_instruction_file_is_refused_in_one_line_or_accepted(
        ledger_dir: Path, tmp_path_factory: pytest.TempPathFactory,
        mutations: list[Mutation]) -> None:
    text = _valid_text(ledger_dir)
    for mutate in mutations:
        text = mutate(text)
    path = tmp_path_factory.mktemp("file") / "instruction.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    result = CliRunner().invoke(main, ["--data-dir", str(ledger_dir), "submit", str(path)])
    event(f"exit {result.exit_code}")
    assert result.exit_code in (ExitCode.OK, ExitCode.REFUSED, ExitCode.USAGE), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{type(result.exception).__name__}: {result.exception}"
    assert "Traceback" not in result.output
    if result.exit_code == ExitCode.OK:  # one receipt, or (for an array) one each
        receipts = json.loads(result.output)
        assert all(r["seq"] > 0 for r in receipts if isinstance(receipts, list)) \
            if isinstance(receipts, list) else receipts["seq"] > 0
    elif result.exit_code == ExitCode.REFUSED:
        assert '"reason"' in result.output
    else:
        assert len(result.output.strip().splitlines()) == 1, result.output
