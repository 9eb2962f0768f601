"""The layout of anchoring/ is its architecture, checked from the source (docs/adr/0007):

- anchoring.auditor imports nothing but itself, custody and the standard library, so an
  auditor's verifier runs without the ledger, a database or web3;
- anchoring.operator imports the auditor's part, never the audit or the on-chain check above it;
- nothing in anchoring imports api, and no module of anchoring is part of an import cycle;
- every module imports on its own, in a fresh interpreter;
- every error of anchoring carries a code of its package's closed list.
"""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import subprocess
import sys
from collections.abc import Iterator

import pytest

from anchoring.auditor.errors import VerifyError, VerifyFailure
from anchoring.operator.errors import OperatorError, OperatorFailure
from tests.import_graph import find_cycle, imports, modules_of
from tests.isolation import LEDGER_AND_DATABASES, REPO_ROOT, run_without

PACKAGE = REPO_ROOT / "anchoring"
STDLIB = frozenset(sys.stdlib_module_names)
# What the auditor's part may import beyond itself and the standard library.
AUDITOR_MAY_IMPORT = frozenset({"custody"})
# Above both subpackages: the audit (it replays the journal) and the on-chain check (web3).
TOP = frozenset({"anchoring.audit", "anchoring.verify_chain"})
# Roots that are never raised themselves: catching one catches its module's errors.
ROOTS = frozenset({VerifyError, OperatorError})


MODULES = modules_of(["anchoring"])


def _imports(name: str) -> Iterator[str]:
    return imports(name, MODULES)


def _internal(name: str) -> set[str]:
    return {imported for imported in _imports(name) if imported in MODULES}


def test_the_layout_has_its_two_parts_and_the_modules_above_them() -> None:
    assert {"anchoring.auditor.verify", "anchoring.auditor.merkle", "anchoring.auditor.smt",
            "anchoring.auditor.note", "anchoring.auditor.verify_pledge"} <= set(MODULES)
    assert {"anchoring.operator.checkpoints", "anchoring.operator.worker",
            "anchoring.operator.chain", "anchoring.operator.bundles"} <= set(MODULES)
    top = {name for name, path in MODULES.items()
           if name.count(".") == 1 and path.name != "__init__.py"}
    assert top == TOP, "a module directly in anchoring/ is neither part: say where it belongs"


def test_the_auditors_part_imports_only_itself_custody_and_the_standard_library() -> None:
    crossings = {}
    for name in MODULES:
        if not name.startswith("anchoring.auditor"):
            continue
        outside = {imported for imported in _imports(name)
                   if imported.split(".")[0] not in STDLIB | AUDITOR_MAY_IMPORT | {"__future__"}
                   and not (imported + ".").startswith("anchoring.auditor.")}
        if outside:
            crossings[name] = sorted(outside)
    assert not crossings, f"the auditor's part imports beyond its boundary: {crossings}"


def test_the_operators_part_builds_on_the_auditors_never_on_what_is_above_it() -> None:
    for name in MODULES:
        imported = _internal(name)
        if name.startswith("anchoring.operator"):
            assert not imported & TOP, f"{name} imports {sorted(imported & TOP)}"
        assert not any(i.split(".")[0] == "api" for i in _imports(name)), \
            f"{name} imports api: nothing imports the composition root"


def test_no_module_of_anchoring_is_part_of_an_importfind_cycle() -> None:
    graph = {name: _internal(name) - {name} for name in MODULES}
    assert sum(map(len, graph.values())) > 60  # the walk sees the package's imports
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


