"""The import graph of the project's packages, read from their source (nothing is imported):
which module imports which, at any depth of its source (a function's lazy import counts: it
still runs), and a finder of import cycles."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.isolation import REPO_ROOT

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules_of(packages: Iterable[str]) -> dict[str, Path]:
    """Every module of the named top-level packages, by dotted name."""
    return {module_name(path): path for package in packages
            for path in sorted((REPO_ROOT / package).rglob("*.py"))}


def imports(name: str, modules: dict[str, Path], *,
            type_checking: bool = True) -> Iterator[str]:
    """Every module `name` imports; with `type_checking=False`, not those imported only under
    `if TYPE_CHECKING:` (they never run, so they cannot take part in an import cycle)."""
    path = modules[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    if not type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(inner) for inner in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            # `from anchoring.auditor import smt` imports the module anchoring.auditor.smt
            yield from (f"{base}.{alias.name}" for alias in node.names
                        if f"{base}.{alias.name}" in modules)


def graph_of(modules: dict[str, Path], *, type_checking: bool = True) -> Graph:
    """Each module -> the modules among `modules` it imports (itself excluded)."""
    return {name: {imported for imported in imports(name, modules, type_checking=type_checking)
                   if imported in modules} - {name} for name in modules}


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle of `graph` (module -> the modules it imports), or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name):], name]
        if name in done:
            return None
        for imported in sorted(graph.get(name, ())):
            found = visit(imported, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for name in sorted(graph):
        found = visit(name, [])
        if found:
            return found
    return None
