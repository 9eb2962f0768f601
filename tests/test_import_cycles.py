"""No import cycle anywhere in the project: each package's modules import downwards only
(docs/DESIGN.md, "The layout"), checked from the source."""

from __future__ import annotations

from tests.import_graph import find_cycle, graph_of, modules_of

PACKAGES = ("custody", "ledger", "pledge", "compliance", "anchoring", "api", "examples")


def test_no_module_of_the_project_is_part_of_an_import_cycle() -> None:
    modules = modules_of(PACKAGES)
    graph = graph_of(modules, type_checking=False)
    assert sum(map(len, graph.values())) > 300  # the walk sees the project's imports
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


def test_the_ledger_never_imports_its_modules_or_its_interfaces() -> None:
    """The core is below every module and every interface: a capability plugs in by
    declaration (ledger/modules.py), never by the core importing it."""
    modules = modules_of(PACKAGES)
    graph = graph_of(modules, type_checking=False)
    above = ("pledge", "compliance", "api", "examples", "anchoring.operator", "anchoring.audit",
             "anchoring.verify_chain")
    for name, imported in graph.items():
        if name.split(".")[0] == "ledger":
            wrong = sorted(i for i in imported
                           if any(i == a or i.startswith(a + ".") for a in above))
            assert not wrong, f"{name} imports {wrong}"