def test_the_cycle_check_finds_the_cycle_the_verifier_once_had() -> None:
    # verify imported verify_pledge at its end so that the kind registered itself, and
    # verify_pledge imported verify for the registry and the shared checks.
    graph = {"verify": {"note", "verify_pledge"}, "verify_pledge": {"verify", "note"},
             "note": set()}
    assert find_cycle(graph) == ["verify", "verify_pledge", "verify"]
    assert find_cycle({**graph, "verify_pledge": {"note"}}) is None


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    # One interpreter per module, all at once: a module that works only after another was
    # imported first (a cycle, a registration by side effect) fails here.
    running = {name: subprocess.Popen([sys.executable, "-c", f"import {name}"], cwd=REPO_ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in MODULES}
    failed = {}
    for name, process in running.items():
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failed[name] = stderr.strip().splitlines()[-1:]
    assert not failed, failed


def test_every_auditor_module_imports_without_the_ledger_a_database_or_web3() -> None:
    names = sorted(name for name in MODULES if name.startswith("anchoring.auditor"))
    body = "\n".join(f"import {name}" for name in names)
    result = run_without(LEDGER_AND_DATABASES | {"web3"}, body)
    assert result.returncode == 0, result.stderr


# --- errors: one root per part, a closed list of codes ------------------------------------------

def _exception_classes() -> Iterator[type[BaseException]]:
    for name in MODULES:
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == name:
                yield value


def _raised_names(name: str) -> Iterator[tuple[str, ast.Call]]:
    path = MODULES[name]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                and isinstance(node.exc.func, ast.Name):
            yield node.exc.func.id, node.exc


def test_every_error_of_anchoring_is_under_its_parts_root() -> None:
    strays = [cls.__qualname__ for cls in _exception_classes()
              if not issubclass(cls, VerifyError | OperatorError)
              and not cls.__name__.startswith("_")]
    assert not strays, f"errors under no root, so with no code: {strays}"
    auditor = [cls for cls in _exception_classes() if cls.__module__.startswith(
        "anchoring.auditor")]
    assert all(issubclass(cls, VerifyError) for cls in auditor)


def test_every_raised_error_carries_a_code_of_its_closed_list() -> None:
    checked = 0
    for name in MODULES:
        module = importlib.import_module(name)
        for called, call in _raised_names(name):
            cls = getattr(module, called, None)
            if not (inspect.isclass(cls) and issubclass(cls, VerifyError | OperatorError)):
                continue
            assert cls not in ROOTS, f"{name} raises the root {called}: raise a coded error"
            checked += 1
            init = getattr(cls.__init__, "__code__", None)  # None: Exception's own
            if init is not None and "code" in init.co_varnames[:init.co_argcount]:
                # The code is given where it is raised: it must name a member of the list.
                given = call.args[0] if call.args else None
                assert isinstance(given, ast.Attribute | ast.Name), \
                    f"{name}: {called}(...) is raised without its code"
                if isinstance(given, ast.Attribute) and given.attr != "code":
                    # (`exc.code`: the code of the error caught, passed on)
                    assert isinstance(given.value, ast.Name) \
                        and given.value.id == "VerifyFailure" \
                        and given.attr in VerifyFailure.__members__, \
                        f"{name}: {called}({ast.unparse(given)}, ...) names no VerifyFailure"
            else:
                code = getattr(cls, "code", None)
                want = VerifyFailure if issubclass(cls, VerifyError) else OperatorFailure
                assert isinstance(code, want), f"{name}: {called} has no code of {want.__name__}"
    assert checked > 80  # the walk found the raises it is about


@pytest.mark.parametrize("codes", [VerifyFailure, OperatorFailure])
def test_every_code_says_what_to_do(codes: type[enum.Enum]) -> None:
    messages = [member.message for member in codes]  # type: ignore[attr-defined]
    assert all(len(message) > 40 for message in messages)
    assert len(set(messages)) == len(messages)


def test_an_error_maps_to_its_code_without_reading_its_message() -> None:
    from anchoring.auditor.errors import VerificationFailed
    from anchoring.auditor.note import NoteError, parse_address
    from anchoring.operator.chain import ChainUnavailable

    with pytest.raises(NoteError) as bad:
        parse_address("0xAbC", "the operator key")
    assert bad.value.code is VerifyFailure.bad_address
    assert bad.value.as_dict()["error"] == "bad_address"
    refused = VerificationFailed(VerifyFailure.untrusted_operator, "named another key")
    assert refused.as_dict() == {"error": "untrusted_operator",
                                 "message": VerifyFailure.untrusted_operator.message,
                                 "detail": "named another key"}
    unreachable = ChainUnavailable("node down")
    assert unreachable.code is OperatorFailure.chain_unavailable and unreachable.retryable
    assert unreachable.as_dict()["retryable"] is True
