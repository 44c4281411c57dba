"""The shape of the house: rooms of one concern, thin blueprints, arrows one way.

These read the source, not the running app. `make lint` (ruff, `lint-imports`) holds the layer
contracts; these hold what the linters do not: sizes, where queries and commits may live, and that
the import graph of `donations/` has no cycle at all (modules, not only sibling packages).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "donations"
MAX_LINES = 500
# The client fixed the models' file name, and with it one file for every table.
TOO_BIG_ALLOWED = {"donations/models.py"}
TEST_MODE_GATEWAY_MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_over_500_lines() -> None:
    too_big = {
        _relative(path): _lines(path)
        for path in _modules()
        if _relative(path) not in TOO_BIG_ALLOWED and _lines(path) > MAX_LINES
    }
    assert too_big == {}


def test_the_products_stripe_test_mode_stays_small() -> None:
    gateway = PACKAGE / "integrations" / "local_gateway.py"
    assert _lines(gateway) <= TEST_MODE_GATEWAY_MAX_LINES


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def test_blueprints_hold_no_queries() -> None:
    """Queries are service functions; a blueprint parses, calls one service and renders."""
    found = [
        f"{_relative(path)}:{call.lineno}"
        for path in sorted((PACKAGE / "blueprints").glob("*.py"))
        for call in _calls(ast.parse(path.read_text(encoding="utf-8")))
        if _called_name(call) == "select"
    ]
    assert found == []


def test_blueprints_never_commit_or_roll_back() -> None:
    """The one commit point is unit_of_work; views never end a transaction themselves."""
    found = [
        f"{_relative(path)}:{call.lineno}"
        for path in sorted((PACKAGE / "blueprints").glob("*.py"))
        for call in _calls(ast.parse(path.read_text(encoding="utf-8")))
        if _called_name(call) in {"commit", "rollback"}
    ]
    assert found == []


def test_services_never_commit() -> None:
    """Services flush; the caller's unit of work (or the job running them) commits."""
    pattern = re.compile(r"\bdb\.session\.commit\(\)|\bsession\.commit\(\)")
    found = [
        _relative(path)
        for path in sorted((PACKAGE / "services").rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def _imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_nothing_in_the_product_imports_the_tests() -> None:
    found = [
        _relative(path)
        for path in _modules()
        for name in _imported_modules(path)
        if name == "tests" or name.startswith("tests.")
    ]
    assert found == []


def test_only_the_gateway_imports_stripe_and_only_pdf_imports_reportlab() -> None:
    stripe_importers = set()
    reportlab_importers = set()
    for path in _modules():
        for name in _imported_modules(path):
            top = name.split(".")[0]
            if top == "stripe":
                stripe_importers.add(_relative(path))
            if top == "reportlab":
                reportlab_importers.add(_relative(path))
    assert stripe_importers == {"donations/integrations/stripe_gateway.py"}
    assert reportlab_importers
    assert all(path.startswith("donations/pdf/") for path in reportlab_importers)


def _find_cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle among the modules of `donations`, or None (iterative depth-first)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in sorted(graph.modules):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph.find_modules_directly_imported_by(start)))]
        state[start] = 1
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(step) == 1:
                return [*path[path.index(step) :], step]
            if step not in state:
                state[step] = 1
                path.append(step)
                stack.append(iter(sorted(graph.find_modules_directly_imported_by(step))))
    return None


def test_the_import_graph_has_no_cycle() -> None:
    graph = grimp.build_graph("donations")
    assert _find_cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a graph with a loop in it is caught."""
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.d")
    graph.add_import(importer="a.d", imported="a.b")
    assert _find_cycle(graph) == ["a.b", "a.c", "a.d", "a.b"]


def _is_view(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in {"route", "get", "post"}
        for decorator in function.decorator_list
    )


def test_views_are_short() -> None:
    """A view parses, calls a service and renders: about forty lines at most."""
    views = [
        node
        for path in sorted((PACKAGE / "blueprints").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and _is_view(node)
    ]
    assert len(views) > 50  # the finder sees the views it measures
    too_long = {
        f"{_relative(path)}:{node.name}": node.end_lineno - node.lineno + 1
        for path in sorted((PACKAGE / "blueprints").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
        and _is_view(node)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 45
    }
    assert too_long == {}


def test_the_four_line_documents_share_one_view_and_one_template() -> None:
    templates = PACKAGE / "templates" / "movements"
    for kind in ("intake", "distribution", "transfer", "adjustment"):
        assert not (templates / f"{kind}.html").exists()
    assert (templates / "document_form.html").exists()
