"""The house stays layered: no import circle in app/, and a service imports only what it needs.

The layer rules themselves are import-linter contracts in .importlinter (`make lint`)."""

from __future__ import annotations

import subprocess
import sys

import grimp


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over the direct imports (including imports inside functions)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            components.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return components


def test_no_import_circle_in_app():
    graph = grimp.build_graph("app")
    circles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert circles == []


def test_the_circle_finder_finds_a_circle():
    graph = grimp.ImportGraph()
    for module in ("x.a", "x.b", "x.c"):
        graph.add_module(module)
    graph.add_import(importer="x.a", imported="x.b")
    graph.add_import(importer="x.b", imported="x.a")
    graph.add_import(importer="x.b", imported="x.c")
    assert [c for c in strongly_connected(graph) if len(c) > 1] == [{"x.a", "x.b"}]


def test_order_services_do_not_load_the_whole_app():
    code = (
        "import sys; from app.orders import services; "
        "print(' '.join(sorted(m for m in sys.modules if m == 'app' or m.startswith('app.'))))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(run.stdout.split())
    assert "app.orders.services" in loaded
    for elsewhere in ("app.users", "app.products", "app.orders.routes", "app.reports.routes", "app.auth.routes",
                      "app.cli", "app.ops", "app.web.json_body", "app.web.request_log"):
        assert elsewhere not in loaded, elsewhere
