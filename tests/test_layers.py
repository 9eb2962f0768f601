"""Only store layers write SQL (docs/DESIGN.md, "Where SQL may live"), checked from the source.

Each module has one store layer, a small set of files whose functions take a transaction and
return typed values; everything else is logic over those values. The scan looks at every
Python file of the packages below for two things: a string that reads as SQL (a statement, or
a clause such as WHERE or ORDER BY: SQL is written in capitals here, prose is not), and a
call that runs SQL (`.execute(...)`, `.executemany(...)`, or a transaction's `.all(sql)` and
`.one(sql)`), so that a statement written in lower case is still caught when it is run.
Docstrings are prose and are not read.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.isolation import REPO_ROOT

SCANNED = ("ledger", "pledge", "compliance", "projects", "allocation", "anchoring", "custody",
           "api", "examples")

# Where SQL may be written, and why there. A path ending in "/" is a whole directory.
STORE_LAYERS = {
    "ledger/store/": "the core's store layer: connections, the write path (sql.py), typed reads "
                     "(queries.py), whole-table scans, the replay's touched rows, the reads of "
                     "the core's state leaves (state_leaves.py), migrations",
    "pledge/store.py": "pledge's store layer: every statement of the module",
    "pledge/migrations/": "pledge's migrations (its Alembic version location)",
    "compliance/store.py": "compliance's store layer: every statement of its projections",
    "compliance/document_store.py": "sealed confidential documents and their wrapped keys, "
                                    "kept beside the journal",
    "compliance/migrations/": "compliance's migrations (its Alembic version location)",
    "compliance/leaf_store.py": "compliance's leaves of the state commitment: their values "
                                "and reads, and what their provers ask",
    "projects/store.py": "projects' store layer: its reads, and the journal entries behind a "
                         "retirement that its prover asks for",
    "projects/queries_store.py": "projects' store layer for the public reads of the project "
                                 "cycle: methodologies, projects, periods, retirements",
    "projects/public_document_store.py": "public documents of the project cycle (design "
                                         "documents), kept as is beside the journal",
    "allocation/store.py": "allocation's store layer: the reads of plans, amendments, reserve "
                           "movements, market figures, closures, and installations' "
                           "allocations, verified outputs and debts",
    "allocation/auction_store.py": "allocation's store layer for auctions: terms, books and "
                                   "bidders' own bids",
    "allocation/plan_leaf_store.py": "allocation's plan leaves of the state commitment",
    "allocation/installation_leaf_store.py": "allocation's installation leaves of the state "
                                             "commitment",
    "allocation/auction_leaf_store.py": "allocation's auction leaves of the state commitment, "
                                        "and the book their prover asks for",
    "allocation/migrations/": "allocation's migrations (its Alembic version location)",
    "anchoring/operator/checkpoints.py": "the checkpoints table: cut, signed, anchored",
    "anchoring/operator/log_store.py": "the Merkle log: log_nodes and the journal's leaf hashes",
    "anchoring/operator/state_versions.py": "the state leaves' versions (state_leaves)",
    "anchoring/operator/state_tree/store.py": "the state tree's nodes, persisted "
                                              "(state_tree_nodes, state_tree_stale)",
    "anchoring/operator/cosignatures.py": "witnesses' cosignatures and attestations, as kept",
}

# SQL that is not the ledger's, allowed in one function each.
NOT_THE_LEDGERS = {
    ("examples/auditor_story.py", "_tampered_copy"):
        "an insider's deliberate tampering with a copy of the database, for the audit to catch",
}

_STATEMENT = re.compile(
    r"\b(?:SELECT\b.*?\bFROM|SELECT\s+(?:COUNT|MAX|MIN|SUM|DISTINCT|1)\b|INSERT\s+INTO"
    r"|UPDATE\s+\S+\s+SET|DELETE\s+FROM|(?:CREATE|DROP|ALTER)\s+(?:TEMP(?:ORARY)?\s+)?"
    r"(?:TABLE|TRIGGER|INDEX|VIEW|FUNCTION)|PRAGMA\s+\w|BEGIN\s+IMMEDIATE|VACUUM|ANALYZE\s+\w)",
    re.S)
_CLAUSE = re.compile(r"\b(?:WHERE|ORDER BY|GROUP BY|JOIN|VALUES \(|RETURNING|FOR UPDATE)\b")
_RUNS_SQL = frozenset({"execute", "executemany", "executescript", "exec_driver_sql"})
_TX_READS = frozenset({"all", "one"})  # SqlTransaction's: with an argument, it is SQL


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                found.add(id(body[0].value))
    return found


def findings(source: str, filename: str) -> Iterator[tuple[int, str | None, str]]:
    """(line, enclosing function, what) for each piece of SQL in `source`."""
    tree = ast.parse(source, filename)
    skipped = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # its parts are judged together, not one by one
            skipped.update(id(part) for part in node.values if isinstance(part, ast.Constant))

    def visit(node: ast.AST, function: str | None) -> Iterator[tuple[int, str | None, str]]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in skipped:
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(str(part.value) if isinstance(part, ast.Constant) else "{}"
                           for part in node.values)
        if text is not None and (_STATEMENT.search(text) or _CLAUSE.search(text)):
            assert isinstance(node, ast.expr)  # a string constant or an f-string
            yield node.lineno, function, f"SQL text {text[:60]!r}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in _RUNS_SQL or (name in _TX_READS and node.args):
                yield node.lineno, function, f"runs SQL: .{name}(...)"
        for child in ast.iter_child_nodes(node):
            yield from visit(child, function)

    yield from visit(tree, None)


def _in_store_layer(relative: str) -> bool:
    return any(relative.startswith(layer) if layer.endswith("/") else relative == layer
               for layer in STORE_LAYERS)


def _sources() -> Iterator[tuple[str, Path]]:
    for root in SCANNED:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            yield path.relative_to(REPO_ROOT).as_posix(), path


def test_only_store_layers_write_sql() -> None:
    outside = []
    for relative, path in _sources():
        if _in_store_layer(relative):
            continue
        for line, function, what in findings(path.read_text(), relative):
            if (relative, function) not in NOT_THE_LEDGERS:
                outside.append(f"{relative}:{line}: {what}")
    for root in SCANNED:  # SQL kept in files of its own counts too
        outside += [f"{p.relative_to(REPO_ROOT).as_posix()}: an SQL file"
                    for p in (REPO_ROOT / root).rglob("*.sql")
                    if not _in_store_layer(p.relative_to(REPO_ROOT).as_posix())]
    assert not outside, ("SQL outside the store layers; move it into the module's store layer "
                         "as a named function returning typed values:\n" + "\n".join(outside))


def test_the_declared_layers_and_exceptions_are_real() -> None:
    """A layer or an exception that no longer holds SQL leaves the lists, so that they stay the
    true map of where SQL lives."""
    for layer in STORE_LAYERS:
        path = REPO_ROOT / layer
        assert path.exists(), f"{layer}: declared a store layer, but it does not exist"
        if path.is_file():
            assert list(findings(path.read_text(), layer)), f"{layer} holds no SQL"
    for (relative, function), _why in NOT_THE_LEDGERS.items():
        found = findings((REPO_ROOT / relative).read_text(), relative)
        assert any(f == function for _, f, _ in found), f"{relative}: {function} holds no SQL"


def test_the_scan_finds_sql_in_the_forms_it_is_written_in() -> None:
    source = '''
"""A module that says SELECT seq FROM journal in its docstring: prose, not read."""

def reads(tx, table, columns):
    """Reads `SELECT ... FROM journal_head FOR UPDATE`, says the docstring."""
    message = "select the lots you want from the list, then update the set"
    rows = tx.all(f"SELECT {', '.join(columns)} FROM {table}")
    tx.execute("delete from lots")
    where = "WHERE account = :account"
    trigger = ("CREATE TRIGGER t AFTER INSERT ON lots "
               "BEGIN INSERT INTO touched VALUES (NEW.id); END")
    return message, rows, where, trigger
'''
    found = list(findings(source, "example.py"))
    lines = sorted(line for line, _, _ in found)
    # line 7 twice (the text and the call), the lower-case statement by its call, the clause,
    # the trigger; neither docstring nor the prose message
    assert lines == [7, 7, 8, 9, 10], found
    assert {function for _, function, _ in found} == {"reads"}
