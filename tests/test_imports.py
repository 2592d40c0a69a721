"""The import graph of sgan_core/ and dashboard/ has no cycle.

Only module-level imports count (those that run when the module is imported, including
inside module-level `if`/`try` and class bodies); an import inside a function runs later
and cannot deadlock or half-initialise a module. The graph is read with ast, so nothing
is imported to check it.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sgan_core", "dashboard")


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the packages."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def module_level_imports(tree: ast.Module, late: bool = False,
                         ) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run at import time (not inside a def or a lambda); with
    `late`, those inside functions too."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if not late and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.Lambda)):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Dotted names a statement may import: the module and, for `from X import Y`, X.Y
    (a submodule, if it is one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: resolve against this module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join(package + ([base] if base else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def import_graph(root: Path, packages: tuple[str, ...], late: bool = False,
                 ) -> dict[str, set[str]]:
    modules = module_files(root, packages)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = set()
        for node in module_level_imports(tree, late):
            for target in imported_names(node, name, path.name == "__init__.py"):
                # Importing a.b.c runs a/__init__ and a/b/__init__ first.
                parts = target.split(".")
                targets.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> Optional[list[str]]:
    """One import cycle as [a, b, ..., a], or None (depth-first search)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> Optional[list[str]]:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


@pytest.mark.parametrize("late", [False, True], ids=["module-level", "with-late-imports"])
def test_sgan_core_and_dashboard_have_no_import_cycle(late):
    """Module-level cycles break imports; late (in-function) imports that close a cycle
    are the same tangle hidden (a module that imports its worker in a function while the
    worker imports it back)."""
    graph = import_graph(ROOT, PACKAGES, late)
    assert "sgan_core.features.embedding_service" in graph and "dashboard.app" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_finds_a_cycle_and_ignores_imports_inside_functions(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("try:\n    from . import c\nexcept ImportError:\n    pass\n")
    (package / "c.py").write_text("def late():\n    import pkg.a\n")
    assert find_cycle(import_graph(tmp_path, ("pkg",))) is None
    assert find_cycle(import_graph(tmp_path, ("pkg",), late=True))[0] == "pkg.a"
    (package / "c.py").write_text("class C:\n    import pkg.a as a\n")
    assert find_cycle(import_graph(tmp_path, ("pkg",))) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_sgan_core_never_imports_streamlit():
    for name, path in module_files(ROOT, ("sgan_core",)).items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = imported_names(node, name, path.name == "__init__.py")
                assert not any(n.split(".")[0] == "streamlit" for n in names), name


def _top_level_imports(folder: Path) -> dict[str, set[str]]:
    """{file: first components of every module it imports} for the .py files in folder."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_only_tests_import_tests_and_the_product_imports_no_test_helper():
    """bench/ and scripts/ share helpers with tests through testkit/, never by reaching
    into tests/; sgan_core/ and dashboard/ import neither."""
    for folder, banned in (("bench", {"tests"}), ("scripts", {"tests"}),
                           ("sgan_core", {"tests", "testkit"}),
                           ("dashboard", {"tests", "testkit"})):
        for path, names in _top_level_imports(ROOT / folder).items():
            assert not names & banned, f"{path} imports {names & banned}"


# One concern a file: a module may grow past 300 lines while it stays one concern
# (cutting it by length scattered one concern over several files); past this, split it
# by concern.
MAX_LINES = 500


def test_no_product_module_is_over_the_line_limit():
    long = {str(path.relative_to(ROOT)): count
            for folder in ("sgan_core", "dashboard") for path in (ROOT / folder).rglob("*.py")
            if (count := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these modules (over {MAX_LINES} lines): {long}"
